-- Alternatives: n_alt in one request, next/previous, accept the one shown.
local H = require('helpers')
local test, eq, truthy = H.test, H.eq, H.truthy

local function alts(c)
  return c:lua([[
    local S = require('flint.suggest').state()
    if not S then return nil end
    local t = {}
    for i = 1, table.maxn(S.alts) do
      local a = S.alts[i]
      t[i] = a and { text = a.text, done = a.done, dup = a.dup or false, blocked = a.blocked or false } or vim.NIL
    end
    local vis = require('flint.suggest').visible_text() -- may move idx: read it first
    return { idx = S.idx, alts = t, cycle = S.cycle_id ~= nil, expect = S.cycle_expect, visible = vis }
  ]])
end

local function all_done(c)
  local s = alts(c)
  if not s or s == vim.NIL or not s.cycle then
    return false
  end
  local n = 0
  for _, a in pairs(s.alts) do
    if a ~= vim.NIL and a.done then
      n = n + 1
    end
  end
  return n >= s.expect and s
end

test('next alternative asks for n_alt alternatives in one request', function(c)
  c:wait_server()
  truthy(c:suggest_at(H.prompts), 'suggestion')
  local reqs = c:stats().requests
  c:lua([[
    _G.sent = {}
    local rpc = require('flint.rpc')
    local orig = rpc.request
    rpc.request = function(m, p, cb)
      if m == 'complete' then table.insert(_G.sent, p.n_alt) end
      return orig(m, p, cb)
    end
  ]])
  c:input('<M-]>')
  eq(reqs + 1, c:stats().requests, 'one request')
  eq({ 3 }, c:lua('return _G.sent'), 'n_alt = 3 (default)')
  local s = truthy(c:wait(all_done, 15000), 'all alternatives arrived')
  truthy(s.cycle, 'cycling state')
end)

test('next/previous cycle through the alternatives; accept takes the shown one', function(c)
  c:wait_server()
  local first = truthy(c:suggest_at(H.prompts), 'suggestion')
  c:input('<M-]>')
  local s = truthy(c:wait(all_done, 15000), 'alternatives')
  -- the kept suggestion is alternative 1
  eq(first, s.alts[1].text, 'alternative 1 is the suggestion shown before')
  -- one press shows a different one (the greedy repeat of 1 is skipped)
  local other = false
  for i, a in pairs(s.alts) do
    if i > 1 and a ~= vim.NIL and not a.dup and a.text ~= '' and a.text ~= first then
      other = true
    end
  end
  if other then
    local vis = c:visible()
    truthy(vis ~= first, 'next shows another alternative, not the same text again')
  end
  local seen = {}
  for _ = 1, 5 do
    local st = alts(c)
    local vis = st.visible
    local a = st.alts[st.idx]
    if vis then
      eq(a.text, vis, 'shown text is alternative ' .. st.idx)
      seen[st.idx] = true
    end
    c:input('<M-]>')
  end
  local before = alts(c).idx
  c:input('<M-[>')
  local after = alts(c).idx
  c:input('<M-]>')
  eq(before, alts(c).idx, 'prev then next returns to the same alternative')
  local _ = after
  local vis = c:visible()
  if vis then
    local cur = c:cursor()
    local line = c:lines()[cur[1]]
    c:input('<Tab>')
    local lines = c:lines()
    local joined = table.concat(lines, '\n')
    truthy(joined:find(line:sub(1, cur[2]) .. vis, 1, true), 'accepted the shown alternative')
  end
end)

test('the statusline shows the position while cycling', function(c)
  c:wait_server()
  truthy(c:suggest_at(H.prompts), 'suggestion')
  eq('flint', c:eval('flint#statusline()'), 'idle with a suggestion')
  c:input('<M-]>')
  truthy(c:wait(all_done, 15000), 'alternatives')
  truthy(c:eval('flint#statusline()'):match('^flint %d+/%d+$'), 'position: ' .. c:eval('flint#statusline()'))
end)

H.finish()
