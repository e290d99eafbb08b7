--- flint.rpc: the `flint serve` co-process and its msgpack-RPC channel.
---
--- The server is spawned with libuv pipes (vim.loop) and spoken to in msgpack-RPC
--- (doc/protocol.md), decoded with vim.mpack's streaming Unpacker. Every request is
--- asynchronous: a callback gets (err, result) on the main loop. Nothing here ever
--- waits for the server, so no keystroke waits either. (jobstart({rpc = true}) would
--- give only the blocking rpcrequest() for answers.)
---
--- Life cycle: started lazily by M.ensure(); when it dies unexpectedly it is
--- restarted with exponential backoff (the user is told once per session); after
--- five quick deaths in a row it stays down until :Flint restart. M.stop() on
--- VimLeavePre asks it to shut down, closes its stdin and sends SIGTERM.
local uv = vim.loop
local mpack = vim.mpack

local M = {}

-- Public state (read by :Flint status, health, statusline).
M.status = 'stopped' -- stopped | starting | running | backoff | failed | missing
M.info = nil -- initialize result
M.pid = nil
M.restarts = 0
M.cmd = nil -- the command line last used
M.last_error = nil
M.handlers = {} -- method -> function(params) for server notifications

local H = {
  proc = nil, -- uv process handle
  stdin = nil,
  stdout = nil,
  stderr = nil,
  gen = 0, -- bumps on every spawn, so callbacks of an old process are ignored
  callbacks = {}, -- msgid -> fn(err, result)
  next_msgid = 1,
  next_id = 1, -- client-chosen complete ids (doc/protocol.md: "id?")
  started_at = 0,
  quick_deaths = 0,
  told = false,
  timer = nil,
  stopping = false,
  log = {}, -- ring of { time, level, msg }
  log_max = 1000,
  stderr_tail = '',
  cfg = nil,
}

local level_num = { debug = 1, info = 2, warn = 3, error = 4 }

