--- flint: offline AI code completion — Neovim side.
---
---   require('flint').setup()            -- zero config works
---   require('flint').setup({ debounce = 30, keymaps = { accept = '<C-l>' } })
---
--- Public API (stable): setup, enable, disable, toggle, is_enabled, suggest,
--- accept, accept_word, accept_line, next, prev, dismiss, is_visible,
--- statusline, status, command, refactor, allow, scan. See :help flint-lua.
local api = vim.api
local config = require('flint.config')
local rpc = require('flint.rpc')
local render = require('flint.render')
local suggest = require('flint.suggest')
local refactor = require('flint.refactor')
local preview = require('flint.preview')
local scan = require('flint.scan')

local M = {}
local H = {
  cfg = nil,
  mapped = {}, -- lhs -> { prev = maparg dict or nil }
  keymaps_pending = false,
}

M.config = nil

-- ---------------------------------------------------------------- setup

--- Configure flint. May be called again (e.g. by a plugin manager after the
--- g:flint_* auto-setup): the last call wins.
function M.setup(opts)
  local cfg, err = config.build(opts)
  if not cfg then
    vim.notify('flint: setup: ' .. err, vim.log.levels.ERROR)
    return false
  end
  H.cfg = cfg
  M.config = cfg
  rpc.configure(cfg)
  suggest.configure(cfg)
  refactor.configure(cfg)
  H.setup_autocmds()
  render.setup_highlights()
  preview.setup_highlights()
  H.setup_plug_maps()
  if vim.v.vim_did_enter == 1 then
    H.apply_keymaps()
  else
    -- Map at VimEnter, after the rest of the config and other plugins made
    -- their maps, so the keys' previous meaning is known and kept as fallback.
    H.keymaps_pending = true
  end
  rpc.handlers.chunk = function(p)
    if not refactor.on_chunk(p) then
      suggest.on_chunk(p)
    end
  end
  rpc.handlers.__exit = function()
    suggest.clear()
    refactor.on_exit()
  end
  return true
end

--- Called by plugin/flint.vim: set up from g:flint_* unless setup() already ran.
function M._plugin_loaded()
  if H.cfg then
    return
  end
  M.setup(config.from_globals())
end

-- ---------------------------------------------------------------- autocommands

local function dispatch(fn)
  -- every autocommand goes through one protected dispatcher
  return function(ev)
    local ok, err = pcall(fn, ev)
    if not ok then
      rpc.log('error', ('%s: %s'):format(ev and ev.event or '?', err))
    end
  end
end

function H.setup_autocmds()
  local group = api.nvim_create_augroup('flint', { clear = true })
  local function au(events, desc, fn)
    api.nvim_create_autocmd(events, { group = group, desc = desc, callback = dispatch(fn) })
  end
  au({ 'TextChangedI', 'TextChangedP', 'CursorMovedI' }, 'flint: keep, move or renew the suggestion', function(ev)
    suggest.on_change(ev.event)
  end)
  au('InsertEnter', 'flint: ask for a suggestion', function(ev)
    suggest.on_change(ev.event)
  end)
  au('CompleteChanged', 'flint: hide while the popup menu is open', function(ev)
    if not H.cfg.show_with_pum then
      render.clear()
    end
  end)
  au('CompleteDone', 'flint: show again after the popup menu', function(ev)
    vim.schedule(function()
      if api.nvim_get_mode().mode:sub(1, 1) == 'i' then
        suggest.on_change('CompleteDone')
      end
    end)
  end)
  au({ 'InsertLeave', 'BufLeave', 'WinLeave' }, 'flint: clear the suggestion', function()
    suggest.on_insert_leave()
  end)
  au({ 'VimResized', 'WinScrolled' }, 'flint: redraw for the new window size', function()
    suggest.redraw()
  end)
  au('ColorScheme', 'flint: default highlight groups', function()
    render.setup_highlights()
    preview.setup_highlights()
  end)
  au('VimEnter', 'flint: map keys after the rest of startup', function()
    if H.keymaps_pending then
      H.apply_keymaps()
    end
  end)
  au('VimLeavePre', 'flint: stop the server', function()
    rpc.stop()
  end)
end

-- ---------------------------------------------------------------- keys

local plug = {
  accept = '<Plug>(flint-accept)',
  accept_word = '<Plug>(flint-accept-word)',
  accept_line = '<Plug>(flint-accept-line)',
  next = '<Plug>(flint-next)',
  prev = '<Plug>(flint-prev)',
  dismiss = '<Plug>(flint-dismiss)',
}

