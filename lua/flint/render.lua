--- flint.render: draw and clear ghost text (one namespace, fixed extmark ids).
--- No RPC and no suggestion logic here: M.show() is given the text to draw.
---
--- Two ways to draw the first line, chosen by feature test (not version):
---  inline   (Neovim >= 0.10): virt_text_pos = 'inline' at the cursor; Neovim
---           shifts and wraps the rest of the line itself.
---  overlay  (Neovim 0.7-0.9): virt_text_pos = 'overlay' from the cursor on,
---           drawing the suggestion AND the rest of the line after it, so the
---           line looks as it will after accepting. A wrapped line gets one
---           overlay mark per screen row (at the byte that starts the row);
---           what no longer fits goes to virt_lines.
--- Further lines are virt_lines (split at the window width when 'wrap' is on,
--- since virt_lines never wrap). Tabs are expanded to spaces at the columns they
--- will occupy, control characters shown as ^X, so wide, multibyte and tab
--- characters line up with what accepting inserts.
local api = vim.api

local M = {}

M.ns = api.nvim_create_namespace('flint')
local MAIN_ID = 1 -- the mark carrying the first line (and virt_lines)
local MAX_ROW_MARKS = 64 -- overlay continuation marks use ids 2 .. 1 + this

--- What is on screen now (for :Flint status, tests, the bench): nil or
--- { buf, row, col, text, mode, at = hrtime of the draw }
M.current = nil
M.hook = nil -- function(current) called after each draw (bench)

local function detect_inline()
  local ok = pcall(function()
    local b = api.nvim_create_buf(false, true)
    local ok2 = pcall(api.nvim_buf_set_extmark, b, M.ns, 0, 0, { virt_text = { { 'x', 'Comment' } }, virt_text_pos = 'inline' })
    api.nvim_buf_delete(b, { force = true })
    assert(ok2)
  end)
  return ok
end

M.has_inline = detect_inline()
M.force_overlay = false -- tests: exercise the overlay path on Neovim 0.10 too

function M.mode()
  return (M.has_inline and not M.force_overlay) and 'inline' or 'overlay'
end

function M.setup_highlights()
  api.nvim_set_hl(0, 'FlintSuggestion', { link = 'Comment', default = true })
  api.nvim_set_hl(0, 'FlintRedacted', { link = 'WarningMsg', default = true })
  api.nvim_set_hl(0, 'FlintStatus', { link = 'StatusLine', default = true })
end

-- ---------------------------------------------------------------- cells
-- An atom is one screen cell group: { s = text, w = width, hl = group }.

local function char_iter(s)
  return s:gmatch('[%z\1-\127\194-\244][\128-\191]*')
end

