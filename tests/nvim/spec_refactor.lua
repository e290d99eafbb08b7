-- :FlintRefactor end to end with the real server and the default model: the
-- rewrite streams into a diff preview, accept applies exactly the previewed
-- text as one undo step, reject and a changed buffer leave the buffer as it
-- is, cancel stops the stream. The model's rename is not assumed to be
-- right (the shipped model is small); what it did is printed as a note.
local H = require('helpers')
local test, eq, truthy = H.test, H.eq, H.truthy

-- A 30-line function in the style of the training corpus, with lines around
-- it that must never change.
local ABOVE = { 'import sys', '', '' }
local FUNC = {
  'def summarize(records, key):',
  '    count = 0',
  '    total = 0.0',
  '    smallest = None',
  '    largest = None',
  '    for rec in records:',
  '        if key not in rec:',
  '            continue',
  '        value = rec[key]',
  '        if value is None:',
  '            continue',
  '        count += 1',
  '        total += value',
  '        if smallest is None or value < smallest:',
  '            smallest = value',
  '        if largest is None or value > largest:',
  '            largest = value',
  '    if count == 0:',
  '        return None',
  '    mean = total / count',
  '    spread = largest - smallest',
  '    result = {',
  '        "count": count,',
  '        "mean": mean,',
  '        "min": smallest,',
  '        "max": largest,',
  '        "spread": spread,',
  '    }',
  '    print("summarized", count, file=sys.stderr)',
  '    return result',
}
local BELOW = { '', '', 'if __name__ == "__main__":', '    print(summarize([{"x": 1}], "x"))' }
local FIRST, LAST = #ABOVE + 1, #ABOVE + #FUNC
local INSTRUCTION = 'rename count to n_seen'

local function file()
  local t = vim.list_extend(vim.list_extend(vim.deepcopy(ABOVE), FUNC), BELOW)
  return t
end

local function open(c)
  c:wait_server()
  c:cmd('setfiletype python')
  c:set_lines(file(), 1, 0)
end

local function state(c)
  return c:lua("return require('flint.refactor').state()")
end

--- Start the refactor and wait until it is done; returns the state and
--- whether a preview was seen while the text was still streaming.
local function run(c, instruction)
  c:cmd(('%d,%dFlintRefactor %s'):format(FIRST, LAST, instruction or INSTRUCTION))
  local streaming_seen = false
  local st = c:wait(function()
    local s = state(c)
    if s and not s.done and s.text ~= '' and c:lua("return require('flint.preview').read(0).stream") then
      streaming_seen = true
    end
    return s and s.done and s
  end, 20000)
  return truthy(st, 'the refactor finished'), streaming_seen
end

