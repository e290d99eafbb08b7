-- bench/bench_editor.lua — keystroke → ghost text latency inside Neovim.
--
-- A headless Neovim (this script) drives a second Neovim (--embed) running
-- flint with the real `flint serve` and the default model (a fixture model if
-- there is none yet). It opens a real file (tools/demo/demo.py), blanks the
-- end of a series of lines and types the missing characters back, one key at a
-- time, through nvim_input (real typeahead, maps and autocommands). For every
-- keystroke it measures the time from sending the key to flint drawing ghost
-- text for the new cursor position (the extmark is set; the redraw follows in
-- the same loop iteration). Both clocks are uv.hrtime() (CLOCK_MONOTONIC).
-- Keystrokes that type the shown suggestion are answered without a request
-- ("reuse"); the others wait for the debounce and the server ("request").
-- Writes bench/results/editor.json and prints a summary.
package.path = os.getenv('FLINT_ROOT') .. '/tests/nvim/?.lua;' .. package.path
local H = require('helpers')

local N = tonumber(os.getenv('FLINT_BENCH_KEYS') or '200')
local GAP_MS = tonumber(os.getenv('FLINT_BENCH_GAP') or '40') -- pause after each render
local TIMEOUT_MS = 3000
local file = H.root .. '/tools/demo/demo.py'
local out = H.root .. '/bench/results/editor.json'

-- the plugin's default debounce: what a user gets
local DEBOUNCE = require('flint.config').defaults().debounce
local c = H.spawn({ globals = { flint_log_level = 'warn', flint_debounce = DEBOUNCE } })
c:cmd('edit ' .. vim.fn.fnameescape(file))
c:cmd('set noswapfile')
c:lua([[
  _G.bench = { draws = {} }
  require('flint.render').hook = function(cur)
    local w = vim.api.nvim_win_get_cursor(0)
    table.insert(_G.bench.draws, { at = cur.at, row = cur.row, col = cur.col, crow = w[1] - 1, ccol = w[2] })
  end
]])
assert(c:wait_server(60000), 'server did not start')

