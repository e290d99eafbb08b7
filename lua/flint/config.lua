--- flint.config: defaults, validation, and the source of the OPTIONS section
--- of doc/flint.txt (`M.help_lines()`; tests/nvim/spec_doc.lua keeps the two equal).
---
--- The same options reach Vim users as g:flint_{name} (autoload/flint/config.vim);
--- Neovim users who never call setup() get them from g:flint_* too.
local M = {}

-- Each option: name, default, type(s) for validation, and its help text.
-- Order here is the order in the help file.
M.options = {
  {
    name = 'enabled',
    default = true,
    type = 'boolean',
    help = [[Master switch. When false no request is sent and nothing is shown;
|:Flint| enable and |:Flint| disable flip it at run time.]],
  },
  {
    name = 'filetypes',
    default = { ['*'] = true, help = false, gitcommit = false, gitrebase = false, hgcommit = false, svn = false, cvs = false },
    type = 'table',
    help = [[Per-filetype switch: a map from 'filetype' to true or false. "*" is
the fallback for every filetype not named. A buffer with an empty
'filetype' uses "*". Example: >
		filetypes = { ['*'] = false, python = true, c = true }
<]],
    show = [[{ ['*'] = true, help = false, gitcommit = false,
	gitrebase = false, hgcommit = false, svn = false, cvs = false }]],
  },
  {
    name = 'auto_trigger',
    default = true,
    type = 'boolean',
    help = [[Ask for a suggestion whenever you stop typing in Insert mode. When
false, suggestions only come from |<Plug>(flint-suggest)| and
|<Plug>(flint-next)|.]],
  },
  {
    name = 'debounce',
    default = 15,
    type = 'number',
    help = [[Milliseconds of idleness after a keystroke before a request is sent.
Keystrokes that type the characters of the shown suggestion never
send a request, whatever this is.]],
  },
  {
    name = 'n_alt',
    default = 3,
    type = 'number',
    help = [[How many alternatives to ask for, in one request, the first time you
cycle with |<Plug>(flint-next)| or |<Plug>(flint-prev)| at a position.
Typing asks for one.]],
  },
  {
    name = 'max_tokens',
    default = 64,
    type = 'number',
    help = [[Most tokens one suggestion may have.]],
  },
  {
    name = 'max_ms',
    default = 0,
    type = 'number',
    help = [[Most milliseconds the server may spend on one suggestion; 0 leaves it
to the server.]],
  },
  {
    name = 'max_lines',
    default = 8,
    type = 'number',
    help = [[Most lines one suggestion may have. With text after the cursor a
suggestion is always cut to the rest of the current line, so that
what is shown is what gets inserted.]],
  },
  {
    name = 'context_lines',
    default = { before = 100, after = 30 },
    type = 'table',
    help = [[How many lines above and below the cursor are sent as the prompt's
prefix and suffix. The prefix starts at a line number rounded down to
a multiple of 32 (so up to 31 more lines are sent): it then stays the
same while you type, and the server can reuse its prompt cache. The
server trims both to the model's context.]],
    show = '{ before = 100, after = 30 }',
  },
  {
    name = 'show_with_pum',
    default = false,
    type = 'boolean',
    help = [[Keep showing the suggestion while the |popup-menu| is visible. By
default it hides while the menu is open and comes back when it closes.]],
  },
  {
    name = 'keymaps',
    default = {
      accept = '<Tab>',
      accept_word = '<M-Right>',
      accept_line = '<M-C-Right>',
      next = '<M-]>',
      prev = '<M-[>',
      dismiss = '<C-]>',
    },
    type = 'table',
    help = [[Insert-mode keys for the |flint-maps|; false (or "") leaves a key
unmapped. A key that is already mapped keeps working: when no
suggestion is shown, flint's map does what the key did before.]],
    show = [[{ accept = '<Tab>', accept_word = '<M-Right>',
	accept_line = '<M-C-Right>', next = '<M-]>', prev = '<M-[>',
	dismiss = '<C-]>' }]],
  },
  {
    name = 'refactor_keymaps',
    default = {
      accept = 'ga',
      reject = 'gr',
      retry = 'gR',
      cancel = '<C-c>',
      next_hunk = ']c',
      prev_hunk = '[c',
    },
    type = 'table',
    help = [[Normal-mode keys of a |:FlintRefactor| preview, mapped in its buffer
only while the preview is up (maps of yours in that buffer come back
afterwards); false (or "") leaves one unmapped. See |flint-refactor-maps|.]],
    show = [[{ accept = 'ga', reject = 'gr', retry = 'gR', cancel = '<C-c>',
	next_hunk = ']c', prev_hunk = '[c' }]],
  },
  {
    name = 'refactor_context_lines',
    default = 20,
    type = 'number',
    help = [[How many lines above and below the range |:FlintRefactor| sends as
context. Models other than flint-coder see them (the default model was
trained without context and does not).]],
  },
  {
    name = 'refactor_max_tokens',
    default = 0,
    type = 'number',
    help = [[Most tokens a |:FlintRefactor| rewrite may have; 0 picks 64 plus the
range's size in bytes (room for a rewrite about three times as long).]],
  },
  {
    name = 'model',
    default = '',
    type = 'string',
    help = [[Path of the GGUF model file passed to the server as --model. Empty:
the server picks the default model in the plugin's models/ directory.]],
  },
  {
    name = 'server_cmd',
    default = {},
    type = 'table',
    help = [[The server command as a list, e.g. { '/opt/flint/bin/flint', 'serve' }.
Empty: build/flint in the plugin directory, else flint on $PATH, with
"serve".]],
  },
  {
    name = 'server_args',
    default = {},
    type = 'table',
    help = [[Extra arguments appended to the server command.]],
  },
  {
    name = 'allowlist',
    default = '',
    type = 'string',
    help = [[The file of secrets allowed with |:FlintAllow|, passed to the server
as --allowlist. It holds keyed BLAKE2b fingerprints, never a secret.
Empty: stdpath('data') .. '/flint/allow.list' in Neovim,
$XDG_DATA_HOME/flint/allow.list (~/.local/share/flint/allow.list) in
Vim. "none": allowed secrets last only as long as the server.]],
  },
  {
    name = 'log_level',
    default = 'warn',
    type = 'string',
    help = [[Lowest level of server and plugin messages kept in |:Flint| log:
"debug", "info", "warn" or "error". Suggestion text is never logged.]],
  },
}

local by_name = {}
for _, o in ipairs(M.options) do
  by_name[o.name] = o
end

--- Defaults as a fresh table.
function M.defaults()
  local t = {}
  for _, o in ipairs(M.options) do
    t[o.name] = vim.deepcopy(o.default)
  end
  return t
end

local levels = { debug = true, info = true, warn = true, error = true }

--- Merge user options over defaults and validate.
--- Returns the config table, or nil and an error message naming the option.
function M.build(user)
  user = user or {}
  if type(user) ~= 'table' then
    return nil, 'setup() takes a table, got ' .. type(user)
  end
  local cfg = M.defaults()
  for k, v in pairs(user) do
    local o = by_name[k]
    if not o then
      return nil, ('unknown option %q'):format(tostring(k))
    end
    if type(v) ~= o.type then
      return nil, ('option %s: expected %s, got %s'):format(k, o.type, type(v))
    end
    if o.type == 'table' and (k == 'filetypes' or k == 'keymaps' or k == 'context_lines' or k == 'refactor_keymaps') then
      cfg[k] = vim.tbl_extend('force', cfg[k], v)
    else
      cfg[k] = v
    end
  end
  for name, lhs in pairs(cfg.keymaps) do
    if by_name.keymaps.default[name] == nil then
      return nil, ('option keymaps: unknown action %q'):format(tostring(name))
    end
    if lhs ~= false and type(lhs) ~= 'string' then
      return nil, ('option keymaps.%s: expected a key string or false'):format(name)
    end
  end
  for name, lhs in pairs(cfg.refactor_keymaps) do
    if by_name.refactor_keymaps.default[name] == nil then
      return nil, ('option refactor_keymaps: unknown action %q'):format(tostring(name))
    end
    if lhs ~= false and type(lhs) ~= 'string' then
      return nil, ('option refactor_keymaps.%s: expected a key string or false'):format(name)
    end
  end
  for ft, on in pairs(cfg.filetypes) do
    if type(on) ~= 'boolean' then
      return nil, ('option filetypes[%q]: expected true or false'):format(tostring(ft))
    end
  end
  if type(cfg.context_lines.before) ~= 'number' or type(cfg.context_lines.after) ~= 'number' then
    return nil, 'option context_lines: expected { before = N, after = N }'
  end
  for _, k in ipairs({ 'debounce', 'n_alt', 'max_tokens', 'max_ms', 'max_lines', 'refactor_context_lines',
    'refactor_max_tokens' }) do
    if cfg[k] < 0 or cfg[k] ~= math.floor(cfg[k]) then
      return nil, ('option %s: expected a non-negative integer'):format(k)
    end
  end
  if cfg.n_alt < 1 then
    return nil, 'option n_alt: expected at least 1'
  end
  if cfg.max_lines < 1 then
    return nil, 'option max_lines: expected at least 1'
  end
  if not levels[cfg.log_level] then
    return nil, 'option log_level: expected debug, info, warn or error'
  end
  return cfg
end

--- Options from g:flint_{name} variables (for users who do not call setup()).
--- Vim dictionaries arrive as Lua tables, v:true/v:false as booleans.
function M.from_globals()
  local t = {}
  for _, o in ipairs(M.options) do
    local v = vim.g['flint_' .. o.name]
    if v ~= nil then
      if o.type == 'boolean' and type(v) == 'number' then
        v = v ~= 0
      end
      if o.name == 'filetypes' and type(v) == 'table' then
        for ft, on in pairs(v) do
          if type(on) == 'number' then
            v[ft] = on ~= 0
          end
        end
      end
      if (o.name == 'keymaps' or o.name == 'refactor_keymaps') and type(v) == 'table' then
        for a, lhs in pairs(v) do
          if lhs == '' or lhs == 0 then
            v[a] = false
          end
        end
      end
      t[o.name] = v
    end
  end
  return t
end

--- Is flint on for this filetype?
function M.filetype_enabled(cfg, ft)
  local v = cfg.filetypes[ft ~= '' and ft or '*']
  if v == nil then
    v = cfg.filetypes['*']
  end
  return v ~= false
end

local function show(o)
  if o.show then
    return o.show
  end
  if type(o.default) == 'string' then
    return '"' .. o.default .. '"'
  end
  if type(o.default) == 'table' then
    return '{}'
  end
  return tostring(o.default)
end

--- The OPTIONS section body of doc/flint.txt, as lines.
function M.help_lines()
  local lines = {}
  for _, o in ipairs(M.options) do
    local tag = '*flint-option-' .. o.name .. '* *g:flint_' .. o.name .. '*'
    local head = o.name
    lines[#lines + 1] = head .. string.rep(' ', math.max(1, 78 - #head - #tag)) .. tag
    local d = show(o)
    local first = true
    for dl in (d .. '\n'):gmatch('(.-)\n') do
      lines[#lines + 1] = (first and '\tdefault: ' or '\t') .. dl
      first = false
    end
    lines[#lines + 1] = ''
    for hl in (o.help .. '\n'):gmatch('(.-)\n') do
      lines[#lines + 1] = hl == '' and '' or ((hl:match('^[<>]$') or hl:match('^\t')) and hl or ('\t' .. hl))
    end
    lines[#lines + 1] = ''
  end
  return lines
end

--- Rewrite the OPTIONS section of the help file at `path` from M.options
--- (between the "<!-- options -->" placeholder or the first option tag and the
--- *b:flint_enabled* entry). Run after editing M.options:
---   nvim --headless -u NONE --cmd 'set rtp^=.' \
---     -c 'lua require("flint.config").write_help("doc/flint.txt")' -c q
function M.write_help(path)
  local lines = vim.fn.readfile(path)
  local s, e
  for i, l in ipairs(lines) do
    if not s and (l == '<!-- options -->' or l:find('*flint-option-', 1, true)) then
      s = i
    end
    if l:find('*b:flint_enabled*', 1, true) then
      e = i
    end
  end
  assert(s and e and s < e, 'cannot find the options section in ' .. path)
  local out = {}
  for i = 1, s - 1 do
    out[#out + 1] = lines[i]
  end
  vim.list_extend(out, M.help_lines())
  for i = e, #lines do
    out[#out + 1] = lines[i]
  end
  vim.fn.writefile(out, path)
end

return M