test('the rewrite streams into a diff preview; accept applies exactly it, one undo step', function(c)
  open(c)
  local st, streaming_seen = run(c)
  truthy(st.updates >= 2, 'several chunks (' .. st.updates .. ')')
  -- the default model can finish the rename between two polls: also count
  -- the plugin's own preview draws before the final chunk
  truthy(streaming_seen or st.live >= 1, 'a preview drawn while the text was still streaming (' .. st.live .. ')')
  local new = st.new
  -- the preview shows the diff of the original and the new text (drawn on
  -- the main loop right after the last chunk)
  local shown = c:wait(function()
    local r = c:lua("return require('flint.preview').read(0)")
    return r.status and not r.stream and r
  end)
  local hunks = vim.diff(table.concat(FUNC, '\n') .. '\n', #new > 0 and (table.concat(new, '\n') .. '\n') or '',
    { result_type = 'indices', algorithm = 'histogram' })
  local want_added, want_deleted = {}, {}
  for _, h in ipairs(hunks) do
    for i = 0, h[4] - 1 do
      want_added[#want_added + 1] = new[h[3] + i]
    end
    for i = 0, h[2] - 1 do
      want_deleted[#want_deleted + 1] = FIRST - 1 + h[1] - 1 + i
    end
  end
  eq(want_added, shown.added, 'new lines drawn as virtual lines')
  eq(want_deleted, shown.deleted, 'rows highlighted as deleted or changed')
  truthy(shown.status and shown.status:find(INSTRUCTION, 1, true), 'a status line: ' .. tostring(shown.status))
  truthy(shown.status:find('tok/s', 1, true), 'the status line has the speed')
  -- what the model did (a note, not a check: the shipped model is small)
  local text = table.concat(new, '\n')
  local _, left = text:gsub('%f[%w_]count%f[^%w_]', '')
  local _, renamed = text:gsub('%f[%w_]n_seen%f[^%w_]', '')
  H.out(('# model: reason %s, %d lines (of %d), "count" left %d, "n_seen" %d, %s'):format(st.reason, #new, #FUNC,
    left, renamed, shown.status))
  local tick = c:eval('b:changedtick')
  c:input('ga')
  local want = vim.list_extend(vim.list_extend(vim.deepcopy(ABOVE), new), BELOW)
  eq(want, c:lines(), 'the buffer after accept: the previewed text in the range, nothing else changed')
  eq(nil, state(c), 'the preview is closed')
  eq({}, c:lua("return vim.api.nvim_buf_get_extmarks(0, require('flint.preview').ns, 0, -1, {})"), 'no marks left')
  truthy(c:eval('b:changedtick') > tick, 'accepted')
  c:input('u')
  eq(file(), c:lines(), 'one undo restores the original')
end)

test('reject leaves the buffer untouched', function(c)
  open(c)
  local tick = c:eval('b:changedtick')
  run(c)
  c:input('gr')
  eq(file(), c:lines(), 'buffer after reject')
  eq(tick, c:eval('b:changedtick'), 'changedtick after reject')
  eq(nil, state(c), 'the preview is closed')
  eq('', c:eval("maparg('ga', 'n')"), 'the preview keys are gone')
end)

test('a buffer changed after the request refuses to apply', function(c)
  open(c)
  local st = run(c)
  c:lua("vim.api.nvim_buf_set_lines(0, 0, 1, false, { 'import os' })")
  local changed = c:lines()
  c:input('ga')
  eq(changed, c:lines(), 'accept changed nothing')
  truthy(state(c), 'the preview stays up')
  local status = c:lua("return require('flint.preview').read(0).status")
  truthy(status:find('buffer changed', 1, true), 'the status line says why: ' .. status)
  truthy(c:eval('execute("messages")'):find('not applied', 1, true), 'and a message')
  c:input('gr')
  eq(changed, c:lines(), 'reject after a refused accept')
  truthy(st.tick < c:eval('b:changedtick'), 'the tick of the request is older')
end)

test('cancel stops the stream: no update after it', function(c)
  open(c)
  local st
  for _ = 1, 3 do -- the model may finish before the cancel lands; try again
    -- the cancel is armed in the same request as the refactor: a timer in the
    -- editor cancels at the first chunk (the default model can finish the
    -- whole rename before this harness's next round trip)
    c:lua(
      [[
      vim.cmd(...)
      local r = require('flint.refactor')
      local t = vim.loop.new_timer()
      t:start(1, 1, vim.schedule_wrap(function()
        local s = r.state()
        if not s or s.done or s.updates >= 1 then
          t:stop()
          t:close()
          if s and not s.done then r.cancel() end
        end
      end))
    ]],
      ('%d,%dFlintRefactor %s'):format(FIRST, LAST, INSTRUCTION)
    )
    c:wait(function()
      local s = state(c)
      return s and s.done
    end, 20000)
    st = state(c)
    if st.reason == 'cancelled' then
      break
    end
    c:input('gr')
  end
  eq('cancelled', st.reason, 'cancelled while streaming')
  local drawn = c:lua("return require('flint.preview').read(0)")
  vim.wait(600)
  local later = state(c)
  eq(st.updates, later.updates, 'no update after cancel')
  eq(st.text, later.text, 'the text stays as it was')
  eq(drawn, c:lua("return require('flint.preview').read(0)"), 'the preview stays as it was')
  truthy(drawn.status:find('cancelled', 1, true), 'the status says cancelled')
  H.out(('# cancel: %d updates before, %d chunks dropped after'):format(later.updates, later.late))
  c:input('gr')
  eq(file(), c:lines(), 'buffer untouched')
end)

test('without an instruction :FlintRefactor asks for one', function(c)
  open(c)
  c:input((':%d,%dFlintRefactor<CR>'):format(FIRST, FIRST + 2)) -- typed: the prompt waits for keys
  c:input(INSTRUCTION .. '<CR>')
  local st = c:wait(function()
    return state(c)
  end)
  eq(INSTRUCTION, st.instruction, 'the typed instruction')
  eq({ FUNC[1], FUNC[2], FUNC[3] }, st.orig, 'the range')
  c:input('gr')
end)

test('a blocked rewrite shows the reason and cannot be applied', function(c)
  open(c)
  c:cmd(('%d,%dFlintRefactor %s'):format(FIRST, LAST, INSTRUCTION))
  local id = c:wait(function()
    local s = state(c)
    return s and s.id
  end)
  -- what the server sends when a scanner halt rule stops the reply (the
  -- default model does not write code the scanner halts on)
  c:lua([[
    require('flint.rpc').on_notify('chunk', { id = ..., alt = 0, text = '', done = true, reason = 'blocked',
      findings = { { rule = 'eval-injection', kind = 'injection', severity = 'high', action = 'halt',
      start = 0, ['end'] = 0, message = 'eval of a non-literal' } } })
  ]], id)
  local st = c:wait(function()
    local s = state(c)
    return s and s.done and s
  end)
  eq('blocked', st.reason, 'reason')
  local status = c:wait(function()
    local r = c:lua("return require('flint.preview').read(0).status")
    return r and r:find('blocked', 1, true) and r
  end)
  truthy(status and status:find('blocked by the scanner: eval of a non-literal', 1, true),
    'the status shows it: ' .. tostring(status))
  c:input('ga')
  eq(file(), c:lines(), 'accept refused')
  c:input('gr')
end)

-- The preview itself, fed chunks by hand: a server that never answers
-- (sleep) keeps the real model out of it.
local QUIET = { globals = { flint_server_cmd = { '/bin/sleep', '60' }, flint_allowlist = 'none' } }

local function feed(c, id, text, done)
  c:lua([[
    local id, text, done = ...
    require('flint.rpc').on_notify('chunk', { id = id, alt = 0, text = text, done = done,
      reason = done and 'eos' or nil })
  ]], id, text, done or false)
end

test('the streaming diff: changed lines so far, the rest pending, words marked', function(c)
  c:cmd('setfiletype python')
  c:set_lines(file(), 1, 0)
  c:cmd(('%d,%dFlintRefactor %s'):format(FIRST, LAST, INSTRUCTION))
  local id = state(c).id
  local renamed = vim.tbl_map(function(l)
    return (l:gsub('%f[%w_]count%f[^%w_]', 'n_seen'))
  end, FUNC)
  -- the first three lines arrive, the third unfinished
  feed(c, id, renamed[1] .. '\n' .. renamed[2] .. '\n    tot')
  local r = c:wait(function()
    local x = c:lua("return require('flint.preview').read(0)")
    return x.stream and x
  end)
  eq({ renamed[2] }, r.added, 'the changed line so far as a new line')
  eq({ FIRST }, r.deleted, 'its original highlighted (0-based row of line 2)')
  truthy(r.stream:find('    tot', 1, true), 'the unfinished line in the streaming marker: ' .. r.stream)
  -- words: only "count" is marked as changed in both lines
  local marks = c:lua([[
    local ns = require('flint.preview').ns
    local old, new = {}, {}
    for _, m in ipairs(vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })) do
      if m[4].hl_group == 'FlintRefactorDeleteText' then
        old[#old + 1] = { m[2], m[3], m[4].end_col }
      end
      for _, vl in ipairs(m[4].virt_lines or {}) do
        for _, ch in ipairs(vl) do
          if ch[2] == 'FlintRefactorAddText' then
            new[#new + 1] = ch[1]
          end
        end
      end
    end
    return { old, new }
  ]])
  eq({ { { FIRST, 4, 9 } }, { 'n_seen' } }, marks, 'the changed word, old and new')
  -- the rest arrives: all lines with "count" changed, nothing pending
  feed(c, id, table.concat(renamed, '\n'):sub(#renamed[1] + #renamed[2] + 2 + 8) .. '\n', true)
  r = c:wait(function()
    local x = c:lua("return require('flint.preview').read(0)")
    return not x.stream and x.status and x
  end)
  local want_rows, want_added = {}, {}
  for i, l in ipairs(FUNC) do
    if l ~= renamed[i] then
      want_rows[#want_rows + 1] = FIRST - 2 + i
      want_added[#want_added + 1] = renamed[i]
    end
  end
  eq(want_rows, r.deleted, 'every changed line highlighted')
  eq(want_added, r.added, 'and its new version below it')
  truthy(r.status:find(('+%d -%d lines'):format(#want_added, #want_added), 1, true), 'counts: ' .. r.status)
  -- hunk navigation
  c:lua('vim.api.nvim_win_set_cursor(0, { 1, 0 })')
  c:input(']c')
  eq(want_rows[1] + 1, c:cursor()[1], ']c: the first change')
  c:input(']c')
  eq(want_rows[2] + 1, c:cursor()[1], ']c: the next one')
  c:input('[c')
  eq(want_rows[1] + 1, c:cursor()[1], '[c: back')
  c:input('ga')
  eq(vim.list_extend(vim.list_extend(vim.deepcopy(ABOVE), renamed), BELOW), c:lines(), 'accepted')
end, QUIET)

test('keys: a buffer-local map the preview hides comes back', function(c)
  c:set_lines(file(), 1, 0)
  c:cmd('nnoremap <buffer> ga :let g:mine = 1<CR>')
  c:cmd(('%d,%dFlintRefactor %s'):format(FIRST, LAST, INSTRUCTION))
  truthy(c:eval("maparg('ga', 'n')"):find('flint%-refactor%-accept'), 'ga accepts while the preview is up')
  c:input('gr')
  eq(':let g:mine = 1<CR>', c:eval("maparg('ga', 'n')"), 'the buffer map is back')
  c:input('ga')
  eq(1, c:eval('g:mine'), 'and works')
end, QUIET)

H.finish()
