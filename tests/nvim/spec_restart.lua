-- The co-process: started lazily, restarted when it dies, stopped on exit.
local H = require('helpers')
local test, eq, truthy = H.test, H.eq, H.truthy

test('the server is not started before it is needed', function(c)
  eq('stopped', c:lua("return require('flint.rpc').status"), 'not started at startup')
  c:set_lines({ 'x = 1' }, 1, 5)
  c:input('A')
  truthy(c:wait(function(x)
    return x:lua("return require('flint.rpc').pid")
  end, 5000), 'started on the first Insert')
end)

test('a killed server is restarted (told once) and the next keystroke works', function(c)
  c:wait_server()
  truthy(c:suggest_at(H.prompts), 'suggestion before')
  local pid = c:lua("return require('flint.rpc').pid")
  vim.loop.kill(pid, 'sigkill')
  truthy(c:wait(function(x)
    local p = x:lua("return require('flint.rpc').pid")
    return p ~= vim.NIL and p ~= pid and x:lua("return require('flint.rpc').status") == 'running'
  end, 20000), 'a new server is running')
  eq(nil, c:ghost(), 'the dead server\'s suggestion is gone')
  -- the next keystrokes get suggestions again
  c:input('<Esc>')
  truthy(c:suggest_at(H.prompts), 'suggestion after restart')
  local msgs = c:eval('execute("messages")')
  local _, n = msgs:gsub('restarting', '')
  eq(1, n, 'told once: ' .. msgs)
  -- a second death is not announced again
  pid = c:lua("return require('flint.rpc').pid")
  vim.loop.kill(pid, 'sigkill')
  c:wait(function(x)
    local p = x:lua("return require('flint.rpc').pid")
    return p ~= vim.NIL and p ~= pid
  end, 20000)
  msgs = c:eval('execute("messages")')
  _, n = msgs:gsub('restarting', '')
  eq(1, n, 'still told once')
end)

test(':Flint restart starts a fresh server', function(c)
  c:wait_server()
  local pid = c:lua("return require('flint.rpc').pid")
  c:cmd('Flint restart')
  truthy(c:wait(function(x)
    local p = x:lua("return require('flint.rpc').pid")
    return p ~= vim.NIL and p ~= pid and x:lua("return require('flint.rpc').status") == 'running'
  end, 20000), 'new server')
  vim.wait(200)
  eq(0, vim.loop.kill(pid, 0) == 0 and 1 or 0, 'old server gone')
end)

test('the server stops when the editor exits', function(c)
  c:wait_server()
  local pid = c:lua("return require('flint.rpc').pid")
  c:stop()
  local gone = vim.wait(5000, function()
    return vim.loop.kill(pid, 0) ~= 0
  end, 20)
  truthy(gone, 'server process ended')
end)

test('a missing binary is reported, not an error storm', function(c)
  c:set_lines({ 'x = 1' }, 1, 5)
  c:input('Ay')
  c:wait(function(x)
    return x:lua("return require('flint.rpc').status") == 'missing'
  end, 3000)
  eq('missing', c:lua("return require('flint.rpc').status"), 'status')
  eq('flint ✗', c:eval('flint#statusline()'), 'statusline')
  eq({ 'x = 1y' }, c:lines(), 'typing works')
end, { globals = { flint_server_cmd = { '/nonexistent/flint', 'serve' } } })

H.finish()
