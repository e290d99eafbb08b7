--- flint.scan: the server's scanner from the editor.
---
--- :FlintAllow allows the secret the last suggestion redacted. The editor never
--- sees that secret: the server sends each secret finding with an opaque
--- `allow_id` and keeps its fingerprint; `allow {allow_id}` adds the fingerprint
--- to the server's allow-list (doc/protocol.md). :FlintScan scans the current
--- buffer with the server's `scan` method and shows the findings as
--- vim.diagnostic entries (namespace 'flint-scan').
local api = vim.api
local rpc = require('flint.rpc')

local M = {}

local H = {
  last = nil, -- { allow_id, rule, pid } of the last secret a suggestion redacted
  ns = nil,
}

local plain = rpc.plain

--- Remember a finding of a suggestion (flint.suggest calls this for each).
function M.note(f)
  local id = plain(f.allow_id)
  if type(id) == 'number' and plain(f.action) == 'redact' then
    -- allow_ids belong to the server process that sent them
    H.last = { allow_id = id, rule = tostring(plain(f.rule)), pid = rpc.pid }
  end
end

--- The last redacted secret's { allow_id, rule } (of the running server), or nil.
function M.last()
  if H.last and H.last.pid ~= rpc.pid then
    H.last = nil -- the server restarted: its ids are gone
  end
  return H.last
end

local function tell(msg, level)
  vim.notify('flint: ' .. msg, level or vim.log.levels.INFO)
end

--- :FlintAllow — allow the secret the last suggestion redacted, by id.
function M.allow()
  local last = M.last()
  if not last then
    tell('no redacted secret to allow (none was redacted in a suggestion yet)', vim.log.levels.WARN)
    return false
  end
  local sent = rpc.running() and rpc.request('allow', { allow_id = last.allow_id }, function(err, res)
    if err then
      rpc.log('warn', 'allow failed: ' .. err)
      tell('could not allow the ' .. last.rule .. ' secret: ' .. err, vim.log.levels.ERROR)
      return
    end
    if H.last == last then
      H.last = nil
    end
    local saved = type(res) == 'table' and res.saved == true
    rpc.log('info', 'allowed a ' .. last.rule .. ' secret')
    tell(('allowed the %s secret of the last suggestion%s; it is no longer redacted'):format(last.rule,
      saved and ' (its fingerprint is saved)' or ' for this session'))
  end)
  if not sent then
    tell('the server is not running; the secret was not allowed', vim.log.levels.WARN)
    return false
  end
  return true
end

local severities = {
  critical = vim.diagnostic.severity.ERROR,
  high = vim.diagnostic.severity.ERROR,
  medium = vim.diagnostic.severity.WARN,
  low = vim.diagnostic.severity.INFO,
}

--- Byte offset `off` of the buffer text (lines joined by "\n") as a 0-based
--- (row, col); `starts` holds each line's first offset.
local function position(starts, off)
  local lo, hi = 1, #starts
  while lo < hi do
    local mid = math.floor((lo + hi + 1) / 2)
    if starts[mid] <= off then
      lo = mid
    else
      hi = mid - 1
    end
  end
  return lo - 1, off - starts[lo]
end

--- Findings of the server's `scan` (byte offsets into `lines` joined by
--- "\n") as diagnostics.
function M.diagnostics(lines, findings)
  local starts, off = {}, 0
  for i, l in ipairs(lines) do
    starts[i] = off
    off = off + #l + 1
  end
  local out = {}
  for _, f in ipairs(findings) do
    local s, e = plain(f.start), plain(f['end'])
    if type(s) == 'number' and type(e) == 'number' then
      local row, col = position(starts, s)
      local erow, ecol = position(starts, math.max(s, e))
      out[#out + 1] = {
        lnum = row,
        col = col,
        end_lnum = erow,
        end_col = ecol,
        severity = severities[plain(f.severity)] or vim.diagnostic.severity.WARN,
        message = tostring(plain(f.message)),
        source = 'flint',
        code = tostring(plain(f.rule)),
      }
    end
  end
  return out
end

--- :FlintScan — scan buffer `buf` (default: current) into diagnostics.
function M.scan_buffer(buf)
  buf = (buf == nil or buf == 0) and api.nvim_get_current_buf() or buf
  H.ns = H.ns or api.nvim_create_namespace('flint-scan')
  if not rpc.ensure() then
    tell('the server is not running: ' .. tostring(rpc.last_error), vim.log.levels.ERROR)
    return false
  end
  local lines = api.nvim_buf_get_lines(buf, 0, -1, false)
  local tick = api.nvim_buf_get_changedtick(buf)
  local params = {
    text = table.concat(lines, '\n') .. '\n',
    role = 'output',
    filetype = api.nvim_buf_get_option(buf, 'filetype'),
  }
  return rpc.request('scan', params, function(err, res)
    if err then
      tell('scan failed: ' .. err, vim.log.levels.ERROR)
      return
    end
    if not api.nvim_buf_is_valid(buf) or api.nvim_buf_get_changedtick(buf) ~= tick then
      rpc.log('info', 'scan result dropped: the buffer changed meanwhile')
      return
    end
    local findings = type(res) == 'table' and plain(res.findings) or {}
    local diags = M.diagnostics(lines, findings)
    vim.diagnostic.set(H.ns, buf, diags)
    tell(#diags == 0 and 'scan: no findings' or ('scan: %d finding%s'):format(#diags, #diags == 1 and '' or 's'))
  end) ~= nil
end

return M
