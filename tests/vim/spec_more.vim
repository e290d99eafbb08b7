" Vim: g:flint_* configuration, per-filetype and per-buffer switches, :Flint,
" the statusline function, and how scanner findings are shown.

let s:inject = [
      \ 'function! Inject(chunks) abort',
      \ '  let S = flint#suggest#state()',
      \ '  let S.alts = {}',
      \ '  for c in a:chunks',
      \ '    call flint#suggest#on_chunk(extend({"id": S.id, "alt": 0}, c))',
      \ '  endfor',
      \ 'endfunction',
      \ 'let g:redacted = [{"text": "x = \"", "done": v:false}, {"text": "[REDACTED:generic-api-key]\"", "done": v:true, "reason": "stop", "findings": [{"rule": "generic-api-key", "kind": "secret", "severity": "high", "action": "redact", "start": 5, "end": 31, "message": "API key"}]}]',
      \ 'let g:blocked = [{"text": "", "done": v:true, "reason": "blocked", "findings": [{"rule": "shell-injection", "kind": "injection", "severity": "high", "action": "halt", "start": 0, "end": 0, "message": "shell command built from input"}]}]',
      \ 'inoremap <F5> <Cmd>call Inject(g:redacted)<CR>',
      \ 'inoremap <F6> <Cmd>call Inject(g:blocked)<CR>',
      \ ]

function! s:t_redacted() abort
  call WaitServer()
  call SuggestAt()
  call Keys('F5')
  let st = WaitFor({s -> get(s.drawn, 'first', '') =~# 'REDACTED'}, 3000, 'the injected chunks')
  call Eq('x = "[REDACTED:generic-api-key]"', st.drawn.first, 'drawn text')
  let types = map(filter(copy(st.props), '!v:val.below'), 'v:val.type')
  call Eq(['flint_ghost', 'flint_redacted', 'flint_ghost'], types, 'the marker has its own property type')
  call True(stridx(join(Screen(), "\n"), '[REDACTED:generic-api-key]') >= 0, 'marker on screen')
endfunction
call Test('a redacted secret shows as a marked range in the ghost text', function('s:t_redacted'), {'pre': s:inject})

function! s:t_blocked() abort
  call WaitServer()
  call SuggestAt()
  call Keys('F6')
  let st = WaitFor({s -> empty(s.props)}, 3000, 'no ghost text')
  let before = State().requests
  call Type('x')
  call WaitFor({s -> s.requests > before && s.done}, 10000, 'the next request')
  call Keys('F6')
  let st = WaitFor({s -> empty(s.props)}, 3000, 'no ghost text again')
  sleep 100m
  let n = len(split(State().messages, 'shell command built from input', 1)) - 1
  call Eq(1, n, 'reason told once')
endfunction
call Test('a blocked suggestion shows its reason once and no ghost text', function('s:t_blocked'), {'pre': s:inject})

function! s:t_globals() abort
  call Eq('', State().tabmap, 'g:flint_keymaps.accept = "" leaves <Tab> alone')
  call Keys('A')
  call Keys('Tab')
  call WaitFor({s -> s.lines ==# ["x\t"]}, 3000, 'a plain tab')
endfunction
call Test('g:flint_keymaps configures the keys', function('s:t_globals'),
      \ {'globals': {'keymaps': {'accept': ''}}, 'lines': ['x']})

function! s:t_filetype() abort
  call Keys('A')
  call Type(' more')
  sleep 300m
  call Eq(0, State().requests, 'no request in a disabled filetype')
  call Eq('', State().statusline, 'statusline empty where flint is off')
endfunction
call Test('per-filetype disable (g:flint_filetypes)', function('s:t_filetype'),
      \ {'globals': {'filetypes': {'markdown': v:false}}, 'ext': 'md', 'lines': ['# title']})

function! s:t_buffer() abort
  call Type(':Flint disable buffer')
  call Keys('Enter')
  call Keys('A')
  call Type('y')
  sleep 300m
  call Eq(0, State().requests, 'no request in this buffer')
  call Keys('Escape')
  call Type(':Flint enable buffer')
  call Keys('Enter')
  call Keys('A')
  call Type('z')
  call WaitFor({s -> s.requests > 0}, 5000, 'requests again')
endfunction
call Test(':Flint disable buffer / enable buffer', function('s:t_buffer'), {'lines': ['x = 1']})

function! s:t_commands() abort
  call WaitServer()
  call Type(':Flint status')
  call Keys('Enter')
  sleep 200m
  call True(stridx(join(Screen(), "\n"), 'server: running') >= 0, ':Flint status shows the server')
  call Keys('Enter')
  call Type(':Flint log')
  call Keys('Enter')
  call WaitFor({s -> 1}, 100, '')
  sleep 200m
  call True(stridx(join(Screen(), "\n"), 'flint://log') >= 0, ':Flint log opens a window')
  call Type(':close')
  call Keys('Enter')
  call Type(':Flint disable')
  call Keys('Enter')
  call Keys('A')
  call Type('q')
  sleep 300m
  call Eq(0, State().requests, 'no request while disabled')
  call Eq('', State().statusline, 'statusline empty while disabled')
endfunction
call Test(':Flint status, log, disable', function('s:t_commands'), {'lines': ['x = 1']})

function! s:t_missing() abort
  call Keys('A')
  call Type('y')
  call WaitFor({s -> s.status ==# 'missing'}, 3000, 'status missing')
  call Eq('flint ✗', State().statusline, 'statusline')
  call WaitFor({s -> s.lines ==# ['x = 1y']}, 3000, 'typing still works')
endfunction
call Test('a missing server binary is reported, typing works', function('s:t_missing'),
      \ {'lines': ['x = 1'], 'globals': {'server_cmd': ['/nonexistent/flint', 'serve']}})

call Finish()
