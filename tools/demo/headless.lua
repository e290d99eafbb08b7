-- tools/demo/headless.lua — `make run` without a terminal: the same demo as in
-- the editor, printed. A headless Neovim drives a second one (--embed) running
-- flint with the real server; at a few places in tools/demo/demo.py it blanks
-- the end of a line, types the first characters back with real keystrokes and
-- prints the lines around the cursor with the ghost text as you would see it
-- (⟦ghost text⟧, │ at the cursor), then accepts it with <Tab>.
local root = os.getenv('FLINT_ROOT')
local bin = os.getenv('FLINT_BIN')
local model = os.getenv('FLINT_DEMO_MODEL') or ''
local file = os.getenv('FLINT_DEMO_FILE')
local ok_all = true
local function out(s)
  io.stdout:write(s .. '\n')
  io.stdout:flush()
end

local ch = vim.fn.jobstart({ vim.v.progpath, '--embed', '--headless', '-u', 'NONE', '-i', 'NONE', '-n',
  '--cmd', 'set rtp^=' .. vim.fn.fnameescape(root), '--cmd', 'set noswapfile' }, { rpc = true })
local function L(code, ...)
  local r = vim.fn.rpcrequest(ch, 'nvim_exec_lua', code, { ... })
  return r ~= vim.NIL and r or nil
end
local function input(k)
  vim.fn.rpcrequest(ch, 'nvim_input', k)
  vim.fn.rpcrequest(ch, 'nvim_eval', '1')
end
L("vim.g.flint_server_cmd = ...", { bin, 'serve' })
L("vim.g.flint_model = ...", model)
vim.fn.rpcrequest(ch, 'nvim_command', 'runtime plugin/flint.vim')
vim.fn.rpcrequest(ch, 'nvim_command', 'doautocmd VimEnter')
vim.fn.rpcrequest(ch, 'nvim_command', 'edit ' .. vim.fn.fnameescape(file))
vim.fn.rpcrequest(ch, 'nvim_command', 'set filetype=python')
L("require('flint.rpc').ensure()")
local t0 = vim.loop.hrtime()
vim.wait(60000, function()
  return L("return require('flint.rpc').status") ~= 'starting'
end, 20)
local info = L("return require('flint.rpc').info") or {}
local m = info.model or {}
out(('flint demo (headless): Neovim %s, flint serve %s, model %s (%s), server ready in %.0f ms'):format(
  tostring(vim.version().major .. '.' .. vim.version().minor .. '.' .. vim.version().patch),
  tostring(info.version), tostring(m.name or m), tostring(m.path or 'default'), (vim.loop.hrtime() - t0) / 1e6))
out(('ghost text drawn as %s virtual text; file %s'):format(
  L("return require('flint.render').mode()"), 'tools/demo/demo.py'))

local lines = L('return vim.api.nvim_buf_get_lines(0, 0, -1, false)')
-- places to complete: (line number, how many characters of the line to keep, how many to type)
local spots = {
  { pat = '^%s+return f"{sign}', keep = 'return', type = ' f' },
  { pat = '^%s+item%.quantity %+= amount', keep = 'item.', type = 'qu' },
  { pat = '^%s+writer%.writerow%(%[item', keep = 'writer.', type = 'wr' },
  { pat = '^def main', keep = '', type = '' },
}
for _, s in ipairs(spots) do
  local row
  for i, l in ipairs(lines) do
    if l:match(s.pat) then
      row = i
      break
    end
  end
  if row then
    local l = lines[row]
    local cut = s.keep == '' and #l or (l:find(s.keep, 1, true) + #s.keep - 1)
    input('<Esc>')
    if s.keep == '' then
      -- a fresh line after the def: the model writes the body
      L('vim.api.nvim_buf_set_lines(0, ..., ..., false, { "" })', row, row)
      L('vim.api.nvim_win_set_cursor(0, { ..., 0 })', row + 1)
      input('S    ')
      row = row + 1
    else
      L('vim.api.nvim_buf_set_lines(0, ...)', row - 1, row, false, { l:sub(1, cut) })
      L('vim.api.nvim_win_set_cursor(0, {...})', row, cut)
      input('a')
    end
    local sent = vim.loop.hrtime()
    local first_at
    for c in s.type:gmatch('.') do
      sent = vim.loop.hrtime()
      input(c)
    end
    L([[
      _G.demo = {}
      require('flint.render').hook = function(cur) _G.demo.at = _G.demo.at or cur.at end
    ]])
    local text
    vim.wait(10000, function()
      text = L([[
        local sg = require('flint.suggest')
        local S, t = sg.state(), sg.visible_text()
        local a = S and S.alts[S.idx]
        return (t and a and a.done) and t or nil
      ]])
      return text
    end, 5)
    local done_at = vim.loop.hrtime()
    local st = L("return require('flint.suggest').stats")
    local cur = L('return vim.api.nvim_win_get_cursor(0)')
    local buf = L('return vim.api.nvim_buf_get_lines(0, 0, -1, false)')
    out('')
    out(('── line %d, typed %q ──'):format(cur[1], s.type))
    for i = math.max(1, cur[1] - 3), cur[1] - 1 do
      out(('%4d │ %s'):format(i, buf[i]))
    end
    local cl = buf[cur[1]]
    if text then
      local parts = vim.split(text, '\n', true)
      out(('%4d │ %s│⟦%s⟧%s'):format(cur[1], cl:sub(1, cur[2]), parts[1], cl:sub(cur[2] + 1)))
      for i = 2, #parts do
        out(('     │ ⟦%s⟧'):format(parts[i]))
      end
      local fc = st.first_chunk_ms[#st.first_chunk_ms]
      out(('timings: ghost text %.0f ms after the last keystroke (request → first text %.0f ms), complete after %.0f ms'):format(
        (st.render_ms[#st.render_ms] or 0), fc or 0, (done_at - sent) / 1e6))
      input('<Tab>')
      local after = L('return vim.api.nvim_buf_get_lines(0, ...)', cur[1] - 1, cur[1] - 1 + #parts, false)
      out('<Tab> →')
      for i, a in ipairs(after) do
        out(('%4d │ %s'):format(cur[1] + i - 1, a))
      end
    else
      out(('%4d │ %s│'):format(cur[1], cl))
      out('(no suggestion here)')
    end
    lines = L('return vim.api.nvim_buf_get_lines(0, 0, -1, false)')
  end
end
local st = L("return require('flint.suggest').stats")
out('')
out(('requests %d, cancelled %d, stale chunks dropped %d'):format(st.requests, st.cancelled, st.stale_chunks))
pcall(vim.fn.rpcrequest, ch, 'nvim_command', 'qa!')
vim.cmd('qall!')
