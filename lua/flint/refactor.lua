--- flint.refactor: :[range]FlintRefactor {instruction} — the range is rewritten
--- by the server and streamed into a diff preview (flint.preview), which you
--- accept, reject, retry or cancel with buffer-local keys.
---
--- One refactor R per buffer: requested (the range's lines and the buffer's
--- changedtick are kept), streaming (chunks of R.id), done (a final chunk or
--- cancel), then accepted or rejected (closed). Accept applies exactly the
--- previewed text to exactly the range, as one undo step, and only while the
--- buffer's changedtick is the one the request was made at; otherwise it
--- refuses and says why. Chunks that arrive after a cancel are dropped.
local api = vim.api
local uv = vim.loop
local rpc = require('flint.rpc')
local diff = require('flint.diff')
local preview = require('flint.preview')

local M = {}
local H = {
  cfg = nil,
  by_buf = {}, -- buffer -> R
  by_id = {}, -- request id -> R
  track = api.nvim_create_namespace('flint_refactor_range'),
}

--- The actions, their <Plug> maps and what the status line calls them.
M.actions = { 'accept', 'reject', 'retry', 'cancel', 'next_hunk', 'prev_hunk' }
function M.plug(action)
  return '<Plug>(flint-refactor-' .. action:gsub('_', '-') .. ')'
end

function M.configure(cfg)
  H.cfg = cfg
end

local plain = rpc.plain

local function tell(msg, level)
  vim.notify('flint: ' .. msg, level or vim.log.levels.WARN)
end

--- An autocommand callback that logs its errors instead of raising them.
local function protect(fn)
  return function()
    local ok, err = pcall(fn)
    if not ok then
      rpc.log('error', 'refactor autocommand: ' .. tostring(err))
    end
  end
end

-- ---------------------------------------------------------------- keys

--- Map the refactor keys in buf, keeping the buffer-local maps they hide.
local function map_keys(R)
  R.saved = {}
  local existing = {}
  for _, k in ipairs(api.nvim_buf_get_keymap(R.buf, 'n')) do
    existing[k.lhs] = k
  end
  for _, action in ipairs(M.actions) do
    local lhs = H.cfg.refactor_keymaps[action]
    if lhs and lhs ~= '' then
      local norm = api.nvim_buf_call(R.buf, function()
        return vim.fn.maparg(lhs, 'n', false, true).lhs
      end)
      R.saved[lhs] = norm and existing[norm] or false
      api.nvim_buf_set_keymap(R.buf, 'n', lhs, M.plug(action),
        { nowait = true, silent = true, desc = 'flint: refactor ' .. action:gsub('_', ' ') })
    end
  end
end

local function unmap_keys(R)
  for lhs, prev in pairs(R.saved or {}) do
    pcall(api.nvim_buf_del_keymap, R.buf, 'n', lhs)
    if prev then
      local opts = { expr = prev.expr == 1, noremap = prev.noremap == 1, silent = prev.silent == 1,
        nowait = prev.nowait == 1, desc = prev.desc, callback = prev.callback }
      pcall(api.nvim_buf_set_keymap, R.buf, 'n', lhs, prev.rhs or '', opts)
    end
  end
  R.saved = nil
end

-- ---------------------------------------------------------------- status line