function H.setup_plug_maps()
  local function cmd(lua)
    return '<Cmd>lua ' .. lua .. '<CR>'
  end
  local o = { noremap = true, silent = true }
  local function set(lhs, rhs, desc)
    api.nvim_set_keymap('i', lhs, rhs, vim.tbl_extend('force', o, { desc = desc }))
  end
  set(plug.accept, cmd("require('flint.suggest').accept('all')"), 'flint: accept the suggestion')
  set(plug.accept_word, cmd("require('flint.suggest').accept('word')"), 'flint: accept a word')
  set(plug.accept_line, cmd("require('flint.suggest').accept('line')"), 'flint: accept a line')
  set(plug.next, cmd('require(\'flint.suggest\').cycle(1)'), 'flint: next alternative')
  set(plug.prev, cmd('require(\'flint.suggest\').cycle(-1)'), 'flint: previous alternative')
  set(plug.dismiss, cmd("require('flint.suggest').dismiss()"), 'flint: dismiss the suggestion')
  set('<Plug>(flint-suggest)', cmd("require('flint.suggest').trigger()"), 'flint: ask for a suggestion now')
  -- refactor previews (normal mode; flint.refactor maps keys to these per buffer)
  local calls = { accept = 'accept()', reject = 'reject()', retry = 'retry()', cancel = 'cancel()',
    next_hunk = 'jump(1)', prev_hunk = 'jump(-1)' }
  for _, action in ipairs(refactor.actions) do
    api.nvim_set_keymap('n', refactor.plug(action), cmd("require('flint.refactor')." .. calls[action]),
      vim.tbl_extend('force', o, { desc = 'flint: refactor ' .. action:gsub('_', ' ') }))
  end
end

