-- Accepting: exactly the shown text goes in, in one undo step; the keys fall
-- back to what they did before when nothing is shown.
local H = require('helpers')
local test, eq, truthy = H.test, H.eq, H.truthy

--- Buffer text with the cursor marked by '|'.
local function text_with_cursor(c)
  local lines = c:lines()
  local cur = c:cursor()
  local l = lines[cur[1]]
  lines[cur[1]] = l:sub(1, cur[2]) .. '|' .. l:sub(cur[2] + 1)
  return table.concat(lines, '\n')
end

--- What the buffer should look like after inserting `ins` at the cursor.
local function expect_after(c, ins)
  local lines = c:lines()
  local cur = c:cursor()
  local l = lines[cur[1]]
  lines[cur[1]] = l:sub(1, cur[2]) .. ins .. '|' .. l:sub(cur[2] + 1)
  return table.concat(lines, '\n')
end

test('accept all (<Tab>) inserts exactly the shown text', function(c)
  c:wait_server()
  local text = truthy(c:suggest_at(H.prompts), 'suggestion')
  local want = expect_after(c, text)
  c:input('<Tab>')
  eq(want, text_with_cursor(c), 'buffer and cursor after accept')
  eq('i', c:mode(), 'still in Insert mode')
end)

test('accept word (<M-Right>) inserts the next word of the shown text', function(c)
  c:wait_server()
  local text = truthy(c:suggest_at(H.prompts), 'suggestion')
  local word = c:lua("return require('flint.suggest').next_word(...)", text)
  truthy(#word > 0, 'a word')
  local want = expect_after(c, word)
  c:input('<M-Right>')
  eq(want, text_with_cursor(c), 'buffer after accept word')
  if #word < #text then
    eq(text:sub(#word + 1), c:visible(), 'the rest stays shown')
  end
end)

test('accept line (<M-C-Right>) inserts the rest of the shown line', function(c)
  c:wait_server()
  local text = truthy(c:suggest_at(H.prompts), 'suggestion')
  local line = c:lua("return require('flint.suggest').next_line(...)", text)
  local want = expect_after(c, line)
  c:input('<M-C-Right>')
  eq(want, text_with_cursor(c), 'buffer after accept line')
end)

test('what is inserted equals what was drawn (tabs expanded, every line)', function(c)
  c:wait_server()
  local text = truthy(c:suggest_at(H.prompts, nil, nil, H.fits(c:eval('&columns') - 8, 20)), 'suggestion')
  local g = c:ghost()
  local ts = c:eval('&tabstop')
  local row = c:cursor()[1]
  c:input('<Tab>')
  local lines = c:lines()
  local nl = #vim.split(text, '\n', true)
  -- drawn lines 2.. are exactly the inserted lines (tabs as spaces)
  for i = 2, nl do
    local got = lines[row + i - 1]
    if i == nl then
      got = got:sub(1, #vim.split(text, '\n', true)[nl]) -- rest of line follows
    end
    local col, parts = 0, {}
    for ch in got:gmatch('[%z\1-\127\194-\244][\128-\191]*') do
      if ch == '\t' then
        local n = ts - col % ts
        parts[#parts + 1] = string.rep(' ', n)
        col = col + n
      elseif ch:byte() < 32 or ch:byte() == 127 then
        parts[#parts + 1] = '^' .. string.char(ch:byte() == 127 and 63 or ch:byte() + 64)
        col = col + 2
      else
        parts[#parts + 1] = ch
        col = col + vim.api.nvim_strwidth(ch)
      end
    end
    local expanded = table.concat(parts)
    truthy(g.virt_lines[i - 1] ~= nil, 'virt_line ' .. (i - 1))
    eq(g.virt_lines[i - 1]:gsub('%s+$', ''), expanded:gsub('%s+$', ''), 'line ' .. i .. ' drawn vs inserted')
  end
end)

test('undo reverts an accept in one step, and only the accept', function(c)
  c:wait_server()
  local text = truthy(c:suggest_at(H.prompts, 'x'), 'suggestion after typing x')
  local before = c:lines()
  c:input('<Tab>')
  local after = c:lines()
  truthy(not vim.deep_equal(before, after), 'accept changed the buffer')
  c:input('<Esc>u')
  eq(before, c:lines(), 'one undo removes the whole accepted text (and keeps the typed x)')
  local _ = text
end)

test('<Tab> with no suggestion inserts a tab', function(c)
  c:set_lines({ 'abc' }, 1, 3)
  c:input('A<Tab>')
  eq({ 'abc\t' }, c:lines(), 'tab inserted')
end, { globals = { flint_enabled = false } })

test('<Tab> with no suggestion calls the previous mapping', function(c)
  c:set_lines({ 'abc' }, 1, 3)
  c:input('A<Tab>')
  eq({ 'abcPREV' }, c:lines(), 'user mapping ran')
end, { globals = { flint_enabled = false }, pre = { 'inoremap <Tab> PREV' } })

test('<Tab> falls back to a previous <expr> Lua mapping', function(c)
  c:set_lines({ 'abc' }, 1, 3)
  c:input('A<Tab>')
  eq({ 'abcLUA' }, c:lua('return vim.api.nvim_buf_get_lines(0, 0, -1, false)'), 'Lua expr mapping ran')
end, {
  globals = { flint_enabled = false },
  pre = { [[lua vim.keymap.set('i', '<Tab>', function() return 'LUA' end, { expr = true })]] },
})

test('a previous <Tab> mapping still runs when a suggestion exists elsewhere', function(c)
  c:wait_server()
  truthy(c:suggest_at(H.prompts), 'suggestion')
  -- leave: the suggestion is gone, Tab must be the user's again (no new
  -- request on the new line: a fast answer would rightly take the Tab)
  c:lua("require('flint').config.auto_trigger = false")
  c:input('<Esc>o')
  c:input('<Tab>')
  local l = c:lua("return vim.api.nvim_get_current_line()")
  truthy(l:find('PREV', 1, true), 'user mapping ran: ' .. l)
end, { pre = { 'inoremap <Tab> PREV' } })

test('accept keys are remappable <Plug> maps', function(c)
  c:wait_server()
  local text = truthy(c:suggest_at(H.prompts), 'suggestion')
  local want = expect_after(c, text)
  c:input('<C-l>')
  eq(want, text_with_cursor(c), 'user key mapped to <Plug>(flint-accept)')
end, { pre = { 'imap <C-l> <Plug>(flint-accept)' } })

test('dismiss (<C-]>) removes the suggestion', function(c)
  c:wait_server()
  truthy(c:suggest_at(H.prompts), 'suggestion')
  local before = c:lines()
  c:input('<C-]>')
  eq(nil, c:ghost(), 'no ghost text')
  eq(before, c:lines(), 'buffer unchanged')
end)

test('after a full accept a new suggestion is requested', function(c)
  c:wait_server()
  truthy(c:suggest_at(H.prompts), 'suggestion')
  local reqs = c:stats().requests
  c:input('<Tab>')
  c:wait(function(x)
    return x:stats().requests > reqs
  end, 5000)
  truthy(c:stats().requests > reqs, 'requested again')
end)

H.finish()