local function key_hints(R)
  local km, out = H.cfg.refactor_keymaps, {}
  local function add(action, what)
    if km[action] and km[action] ~= '' then
      out[#out + 1] = km[action] .. ' ' .. what
    end
  end
  if R.done then
    add('accept', 'accept')
    add('reject', 'reject')
    add('retry', 'retry')
  else
    add('cancel', 'cancel')
    add('reject', 'reject')
  end
  if km.next_hunk and km.next_hunk ~= '' then
    out[#out + 1] = km.next_hunk .. '/' .. (km.prev_hunk or '') .. ' hunks'
  end
  return table.concat(out, '  ')
end

local ended = {
  eos = 'done',
  stop = 'done',
  max_tokens = 'stopped at the token limit: the rewrite may be cut short',
  max_ms = 'stopped at the time limit: the rewrite may be cut short',
  cancelled = 'cancelled: the rewrite is cut short',
}

--- The status line chunks: state, size of the change, speed, keys.
local function status(R, view)
  local warn, parts = false, {}
  if not R.done then
    parts[#parts + 1] = ('streaming %d lines, %.1f s'):format(#view.new, (uv.hrtime() - R.t0) / 1e9)
  elseif R.reason == 'blocked' then
    warn = true
    parts[#parts + 1] = 'blocked by the scanner' .. (R.blocked and (': ' .. R.blocked) or '') .. ' (cannot be applied)'
  elseif R.reason == 'error' then
    warn = true
    parts[#parts + 1] = 'error: ' .. tostring(R.error or 'unknown')
  else
    warn = R.reason ~= 'eos' and R.reason ~= 'stop'
    parts[#parts + 1] = ended[R.reason] or tostring(R.reason)
  end
  parts[#parts + 1] = ('+%d -%d lines'):format(view.added, view.deleted)
  local st = R.stats
  if type(st) == 'table' and type(plain(st.generated_tokens)) == 'number' then
    local ms = plain(st.gen_ms) or 0
    local s = ('%d tokens, %.2f s, %.0f tok/s'):format(st.generated_tokens, ms / 1e3,
      ms > 0 and st.generated_tokens / (ms / 1e3) or 0)
    local sp = plain(st.spec)
    if type(sp) == 'table' and (plain(sp.drafted) or 0) > 0 then
      s = s .. (', speculation %s %d%% of %d accepted'):format(sp.mode, math.floor(100 * sp.accepted / sp.drafted + 0.5),
        sp.drafted)
    end
    parts[#parts + 1] = s
  end
  if api.nvim_buf_get_changedtick(R.buf) ~= R.tick then
    warn = true
    parts[#parts + 1] = 'the buffer changed: accepting is refused'
  end
  return {
    { ' flint refactor ', 'FlintRefactorStatus' },
    { ' ' .. R.instruction .. ': ' .. table.concat(parts, ' | ') .. '  ', warn and 'FlintRefactorWarn' or 'FlintRefactorStream' },
    { '[' .. key_hints(R) .. ']', 'FlintRefactorStream' },
  }
end

-- ---------------------------------------------------------------- drawing

--- The range's first row and row count now (extmarks follow edits).
local function range(R)
  local s = api.nvim_buf_get_extmark_by_id(R.buf, H.track, R.mark_s, {})
  local e = api.nvim_buf_get_extmark_by_id(R.buf, H.track, R.mark_e, {})
  return s[1], math.max(e[1] - s[1] + 1, 0)
end

local function redraw(R)
  R.dirty = false
  if R.closed or not api.nvim_buf_is_valid(R.buf) then
    return
  end
  R.view = diff.view(R.orig, R.text, R.done)
  local row0 = range(R)
  preview.draw(R.buf, row0, R.orig, R.view, status(R, R.view))
  if not R.done then
    R.live = (R.live or 0) + 1 -- previews drawn while streaming (state(), tests)
  end
end

local function schedule_redraw(R)
  if not R.dirty then
    R.dirty = true
    vim.schedule(function()
      redraw(R)
    end)
  end
end

-- ---------------------------------------------------------------- requests

local function max_tokens(text)
  local n = H.cfg.refactor_max_tokens
  if n and n > 0 then
    return n
  end
  -- about three bytes per token: room for a rewrite up to three times as long
  return math.min(4096, 64 + #text)
end

local function finish(R, reason, err)
  R.done, R.reason, R.error = true, reason, err
  schedule_redraw(R)
end

local function request(R)
  local buf = R.buf
  local s, n = range(R)
  R.orig = api.nvim_buf_get_lines(buf, s, s + n, false)
  R.tick = api.nvim_buf_get_changedtick(buf)
  R.text, R.done, R.reason, R.error, R.stats, R.blocked = '', false, nil, nil, nil, nil
  R.cancelled, R.updates, R.live, R.late, R.t0 = false, 0, 0, 0, uv.hrtime()
  local c = H.cfg.refactor_context_lines
  local before = api.nvim_buf_get_lines(buf, math.max(0, s - c), s, false)
  local after = api.nvim_buf_get_lines(buf, s + n, s + n + c, false)
  local text = table.concat(R.orig, '\n') .. '\n'
  R.id = rpc.new_id()
  H.by_id[R.id] = R
  rpc.ensure()
  local sent = rpc.request('refactor', {
    buf = buf,
    path = vim.fn.fnamemodify(api.nvim_buf_get_name(buf), ':~:.'),
    filetype = api.nvim_buf_get_option(buf, 'filetype'),
    text = text,
    instruction = R.instruction,
    before = #before > 0 and table.concat(before, '\n') .. '\n' or '',
    after = #after > 0 and table.concat(after, '\n') .. '\n' or '',
    max_tokens = max_tokens(text),
    id = R.id,
  }, function(err)
    if err and not R.done and H.by_id[R.id] == R then
      finish(R, 'error', err)
    end
  end)
  if not sent then
    finish(R, 'error', rpc.last_error or 'the server is not running')
  end
  redraw(R)
end

--- Start a refactor of lines l1..l2 (1-based, inclusive) of buf. Without an
--- instruction, ask for one.
function M.start(buf, l1, l2, instruction)
  if not instruction or not instruction:match('%S') then
    vim.ui.input({ prompt = 'flint refactor: ' }, function(input)
      if input and input:match('%S') then
        M.start(buf, l1, l2, input)
      end
    end)
    return
  end
  if H.by_buf[buf] then
    H.close(H.by_buf[buf])
  end
  local R = { buf = buf, instruction = instruction }
  R.mark_s = api.nvim_buf_set_extmark(buf, H.track, l1 - 1, 0, { right_gravity = false })
  R.mark_e = api.nvim_buf_set_extmark(buf, H.track, l2 - 1, 0, {})
  H.by_buf[buf] = R
  map_keys(R)
  R.augroup = api.nvim_create_augroup('flint_refactor_' .. buf, { clear = true })
  api.nvim_create_autocmd({ 'TextChanged', 'TextChangedI' }, {
    group = R.augroup,
    buffer = buf,
    desc = 'flint: the refactor preview notes a changed buffer',
    callback = protect(function()
      schedule_redraw(R)
    end),
  })
  api.nvim_create_autocmd({ 'BufUnload', 'BufWipeout' }, {
    group = R.augroup,
    buffer = buf,
    desc = 'flint: drop the refactor of an unloaded buffer',
    callback = protect(function()
      H.close(R)
    end),
  })
  request(R)
end

--- :[range]FlintRefactor {instruction}
function M.command(l1, l2, args)
  M.start(api.nvim_get_current_buf(), l1, l2, args)
end

--- A chunk notification; returns false when it is not a refactor's.
function M.on_chunk(p)
  local R = type(p) == 'table' and H.by_id[plain(p.id)]
  if not R then
    return false
  end
  if R.cancelled or R.closed or R.done then
    R.late = R.late + 1
    return true
  end
  local text = plain(p.text)
  R.text = R.text .. (type(text) == 'string' and text or '')
  for _, f in ipairs(type(plain(p.findings)) == 'table' and p.findings or {}) do
    if type(f) == 'table' and plain(f.action) == 'halt' then
      R.blocked = tostring(plain(f.message) or plain(f.rule) or '')
    end
  end
  R.updates = R.updates + 1
  if plain(p.done) then
    R.stats = plain(p.stats)
    finish(R, plain(p.reason) or 'eos', plain(p.error))
  else
    schedule_redraw(R)
  end
  return true
end

--- The server went away: streaming refactors end with an error.
function M.on_exit()
  for _, R in pairs(H.by_buf) do
    if not R.done then
      finish(R, 'error', 'the server exited')
    end
  end
end

-- ---------------------------------------------------------------- actions

function H.close(R)
  if R.closed then
    return
  end
  if not R.done then
    R.cancelled = true
    rpc.notify('cancel', { id = R.id })
  end
  R.closed = true
  H.by_buf[R.buf] = nil
  pcall(api.nvim_del_augroup_by_id, R.augroup)
  if api.nvim_buf_is_valid(R.buf) then
    preview.clear(R.buf)
    api.nvim_buf_clear_namespace(R.buf, H.track, 0, -1)
    unmap_keys(R)
  end
end

local function current(buf)
  return H.by_buf[buf or api.nvim_get_current_buf()]
end

--- Apply the previewed text. Returns true when the buffer was changed.
function M.accept(buf)
  local R = current(buf)
  if not R then
    return false
  end
  if not R.done then
    tell('the rewrite is still streaming: wait for it, or cancel it')
    return false
  end
  if R.reason == 'blocked' or R.reason == 'error' then
    tell('this rewrite cannot be applied (' .. (R.reason == 'blocked' and 'blocked by the scanner' or 'error') .. ')')
    return false
  end
  if api.nvim_buf_get_changedtick(R.buf) ~= R.tick then
    tell('the buffer changed after the refactor was asked for: not applied (retry or reject it)')
    redraw(R)
    return false
  end
  local view = diff.view(R.orig, R.text, true)
  local row0 = range(R)
  H.close(R)
  vim.cmd('let &g:undolevels = &g:undolevels') -- its own undo step
  api.nvim_buf_set_lines(R.buf, row0, row0 + #R.orig, false, view.new)
  vim.notify(('flint: refactor applied (+%d -%d lines; u undoes it)'):format(view.added, view.deleted))
  return true
end

function M.reject(buf)
  local R = current(buf)
  if R then
    H.close(R)
  end
  return R ~= nil
end

--- Stop the stream; the preview stays with what came so far.
function M.cancel(buf)
  local R = current(buf)
  if not R or R.done then
    return false
  end
  R.cancelled = true
  rpc.notify('cancel', { id = R.id })
  finish(R, 'cancelled')
  return true
end

--- Ask again (for the range as it is now), with the instruction edited.
function M.retry(buf)
  local R = current(buf)
  if not R then
    return false
  end
  vim.ui.input({ prompt = 'flint refactor: ', default = R.instruction }, function(input)
    if input == nil or R.closed then
      return
    end
    if not R.done then
      R.cancelled = true
      rpc.notify('cancel', { id = R.id })
    end
    if input:match('%S') then
      R.instruction = input
    end
    request(R)
  end)
  return true
end

--- Move the cursor to the next (dir 1) or previous (-1) changed place.
function M.jump(dir, buf)
  local R = current(buf)
  if not (R and R.view) then
    return false
  end
  local row0 = range(R)
  local cur = api.nvim_win_get_cursor(0)[1] - 1
  local rows = {}
  for _, h in ipairs(R.view.hunks) do
    rows[#rows + 1] = row0 + math.max(h[1] - (h[2] > 0 and 1 or 0), 0)
  end
  local target
  for i = dir > 0 and 1 or #rows, dir > 0 and #rows or 1, dir do
    if (dir > 0 and rows[i] > cur) or (dir < 0 and rows[i] < cur) then
      target = rows[i]
      break
    end
  end
  if target then
    api.nvim_win_set_cursor(0, { target + 1, 0 })
  end
  return target ~= nil
end

--- The refactor of buf as plain data (tests, statusline), or nil.
function M.state(buf)
  local R = current(buf)
  if not R then
    return nil
  end
  local view = diff.view(R.orig, R.text, R.done)
  return {
    id = R.id, instruction = R.instruction, text = R.text, done = R.done, reason = R.reason, error = R.error,
    updates = R.updates, live = R.live, late = R.late, tick = R.tick, stats = R.stats, blocked = R.blocked,
    orig = R.orig, new = view.new, added = view.added, deleted = view.deleted,
  }
end

return M
