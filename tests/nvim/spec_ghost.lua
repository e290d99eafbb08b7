-- Ghost text appears, streams, follows typing, and goes away when it should.
local H = require('helpers')
local test, eq, truthy = H.test, H.eq, H.truthy

test('typing produces ghost text (extmark shows the suggestion)', function(c)
  truthy(c:wait_server(), 'server initialized')
  local text = truthy(c:suggest_at(H.prompts, nil, nil, H.fits(c:eval('&columns') - 8, 20)),
    'a suggestion for one of the prompts')
  local g = truthy(c:ghost(), 'extmark')
  local first = vim.split(text, '\n', true)[1]
  local cur = c:cursor()
  eq(cur[1] - 1, g.row, 'extmark row')
  eq(cur[2], g.col, 'extmark col')
  -- what is drawn is the suggestion's first line as it will display
  local line = c:lines()[cur[1]]
  local want = H.display(first, vim.fn.strdisplaywidth(line:sub(1, cur[2])), c:eval('&tabstop'))
  eq(g.first, want:sub(1, #g.first), 'first line drawn')
  if g.mode == 'inline' then
    eq(want, g.first, 'all of the first line inline')
    eq(#vim.split(text, '\n', true) - 1, #g.virt_lines, 'one virt_line per further line')
  end
  eq(c:lua("return require('flint.render').has_inline and 'inline' or 'overlay'"), g.mode, 'render mode by feature test')
end)

--- A prompt from H.prompts that gives this model a visible suggestion, with
--- Insert mode left and the suggestion gone (so the next 'A' asks again).
--- pred (optional) filters the suggestions as in Child:suggest_at.
local function working_prompt(c, pred)
  local t, i = c:suggest_at(H.prompts, nil, nil, pred)
  truthy(t, 'a suggestion for one of the prompts')
  c:input('<Esc>')
  return H.prompts[i]
end

test('ghost text streams: chunks extend the shown text', function(c)
  c:wait_server()
  local p = working_prompt(c)
  c:set_lines(p, #p, #p[#p])
  -- record every drawn text length for this request
  c:lua([[
    _G.seen = {}
    require('flint.render').hook = function(cur) table.insert(_G.seen, #cur.text) end
  ]])
  c:input('A')
  truthy(c:wait_suggestion(), 'suggestion')
  local seen = c:lua('return _G.seen')
  truthy(#seen >= 1, 'drawn at least once')
  for i = 2, #seen do
    truthy(seen[i] >= seen[i - 1], 'text only grows while streaming: ' .. vim.inspect(seen))
  end
  local st = c:stats()
  truthy(st.chunks >= 1, 'chunks received')
end)

test('typing the suggested characters reuses it (no request, no flicker)', function(c)
  c:wait_server()
  -- a suggestion of 2+ characters that starts with a typeable one (the rest must stay shown)
  local text = truthy(c:suggest_at(H.prompts, nil, nil, function(t) return H.printable(t) and #t > 1 end),
    'suggestion')
  local ch = text:sub(1, 1)
  truthy(ch and #text > 1, 'a suggestion with a first-line character')
  local before = c:stats().requests
  c:lua([[
    _G.clears = 0
    local r = require('flint.render')
    local orig = r.clear
    r.clear = function(...) _G.clears = _G.clears + 1 return orig(...) end
  ]])
  c:input(ch == '<' and '<lt>' or ch)
  eq(text:sub(#ch + 1), c:visible(), 'the rest is still shown')
  local g = c:ghost()
  truthy(g, 'still drawn')
  eq(c:cursor()[2], g.col, 'moved with the cursor')
  eq(before, c:stats().requests, 'no new request')
  eq(0, c:lua('return _G.clears'), 'never cleared in between')
end)

test('a keystroke that does not match drops the suggestion and asks again', function(c)
  c:wait_server()
  local text = truthy(c:suggest_at(H.prompts), 'suggestion')
  local first = text:sub(1, 1)
  local other = first == 'Q' and 'Z' or 'Q'
  local reqs = c:stats().requests
  c:input(other)
  -- at once: nothing stale on screen
  local g = c:ghost()
  if g then
    truthy(c:lua("return require('flint.suggest').state() and require('flint.suggest').state().typed == ''"), 'only a new suggestion is drawn')
  end
  c:wait(function(x)
    return x:stats().requests > reqs
  end, 5000)
  truthy(c:stats().requests > reqs, 'a new request after the debounce')
end)

test('mid-line: a one-line suggestion, the rest of the line after it', function(c)
  c:wait_server()
  local prompts = {
    { 'def area(w, h):', '    return max()' },
    { 'import os', 'print(os.path.join())' },
    { 'for i in range(10):', '    print(str())' },
  }
  local text
  for _, p in ipairs(prompts) do
    c:input('<Esc>')
    c:set_lines(p, #p, #p[#p] - 1)
    c:input('i')
    text = c:wait_suggestion(5000)
    if text then
      break
    end
  end
  if not text then
    H.out('# no mid-line suggestion from this model; nothing to check')
    return
  end
  eq(nil, text:find('\n'), 'one line')
  local g = truthy(c:ghost(), 'drawn')
  local cur = c:cursor()
  local line = c:lines()[cur[1]]
  local after = line:sub(cur[2] + 1)
  local vcol = vim.fn.strdisplaywidth(line:sub(1, cur[2]))
  if g.mode == 'inline' then
    eq(H.display(text, vcol, 8), g.first, 'inline: the suggestion; Neovim shifts the rest')
  else
    -- the first screen row; what does not fit goes on the continuation rows
    local want = vim.fn.strcharpart(H.display(text .. after, vcol, 8), 0, c:eval('winwidth(0)') - vcol)
    eq(want, g.first, 'overlay: the suggestion and then the rest of the line')
  end
  c:input('<Tab>')
  eq(line:sub(1, cur[2]) .. text .. after, c:lines()[cur[1]], 'accepted: the rest of the line follows')
end)

test('moving the cursor clears the ghost text', function(c)
  c:wait_server()
  truthy(c:suggest_at(H.prompts), 'suggestion')
  c:input('<Left>')
  local g = c:ghost()
  truthy(g == nil or g.col == c:cursor()[2], 'no ghost text left at the old position')
end)

test('leaving Insert mode clears everything', function(c)
  c:wait_server()
  truthy(c:suggest_at(H.prompts), 'suggestion')
  c:input('<Esc>')
  eq(nil, c:ghost(), 'no extmark')
  eq(nil, c:visible(), 'no suggestion')
  eq(true, c:lua("return require('flint.suggest').state() == nil"), 'state dropped')
  -- nothing comes back later from a request still in flight
  vim.wait(300)
  eq(nil, c:ghost(), 'still no extmark after late chunks')
end)

test('stale results are dropped (another buffer, a changed buffer)', function(c)
  c:wait_server()
  local p = working_prompt(c)
  c:set_lines(p, #p, #p[#p])
  local first = c:eval('bufnr("%")')
  -- the server is stopped (SIGSTOP) while the request is out, so its chunks
  -- can only arrive after the switch below, however fast the model is
  local pid = c:lua("return require('flint.rpc').pid")
  c:lua("vim.loop.kill(..., 'sigstop')", pid)
  c:input('A')
  c:wait(function(x)
    return x:lua("return require('flint.suggest').state() ~= nil and require('flint.suggest').state().id ~= nil")
  end, 3000)
  -- switch buffers while the request runs (still in Insert mode)
  c:lua([[vim.api.nvim_set_current_buf(vim.api.nvim_create_buf(true, false))]])
  c:lua("vim.loop.kill(..., 'sigcont')", pid)
  c:wait(function(x)
    return x:stats().stale_chunks > 0
  end, 3000)
  truthy(c:stats().stale_chunks > 0, 'the old request\'s chunks were dropped')
  eq({}, c:lua('return vim.api.nvim_buf_get_extmarks(..., require("flint.render").ns, 0, -1, {})', first), 'nothing drawn in the old buffer')
  -- a buffer changed behind flint's back: the suggestion is not used
  c:input('<Esc>')
  c:set_lines(p, #p, #p[#p])
  c:input('A')
  truthy(c:wait_suggestion(), 'suggestion')
  c:lua([[vim.api.nvim_buf_set_lines(0, 0, 1, false, { '# changed' })]])
  eq(nil, c:visible(), 'a changed line count / text invalidates it')
end)

test('the popup menu hides the ghost text; it comes back when the menu closes', function(c)
  c:wait_server()
  local text = truthy(c:suggest_at(H.prompts), 'suggestion')
  -- a completion popup over the current word
  c:lua([[vim.o.completeopt = 'menuone,noselect' vim.fn.complete(vim.fn.col('.'), { 'alpha', 'beta' })]])
  c:eval('1')
  eq(1, c:eval('pumvisible()'), 'menu open')
  eq(nil, c:ghost(), 'hidden while the menu is open')
  eq(nil, c:visible(), 'Tab does not accept a hidden suggestion')
  c:input('<C-e>')
  eq(0, c:eval('pumvisible()'), 'menu closed')
  local back = c:wait(function(x)
    return x:ghost()
  end, 3000)
  truthy(back, 'ghost text back after the menu closed (or a new one)')
  local _ = text
end)

test('show_with_pum keeps the ghost text with the menu open', function(c)
  c:wait_server()
  truthy(c:suggest_at(H.prompts), 'suggestion')
  c:lua([[vim.o.completeopt = 'menuone,noselect' vim.fn.complete(vim.fn.col('.'), { 'alpha', 'beta' })]])
  c:eval('1')
  eq(1, c:eval('pumvisible()'), 'menu open')
  truthy(c:ghost(), 'still shown')
end, { setup = { show_with_pum = true } })

test('mid-word: the suggestion completes the fragment into a word the file uses (token healing)', function(c)
  c:wait_server()
  -- the demo file up to its writerow loop, then "writer.wr": without healing the model
  -- sees the rare token ".wr" and starts a new word ("writer.wrn = 0", "wrn(")
  local demo = vim.fn.readfile(H.root .. '/tools/demo/demo.py')
  local p = {}
  for n = 1, 90 do
    p[n] = demo[n]
  end
  truthy(p[90]:match('for item in self:'), 'demo.py line 90 is the loop')
  p[91] = '                writer.wr'
  local text = truthy(c:suggest_at({ p }, nil, nil, H.printable), 'a suggestion after writer.wr')
  local word = 'wr' .. text:match('^[%w_]*')
  local used = table.concat(p, '\n', 1, 90):find('%f[%w_]' .. word .. '%f[^%w_]') ~= nil
  truthy(used, ('the word completed at the cursor, %q, occurs above it (suggestion %q)'):format(word, text))
  c:input('<Tab>')
  eq(p[91] .. vim.split(text, '\n', true)[1], c:lines()[91], 'accepting appends the suggestion to the fragment')
end)

H.finish()
