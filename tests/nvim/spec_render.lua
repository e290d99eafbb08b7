-- Drawing: inline and overlay ghost text with tabs, wide and multibyte
-- characters, control characters, wrapped lines and mid-line cursors.
-- (flint.render is given the text directly: no server needed here.)
local H = require('helpers')
local test, eq, truthy = H.test, H.eq, H.truthy

local shared = H.spawn({ setup = {} })
local inline = shared:lua("return require('flint.render').has_inline")

--- Draw `text` at (row 1-based, col bytes) of `lines` and read it back.
local function draw(c, lines, row, col, text, opts)
  c:lua([[
    local lines, row, col, text, o = ...
    local r = require('flint.render')
    r.force_overlay = o.overlay or false
    vim.wo.wrap = o.wrap ~= false
    vim.bo.tabstop = o.ts or 8
    vim.o.columns = o.columns or 80
    vim.api.nvim_buf_set_lines(0, 0, -1, false, lines)
    vim.api.nvim_win_set_cursor(0, { row, col })
    r.show(0, row - 1, col, text, { marks = o.marks })
  ]], lines, row, col, text, opts or vim.empty_dict())
  return c:ghost()
end

local function both(name, fn)
  test(name .. ' (overlay)', function(c)
    fn(c, { overlay = true }, 'overlay')
  end, { child = shared })
  if inline then
    test(name .. ' (inline)', function(c)
      fn(c, { overlay = false }, 'inline')
    end, { child = shared })
  else
    H.out('ok - ' .. H.tag .. name .. ' (inline) # SKIP no inline virtual text in this Neovim')
  end
end

local function o(base, extra)
  return vim.tbl_extend('force', base, extra or {})
end

test('feature test picks inline only where extmarks support it', function(c)
  local ok = c:lua([[return pcall(vim.api.nvim_buf_set_extmark, 0, vim.api.nvim_create_namespace('probe'), 0, 0, { virt_text = { { 'x' } }, virt_text_pos = 'inline' })]])
  eq(ok, inline, 'has_inline matches what extmarks accept')
end, { child = shared })

both('end of line: first line at the cursor, more lines as virt_lines', function(c, base, mode)
  local g = draw(c, { 'x = ' }, 1, 4, 'foo(1)\nbar(2)', base)
  eq(mode, g.mode, 'mode')
  eq(0, g.row, 'row')
  eq(4, g.col, 'col')
  eq('foo(1)', g.first, 'first line')
  eq({ 'bar(2)' }, g.virt_lines, 'virt_lines')
end)

both('tabs are expanded at the columns they will occupy', function(c, base)
  local g = draw(c, { 'ab' }, 1, 2, '\tx\n\ty', o(base, { ts = 8 }))
  eq('      x', g.first, 'tab after "ab" is 6 cells')
  eq({ '        y' }, g.virt_lines, 'tab at column 0 is 8 cells')
  g = draw(c, { 'é\t' }, 1, #'é\t', '\tz', o(base, { ts = 4 }))
  eq('    z', g.first, 'multibyte and tab before the cursor counted by display width')
end)

both('wide and multibyte characters are drawn as they are', function(c, base)
  local g = draw(c, { '日本' }, 1, #'日本', '語のテキスト', base)
  eq('語のテキスト', g.first, 'wide characters')
  g = draw(c, { 'naïve' }, 1, #'naïve', ' café — ok', base)
  eq(' café — ok', g.first, 'multibyte')
end)

both('control characters are shown as ^X', function(c, base)
  local g = draw(c, { 'a' }, 1, 1, 'b\1c', base)
  eq('b^Ac', g.first, 'control character')
end)

both('redacted ranges get FlintRedacted', function(c, base)
  local g = draw(c, { 'key = ' }, 1, 6, '"[REDACTED]"', o(base, { marks = { { 1, 11 } } }))
  local groups = {}
  for _, ch in ipairs(g.chunks) do
    groups[#groups + 1] = ch[2] .. ':' .. ch[1]
  end
  eq('FlintSuggestion:"', groups[1], 'before the mark')
  eq('FlintRedacted:[REDACTED]', groups[2], 'the mark')
end)

test('mid-line (overlay): the rest of the line is redrawn after the suggestion', function(c)
  local g = draw(c, { 'print()' }, 1, 6, '"hi"', { overlay = true })
  eq('"hi")', g.first, 'suggestion then the rest of the line')
  eq(6, g.col, 'at the cursor')
end, { child = shared })

if inline then
  test('mid-line (inline): only the suggestion is virtual', function(c)
    local g = draw(c, { 'print()' }, 1, 6, '"hi"', { overlay = false })
    eq('"hi"', g.first, 'inline text')
  end, { child = shared })
end

test('wrapped line (overlay): one mark per screen row, at the byte that starts it', function(c)
  -- 30 cells in a 20-column window: rows 0-19, 20-29; cursor at 10
  local line = ('0123456789'):rep(3)
  local g = draw(c, { line }, 1, 10, 'ABCDEFGHIJ', { overlay = true, columns = 20 })
  eq('ABCDEFGHIJ', g.first, 'first screen row: the suggestion fills it')
  eq({ { col = 20, text = line:sub(11) } }, g.rows, 'second screen row: the rest of the line, moved on')
  eq({}, g.virt_lines, 'nothing overflows')
end, { child = shared })

test('wrapped line (overlay): what no longer fits becomes virt_lines', function(c)
  local line = ('0123456789'):rep(3)
  local g = draw(c, { line }, 1, 10, ('x'):rep(25), { overlay = true, columns = 20 })
  eq(('x'):rep(10), g.first, 'row 1')
  eq({ { col = 20, text = ('x'):rep(15) .. '01234' } }, g.rows, 'row 2')
  eq({ '56789' .. line:sub(21) }, g.virt_lines, 'row 3 as a virtual line')
end, { child = shared })

test('wrapped line (overlay): a wide character that does not fit moves to the next row', function(c)
  local g = draw(c, { ('a'):rep(18) }, 1, 18, 'b日本', { overlay = true, columns = 20 })
  eq('b ', g.first, 'filler cell where the wide char does not fit')
  eq({ '日本' }, g.virt_lines, 'wide chars on the next row')
end, { child = shared })

both('long further lines are split at the window width when wrapping', function(c, base)
  local g = draw(c, { 'x' }, 1, 1, 'y\n' .. ('z'):rep(25), o(base, { columns = 20 }))
  eq({ ('z'):rep(20), ('z'):rep(5) }, g.virt_lines, 'split virt_lines')
  g = draw(c, { 'x' }, 1, 1, 'y\n' .. ('z'):rep(25), o(base, { columns = 20, wrap = false }))
  eq({ ('z'):rep(25) }, g.virt_lines, 'not split without wrap')
end)

test('clear removes every mark', function(c)
  draw(c, { ('0123456789'):rep(3) }, 1, 10, 'ABC', { overlay = true, columns = 20 })
  c:lua("require('flint.render').clear()")
  eq(nil, c:ghost(), 'nothing left')
end, { child = shared })

shared:stop()
H.finish()
