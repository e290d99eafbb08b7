-- tests/nvim/helpers.lua — the harness every spec runs in.
--
-- A spec runs in a headless Neovim (the driver). Each test drives a second
-- Neovim of the same version — the editor under test — started with --embed
-- and spoken to over RPC: keys go in with nvim_input (real typeahead, real
-- mappings, real autocommands, the real main loop), state comes back with
-- nvim_exec_lua. The editor runs flint with the real `flint serve` ($FLINT_BIN)
-- and the default model in models/ (a fixture model from tests/fixtures/models
-- until the default exists). Waits are vim.wait() polls on real server answers.
--
-- Output: one "ok - [nvim X.Y.Z] name" / "not ok - ..." line per test.
local H = {}

H.root = assert(os.getenv('FLINT_ROOT'), 'FLINT_ROOT not set')
H.bin = os.getenv('FLINT_BIN') or (H.root .. '/build/flint')
local v = vim.version()
H.version = ('%d.%d.%d'):format(v.major, v.minor, v.patch)
H.tag = '[nvim ' .. H.version .. '] '
H.failed = 0
H.passed = 0

--- The model the tests use: the default one if it exists, else a fixture.
function H.model()
  local env = os.getenv('FLINT_TEST_MODEL')
  if env and env ~= '' then
    return env
  end
  local found = vim.fn.glob(H.root .. '/models/flint-coder-moe.*.gguf', false, true)
  if #found > 0 then
    return '' -- the server finds the default model itself
  end
  return H.root .. '/tests/fixtures/models/tiny-qwen3moe.F32.gguf'
end

--- Build a parrot model (tests/tools/parrot.c): `flint serve` with it streams
--- `text` as every suggestion (greedy), whatever the prompt. Returns its path.
function H.parrot(text)
  local path = vim.fn.tempname() .. '.gguf'
  local bin = (os.getenv('FLINT_BUILD') or (H.root .. '/build')) .. '/tests/parrot'
  assert(vim.fn.executable(bin) == 1, bin .. ' missing (make test-c or make test builds it)')
  local res = vim.fn.system({ bin, '--vocab', H.root .. '/models/flint-coder-moe.Q8_0.gguf', '--text', text,
    '--out', path })
  assert(vim.v.shell_error == 0, 'parrot: ' .. res)
  return path
end

local function out(s)
  io.stdout:write(s .. '\n')
  io.stdout:flush()
end
H.out = out

-- ---------------------------------------------------------------- the child

local Child = {}
Child.__index = Child

--- Start an editor under test. opts.setup: table for require('flint').setup(),
--- or nil to go through plugin/flint.vim with g:flint_* (opts.globals).
--- opts.pre: Vimscript lines run before flint loads (user maps etc.).
function H.spawn(opts)
  opts = opts or {}
  local args = {
    vim.v.progpath, '--embed', '--headless', '-u', 'NONE', '-i', 'NONE', '-n',
    '--cmd', 'set rtp^=' .. vim.fn.fnameescape(H.root),
    '--cmd', 'set noswapfile shortmess+=I noshowmode',
  }
  local self = setmetatable({}, Child)
  self.ch = vim.fn.jobstart(args, { rpc = true })
  assert(self.ch > 0, 'cannot start child nvim')
  local globals = vim.tbl_extend('force', {
    flint_server_cmd = { H.bin, 'serve' },
    flint_model = H.model(),
    flint_debounce = 5,
    flint_log_level = 'debug',
    flint_allowlist = vim.fn.tempname(), -- never the user's own list
  }, opts.globals or {})
  for k, val in pairs(globals) do
    self:lua('vim.g[...] = select(2, ...)', k, val)
  end
  for _, l in ipairs(opts.pre or {}) do
    self:cmd(l)
  end
  if opts.setup then
    local s = vim.tbl_extend('force', {
      server_cmd = { H.bin, 'serve' },
      model = H.model(),
      debounce = 5,
      log_level = 'debug',
      allowlist = vim.fn.tempname(),
    }, opts.setup)
    self:lua("require('flint').setup(...)", s)
  else
    self:cmd('runtime plugin/flint.vim')
  end
  self:cmd('doautocmd <nomodeline> VimEnter')
  return self
end

function Child:lua(code, ...)
  local r = vim.fn.rpcrequest(self.ch, 'nvim_exec_lua', code, { ... })
  if r == vim.NIL then
    return nil
  end
  return r
end

function Child:cmd(c)
  return vim.fn.rpcrequest(self.ch, 'nvim_command', c)
end

function Child:eval(e)
  return vim.fn.rpcrequest(self.ch, 'nvim_eval', e)
end

--- Type keys (nvim_input notation) and let the editor process them.
function Child:input(keys)
  vim.fn.rpcrequest(self.ch, 'nvim_input', keys)
  -- A (non-fast) request after the input is handled once the editor waits
  -- for input again, i.e. after the keys were processed.
  self:eval('1')
end

function Child:mode()
  return vim.fn.rpcrequest(self.ch, 'nvim_get_mode').mode
end

function Child:lines()
  return self:lua('return vim.api.nvim_buf_get_lines(0, 0, -1, false)')
end

function Child:set_lines(lines, row, col)
  self:lua('vim.api.nvim_buf_set_lines(0, 0, -1, false, ...)', lines)
  if row then
    self:lua('vim.api.nvim_win_set_cursor(0, {...})', row, col or 0)
  end
end

function Child:cursor()
  return self:lua('return vim.api.nvim_win_get_cursor(0)')
end

--- The ghost text as drawn (flint.render.read), or nil.
function Child:ghost()
  return self:lua("return require('flint.render').read(0)")
end

--- The text still to be accepted, as flint.suggest sees it, or nil.
function Child:visible()
  return self:lua("return require('flint.suggest').visible_text()")
