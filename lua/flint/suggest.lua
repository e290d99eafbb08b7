--- flint.suggest: when to ask, what to keep, what to accept. No drawing here
--- (flint.render draws) and no process handling (flint.rpc).
---
--- One suggestion state at a time (S): where it was asked for (buffer, row, col,
--- the line's text before and after the cursor, line count, changedtick), the
--- request id(s), the alternatives as they stream in, and `typed` — what the user
--- has inserted since, read back from the buffer. A suggestion stays valid while
--- the buffer is the origin plus `typed` and `typed` is a prefix of the shown
--- alternative: typing its characters (or accepting part of it) just moves the
--- ghost text on, with no request and no flicker. Anything else drops it at once
--- (cancelling the request in flight) and starts the debounce timer for a new
--- request. A chunk is used only if it belongs to the current request and the
--- buffer still validates; otherwise it is dropped as stale.
local api = vim.api
local uv = vim.loop
local rpc = require('flint.rpc')
local render = require('flint.render')
local scan = require('flint.scan')

local M = {}

local H = {
  cfg = nil,
  S = nil, -- the current suggestion state
  timer = nil,
  blocked_told = {}, -- message -> time told (blocked chunks: tell once)
  key_at = nil, -- hrtime of the last keystroke that changed the text (latency stats)
}

-- Counters for :Flint stats (client side). Latencies in ms.
M.stats = {
  requests = 0,
  cancelled = 0,
  stale_chunks = 0,
  chunks = 0,
  typed_through = 0,
  accepted = { all = 0, word = 0, line = 0 },
  blocked = 0,
  first_chunk_ms = {}, -- request sent -> first chunk drawn
  render_ms = {}, -- text-changing keystroke -> ghost text drawn
}

local plain = rpc.plain

local function now_ms()
  return uv.hrtime() / 1e6
end

local function push(list, v)
  list[#list + 1] = v
  if #list > 2000 then
    table.remove(list, 1)
  end
end

function M.configure(cfg)
  H.cfg = cfg
end

-- ---------------------------------------------------------------- eligibility

--- Is flint on for buffer `buf`? (global switch, b:flint_enabled, filetype,
--- buftype, 'modifiable').
function M.enabled_for(buf)
  local cfg = H.cfg
  if not cfg or not cfg.enabled then
    return false
  end
  local ok, b = pcall(api.nvim_buf_get_var, buf, 'flint_enabled')
  if ok and (b == false or b == 0) then
    return false
  end
  local bt = api.nvim_buf_get_option(buf, 'buftype')
  if bt ~= '' and bt ~= 'acwrite' then
    return false
  end
  if not api.nvim_buf_get_option(buf, 'modifiable') then
    return false
  end
  return require('flint.config').filetype_enabled(cfg, api.nvim_buf_get_option(buf, 'filetype'))
end

local function in_insert()
  local m = api.nvim_get_mode()
  return m.mode:sub(1, 1) == 'i' and not m.blocking
end

local function pum_hides()
  return vim.fn.pumvisible() == 1 and not H.cfg.show_with_pum
end

-- ---------------------------------------------------------------- state checks

--- What the user has inserted since the origin, or nil when the buffer is no
--- longer "origin + typed" (other buffer, moved, deleted, other mode, ...).
local function current_typed(S)
  if api.nvim_get_current_buf() ~= S.buf or not in_insert() then
    return nil
  end
  local cur = api.nvim_win_get_cursor(0)
  local crow, ccol = cur[1] - 1, cur[2]
  local tick = api.nvim_buf_get_changedtick(S.buf)
  if tick == S.ctick and crow == S.crow and ccol == S.ccol then
    return S.typed
  end
  if crow < S.row or api.nvim_buf_line_count(S.buf) - S.nlines ~= crow - S.row then
    return nil
  end
  local lines = api.nvim_buf_get_lines(S.buf, S.row, crow + 1, false)
  local first, last = lines[1], lines[#lines]
  if first:sub(1, #S.before) ~= S.before or last:sub(ccol + 1) ~= S.after then
    return nil
  end
  -- the context the suggestion was made for is unchanged (a change elsewhere,
  -- e.g. by a formatter or another window, makes it stale)
  local b = S.below_n
  if table.concat(api.nvim_buf_get_lines(S.buf, S.top, S.row, false), '\n') ~= S.above
    or table.concat(api.nvim_buf_get_lines(S.buf, crow + 1, crow + 1 + b, false), '\n') ~= S.below then
    return nil
  end
  local typed
  if #lines == 1 then
    if ccol < #S.before then
      return nil
    end
    typed = first:sub(#S.before + 1, ccol)
  else
    lines[1] = first:sub(#S.before + 1)
    lines[#lines] = last:sub(1, ccol)
    typed = table.concat(lines, '\n')
  end
  S.ctick, S.crow, S.ccol, S.typed = tick, crow, ccol, typed
  return typed
end

local function alt_matches(a, typed)
  return a and not a.dup and not a.blocked and #a.text >= #typed and a.text:sub(1, #typed) == typed
    -- blanks only would be invisible, yet <Tab> would insert them
    and not (a.done and not a.text:find('%S'))
end

--- The alternative to show (switching to another one that matches what was
--- typed, if the current one does not), or nil.
local function total(S)
  local n = table.maxn(S.alts)
  if S.cycle_id then
    n = math.max(n, S.cycle_base + S.cycle_expect)
  end
  return n
end

local function pick(S, typed)
  local cur = S.alts[S.idx]
  if alt_matches(cur, typed) then
    return cur
  end
  if cur == nil and typed == '' and S.idx <= total(S) then
    return nil -- the alternative asked for is on its way: show it when it comes
  end
  for i = 1, table.maxn(S.alts) do
    local a = S.alts[i]
    if alt_matches(a, typed) and (#a.text > #typed or not a.done) then
      S.idx = i
      return a
    end
  end
  return nil
end

-- ---------------------------------------------------------------- requests

local function cancel(S)
  if not S then
    return
  end
  for _, id in ipairs({ S.id, S.cycle_id }) do
    if id and not S.finished[id] then
      S.finished[id] = true
      rpc.notify('cancel', { id = id })
      M.stats.cancelled = M.stats.cancelled + 1
    end
  end
end

--- Drop the suggestion: cancel what is in flight, clear the screen.
function M.clear()
  if H.timer then
    H.timer:stop()
  end
  cancel(H.S)
  H.S = nil
  render.clear()
end

local function context(buf, row, col)
  local cfg = H.cfg
  local n = api.nvim_buf_line_count(buf)
  local line = api.nvim_buf_get_lines(buf, row, row + 1, false)[1] or ''
  -- The prefix starts at a line number rounded down to a multiple of 32, so it
  -- stays put while you type (also across new lines): the server keeps its
  -- trimming of the prefix and its prompt cache.
  local top = math.max(0, row - cfg.context_lines.before)
  top = top - top % 32
  local bot = math.min(n, row + 1 + cfg.context_lines.after)
  local above = api.nvim_buf_get_lines(buf, top, row, false)
  local below = api.nvim_buf_get_lines(buf, row + 1, bot, false)
  local before, after = line:sub(1, col), line:sub(col + 1)
  local ctx = { top = top, above = table.concat(above, '\n'), below = table.concat(below, '\n'), below_n = #below }
  above[#above + 1] = before
  table.insert(below, 1, after)
  return table.concat(above, '\n'), table.concat(below, '\n'), before, after, n, ctx
end

--- Send a complete request for the cursor position now. n_alt: alternatives.
--- Returns the new state or nil.
function M.request(n_alt)
  local buf = api.nvim_get_current_buf()
  if not M.enabled_for(buf) or not in_insert() then
    return nil
  end
  if not rpc.ensure() then
    return nil
  end
  local cur = api.nvim_win_get_cursor(0)
  local row, col = cur[1] - 1, cur[2]
  local prefix, suffix, before, after, n, ctx = context(buf, row, col)
  local id = rpc.new_id()
  local cfg = H.cfg
  local params = {
    id = id,
    buf = buf,
    path = vim.fn.fnamemodify(api.nvim_buf_get_name(buf), ':~:.'),
    filetype = api.nvim_buf_get_option(buf, 'filetype'),
    prefix = prefix,
    suffix = suffix,
    n_alt = n_alt or 1,
    max_tokens = cfg.max_tokens,
    tabstop = api.nvim_buf_get_option(buf, 'tabstop'),
  }
  if cfg.max_ms > 0 then
    params.max_ms = cfg.max_ms
  end
  cancel(H.S)
  local S = {
    id = id,
    buf = buf,
    row = row,
    col = col,
    before = before,
    after = after,
    top = ctx.top, -- context lines: above = [top, row), below = the lines after the cursor's
    above = ctx.above,
    below = ctx.below,
    below_n = ctx.below_n,
    nlines = n,
    ctick = api.nvim_buf_get_changedtick(buf),
    crow = row,
    ccol = col,
    typed = '',
    -- With text after the cursor a suggestion is one line: what is shown is
    -- then exactly what accepting inserts, on every Neovim.
    single = after:match('%S') ~= nil,
    alts = {},
    expect = n_alt or 1,
    base = 0, -- alt k of request `id` is alts[base + k + 1]
    idx = 1,
    finished = {},
    sent_at = now_ms(),
  }
  H.S = S
  M.stats.requests = M.stats.requests + 1
  rpc.request('complete', params, function(err)
    if err then
      rpc.log('warn', ('complete %d failed: %s'):format(id, err))
      if H.S == S then
        S.finished[id] = true
        S.error = err
      end
    end
  end)
  rpc.log('debug', ('complete %d: buf %d row %d col %d prefix %d B suffix %d B n_alt %d'):format(id, buf, row, col, #prefix, #suffix, params.n_alt))
  return S
end

local function schedule_request()
  local cfg = H.cfg
  if not cfg.auto_trigger then
    return
  end
  H.timer = H.timer or uv.new_timer()
  H.timer:stop()
  H.timer:start(cfg.debounce, 0, function()
    vim.schedule(function()
      if H.S == nil and in_insert() then
        M.request(1)
      end
    end)
  end)
end

-- ---------------------------------------------------------------- drawing

--- Show the current alternative (minus what was typed), or hide it.
local function draw(S, typed)
  local a = S.alts[S.idx]
  local rest = a and a.text:sub(#typed + 1) or ''
  if rest == '' or pum_hides() then
    S.drawn = nil
    render.clear()
    return
  end
  local marks
  if a.marks and #a.marks > 0 then
    marks = {}
    for _, m in ipairs(a.marks) do
      marks[#marks + 1] = { m[1] - #typed, m[2] - #typed }
    end
  end
  -- TextChangedI and CursorMovedI both come after one keystroke: draw once.
  local key = table.concat({ S.idx, S.crow, S.ccol, #typed, #a.text }, ':')
  if render.current and render.current.buf == S.buf and S.drawn == key then
    return
  end
  S.drawn = key
  render.show(S.buf, S.crow, S.ccol, rest, { marks = marks })
  if H.key_at then
    push(M.stats.render_ms, (uv.hrtime() - H.key_at) / 1e6)
    H.key_at = nil
  end
  if not S.first_drawn then
    S.first_drawn = true
    push(M.stats.first_chunk_ms, now_ms() - S.sent_at)
  end
end

--- Re-check the state against the buffer and redraw. Returns true when the
--- suggestion is still valid.
local function refresh()
  local S = H.S
  if not S then
    return false
  end
  local typed = current_typed(S)
  if not typed then
    return false
  end
  local a = pick(S, typed)
  if not a then
    -- nothing matches; still valid while the first chunks are on their way
    if typed == '' then
      render.clear()
      return true
    end
    return false
  end
  draw(S, typed)
  return true
end

-- ---------------------------------------------------------------- events

--- TextChangedI / TextChangedP / CursorMovedI / CompleteDone / InsertEnter.
function M.on_change(ev)
  local buf = api.nvim_get_current_buf()
  -- (InsertEnter comes before the mode changes)
  if not M.enabled_for(buf) or not (in_insert() or ev == 'InsertEnter') then
    M.clear()
    return
  end
  if ev == 'TextChangedI' or ev == 'TextChangedP' then
    H.key_at = uv.hrtime()
  end
  local S = H.S
  if S then
    local ok = refresh()
    if ok then
      local a = S.alts[S.idx]
      local typed = S.typed
      -- fully typed or accepted, and finished: ask for the next one
      if a and a.done and typed ~= '' and #typed >= #a.text then
        rpc.log('debug', ('suggestion %d fully typed or accepted'):format(S.id))
        H.S = nil
        render.clear()
        schedule_request()
      elseif typed ~= '' then
        M.stats.typed_through = M.stats.typed_through + 1
      end
      return
    end
    rpc.log('debug', ('%s: suggestion %d no longer matches the buffer'):format(ev, S.id))
    M.clear()
  else
    render.clear()
  end
  schedule_request()
end

--- Draw again (the window changed size: overlay rows and wrapped virtual
--- lines depend on its width).
function M.redraw()
  if H.S then
    H.S.drawn = nil
    refresh()
  end
end

function M.on_insert_leave()
  M.clear()
  H.key_at = nil
end

local function tell_blocked(p)
  local msg = 'suggestion blocked'
  local f = type(p.findings) == 'table' and p.findings[1]
  if type(f) == 'table' then
    local m = plain(f.message) or plain(f.rule)
    if m then
      msg = msg .. ': ' .. tostring(m)
    end
  end
  M.stats.blocked = M.stats.blocked + 1
  rpc.log('warn', msg)
  local t = H.blocked_told[msg]
  if t and now_ms() - t < 60000 then
    return
  end
  H.blocked_told[msg] = now_ms()
  vim.notify('flint: ' .. msg, vim.log.levels.WARN)
end

--- A stream that ended with reason "error" (e.g. the prompt does not fit):
--- logged, and told once per distinct message.
local function tell_error(err)
  local msg = 'suggestion failed: ' .. tostring(err or 'unknown error')
  rpc.log('warn', msg)
  if H.blocked_told[msg] then
    return
  end
  H.blocked_told[msg] = now_ms()
  vim.notify('flint: ' .. msg, vim.log.levels.WARN)
end

--- Trim what is never worth showing at the end of a finished suggestion: empty
--- or blank last lines.
local function trim_tail(text)
  local t = text
  while true do
    local n = t:gsub('\n[ \t]*$', '')
    if n == t then
      break
    end
    t = n
  end
  return t
end

--- A `chunk` notification from the server.
function M.on_chunk(p)
  if type(p) ~= 'table' then
    return
  end
  local S = H.S
  local id = plain(p.id)
  if not S or (id ~= S.id and id ~= S.cycle_id) then
    M.stats.stale_chunks = M.stats.stale_chunks + 1
    return
  end
  M.stats.chunks = M.stats.chunks + 1
  local k = (plain(p.alt) or 0) + 1 + (id == S.id and 0 or S.cycle_base)
  local a = S.alts[k]
  if not a then
    a = { text = '', done = false, marks = {} }
    S.alts[k] = a
  end
  if a.done then
    return
  end
  local text = plain(p.text) or ''
  if type(text) ~= 'string' then
    text = ''
  end
  local findings = plain(p.findings)
  if type(findings) == 'table' then
    for _, f in ipairs(findings) do
      if type(f) == 'table' then
        scan.note(f) -- for :FlintAllow
      end
      -- offsets into the whole text of this (id, alt) (doc/protocol.md);
      -- a redacted secret arrives as the marker [REDACTED:<rule>]
      if type(f) == 'table' and plain(f.action) == 'redact' and type(plain(f.start)) == 'number' then
        local e = plain(f['end'])
        a.marks[#a.marks + 1] = { f.start, type(e) == 'number' and e or f.start }
      end
    end
  end
  a.text = a.text .. text
  local cfg = H.cfg
  -- one line mid-line; max_lines otherwise
  local limit = S.single and 1 or cfg.max_lines
  local pos, nl = 0, 0
  while true do
    local f = a.text:find('\n', pos + 1, true)
    if not f then
      break
    end
    nl = nl + 1
    if nl >= limit then
      a.text = a.text:sub(1, f - 1)
      a.done, a.reason = true, 'cut'
      break
    end
    pos = f
  end
  if plain(p.done) then
    a.done = true
    a.reason = a.reason or plain(p.reason)
    if plain(p.reason) == 'blocked' then
      a.blocked = true
      a.text = ''
      tell_blocked(p)
    elseif plain(p.reason) == 'error' then
      tell_error(plain(p.error))
    end
  end
  if a.done then
    a.text = trim_tail(a.text)
    -- a cycled alternative equal to an earlier one is skipped
    for i = 1, k - 1 do
      local b = S.alts[i]
      if b and b.done and b.text == a.text then
        a.dup = true
      end
    end
    -- the one asked for repeats an earlier one: show the next instead
    if (a.dup or a.text == '') and S.idx == k and k < total(S) then
      S.idx = k + 1
    end
  end
  if plain(p.done) then
    S.finished[id] = true
  end
  -- Cut short on our side: stop the server's work when every alternative of
  -- this request is complete.
  if not S.finished[id] then
    local all = true
    local base = id == S.id and 0 or S.cycle_base
    local n = id == S.id and S.expect or S.cycle_expect
    for j = 1, n do
      local b = S.alts[base + j]
      if not (b and b.done) then
        all = false
      end
    end
    if all then
      S.finished[id] = true
      rpc.notify('cancel', { id = id })
    end
  end
  if k == S.idx or not (S.alts[S.idx] and S.alts[S.idx].text ~= '') then
    if not refresh() then
      -- the buffer moved on while the request ran: stale
      rpc.log('debug', ('chunk for %d: the buffer moved on'):format(id))
      M.clear()
      schedule_request()
    end
  end
end

-- ---------------------------------------------------------------- public actions

--- The text still to be accepted (what is on screen), or nil.
function M.visible_text()
  local S = H.S
  if not S or pum_hides() then
    return nil
  end
  local typed = current_typed(S)
  if not typed then
    return nil
  end
  local a = pick(S, typed)
  if not a then
    return nil
  end
  local rest = a.text:sub(#typed + 1)
  -- nothing visible (blanks only so far): nothing to accept, keys fall back
  return rest:find('%S') and rest or nil
end

function M.is_visible()
  return M.visible_text() ~= nil
end

local function word_class(b)
  if b == 32 or b == 9 then
    return 's'
  elseif b >= 128 or (b >= 48 and b <= 57) or (b >= 65 and b <= 90) or (b >= 97 and b <= 122) or b == 95 then
    return 'w'
  end
  return 'p'
end

--- Next word of `rest`: a newline plus the next line's indent, or leading
--- blanks followed by a run of word characters or a run of punctuation.
function M.next_word(rest)
  if rest:sub(1, 1) == '\n' then
    return rest:match('^\n[ \t]*')
  end
  local i, n = 1, #rest
  while i <= n and word_class(rest:byte(i)) == 's' do
    i = i + 1
  end
  if i > n then
    return rest
  end
  local c = word_class(rest:byte(i))
  while i <= n and rest:byte(i) ~= 10 and word_class(rest:byte(i)) == c do
    i = i + 1
  end
  return rest:sub(1, i - 1)
end

--- Rest of the current suggestion line; at its end, the newline and the next line.
function M.next_line(rest)
  if rest:sub(1, 1) == '\n' then
    return rest:match('^\n[^\n]*')
  end
  return rest:match('^[^\n]*')
end

local function insert(text)
  -- One undo step: break before (like i_CTRL-G_u) and after (fed <C-g>u).
  vim.cmd('let &undolevels = &undolevels')
  local cur = api.nvim_win_get_cursor(0)
  local row, col = cur[1] - 1, cur[2]
  local lines = vim.split(text, '\n', true)
  api.nvim_buf_set_text(0, row, col, row, col, lines)
  local nrow = row + #lines - 1
  local ncol = #lines == 1 and col + #lines[1] or #lines[#lines]
  api.nvim_win_set_cursor(0, { nrow + 1, ncol })
  api.nvim_feedkeys(api.nvim_replace_termcodes('<C-g>u', true, false, true), 'ni', false)
end

--- Accept all, a word or a line of the shown suggestion. Returns true if
--- something was inserted. The inserted text is exactly what was shown.
function M.accept(kind)
  local rest = M.visible_text()
  if not rest then
    return false
  end
  local piece = rest
  if kind == 'word' then
    piece = M.next_word(rest)
  elseif kind == 'line' then
    piece = M.next_line(rest)
  end
  if not piece or piece == '' then
    return false
  end
  M.stats.accepted[kind or 'all'] = (M.stats.accepted[kind or 'all'] or 0) + 1
  insert(piece)
  -- The rest (if any) follows on at once: `typed` now includes the piece.
  M.on_change('accept')
  return true
end

--- Next (dir = 1) or previous (-1) alternative. The first time at a position
--- it asks for n_alt alternatives in one request.
function M.cycle(dir)
  local S = H.S
  local typed = S and current_typed(S)
  local cfg = H.cfg
  if not S or not typed then
    M.clear()
    local s = M.request(cfg.n_alt)
    return s ~= nil
  end
  if not S.cycle_id and cfg.n_alt > 1 then
    -- keep the shown text as alternative 1; ask for n_alt more here.
    local a = pick(S, typed)
    local keep = a and { text = a.text:sub(#typed + 1), done = true, marks = {} } or nil
    if a and a.marks then
      for _, m in ipairs(a.marks) do
        keep.marks[#keep.marks + 1] = { m[1] - #typed, m[2] - #typed }
      end
    end
    local n = M.request(cfg.n_alt)
    if not n then
      return false
    end
    -- request() made a fresh state whose alternatives come from the new id;
    -- shift them up by one and put the kept text first.
    n.cycle_id, n.cycle_base, n.cycle_expect = n.id, 1, cfg.n_alt
    n.id = -1
    n.finished[-1] = true
    n.alts = {}
    if keep and keep.text ~= '' then
      n.alts[1] = keep
      n.idx = 2
    else
      n.cycle_base = 0
      n.idx = 1
    end
    render.clear()
    refresh()
    return true
  end
  -- Move among the alternatives that match what was typed.
  local n = total(S)
  if n <= 1 then
    return true
  end
  local i = S.idx
  for _ = 1, n do
    i = ((i - 1 + dir) % n) + 1
    local a = S.alts[i]
    if a == nil or alt_matches(a, typed) and (a.text ~= typed or not a.done) then
      break
    end
  end
  S.idx = i
  if not refresh() then
    render.clear()
  end
  return true
end

--- Dismiss the shown suggestion. Returns true if there was one.
function M.dismiss()
  local had = M.is_visible() or H.S ~= nil
  if H.timer then
    H.timer:stop()
  end
  cancel(H.S)
  H.S = nil
  render.clear()
  return had
end

--- Ask now (no debounce), e.g. <Plug>(flint-suggest).
function M.trigger()
  M.clear()
  return M.request(1) ~= nil
end

--- Position among alternatives for the statusline: index, total, or nil.
function M.position()
  local S = H.S
  if not S then
    return nil
  end
  return S.idx, total(S), S
end

function M.state()
  return H.S
end

return M
