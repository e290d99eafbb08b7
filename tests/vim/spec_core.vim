" The core flow in real Vim: ghost text as text properties, accept (all, word,
" line) inserts exactly what is shown, one undo step, <Tab> falls back,
" cycling, leaving Insert mode clears, a killed server comes back.

" The drawn text: first line and further lines (flint#render#current(); Vim
" 9.0's prop_list() does not return virtual text), checked against prop_list()
" positions and against the screen.
function! s:ghost(st) abort
  return [get(a:st.drawn, 'first', ''), get(a:st.drawn, 'below', [])]
endfunction

function! s:expand(s, ...) abort
  " how Vim will show a suggestion line from column vcol: tabs as spaces,
  " control characters as ^X
  let vcol = a:0 ? a:1 : 0
  let out = ''
  for ch in split(a:s, '\zs')
    if ch ==# "\t"
      let n = 8 - vcol % 8
      let out .= repeat(' ', n)
      let vcol += n
    else
      let t = char2nr(ch) < 32 || char2nr(ch) == 127 ? strtrans(ch) : ch
      let out .= t
      let vcol += strwidth(t)
    endif
  endfor
  return out
endfunction

" Split a display line into screen rows of `width` cells.
function! s:rows(s, width) abort
  let rows = ['']
  for ch in split(a:s, '\zs')
    if strwidth(rows[-1] . ch) > a:width
      call add(rows, '')
    endif
    let rows[-1] .= ch
  endfor
  return rows
endfunction

" The buffer with a '|' at the cursor.
function! s:text(st) abort
  let lines = copy(a:st.lines)
  let [l, c] = a:st.cursor
  let lines[l - 1] = strpart(lines[l - 1], 0, c - 1) . '|' . strpart(lines[l - 1], c - 1)
  return join(lines, "\n")
endfunction

function! s:after(st, ins) abort
  let lines = copy(a:st.lines)
  let [l, c] = a:st.cursor
  let lines[l - 1] = strpart(lines[l - 1], 0, c - 1) . a:ins . '|' . strpart(lines[l - 1], c - 1)
  return join(lines, "\n")
endfunction

function! s:t_ghost() abort
  call WaitServer()
  let st = SuggestAt()
  let [first, below] = s:ghost(st)
  let parts = split(st.visible, "\n", 1)
  let l = st.cursor[0]
  let before = strpart(st.lines[l - 1], 0, st.cursor[1] - 1)
  call Eq(s:expand(parts[0], strdisplaywidth(before)), first, 'first line drawn')
  call Eq(map(parts[1:], 's:expand(v:val)'), below, 'further lines drawn')
  " text properties: inline ones at the cursor, one 'below' per further line
  let inline = filter(copy(st.props), '!v:val.below')
  call True(len(inline) >= 1, 'an inline property')
  for p in inline
    call Eq([st.cursor[0], st.cursor[1]], [p.lnum, p.col], 'inline property at the cursor')
  endfor
  call Eq(len(parts) - 1, len(filter(copy(st.props), 'v:val.below')), 'below properties')
  " and the screen shows it: the cursor line and the lines below, wrapped at
  " the 100 columns of the terminal
  let screen = Screen()
  let want = s:rows(s:expand(before) . first, 100)
  for b in below
    call extend(want, s:rows(b, 100))
  endfor
  for i in range(min([len(want), len(screen) - l]))
    call Eq(substitute(want[i], '\s\+$', '', ''), substitute(screen[l - 1 + i], '\s\+$', '', ''), 'screen row ' . (l + i))
  endfor
endfunction
call Test('typing produces ghost text (text properties, on screen)', function('s:t_ghost'))

