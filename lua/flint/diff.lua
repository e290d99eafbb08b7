--- flint.diff: line and word diffs for the refactor preview. Pure functions
--- (no buffers, no RPC), built on vim.diff (xdiff, Neovim >= 0.6).
---
--- A hunk is { a, na, b, nb } as vim.diff's "indices": lines a .. a+na-1 of
--- the original are replaced by lines b .. b+nb-1 of the new text (1-based;
--- with na == 0 the new lines go after original line a, with nb == 0 the
--- original lines are deleted).
local M = {}

local function join(lines)
  if #lines == 0 then
    return ''
  end
  return table.concat(lines, '\n') .. '\n'
end

--- Hunks turning line list `a` into line list `b`.
function M.lines(a, b)
  return vim.diff(join(a), join(b), { result_type = 'indices', algorithm = 'histogram' })
end

--- Tokens of a line for the word diff: runs of word characters, runs of
--- blanks, single other characters. Returns the tokens and their byte
--- offsets (0-based).
local function tokens(s)
  local t, off, i = {}, {}, 1
  while i <= #s do
    local j = s:match('^[%w_\128-\255]+()', i) or s:match('^%s+()', i) or i + 1
    t[#t + 1] = s:sub(i, j - 1)
    off[#off + 1] = i - 1
    i = j
  end
  off[#off + 1] = #s
  return t, off
end

--- Byte ranges { {s, e}, ... } (0-based, end exclusive) that differ between
--- the old line `a` and the new line `b`, at word granularity: the first list
--- for a, the second for b.
function M.words(a, b)
  local ta, oa = tokens(a)
  local tb, ob = tokens(b)
  local ra, rb = {}, {}
  for _, h in ipairs(M.lines(ta, tb)) do
    if h[2] > 0 then
      ra[#ra + 1] = { oa[h[1]], oa[h[1] + h[2]] }
    end
    if h[4] > 0 then
      rb[#rb + 1] = { ob[h[3]], ob[h[3] + h[4]] }
    end
  end
  return ra, rb
end

--- The preview of a (possibly still streaming) rewrite of `orig` (lines):
---   { new = lines of the text, partial = the unfinished last line or nil,
---     hunks = list of hunks, pending = first original line not reached yet
---     (nil once done), added = n, deleted = n }
--- While streaming only complete lines take part, and original lines past the
--- point the rewrite has reached are "pending" rather than deleted: the last
--- hunk, when it runs to the end of both texts, keeps as many original lines
--- as it has new ones and leaves the rest pending.
function M.view(orig, text, done)
  local new = vim.split(text, '\n', true)
  local partial = table.remove(new) -- text after the last newline
  if done then
    if partial ~= '' then
      new[#new + 1] = partial
    end
    partial = nil
  elseif partial == '' then
    partial = nil
  end
  local hunks = M.lines(orig, new)
  local pending
  if not done then
    pending = #orig + 1
    local h = hunks[#hunks]
    if h and h[2] > 0 and h[1] + h[2] - 1 == #orig and h[3] + math.max(h[4], 1) - 1 >= #new then
      if h[2] > h[4] then
        pending = h[1] + h[4]
        if h[4] == 0 then
          hunks[#hunks] = nil
        else
          h[2] = h[4]
        end
      end
    end
  end
  local added, deleted = 0, 0
  for _, h in ipairs(hunks) do
    added = added + h[4]
    deleted = deleted + h[2]
  end
  return { new = new, partial = partial, hunks = hunks, pending = pending, added = added, deleted = deleted }
end

return M