--- Atoms for `chunks` ({ {text, hl}, ... }) starting at virtual column vcol.
--- Returns atoms and the virtual column after them.
local function atoms_of(chunks, vcol, ts)
  local atoms = {}
  for _, c in ipairs(chunks) do
    local hl = c[2]
    for ch in char_iter(c[1]) do
      local b = ch:byte()
      if ch == '\t' then
        local n = ts - (vcol % ts)
        for _ = 1, n do
          atoms[#atoms + 1] = { s = ' ', w = 1, hl = hl }
        end
        vcol = vcol + n
      elseif b < 32 or b == 127 then
        local s = '^' .. string.char(b == 127 and 63 or b + 64)
        atoms[#atoms + 1] = { s = s, w = 2, hl = hl }
        vcol = vcol + 2
      else
        local w = api.nvim_strwidth(ch)
        if w == 0 and #atoms > 0 then
          atoms[#atoms].s = atoms[#atoms].s .. ch -- combining mark
        else
          atoms[#atoms + 1] = { s = ch, w = w, hl = hl }
          vcol = vcol + w
        end
      end
    end
  end
  return atoms, vcol
end

--- Merge atoms into virt_text chunks.
local function chunks_of(atoms)
  local out = {}
  for _, a in ipairs(atoms) do
    local last = out[#out]
    if last and last[2] == a.hl then
      last[1] = last[1] .. a.s
    else
      out[#out + 1] = { a.s, a.hl }
    end
  end
  return out
end

--- Split atoms into screen rows: the first row has `first` cells, the others
--- `rest` cells. A double-width atom that does not fit is moved to the next row
--- (the cell left over is drawn as a space, where Neovim shows its '>' filler).
local function split_rows(atoms, first, rest)
  local rows, row, used, cap = {}, {}, 0, first
  for _, a in ipairs(atoms) do
    if used + a.w > cap and used > 0 then
      if used < cap then
        row[#row + 1] = { s = string.rep(' ', cap - used), w = cap - used, hl = a.hl }
      end
      rows[#rows + 1] = row
      row, used, cap = {}, 0, rest
    end
    row[#row + 1] = a
    used = used + a.w
  end
  rows[#rows + 1] = row
  return rows
end

--- Virtual-text chunks showing `chunks` ({ {text, hl}, ... }) as the buffer
--- would from virtual column vcol: tabs as the spaces they occupy, control
--- characters as ^X (flint.preview draws rewritten lines with it).
function M.display_chunks(chunks, vcol, ts)
  return chunks_of((atoms_of(chunks, vcol, ts)))
end

-- ---------------------------------------------------------------- window geometry

local function text_width(win)
  local info = vim.fn.getwininfo(win)[1]
  return math.max(1, api.nvim_win_get_width(win) - (info and info.textoff or 0))
end

local function showbreak_width(win)
  local sbr = api.nvim_win_get_option(win, 'showbreak')
  if sbr == '' then
    sbr = vim.o.showbreak
  end
  return sbr ~= '' and sbr ~= 'NONE' and api.nvim_strwidth(sbr) or 0
end

--- Byte offsets in `after` (relative) where each later screen row of the
--- original line starts, given the cursor at virtual column vcol0.
local function row_starts(after, vcol0, ts, W, sbr)
  local cont = math.max(1, W - sbr)
  local row_end = W
  while vcol0 >= row_end do
    row_end = row_end + cont
  end
  local starts, vcol, off = {}, vcol0, 0
  for ch in char_iter(after) do
    local w
    if ch == '\t' then
      w = ts - (vcol % ts)
    else
      local b = ch:byte()
      w = (b < 32 or b == 127) and 2 or api.nvim_strwidth(ch)
    end
    if w > 0 and vcol >= row_end then
      starts[#starts + 1] = off
      row_end = row_end + cont
    elseif w > 0 and vcol + w > row_end then
      if ch == '\t' then
        starts[#starts + 1] = off + #ch -- the tab spans two rows
      else
        starts[#starts + 1] = off -- a wide char moves to the next row
        vcol = row_end
      end
      row_end = row_end + cont
    end
    vcol = vcol + w
    off = off + #ch
  end
  return starts
end

-- ---------------------------------------------------------------- marks

--- Highlighted chunks of one suggestion line: `marks` are byte ranges
--- { s, e } (0-based, end exclusive) in the whole text; line_off is the byte
--- offset of this line in it.
local function line_chunks(line, line_off, marks)
  if not marks or #marks == 0 then
    return { { line, 'FlintSuggestion' } }
  end
  local chunks, pos = {}, 0
  for _, m in ipairs(marks) do
    local s = math.max(m[1] - line_off, pos)
    local e = math.min(m[2] - line_off, #line)
    if e > s then
      if s > pos then
        chunks[#chunks + 1] = { line:sub(pos + 1, s), 'FlintSuggestion' }
      end
      chunks[#chunks + 1] = { line:sub(s + 1, e), 'FlintRedacted' }
      pos = e
    end
  end
  if pos < #line then
    chunks[#chunks + 1] = { line:sub(pos + 1), 'FlintSuggestion' }
  end
  return chunks
end

function M.clear(buf)
  if M.current and (buf == nil or M.current.buf == buf) then
    local b = M.current.buf
    M.current = nil
    if api.nvim_buf_is_valid(b) then
      api.nvim_buf_clear_namespace(b, M.ns, 0, -1)
    end
  elseif buf and api.nvim_buf_is_valid(buf) then
    api.nvim_buf_clear_namespace(buf, M.ns, 0, -1)
  end
end

--- Draw `text` as ghost text at (row, col) (0-based, byte col) of the current
--- window's buffer `buf`. `after` is the rest of the line after the cursor.
--- opts.marks: redaction ranges in text.
function M.show(buf, row, col, text, opts)
  opts = opts or {}
  if text == '' then
    M.clear(buf)
    return
  end
  local win = api.nvim_get_current_win()
  local line = api.nvim_buf_get_lines(buf, row, row + 1, false)[1] or ''
  local before, after = line:sub(1, col), line:sub(col + 1)
  local ts = api.nvim_buf_get_option(buf, 'tabstop')
  local wrap = api.nvim_win_get_option(win, 'wrap')
  local W = text_width(win)
  local vcol0 = vim.fn.strdisplaywidth(before)

  local lines = vim.split(text, '\n', true)
  local marks = opts.marks
  -- Line 1 and its offset; later lines as virt_lines.
  local first_chunks = line_chunks(lines[1], 0, marks)
  local virt_lines = {}
  local off = #lines[1] + 1
  local mode = M.mode()

  local function add_virt_line(chunks)
    local atoms = atoms_of(chunks, 0, ts)
    local rows = wrap and split_rows(atoms, W, W) or { atoms }
    for _, r in ipairs(rows) do
      local c = chunks_of(r)
      if #c == 0 then
        c = { { '', 'FlintSuggestion' } }
      end
      virt_lines[#virt_lines + 1] = c
    end
  end

  local extra_marks = {}
  local midline = after:match('%S') ~= nil
  if mode == 'inline' then
    local atoms = atoms_of(first_chunks, vcol0, ts)
    first_chunks = chunks_of(atoms)
  else
    -- Overlay: suggestion's first line, then (single-line only) the rest of
    -- the line as it will be after accepting; blanks cover what moves away.
    local tail = {}
    if #lines == 1 then
      tail = { { after, 'Normal' } }
    end
    local chunks = vim.list_extend(vim.deepcopy(first_chunks), tail)
    local atoms = atoms_of(chunks, vcol0, ts)
    if #lines > 1 and midline then
      -- multi-line mid-line (not produced by flint.suggest): blank the rest
      local _, endv = atoms_of({ { after, '' } }, vcol0, ts)
      local wsum = 0
      for _, a in ipairs(atoms) do
        wsum = wsum + a.w
      end
      local blank = (endv - vcol0) - wsum
      if blank > 0 then
        atoms[#atoms + 1] = { s = string.rep(' ', blank), w = blank, hl = 'Normal' }
      end
    end
    if wrap then
      local sbr = showbreak_width(win)
      local cont = math.max(1, W - sbr)
      -- cells left in the cursor's screen row
      local first_cap
      if vcol0 < W then
        first_cap = W - vcol0
      else
        first_cap = cont - ((vcol0 - W) % cont)
      end
      local rows = split_rows(atoms, first_cap, cont)
      local starts = row_starts(after, vcol0, ts, W, sbr)
      first_chunks = chunks_of(rows[1])
      for i = 2, #rows do
        local s = starts[i - 1]
        if s and i - 1 <= MAX_ROW_MARKS then
          extra_marks[#extra_marks + 1] = { col + s, chunks_of(rows[i]) }
        else
          virt_lines[#virt_lines + 1] = chunks_of(rows[i])
        end
      end
    else
      first_chunks = chunks_of(atoms)
    end
  end

  for i = 2, #lines do
    local chunks = line_chunks(lines[i], off, marks)
    off = off + #lines[i] + 1
    if i == #lines and midline then
      chunks[#chunks + 1] = { after, 'Normal' }
    end
    add_virt_line(chunks)
  end

  -- Draw: continuation marks first, then the main mark (one redraw either way).
  api.nvim_buf_clear_namespace(buf, M.ns, 0, -1)
  for i, m in ipairs(extra_marks) do
    api.nvim_buf_set_extmark(buf, M.ns, row, m[1], {
      id = MAIN_ID + i,
      virt_text = m[2],
      virt_text_pos = 'overlay',
      hl_mode = 'combine',
    })
  end
  local mark = {
    id = MAIN_ID,
    virt_text = first_chunks,
    virt_text_pos = mode,
    hl_mode = 'combine',
  }
  if #virt_lines > 0 then
    mark.virt_lines = virt_lines
  end
  api.nvim_buf_set_extmark(buf, M.ns, row, col, mark)

  M.current = {
    buf = buf,
    row = row,
    col = col,
    text = text,
    mode = mode,
    at = vim.loop.hrtime(),
  }
  if M.hook then
    pcall(M.hook, M.current)
  end
end

--- The ghost text as drawn now, read back from the extmarks (tests, bench):
--- { mode, row, col, first = "text of line 1 as drawn", virt_lines = { "..." },
---   rows = { { col = byte col, text = "..." } } } or nil.
function M.read(buf)
  buf = buf or api.nvim_get_current_buf()
  local marks = api.nvim_buf_get_extmarks(buf, M.ns, 0, -1, { details = true })
  if #marks == 0 then
    return nil
  end
  local r = { rows = {}, virt_lines = {} }
  local function join(chunks)
    local t = {}
    for _, c in ipairs(chunks or {}) do
      t[#t + 1] = c[1]
    end
    return table.concat(t)
  end
  for _, m in ipairs(marks) do
    local id, row, col, d = m[1], m[2], m[3], m[4]
    if id == MAIN_ID then
      r.row, r.col, r.mode = row, col, d.virt_text_pos
      r.first = join(d.virt_text)
      r.chunks = d.virt_text
      for _, vl in ipairs(d.virt_lines or {}) do
        r.virt_lines[#r.virt_lines + 1] = join(vl)
      end
    else
      r.rows[#r.rows + 1] = { col = col, text = join(d.virt_text) }
    end
  end
  table.sort(r.rows, function(a, b)
    return a.col < b.col
  end)
  return r
end

return M
