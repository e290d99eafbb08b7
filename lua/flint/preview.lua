--- flint.preview: a refactor drawn as a diff inside the buffer (one
--- namespace; no RPC, no state beyond the marks). Given the original lines
--- and a flint.diff view of the rewrite:
---   - original lines the rewrite deletes or changes are highlighted in place
---     (FlintRefactorDelete), the words that change more strongly
---     (FlintRefactorDeleteText);
---   - new lines are virtual lines below them (FlintRefactorAdd, changed words
---     FlintRefactorAddText), tabs drawn as the spaces they occupy;
---   - while streaming, a marker line shows where the rewrite has got to (and
---     its unfinished line); original lines past it are left as they are;
---   - a status line above the range (below it on the buffer's first line,
---     where lines above would be hidden) says what is going on and which
---     keys do what.
local api = vim.api
local diff = require('flint.diff')
local render = require('flint.render')

local M = {}

M.ns = api.nvim_create_namespace('flint_refactor')

function M.setup_highlights()
  local links = {
    FlintRefactorDelete = 'DiffDelete',
    FlintRefactorDeleteText = 'DiffText',
    FlintRefactorAdd = 'DiffAdd',
    FlintRefactorAddText = 'DiffText',
    FlintRefactorStatus = 'StatusLine',
    FlintRefactorWarn = 'WarningMsg',
    FlintRefactorStream = 'Comment',
  }
  for name, to in pairs(links) do
    api.nvim_set_hl(0, name, { link = to, default = true })
  end
end

function M.clear(buf)
  if api.nvim_buf_is_valid(buf) then
    api.nvim_buf_clear_namespace(buf, M.ns, 0, -1)
  end
end

--- Chunks of a new line with word ranges highlighted, padded to `width`
--- cells so the background runs across the window.
local function added_line(text, ranges, ts, width)
  local chunks, pos = {}, 0
  for _, r in ipairs(ranges or {}) do
    if r[1] > pos then
      chunks[#chunks + 1] = { text:sub(pos + 1, r[1]), 'FlintRefactorAdd' }
    end
    chunks[#chunks + 1] = { text:sub(r[1] + 1, r[2]), 'FlintRefactorAddText' }
    pos = r[2]
  end
  if pos < #text or #chunks == 0 then
    chunks[#chunks + 1] = { text:sub(pos + 1), 'FlintRefactorAdd' }
  end
  chunks = render.display_chunks(chunks, 0, ts)
  local w = 0
  for _, c in ipairs(chunks) do
    w = w + api.nvim_strwidth(c[1])
  end
  if w < width then
    chunks[#chunks + 1] = { string.rep(' ', width - w), 'FlintRefactorAdd' }
  end
  return chunks
end

--- Draw the preview. buf: the buffer; row0: its row (0-based) of orig[1];
--- view: flint.diff.view(orig, text, done); status: { {text, hl}, ... } for
--- the status line.
function M.draw(buf, row0, orig, view, status)
  api.nvim_buf_clear_namespace(buf, M.ns, 0, -1)
  local ts = api.nvim_buf_get_option(buf, 'tabstop')
  local width = vim.o.columns
  local nrows = api.nvim_buf_line_count(buf)
  local last = math.min(row0 + #orig, nrows) - 1 -- buffer row of the last original line
  local function mark(row, opts)
    api.nvim_buf_set_extmark(buf, M.ns, math.max(0, math.min(row, nrows - 1)), 0, opts)
  end
  -- highlight bytes [s, e) of a row, clamped to the line as it is now (the
  -- buffer may have changed since the request; accepting then refuses)
  local function hl(row, s, e, group, prio)
    if row >= nrows then
      return
    end
    local len = #(api.nvim_buf_get_lines(buf, row, row + 1, false)[1] or '')
    s, e = math.min(s, len), math.min(e, len)
    api.nvim_buf_set_extmark(buf, M.ns, row, s,
      { end_row = row, end_col = e, hl_group = group, hl_eol = group == 'FlintRefactorDelete', priority = prio })
  end
  -- the status first: of several virtual lines at one row, the first mark's come first
  if row0 > 0 then
    mark(row0, { virt_lines = { status }, virt_lines_above = true })
  end
  for _, h in ipairs(view.hunks) do
    local a, na, b, nb = h[1], h[2], h[3], h[4]
    local virt = {}
    for i = 0, math.max(na, nb) - 1 do
      local old, new = i < na and orig[a + i] or nil, i < nb and view.new[b + i] or nil
      local ro, rn
      if old and new then
        ro, rn = diff.words(old, new)
      end
      if old then
        local row = row0 + a - 1 + i
        hl(row, 0, #old, 'FlintRefactorDelete', 200)
        for _, r in ipairs(ro or {}) do
          hl(row, r[1], r[2], 'FlintRefactorDeleteText', 201)
        end
      end
      if new then
        virt[#virt + 1] = added_line(new, rn, ts, width)
      end
    end
    if #virt > 0 then
      if na > 0 then
        mark(row0 + a + na - 2, { virt_lines = virt })
      elseif a > 0 then
        mark(row0 + a - 1, { virt_lines = virt })
      else
        mark(row0, { virt_lines = virt, virt_lines_above = true })
      end
    end
  end
  if view.pending then
    local line = { { '┄ ', 'FlintRefactorStream' } }
    if view.partial then
      vim.list_extend(line, render.display_chunks({ { view.partial, 'FlintRefactorAdd' } }, 2, ts))
    end
    line[#line + 1] = { ' ┄ streaming', 'FlintRefactorStream' }
    if view.pending <= #orig then
      mark(row0 + view.pending - 1, { virt_lines = { line }, virt_lines_above = true })
    else
      mark(last, { virt_lines = { line } })
    end
  end
  if row0 == 0 then
    mark(last, { virt_lines = { status } })
  end
end

--- What is drawn (tests): { deleted = { buffer rows }, added = { lines },
--- stream = text of the streaming marker or nil, status = text }.
function M.read(buf)
  local r = { deleted = {}, added = {} }
  local function text(chunks)
    local t = {}
    for _, c in ipairs(chunks) do
      t[#t + 1] = c[1]
    end
    return table.concat(t)
  end
  local marks = api.nvim_buf_get_extmarks(buf, M.ns, 0, -1, { details = true })
  table.sort(marks, function(x, y)
    return x[2] < y[2] or (x[2] == y[2] and x[1] < y[1])
  end)
  for _, m in ipairs(marks) do
    local d = m[4]
    if d.hl_group == 'FlintRefactorDelete' then
      r.deleted[#r.deleted + 1] = m[2]
    end
    for _, vl in ipairs(d.virt_lines or {}) do
      local hl = vl[1] and vl[1][2]
      local t = text(vl)
      if hl == 'FlintRefactorStream' then
        r.stream = t
      elseif hl == 'FlintRefactorStatus' then
        r.status = t
      else
        r.added[#r.added + 1] = (t:gsub('%s+$', ''))
      end
    end
  end
  return r
end

return M
