-- The scanner end to end: parrot models (tests/tools/parrot.c) make the real
-- `flint serve` stream a chosen text, so the redaction of a real AWS key, the
-- halt of an SQL injection, :FlintAllow and :FlintScan are seen exactly as a
-- user sees them.
local H = require('helpers')
local test, eq, truthy = H.test, H.eq, H.truthy

-- split so that this file holds no complete credential
local KEY = 'AKIA' .. 'QW3RT8YU2IOP5ASD'
local SECRET_LINE = 'aws_key = "' .. KEY .. '"'
local ok, secret_model, inject_model = pcall(function()
  return H.parrot(SECRET_LINE), H.parrot('cursor.execute("SELECT id FROM users WHERE name = " + who)')
end)
if not ok then
  H.out('not ok - ' .. H.tag .. 'the parrot models: ' .. tostring(secret_model))
  vim.cmd('cquit 1')
end

--- Everything the editor under test holds that a secret must never reach:
--- every buffer's lines (floating windows included), every extmark with its
--- virtual text, the messages, and flint's log (which keeps the server's
--- stderr and log notifications).
local function everything(c)
  return c:lua([[
    local api, out = vim.api, {}
    for _, b in ipairs(api.nvim_list_bufs()) do
      out[#out + 1] = table.concat(api.nvim_buf_get_lines(b, 0, -1, false), '\n')
      for _, ns in pairs(api.nvim_get_namespaces()) do
        out[#out + 1] = vim.inspect(api.nvim_buf_get_extmarks(b, ns, 0, -1, { details = true }))
      end
    end
    out[#out + 1] = vim.fn.execute('messages')
    out[#out + 1] = table.concat(require('flint.rpc').log_lines(), '\n')
    return table.concat(out, '\n')
  ]])
end

local function ask(c)
  c:input('<Esc>')
  c:set_lines({ 'import os', '' }, 2, 0)
  c:input('A')
  return c:wait_suggestion(10000)
end

test('a real AWS key from the model shows as [REDACTED:aws-access-key-id], never the key', function(c)
  c:wait_server()
  c:cmd('set filetype=python')
  local t = truthy(ask(c), 'a suggestion')
  eq('aws_key = "[REDACTED:aws-access-key-id]"', t, 'the suggestion')
  local g = truthy(c:ghost(), 'ghost text')
  local marked
  for _, ch in ipairs(g.chunks) do
    if ch[2] == 'FlintRedacted' then
      marked = ch[1]
    end
  end
  eq('[REDACTED:aws-access-key-id]', marked, 'the marker has its own highlight: ' .. vim.inspect(g.chunks))
  eq(nil, everything(c):find('AKIA', 1, true), 'no part of the key in buffers, extmarks, messages or log')
  c:input('<Tab>')
  eq({ 'import os', 'aws_key = "[REDACTED:aws-access-key-id]"' }, c:lines(), 'accepting inserts what was shown')
  eq(nil, everything(c):find('AKIA', 1, true), 'still nowhere after accepting')
end, { globals = { flint_model = secret_model } })

test(':FlintAllow makes the same key appear unredacted in the next suggestion', function(c)
  c:wait_server()
  c:cmd('set filetype=python')
  c:cmd('FlintAllow')
  truthy(c:eval('execute("messages")'):find('no redacted secret to allow', 1, true), 'nothing to allow yet')
  eq('aws_key = "[REDACTED:aws-access-key-id]"', ask(c), 'redacted first')
  c:input('<Esc>')
  c:cmd('FlintAllow')
  local msgs = c:wait(function(x)
    local m = x:eval('execute("messages")')
    return m:find('allowed the aws-access-key-id secret', 1, true) and m
  end, 5000)
  truthy(msgs, 'a message naming the rule')
  eq(nil, msgs:find('AKIA', 1, true), 'the message does not hold the key')
  eq(SECRET_LINE, ask(c), 'the next suggestion shows the key')
  truthy(everything(c):find(KEY, 1, true), 'the probe of the first test sees the key once it is allowed')
  local list = c:lua("return require('flint').config.allowlist")
  local f = assert(io.open(list, 'r'), 'the allow-list file was written')
  local body = f:read('*a')
  f:close()
  eq(nil, body:find('AKIA', 1, true), 'the allow-list file holds no key')
  truthy(body:find('%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x'), 'but a fingerprint')
end, { globals = { flint_model = secret_model } })

test('an SQL injection from the model halts the stream and the reason is shown', function(c)
  c:wait_server()
  c:cmd('set filetype=python')
  c:set_lines({ 'def find(cursor, who):', '    ' }, 2, 4)
  c:input('A')
  local a = c:wait(function(x)
    return x:lua([[
      local S = require('flint.suggest').state()
      local a = S and S.alts[1]
      return a and a.done and { blocked = a.blocked, reason = a.reason } or nil
    ]])
  end, 10000)
  eq({ blocked = true, reason = 'blocked' }, a, 'the stream ended blocked')
  eq(nil, c:ghost(), 'no ghost text')
  eq(nil, c:visible(), 'nothing to accept')
  local msgs = c:eval('execute("messages")')
  truthy(msgs:find('suggestion blocked: SQL query built from non-literal data', 1, true), 'the reason: ' .. msgs)
  eq(nil, everything(c):find('SELECT', 1, true), 'no part of the statement reached the editor')
end, { globals = { flint_model = inject_model } })

test(':FlintScan puts findings into vim.diagnostic at their lines and byte columns', function(c)
  local lines = {
    'import os',
    's = "é"; aws_key = "' .. KEY .. '"',
    'name = input()',
    'os.system("ls " + name)',
  }
  c:set_lines(lines, 1, 0)
  c:cmd('set filetype=python')
  c:cmd('FlintScan')
  local d = c:wait(function(x)
    return x:lua([[
      local d = vim.diagnostic.get(0, { namespace = vim.api.nvim_create_namespace('flint-scan') })
      if #d == 0 then return nil end
      table.sort(d, function(a, b) return a.lnum < b.lnum end)
      local out = {}
      for _, e in ipairs(d) do
        out[#out + 1] = { e.lnum, e.col, e.end_lnum, e.end_col, e.code, e.severity, e.message }
      end
      return out
    ]])
  end, 10000)
  truthy(d, 'diagnostics')
  local kcol = lines[2]:find(KEY, 1, true) - 1
  local E = vim.diagnostic.severity.ERROR
  eq({ 1, kcol, 1, kcol + #KEY, 'aws-access-key-id', E }, { unpack(d[1], 1, 6) }, 'the key, in bytes after "é"')
  eq({ 3, 0, 3, #lines[4], 'command-injection', E }, { unpack(d[2], 1, 6) }, 'the injection')
  eq(2, #d, 'two findings')
  eq(nil, (d[1][7] .. d[2][7]):find('AKIA', 1, true), 'messages without the key')
  truthy(c:eval('execute("messages")'):find('scan: 2 findings', 1, true), 'told how many')
end)

H.finish()
