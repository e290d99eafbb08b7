--- :checkhealth flint — binary, model, versions, editor features.
local M = {}

-- vim.health (0.10) or require('health') (0.7-0.9)
local h = vim.health or require('health')
local start = h.start or h.report_start
local ok = h.ok or h.report_ok
local warn = h.warn or h.report_warn
local err = h.error or h.report_error
local info = h.info or h.report_info

function M.check()
  local flint = require('flint')
  local rpc = require('flint.rpc')
  local render = require('flint.render')
  local cfg = flint.config

  start('flint: editor')
  local v = vim.version()
  ok(('Neovim %d.%d.%d'):format(v.major, v.minor, v.patch))
  if render.has_inline then
    ok('inline virtual text: ghost text is drawn inline')
  else
    info('no inline virtual text (Neovim < 0.10): ghost text is an overlay that redraws the rest of the line')
  end
  if vim.mpack and vim.mpack.Unpacker then
    ok('vim.mpack streaming decoder: available')
  else
    err('vim.mpack.Unpacker missing: flint needs Neovim 0.7 or later')
  end
  if not cfg then
    warn('flint is not set up: call require("flint").setup() or load plugin/flint.vim')
    return
  end
  if cfg.enabled then
    ok('enabled')
  else
    warn('disabled (:Flint enable)')
  end

  start('flint: server')
  local cmd, e = rpc.command(cfg)
  if not cmd then
    err('binary: ' .. e, { 'run `make` in ' .. rpc.root(), 'or set server_cmd' })
    return
  end
  ok('binary: ' .. cmd[1])
  local out = vim.fn.system({ cmd[1], 'help' })
  local first = (out:match('[^\n]+') or ''):sub(1, 120)
  if vim.v.shell_error == 0 then
    ok('runs: ' .. first)
  else
    warn('`' .. cmd[1] .. ' help` exited ' .. vim.v.shell_error .. ': ' .. first)
  end
  if cfg.model ~= '' then
    local m = vim.fn.expand(cfg.model)
    if vim.fn.filereadable(m) == 1 then
      ok('model file: ' .. m)
    else
      err('model file not readable: ' .. m)
    end
  else
    local found = vim.fn.glob(rpc.root() .. '/models/*.gguf', false, true)
    if #found > 0 then
      ok('default model in models/: ' .. table.concat(found, ', '))
    else
      warn('no model given and none in ' .. rpc.root() .. '/models/', { 'set the model option, or see models/README.md' })
    end
  end
  if not rpc.running() then
    rpc.ensure()
  end
  vim.wait(20000, function()
    return rpc.status ~= 'starting'
  end, 20)
  if rpc.status == 'running' and rpc.info then
    local i = rpc.info
    local function s(x)
      if x == nil or x == vim.NIL then
        return '-'
      end
      if type(x) == 'table' then
        return vim.inspect(x, {
          newline = ' ',
          indent = '',
          process = function(item, path)
            if path[#path] ~= vim.inspect.METATABLE then
              return item
            end
          end,
        })
      end
      return tostring(x)
    end
    ok(('server running (pid %s), version %s'):format(s(rpc.pid), s(i.version)))
    local m = i.model
    if type(m) == 'table' then
      ok(('model loaded: %s (%s, %s tokens of context, FIM format %s) from %s'):format(
        s(m.name), s(m.arch), s(m.n_ctx), s(m.fim), s(m.path)))
    else
      err('no model loaded: ' .. s(i.error), { 'set the model option, or see models/README.md' })
    end
    local d = i.draft
    info('draft model: ' .. (type(d) == 'table' and (s(d.path) .. ' (' .. s(d.arch) .. ')') or 'none'))
    local caps = type(i.capabilities) == 'table' and i.capabilities or {}
    info(('server capabilities: methods %s; up to %s alternatives per request; scanner %s'):format(
      type(caps.methods) == 'table' and table.concat(caps.methods, ', ') or '-', s(caps.n_alt_max), s(caps.scanner)))
  else
    err(('server not running (%s): %s'):format(rpc.status, tostring(rpc.last_error)), { 'see :Flint log' })
  end
end

return M