--- Copy an existing insert-mode mapping (maparg dict) to `to`, so it can be
--- called as the fallback of a flint key.
local function copy_map(m, to)
  local opts = {
    expr = m.expr == 1,
    noremap = m.noremap == 1,
    silent = m.silent == 1,
    nowait = m.nowait == 1,
    desc = 'flint: fallback for ' .. m.lhs,
  }
  if m.callback then
    local cb = m.callback
    if type(cb) ~= 'function' then
      -- Neovim 0.7's maparg() gives a number; nvim_get_keymap() the function.
      for _, k in ipairs(api.nvim_get_keymap('i')) do
        if k.lhs == m.lhs and type(k.callback) == 'function' then
          cb = k.callback
        end
      end
    end
    if type(cb) ~= 'function' then
      return false
    end
    opts.callback = cb
    if opts.expr and m.replace_keycodes ~= nil then
      -- Neovim >= 0.8 (0.7's vim.keymap.set wraps the callback instead)
      opts.replace_keycodes = m.replace_keycodes ~= 0
    end
    api.nvim_set_keymap('i', to, '', opts)
  else
    local rhs = m.rhs or ''
    if m.sid and m.sid > 0 then
      rhs = rhs:gsub('<[Ss][Ii][Dd]>', '<SNR>' .. m.sid .. '_')
    end
    api.nvim_set_keymap('i', to, rhs, opts)
  end
  return true
end

--- True while a suggestion is shown (and not hidden by the popup menu).
local function shown()
  return suggest.is_visible()
end

local function is_flint_map(m)
  return m and m.desc and m.desc:match('^flint: ') ~= nil and not m.desc:match('^flint: fallback')
end

local function unmap_keys()
  for lhs, info in pairs(H.mapped) do
    local m = vim.fn.maparg(lhs, 'i', false, true)
    if is_flint_map(m) then
      pcall(api.nvim_del_keymap, 'i', lhs)
      if info.prev then
        copy_map(info.prev, lhs)
      end
    end
  end
  H.mapped = {}
end

function H.apply_keymaps()
  H.keymaps_pending = false
  unmap_keys()
  for action, lhs in pairs(H.cfg.keymaps) do
    if lhs and lhs ~= '' then
      local prev = vim.fn.maparg(lhs, 'i', false, true)
      if vim.tbl_isempty(prev) or is_flint_map(prev) or prev.buffer == 1 then
        prev = nil
      end
      local name = action:gsub('_', '-')
      local fb = '<Plug>(flint-fallback-' .. name .. ')'
      if not (prev and copy_map(prev, fb)) then
        prev = nil
        -- nothing mapped: the key's own meaning, never remapped
        api.nvim_set_keymap('i', fb, lhs, { noremap = true, desc = 'flint: fallback key' })
      end
      H.mapped[lhs] = { prev = prev }
      local target = plug[action]
      local when
      if action == 'next' or action == 'prev' then
        -- with nothing shown these ask for suggestions (where flint is on)
        when = function()
          return shown() or suggest.enabled_for(api.nvim_get_current_buf())
        end
      elseif action == 'dismiss' then
        when = function()
          return suggest.state() ~= nil and shown()
        end
      else
        when = shown
      end
      vim.keymap.set('i', lhs, function()
        local ok, yes = pcall(when)
        if ok and yes then
          return target
        end
        return fb
      end, { expr = true, remap = true, silent = true, desc = 'flint: ' .. action })
    end
  end
end

-- ---------------------------------------------------------------- API

function M.is_enabled(buf)
  return suggest.enabled_for(buf or api.nvim_get_current_buf())
end

function M.enable()
  H.cfg.enabled = true
end

function M.disable()
  H.cfg.enabled = false
  suggest.clear()
end

function M.toggle()
  if H.cfg.enabled then
    M.disable()
  else
    M.enable()
  end
end

function M.suggest()
  return suggest.trigger()
end

function M.accept()
  return suggest.accept('all')
end

function M.accept_word()
  return suggest.accept('word')
end

function M.accept_line()
  return suggest.accept('line')
end

function M.next()
  return suggest.cycle(1)
end

function M.prev()
  return suggest.cycle(-1)
end

function M.dismiss()
  return suggest.dismiss()
end

function M.is_visible()
  return suggest.is_visible()
end

--- Rewrite lines l1..l2 (1-based) of the current buffer as `instruction`
--- says, shown as a diff preview (:FlintRefactor).
function M.refactor(l1, l2, instruction)
  return refactor.command(l1, l2, instruction)
end

--- Allow the secret the last suggestion redacted (:FlintAllow): the server
--- stops redacting it. Returns true when the request was sent.
function M.allow()
  if not H.cfg then
    M.setup({})
  end
  return scan.allow()
end

--- Scan buffer `buf` (default: the current one) into vim.diagnostic,
--- namespace 'flint-scan' (:FlintScan). Returns true when the request was sent.
function M.scan(buf)
  if not H.cfg then
    M.setup({})
  end
  return scan.scan_buffer(buf)
end

--- A short string for your statusline; flint never sets 'statusline' itself.
---   set statusline+=%{v:lua.require'flint'.statusline()}
--- "" when flint is off for the buffer, "flint" when idle, "flint …" while
--- waiting, "flint 2/3" when cycling, "flint ✗" when the server is down.
function M.statusline()
  if not H.cfg then
    return ''
  end
  local buf = api.nvim_get_current_buf()
  if not suggest.enabled_for(buf) then
    return ''
  end
  if rpc.status == 'failed' or rpc.status == 'missing' then
    return 'flint ✗'
  end
  local idx, total, S = suggest.position()
  if S and S.error then
    return 'flint ✗'
  end
  if S then
    if total > 1 then
      return ('flint %d/%d'):format(idx, total)
    end
    local a = S.alts[S.idx]
    if not (a and a.done) then
      return 'flint …'
    end
  end
  return 'flint'
end

--- Status as lines (for :Flint status).
function M.status()
  local info = rpc.info or {}
  local function s(v)
    if v == nil or v == vim.NIL then
      return '-'
    end
    if type(v) == 'table' then
      return vim.inspect(v, { newline = ' ', indent = '' })
    end
    return tostring(v)
  end
  local buf = api.nvim_get_current_buf()
  local lines = {
    'flint: ' .. (H.cfg and H.cfg.enabled and 'enabled' or 'disabled') .. ', this buffer: ' .. (M.is_enabled(buf) and 'on' or 'off'),
    'server: ' .. rpc.status .. (rpc.pid and (' (pid ' .. rpc.pid .. ')') or '') .. (rpc.last_error and (' — ' .. rpc.last_error) or ''),
    'command: ' .. (rpc.cmd and table.concat(rpc.cmd, ' ') or s((rpc.command()))),
    'version: ' .. s(info.version) .. ', model: ' .. s(info.model) .. ', draft: ' .. s(info.draft),
    'ghost text: ' .. render.mode() .. ' virtual text',
  }
  return lines
end

local function scratch(name, lines)
  vim.cmd('botright new')
  local b = api.nvim_get_current_buf()
  api.nvim_buf_set_option(b, 'buftype', 'nofile')
  api.nvim_buf_set_option(b, 'bufhidden', 'wipe')
  api.nvim_buf_set_option(b, 'swapfile', false)
  pcall(api.nvim_buf_set_name, b, name)
  api.nvim_buf_set_lines(b, 0, -1, false, lines)
  api.nvim_buf_set_option(b, 'modifiable', false)
end

local function pct(list, p)
  if #list == 0 then
    return nil
  end
  local t = vim.deepcopy(list)
  table.sort(t)
  return t[math.max(1, math.ceil(#t * p))]
end

function M.stats_lines(server)
  local st = suggest.stats
  local function ms(v)
    return v and ('%.1f ms'):format(v) or '-'
  end
  local lines = {
    'client:',
    ('  requests %d, cancelled %d, chunks %d, stale chunks dropped %d, typed through %d, blocked %d'):format(
      st.requests, st.cancelled, st.chunks, st.stale_chunks, st.typed_through, st.blocked),
    ('  accepted: all %d, word %d, line %d'):format(st.accepted.all, st.accepted.word, st.accepted.line),
    ('  keystroke -> ghost text: p50 %s, p95 %s (%d samples)'):format(ms(pct(st.render_ms, 0.5)), ms(pct(st.render_ms, 0.95)), #st.render_ms),
    ('  request -> first text:   p50 %s, p95 %s (%d samples)'):format(ms(pct(st.first_chunk_ms, 0.5)), ms(pct(st.first_chunk_ms, 0.95)), #st.first_chunk_ms),
    'server:',
  }
  if type(server) == 'table' then
    for _, l in ipairs(vim.split(vim.inspect(server), '\n')) do
      lines[#lines + 1] = '  ' .. l
    end
  else
    lines[#lines + 1] = '  ' .. tostring(server)
  end
  return lines
end

local subcommands = {
  enable = function(arg)
    if arg == 'buffer' then
      vim.b.flint_enabled = true
    elseif arg == 'filetype' then
      H.cfg.filetypes[vim.bo.filetype ~= '' and vim.bo.filetype or '*'] = true
    end
    M.enable()
  end,
  disable = function(arg)
    if arg == 'buffer' then
      vim.b.flint_enabled = false
      suggest.clear()
    elseif arg == 'filetype' then
      H.cfg.filetypes[vim.bo.filetype ~= '' and vim.bo.filetype or '*'] = false
      suggest.clear()
    else
      M.disable()
    end
  end,
  toggle = function(arg)
    if arg == 'buffer' then
      vim.b.flint_enabled = not M.is_enabled()
      suggest.clear()
    else
      M.toggle()
    end
  end,
  status = function()
    vim.api.nvim_echo({ { table.concat(M.status(), '\n') } }, false, {})
  end,
  stats = function()
    rpc.ensure()
    if not rpc.request('stats', vim.empty_dict(), function(err, res)
      scratch('flint://stats', M.stats_lines(err and ('error: ' .. err) or res))
    end) then
      scratch('flint://stats', M.stats_lines('not running'))
    end
  end,
  restart = function()
    suggest.clear()
    local ok, err = rpc.restart()
    if not ok then
      vim.notify('flint: ' .. tostring(err), vim.log.levels.ERROR)
    end
  end,
  log = function()
    scratch('flint://log', rpc.log_lines())
  end,
}

--- :Flint {sub} [arg]
function M.command(args)
  if not H.cfg then
    M.setup({})
  end
  local sub, arg = (args or ''):match('^%s*(%S*)%s*(%S*)')
  if sub == '' then
    sub = 'status'
  end
  local f = subcommands[sub]
  if not f then
    vim.notify('flint: unknown subcommand ' .. sub .. ' (enable|disable|toggle|status|stats|restart|log)', vim.log.levels.ERROR)
    return
  end
  f(arg)
end

function M.complete_command(arglead, cmdline)
  local words = vim.split(cmdline, '%s+')
  local list
  if #words <= 2 then
    list = vim.tbl_keys(subcommands)
  elseif words[2] == 'enable' or words[2] == 'disable' or words[2] == 'toggle' then
    list = { 'buffer', 'filetype' }
  else
    list = {}
  end
  table.sort(list)
  return vim.tbl_filter(function(w)
    return w:sub(1, #arglead) == arglead
  end, list)
end

return M