end

--- Is the suggestion finished streaming?
function Child:done()
  return self:lua([[
    local S = require('flint.suggest').state()
    if not S then return false end
    local a = S.alts[S.idx]
    return a ~= nil and a.done
  ]])
end

function Child:stats()
  return self:lua("return require('flint.suggest').stats")
end

--- Wait until fn(child) is truthy; returns its value or nil after timeout ms.
function Child:wait(fn, timeout)
  local val
  vim.wait(timeout or 10000, function()
    val = fn(self)
    return val
  end, 10)
  return val
end

--- Wait for a finished suggestion with visible text; returns the text.
function Child:wait_suggestion(timeout)
  return self:wait(function(c)
    -- text and done read together (a chunk may land between two calls)
    return c:lua([[
      local sg = require('flint.suggest')
      local S, t = sg.state(), sg.visible_text()
      local a = S and S.alts[S.idx]
      return (t and a and a.done) and t or nil
    ]])
  end, timeout)
end

--- Wait until the server answered initialize.
function Child:wait_server(timeout)
  self:lua("require('flint.rpc').ensure()")
  return self:wait(function(c)
    return c:lua("return require('flint.rpc').status") == 'running'
  end, timeout or 20000)
end

function Child:stop()
  pcall(self.cmd, self, 'qa!')
  pcall(vim.fn.jobstop, self.ch)
end

--- Put `prompt` lines in the buffer, go to Insert mode at the end of the last
--- line and type `typed`; wait for a finished, visible suggestion. Tries each
--- prompt in turn (a fixture model's random weights sometimes produce only
--- blanks or stop at once) and returns text, prompt index; nil if none.
function Child:suggest_at(prompts, typed, timeout, pred)
  for i, p in ipairs(prompts) do
    self:input('<Esc>')
    self:set_lines(p, #p, #p[#p])
    self:input('A' .. (typed or ''))
    local t = self:wait_suggestion(timeout or 8000)
    if t and (not pred or pred(t)) then
      return t, i
    end
  end
  return nil
end

--- A predicate for suggest_at: every line of the suggestion fits in `width`
--- display cells from column `col0` (first line) or 0 (the others), so each
--- further line is one virt_line (wider ones are split at the window width:
--- spec_render.lua covers that).
function H.fits(width, col0)
  return function(t)
    for i, l in ipairs(vim.split(t, '\n', true)) do
      if vim.fn.strdisplaywidth(l) + (i == 1 and col0 or 0) >= width then
        return false
      end
    end
    return true
  end
end

--- A suggestion that starts with a printable ASCII character (so a test can
--- type it).
function H.printable(t)
  return t:match('^[%w%p ]') ~= nil
end

-- Prompts that give a visible suggestion from real models and the fixtures
-- (the default model's first; each miss costs a test the wait_suggestion timeout).
H.prompts = {
  { 'import os', 'import sys', '', 'def main():', '    path = ' },
  { '#include <stdio.h>', '', 'int main(void) {', '    printf(' },
  { 'for i in range(10):', '    print(' },
  { 'local function add(a, b)', '  return ' },
  { 'class Stack:', '    def push(self, item):', '        self.' },
  { 'def fibonacci(n):', '    if n < 2:', '        return n', '    return ' },
}

--- `s` as Neovim displays it from virtual column vcol: tabs as spaces,
--- control characters as ^X.
function H.display(s, vcol, ts)
  local out = {}
  for ch in s:gmatch('[%z\1-\127\194-\244][\128-\191]*') do
    local b = ch:byte()
    if ch == '\t' then
      local n = ts - vcol % ts
      out[#out + 1] = string.rep(' ', n)
      vcol = vcol + n
    elseif b < 32 or b == 127 then
      out[#out + 1] = '^' .. string.char(b == 127 and 63 or b + 64)
      vcol = vcol + 2
    else
      out[#out + 1] = ch
      vcol = vcol + vim.api.nvim_strwidth(ch)
    end
  end
  return table.concat(out)
end

-- ---------------------------------------------------------------- tests

H.child = nil

--- Run one test. fn(child) gets a fresh editor unless opts.share is set, in
--- which case the spec's shared child (H.shared) is used.
function H.test(name, fn, opts)
  opts = opts or {}
  local child
  local t0 = vim.loop.hrtime()
  local ok, err = xpcall(function()
    child = opts.child or H.spawn(opts)
    fn(child)
  end, debug.traceback)
  if not ok and child then
    -- the editor's flint log (ids, sizes, reasons; never suggestion text)
    pcall(function()
      for _, l in ipairs(child:lua("return require('flint.rpc').log_lines()") or {}) do
        err = err .. '\nlog: ' .. l
      end
    end)
  end
  if child and not opts.child then
    child:stop()
  end
  if ok then
    H.passed = H.passed + 1
    out('ok - ' .. H.tag .. name .. (' # %.1f s'):format((vim.loop.hrtime() - t0) / 1e9))
  else
    H.failed = H.failed + 1
    out('not ok - ' .. H.tag .. name)
    for l in tostring(err):gmatch('[^\n]+') do
      out('#   ' .. vim.fn.strtrans(l))
    end
  end
end

--- Assertions with readable messages.
function H.eq(want, got, what)
  if not vim.deep_equal(want, got) then
    error(('%s: expected %s, got %s'):format(what or 'value', vim.inspect(want), vim.inspect(got)), 2)
  end
end

function H.truthy(v, what)
  if not v then
    error((what or 'value') .. ': expected a true value, got ' .. vim.inspect(v), 2)
  end
  return v
end

function H.finish()
  vim.cmd(H.failed > 0 and 'cquit 1' or 'qall!')
end

return H
