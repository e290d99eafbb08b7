" Vim: the scanner end to end. Parrot models (tests/tools/parrot.c) make the
" real `flint serve` stream a chosen text: the redaction of a real AWS key,
" the halt of an SQL injection, :FlintAllow and :FlintScan (quickfix).

" split so that this file holds no complete credential
let s:key = 'AKIA' . 'QW3RT8YU2IOP5ASD'
let s:secret_line = 'aws_key = "' . s:key . '"'
try
  let s:secret_model = Parrot(s:secret_line)
  let s:inject_model = Parrot('cursor.execute("SELECT id FROM users WHERE name = " + who)')
catch
  call Out('not ok - ' . g:tag . 'the parrot models: ' . v:exception)
  cquit 1
endtry

" Everything a secret must never reach: the screen, the buffer, text
" properties, messages, flint's log (with the server's stderr and log
" notifications) and the quickfix list, all in the child's state.
function! s:everything() abort
  return join(Screen(), "\n") . "\n" . string(State())
endfunction

function! s:ask() abort
  call Keys('Escape')
  call Type(':%d|call setline(1, ["import os", ""])')
  call Keys('Enter')
  call Keys('G A')
  return WaitSuggestion().visible
endfunction

function! s:t_redact() abort
  call WaitServer()
  call Eq('aws_key = "[REDACTED:aws-access-key-id]"', s:ask(), 'the suggestion')
  let types = map(filter(copy(State().props), '!v:val.below'), 'v:val.type')
  call True(index(types, 'flint_redacted') >= 0, 'the marker has its own property type: ' . string(types))
  call True(stridx(join(Screen(), "\n"), '[REDACTED:aws-access-key-id]') >= 0, 'marker on screen')
  call Eq(-1, stridx(s:everything(), 'AKIA'), 'no part of the key anywhere')
  call Keys('Tab')
  let st = WaitFor({s -> s.lines ==# ['import os', 'aws_key = "[REDACTED:aws-access-key-id]"']}, 3000,
        \ 'the accepted suggestion')
  call Eq(-1, stridx(s:everything(), 'AKIA'), 'still nowhere after accepting')
endfunction
call Test('a real AWS key from the model shows as [REDACTED:aws-access-key-id], never the key',
      \ function('s:t_redact'), {'globals': {'model': s:secret_model}, 'lines': ['import os', '']})

let s:list = tempname()
function! s:t_allow() abort
  call WaitServer()
  call Type(':FlintAllow')
  call Keys('Enter')
  call WaitFor({s -> s.messages =~# 'no redacted secret to allow'}, 3000, 'nothing to allow yet')
  call Eq('aws_key = "[REDACTED:aws-access-key-id]"', s:ask(), 'redacted first')
  call Keys('Escape')
  call Type(':FlintAllow')
  call Keys('Enter')
  let st = WaitFor({s -> s.messages =~# 'allowed the aws-access-key-id secret'}, 5000, 'a message naming the rule')
  call Eq(-1, stridx(st.messages, 'AKIA'), 'the message does not hold the key')
  call Eq(s:secret_line, s:ask(), 'the next suggestion shows the key')
  call True(stridx(s:everything(), s:key) >= 0, 'the probe of the first test sees the key once it is allowed')
  let body = join(readfile(s:list), "\n")
  call Eq(-1, stridx(body, 'AKIA'), 'the allow-list file holds no key')
  call True(body =~# '\x\{64}', 'but a fingerprint')
endfunction
call Test(':FlintAllow makes the same key appear unredacted in the next suggestion', function('s:t_allow'),
      \ {'globals': {'model': s:secret_model, 'allowlist': s:list}, 'lines': ['import os', '']})

function! s:t_inject() abort
  call WaitServer()
  call Keys('G A')
  let st = WaitFor({s -> get(get(s.alts, '1', {}), 'done', 0)}, 10000, 'the stream to end')
  call Eq('blocked', st.alts['1'].reason, 'the reason')
  call Eq([], filter(copy(st.props), 'v:val.type =~# "^flint_\\(ghost\\|redacted\\)"'), 'no ghost text')
  call Eq('', st.visible, 'nothing to accept')
  call WaitFor({s -> s.messages =~# 'suggestion blocked: SQL query built from non-literal data'}, 3000,
        \ 'the reason shown')
  call Eq(-1, stridx(s:everything(), 'SELECT'), 'no part of the statement reached the editor')
endfunction
call Test('an SQL injection from the model halts the stream and the reason is shown', function('s:t_inject'),
      \ {'globals': {'model': s:inject_model}, 'lines': ['def find(cursor, who):', '    ']})

let s:scan_lines = ['import os', 's = "é"; aws_key = "' . s:key . '"', 'name = input()', 'os.system("ls " + name)']
function! s:t_scan() abort
  call WaitServer()
  call Type(':FlintScan')
  call Keys('Enter')
  let st = WaitFor({s -> len(s.qf) == 2}, 10000, 'two quickfix entries')
  let kcol = stridx(s:scan_lines[1], s:key) + 1
  call Eq([2, kcol, 'E'], st.qf[0][0 : 2], 'the key, at its byte column after "é"')
  call Eq('[aws-access-key-id] ', st.qf[0][3][: 19], 'named by its rule')
  call Eq([4, 1, 'E', '[command-injection] '], st.qf[1][0 : 2] + [st.qf[1][3][: 19]], 'the injection')
  call Eq(-1, stridx(string(st.qf), 'AKIA'), 'entries without the key')
  call True(st.messages =~# 'scan: 2 findings', 'told how many')
endfunction
call Test(':FlintScan fills the quickfix list at the findings'' lines and byte columns', function('s:t_scan'),
      \ {'lines': s:scan_lines})

call Finish()