function! s:t_midline() abort
  call WaitServer()
  for p in [['def area(w, h):', '    return max()'], ['import os', 'print(os.path.join())'], ['for i in range(10):', '    print(str())']]
    call Keys('Escape')
    call Type(':%d|call setline(1, ' . string(p) . ')')
    call Keys('Enter')
    call Keys('G $ i')
    try
      let st = WaitSuggestion(5000)
      break
    catch /timed out/
      let st = {}
    endtry
  endfor
  if empty(st)
    call Out('# no mid-line suggestion from this model; nothing to check')
    return
  endif
  call True(stridx(st.visible, "\n") < 0, 'one line')
  call Eq(0, len(filter(copy(st.props), 'v:val.below')), 'no lines below')
  let l = st.cursor[0]
  let line = st.lines[l - 1]
  let before = strpart(line, 0, st.cursor[1] - 1)
  let after = strpart(line, st.cursor[1] - 1)
  let want = s:rows(s:expand(before) . s:expand(st.visible, strdisplaywidth(before)) . after, 100)
  let screen = Screen()
  for i in range(len(want))
    call Eq(substitute(want[i], '\s\+$', '', ''), substitute(screen[l - 1 + i], '\s\+$', '', ''), 'screen row ' . (l + i))
  endfor
  call Keys('Tab')
  let st2 = WaitFor({s -> s.lines !=# st.lines}, 3000, 'the accept')
  call Eq(before . st.visible . after, st2.lines[l - 1], 'accepted mid-line')
endfunction
call Test('mid-line: one line, drawn before the rest of the line', function('s:t_midline'))

function! s:t_accept() abort
  call WaitServer()
  let st = SuggestAt()
  let want = s:after(st, st.visible)
  call Keys('Tab')
  let st2 = WaitFor({s -> s.lines !=# st.lines}, 3000, 'the accept')
  call Eq(want, s:text(st2), 'buffer after <Tab>')
  call Eq('i', st2.mode, 'still in Insert mode')
endfunction
call Test('accept all (<Tab>) inserts exactly the shown text', function('s:t_accept'))

function! s:t_word_line() abort
  call WaitServer()
  let st = SuggestAt()
  let word = flint#suggest#next_word(st.visible)
  let want = s:after(st, word)
  call Keys('F7')
  let st2 = WaitFor({s -> s.lines !=# st.lines}, 3000, 'accept word')
  call Eq(want, s:text(st2), 'buffer after accept word')
  if len(word) < len(st.visible)
    call Eq(strpart(st.visible, len(word)), st2.visible, 'the rest stays shown')
    let line = flint#suggest#next_line(st2.visible)
    let want = s:after(st2, line)
    call Keys('F8')
    let st3 = WaitFor({s -> s.lines !=# st2.lines}, 3000, 'accept line')
    call Eq(want, s:text(st3), 'buffer after accept line')
  endif
endfunction
call Test('accept word and accept line insert the shown word/line', function('s:t_word_line'),
      \ {'pre': ['imap <F7> <Plug>(flint-accept-word)', 'imap <F8> <Plug>(flint-accept-line)']})

function! s:t_undo() abort
  call WaitServer()
  let st = SuggestAt()
  call Keys('Tab')
  let st2 = WaitFor({s -> s.lines !=# st.lines}, 3000, 'the accept')
  call Keys('Escape u')
  let st3 = WaitFor({s -> s.mode ==# 'n' && s.lines ==# st.lines}, 3000, 'one undo to restore the buffer')
  call Eq(st.lines, st3.lines, 'undo removed the accept only')
endfunction
call Test('undo reverts an accept in one step', function('s:t_undo'))

function! s:t_tab_plain() abort
  call Keys('A')
  call Keys('Tab')
  call Type('x')
  let st = WaitFor({s -> s.lines ==# ["abc\tx"]}, 3000, 'a tab')
endfunction
call Test('<Tab> with no suggestion inserts a tab', function('s:t_tab_plain'),
      \ {'globals': {'enabled': 0}, 'lines': ['abc']})

function! s:t_tab_prev() abort
  call Keys('A')
  call Keys('Tab')
  let st = WaitFor({s -> s.lines ==# ['abcPREV']}, 3000, 'the previous mapping')
endfunction
call Test('<Tab> with no suggestion calls the previous mapping', function('s:t_tab_prev'),
      \ {'globals': {'enabled': 0}, 'lines': ['abc'], 'pre': ['inoremap <Tab> PREV']})

function! s:t_leave() abort
  call WaitServer()
  call SuggestAt()
  call Keys('Escape')
  let st = WaitFor({s -> s.mode ==# 'n'}, 3000, 'Normal mode')
  call Eq([], st.props, 'no text properties')
  call Eq('', st.visible, 'no suggestion')
  sleep 300m
  call Eq([], State().props, 'none later either')
endfunction
call Test('leaving Insert mode clears everything', function('s:t_leave'))

" A suggestion longer than the one character typed (typing all of it asks anew).
function! s:PrintableLong(t) abort
  return Printable(a:t) && strchars(a:t) >= 2
endfunction

function! s:t_typed_through() abort
  call WaitServer()
  let st = SuggestAt(function('s:PrintableLong'))
  let ch = matchstr(st.visible, '^[^\n]')
  if ch ==# ''
    return
  endif
  call Type(ch)
  let st2 = WaitFor({s -> s.lines !=# st.lines}, 3000, 'the typed char')
  let st2 = Settle()
  call Eq(strpart(st.visible, len(ch)), st2.visible, 'the rest is still shown')
  call Eq(st.requests, st2.requests, 'no new request')
endfunction
call Test('typing the suggested characters reuses the suggestion', function('s:t_typed_through'))

function! s:t_cycle() abort
  call WaitServer()
  call SuggestAt()
  " let any request still on its way settle: F9 must find the shown suggestion
  call Settle()
  let st = WaitSuggestion()
  call Keys('F9')
  let st2 = WaitFor({s -> s.cycling && len(filter(values(s.alts), 'v:val.done')) >= 4}, 20000, 'alternatives')
  call Eq(st.visible, st2.alts['1'].text, 'alternative 1 is the one shown before')
  let seen = {}
  for i in range(4)
    let s = Settle()
    if s.visible !=# ''
      call Eq(s.alts[string(s.idx)].text, s.visible, 'shown = alternative ' . s.idx)
    endif
    let seen[s.idx] = 1
    call Keys('F9')
  endfor
  call True(len(seen) >= 1, 'moved')
  call True(State().statusline =~# '^flint \d\+/\d\+$', 'statusline position: ' . State().statusline)
endfunction
call Test('next alternative (n_alt in one request) and cycling', function('s:t_cycle'),
      \ {'pre': ['imap <F9> <Plug>(flint-next)']})

function! s:t_restart() abort
  let st = WaitServer()
  call SuggestAt()
  let pid = State().pid
  call system('kill -9 ' . pid)
  let st = WaitFor({s -> s.pid != pid && s.pid > 0 && s.status ==# 'running'}, 20000, 'a new server')
  call Eq([], st.props, 'no ghost text from the dead server')
  call SuggestAt()
  let n = len(split(State().messages, 'restarting', 1)) - 1
  call Eq(1, n, 'told once')
endfunction
call Test('a killed server is restarted and the next keystroke works', function('s:t_restart'))

function! s:t_pum() abort
  call WaitServer()
  call SuggestAt()
  call Type(' ')
  call WaitSuggestion()
  call Keys('C-n')
  let st = WaitFor({s -> s.pum}, 3000, 'the popup menu')
  call Eq([], st.props, 'hidden while the menu is open')
  call Keys('C-e')
  call WaitFor({s -> !s.pum}, 3000, 'the menu to close')
endfunction
call Test('the popup menu hides the ghost text', function('s:t_pum'))

call Finish()