-- Lines to retype: code lines with at least 12 characters after the indent.
local lines = c:lines()
local targets = {}
for i, l in ipairs(lines) do
  local indent = #(l:match('^%s*'))
  if #l - indent >= 12 and not l:match('^%s*#') and not l:match('"""') then
    targets[#targets + 1] = { row = i, cut = indent + math.floor((#l - indent) / 3), text = l }
  end
end

local samples = { all = {}, reuse = {}, request = {} }
local missed, keys = 0, 0
local t_start = vim.loop.hrtime()
for _, t in ipairs(targets) do
  if keys >= N then
    break
  end
  -- blank the end of the line, go there in Insert mode, wait for quiet
  c:input('<Esc>')
  c:lua('vim.api.nvim_buf_set_lines(0, ...)', t.row - 1, t.row, false, { t.text:sub(1, t.cut) })
  c:lua('vim.api.nvim_win_set_cursor(0, {...})', t.row, t.cut)
  c:input('a')
  c:wait(function(x)
    return x:lua("local S = require('flint.suggest').state(); local a = S and S.alts[S.idx]; return a and a.done")
  end, TIMEOUT_MS)
  local rest = t.text:sub(t.cut + 1)
  for ch in rest:gmatch('[%z\1-\127\194-\244][\128-\191]*') do
    if keys >= N then
      break
    end
    keys = keys + 1
    local reqs = c:lua("return require('flint.suggest').stats.requests")
    local pos = c:cursor()
    local want_row, want_col = pos[1] - 1, pos[2] + #ch
    c:lua('_G.bench.draws = {}')
    local sent = vim.loop.hrtime()
    vim.fn.rpcrequest(c.ch, 'nvim_input', ch == '<' and '<lt>' or ch)
    -- wait for a draw at the new cursor position
    local lat
    vim.wait(TIMEOUT_MS, function()
      local d = c:lua([[
        local row, col, sent = ...
        for _, d in ipairs(_G.bench.draws) do
          if d.row == row and d.col == col and d.crow == row and d.ccol == col and d.at >= sent then return d.at end
        end
        local S = require('flint.suggest').state()
        local a = S and S.alts[S.idx]
        local cur = vim.api.nvim_win_get_cursor(0)
        if S and a and a.done and S.crow == row and S.ccol == col and not require('flint.suggest').visible_text() then return -1 end
      ]], want_row, want_col, sent)
      if d then
        lat = d
        return true
      end
    end, 1)
    if lat and lat > 0 then
      local ms = (lat - sent) / 1e6
      local kind = c:lua("return require('flint.suggest').stats.requests") > reqs and 'request' or 'reuse'
      table.insert(samples.all, ms)
      table.insert(samples[kind], ms)
      if os.getenv('FLINT_BENCH_DEBUG') then H.out(('%s %s %.3f sent=%d at=%d'):format(kind, vim.inspect(ch), ms, sent, lat)) end
    else
      missed = missed + 1
    end
    vim.wait(GAP_MS)
  end
end
local wall = (vim.loop.hrtime() - t_start) / 1e9
local info = c:lua("return require('flint.rpc').info") or {}
local server_stats
c:lua("require('flint.rpc').request('stats', vim.empty_dict(), function(e, r) _G.bench.server = r end)")
vim.wait(2000, function()
  server_stats = c:lua('return _G.bench.server')
  return server_stats
end, 20)
c:stop()

local function pct(list, p)
  if #list == 0 then
    return vim.NIL
  end
  local t = vim.deepcopy(list)
  table.sort(t)
  return math.floor(t[math.max(1, math.ceil(#t * p))] * 100 + 0.5) / 100
end
local function summary(list)
  return { n = #list, p50_ms = pct(list, 0.5), p95_ms = pct(list, 0.95), max_ms = pct(list, 1.0) }
end
local model = type(info.model) == 'table' and (info.model.name or info.model.path) or info.model
local result = {
  bench = 'editor: keystroke -> ghost text drawn, inside Neovim',
  nvim = H.version,
  model = model or vim.NIL,
  -- relative to the repository, so the result names no machine's folders
  model_path = type(info.model) == 'table' and vim.fn.fnamemodify(vim.fn.resolve(info.model.path), ':p'):gsub('^' .. vim.pesc(vim.fn.fnamemodify(H.root, ':p')), '') or vim.NIL,
  file = 'tools/demo/demo.py',
  keystrokes = keys,
  drawn = #samples.all,
  no_ghost_text = missed,
  debounce_ms = DEBOUNCE,
  gap_after_draw_ms = GAP_MS,
  p50_ms = pct(samples.all, 0.5),
  p95_ms = pct(samples.all, 0.95),
  reuse = summary(samples.reuse),
  request = summary(samples.request),
  goal = { p50_ms = 30, p95_ms = 60 },
  wall_s = math.floor(wall * 10 + 0.5) / 10,
  server_stats = type(server_stats) == 'table' and {
    first_chunk_ms = server_stats.first_chunk_ms,
    total_ms = server_stats.total_ms,
    reasons = server_stats.reasons,
    tokens = server_stats.tokens,
    completes = server_stats.completes,
    cancels = server_stats.cancels,
    superseded = server_stats.superseded,
  } or vim.NIL,
  date = os.date('!%Y-%m-%dT%H:%M:%SZ'),
}
vim.fn.mkdir(H.root .. '/bench/results', 'p')
vim.fn.writefile({ vim.fn.json_encode(result) }, out)
local function f(v)
  return v == vim.NIL and '-' or ('%.1f ms'):format(v)
end
H.out(('editor bench (nvim %s, model %s): %d keystrokes, %d with ghost text drawn, %d without'):format(
  H.version, tostring(result.model), keys, #samples.all, missed))
H.out(('  all      p50 %s  p95 %s'):format(f(result.p50_ms), f(result.p95_ms)))
H.out(('  reuse    p50 %s  p95 %s  (%d keystrokes typed the shown suggestion)'):format(f(result.reuse.p50_ms), f(result.reuse.p95_ms), result.reuse.n))
H.out(('  request  p50 %s  p95 %s  (%d keystrokes needed a new request)'):format(f(result.request.p50_ms), f(result.request.p95_ms), result.request.n))
H.out('  -> ' .. out)
vim.cmd('qall!')