--- Append a message to the log ring (never suggestion text: callers pass only
--- sizes, ids, reasons).
function M.log(level, msg)
  local min = level_num[(H.cfg and H.cfg.log_level) or 'warn'] or 3
  if (level_num[level] or 2) < min then
    return
  end
  local log = H.log
  log[#log + 1] = { os.date('%H:%M:%S'), level, msg }
  if #log > H.log_max then
    table.remove(log, 1)
  end
end

function M.log_lines()
  local lines = {}
  for _, e in ipairs(H.log) do
    lines[#lines + 1] = ('%s %-5s %s'):format(e[1], e[2], e[3])
  end
  return lines
end

local function notify_user(msg, level)
  vim.schedule(function()
    vim.notify('flint: ' .. msg, level or vim.log.levels.WARN)
  end)
end

function M.configure(cfg)
  H.cfg = cfg
end

--- Plugin root: the directory holding lua/, plugin/, build/, models/.
function M.root()
  local src = debug.getinfo(1, 'S').source:sub(2)
  return vim.fn.fnamemodify(src, ':p:h:h:h')
end

--- The server command line, or nil and the reason.
function M.command(cfg)
  cfg = cfg or H.cfg or {}
  local cmd
  if cfg.server_cmd and #cfg.server_cmd > 0 then
    cmd = vim.deepcopy(cfg.server_cmd)
    if vim.fn.executable(cmd[1]) ~= 1 then
      return nil, ('server_cmd: %s is not executable'):format(cmd[1])
    end
  else
    local bin = M.root() .. '/build/flint'
    if vim.fn.executable(bin) == 1 then
      cmd = { bin, 'serve' }
    elseif vim.fn.executable('flint') == 1 then
      cmd = { vim.fn.exepath('flint'), 'serve' }
    else
      return nil, ('no server binary: %s is not built (run `make` in %s) and flint is not on $PATH'):format(bin, M.root())
    end
  end
  if cfg.model and cfg.model ~= '' then
    vim.list_extend(cmd, { '--model', vim.fn.expand(cfg.model) })
  end
  local allow = M.allowlist(cfg)
  if allow then
    vim.list_extend(cmd, { '--allowlist', allow })
  end
  vim.list_extend(cmd, cfg.server_args or {})
  return cmd
end

--- The allow-list file the server keeps (option allowlist), or nil for none.
function M.allowlist(cfg)
  local a = cfg.allowlist or ''
  if a == 'none' then
    return nil
  end
  if a == '' then
    return vim.fn.stdpath('data') .. '/flint/allow.list'
  end
  return vim.fn.expand(a)
end

--- A decoded value with msgpack/JSON nil (vim.NIL) turned into Lua nil.
function M.plain(v)
  if v == vim.NIL then
    return nil
  end
  return v
end

local plain = M.plain

local function dispatch(msg)
  if type(msg) ~= 'table' then
    return
  end
  local kind = msg[1]
  if kind == 1 then
    local cb = H.callbacks[msg[2]]
    H.callbacks[msg[2]] = nil
    local err, result = plain(msg[3]), plain(msg[4])
    if err ~= nil and type(err) ~= 'string' then
      err = vim.inspect(err)
    end
    if cb then
      cb(err, result)
    elseif err then
      M.log('warn', 'server error: ' .. err)
    end
  elseif kind == 2 then
    local method, params = msg[2], msg[3]
    if type(params) == 'table' then
      params = params[1]
    end
    M.on_notify(method, params)
  elseif kind == 0 then
    -- The server does not call us; answer so it never waits.
    M.log('warn', 'unexpected request from server: ' .. tostring(msg[3]))
    if H.stdin then
      H.stdin:write(mpack.encode({ 1, msg[2], 'not supported', vim.NIL }))
    end
  end
end

--- Entry point for server notifications (also reachable through the protocol's
--- "notify": "nvim_exec_lua" mode, which this client does not need).
function M.on_notify(method, params)
  if method == 'log' and type(params) == 'table' then
    local lvl = plain(params.level)
    M.log(type(lvl) == 'string' and lvl or 'info', 'server: ' .. tostring(plain(params.message)))
    return
  end
  local h = M.handlers[method]
  if h then
    local ok, err = pcall(h, params)
    if not ok then
      M.log('error', ('handler %s: %s'):format(method, err))
    end
  end
end

local function close(h)
  if h and not h:is_closing() then
    h:close()
  end
end

local function on_exit(gen, handles, code, signal)
  for _, h in ipairs(handles) do
    close(h)
  end
  if gen ~= H.gen then
    return
  end
  H.proc, H.stdin, H.stdout, H.stderr = nil, nil, nil, nil
  M.pid = nil
  local cbs = H.callbacks
  H.callbacks = {}
  for _, cb in pairs(cbs) do
    pcall(cb, 'server exited', nil)
  end
  if H.stopping then
    M.status = 'stopped'
    return
  end
  local ran = uv.now() - H.started_at
  M.log('error', ('server exited (code %d, signal %d) after %d ms'):format(code, signal, ran))
  if M.handlers.__exit then
    pcall(M.handlers.__exit)
  end
  if ran > 30000 then
    H.quick_deaths = 0
  end
  H.quick_deaths = H.quick_deaths + 1
  if H.quick_deaths > 5 then
    M.status = 'failed'
    M.last_error = ('the server exited %d times in a row (code %d, signal %d)'):format(H.quick_deaths - 1, code, signal)
    notify_user(M.last_error .. '; see :Flint log, then :Flint restart', vim.log.levels.ERROR)
    return
  end
  if not H.told then
    H.told = true
    notify_user(('server exited (code %d, signal %d); restarting it. See :Flint log'):format(code, signal))
  end
  M.status = 'backoff'
  local delay = H.quick_deaths == 1 and 0 or math.min(30000, 250 * 2 ^ (H.quick_deaths - 1))
  H.timer = H.timer or uv.new_timer()
  H.timer:stop()
  H.timer:start(delay, 0, function()
    vim.schedule(function()
      if M.status == 'backoff' then
        M.status = 'stopped'
        M.start()
      end
    end)
  end)
end

--- Spawn the server and send initialize. Returns true, or false and a message.
function M.start()
  if H.proc then
    return true
  end
  local cmd, err = M.command()
  if not cmd then
    if M.status ~= 'missing' then
      notify_user(err, vim.log.levels.ERROR)
      M.log('error', err)
    end
    M.status = 'missing'
    M.last_error = err
    return false, err
  end
  M.cmd = cmd
  local allow = M.allowlist(H.cfg or {})
  if allow then
    vim.fn.mkdir(vim.fn.fnamemodify(allow, ':h'), 'p', 448) -- 0700: fingerprints only, still private
  end
  H.stopping = false
  H.gen = H.gen + 1
  local gen = H.gen
  local stdin, stdout, stderr = uv.new_pipe(false), uv.new_pipe(false), uv.new_pipe(false)
  local args = {}
  for i = 2, #cmd do
    args[#args + 1] = cmd[i]
  end
  local handles = { stdin, stdout, stderr }
  local proc, pid = uv.spawn(cmd[1], { args = args, stdio = { stdin, stdout, stderr } }, function(code, signal)
    vim.schedule(function()
      on_exit(gen, handles, code, signal)
    end)
  end)
  if not proc then
    close(stdin)
    close(stdout)
    close(stderr)
    M.status = 'failed'
    M.last_error = ('cannot start %s: %s'):format(cmd[1], tostring(pid))
    M.log('error', M.last_error)
    return false, M.last_error
  end
  handles[4] = proc
  H.proc, H.stdin, H.stdout, H.stderr = proc, stdin, stdout, stderr
  M.pid = pid
  H.started_at = uv.now()
  M.status = 'starting'
  M.log('info', ('started %s (pid %d)'):format(table.concat(cmd, ' '), pid))

  local unpacker = mpack.Unpacker()
  stdout:read_start(function(rerr, data)
    if rerr or not data then
      return
    end
    -- Decode in the fast callback, dispatch all messages of this read in one go.
    local msgs, pos = {}, 1
    while pos <= #data do
      local obj, np = unpacker(data, pos)
      if np == pos then
        break
      end
      pos = np
      if obj ~= nil then
        msgs[#msgs + 1] = obj
      end
    end
    if #msgs > 0 then
      vim.schedule(function()
        if gen ~= H.gen then
          return
        end
        for _, m in ipairs(msgs) do
          dispatch(m)
        end
      end)
    end
  end)
  stderr:read_start(function(_, data)
    if not data then
      return
    end
    vim.schedule(function()
      local text = H.stderr_tail .. data
      local lines = vim.split(text, '\n', true)
      H.stderr_tail = table.remove(lines)
      for _, l in ipairs(lines) do
        if l ~= '' then
          M.log('info', 'server stderr: ' .. l)
        end
      end
    end)
  end)

  M.request('initialize', {
    client = 'nvim',
    client_version = tostring(vim.version().major) .. '.' .. vim.version().minor .. '.' .. vim.version().patch,
    options = vim.empty_dict(),
  }, function(ierr, result)
    if gen ~= H.gen then
      return
    end
    if ierr then
      M.last_error = 'initialize: ' .. ierr
      M.log('error', M.last_error)
      notify_user(M.last_error, vim.log.levels.ERROR)
      return
    end
    M.info = result
    M.status = 'running'
    M.log('info', 'initialized')
    local model = type(result) == 'table' and result.model
    if model == nil or model == vim.NIL then
      -- the server runs without a model: say why, once
      local why = type(result) == 'table' and plain(result.error) or 'no model'
      M.last_error = 'no model: ' .. tostring(why)
      M.log('error', M.last_error)
      if not H.told_model then
        H.told_model = true
        notify_user(M.last_error, vim.log.levels.ERROR)
      end
    end
  end)
  return true
end

--- Start unless running, starting, waiting to restart, or given up.
function M.ensure()
  if H.proc then
    return true
  end
  if M.status == 'stopped' then
    return M.start()
  end
  return false
end

function M.running()
  return H.proc ~= nil
end

--- Send a request; cb(err, result) runs later on the main loop. Returns the msgid,
--- or nil when there is no server (cb is not called then).
function M.request(method, params, cb)
  if not H.stdin then
    return nil
  end
  local msgid = H.next_msgid
  H.next_msgid = H.next_msgid + 1
  if cb then
    H.callbacks[msgid] = cb
  end
  H.stdin:write(mpack.encode({ 0, msgid, method, { params or vim.empty_dict() } }))
  return msgid
end

function M.notify(method, params)
  if not H.stdin then
    return false
  end
  H.stdin:write(mpack.encode({ 2, method, { params or vim.empty_dict() } }))
  return true
end

--- A fresh client-chosen id for complete (positive integer).
function M.new_id()
  local id = H.next_id
  H.next_id = H.next_id + 1
  return id
end

--- Stop the server (VimLeavePre, :Flint restart). Never waits.
function M.stop()
  if H.timer then
    H.timer:stop()
  end
  if not H.proc then
    M.status = 'stopped'
    return
  end
  H.stopping = true
  M.notify('shutdown', vim.empty_dict())
  close(H.stdin)
  H.stdin = nil
  pcall(function()
    H.proc:kill('sigterm')
  end)
end

--- :Flint restart: stop, forget the failure count, start again.
function M.restart()
  M.stop()
  H.quick_deaths = 0
  -- The old process's exit callback is ignored (generation check).
  H.gen = H.gen + 1
  H.proc, H.stdout, H.stderr, H.stdin = nil, nil, nil, nil
  H.callbacks = {}
  M.pid = nil
  M.info = nil
  M.status = 'stopped'
  return M.start()
end

return M
