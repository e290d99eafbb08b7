" tests/vim/child.vim - sourced by the Vim under test (in a tmux pty): loads
" flint through plugin/flint.vim and, every 10 ms, writes what the tests look
" at (buffer, cursor, mode, flint's text properties, the suggestion, server
" state, messages, flint's log, the quickfix list) as JSON to $FLINT_STATE
" when it changed.
runtime plugin/flint.vim
let s:last = ''
function! s:dump(timer) abort
  let props = []
  for lnum in range(1, line('$'))
    for p in prop_list(lnum)
      if p.type =~# '^flint'
        call add(props, {'lnum': lnum, 'col': p.col, 'type': p.type,
              \ 'below': p.col == 2147483647 || get(p, 'text_align', '') ==# 'below'})
      endif
    endfor
  endfor
  let S = flint#suggest#state()
  let a = empty(S) ? {} : get(S.alts, S.idx, {})
  let st = flint#suggest#stats()
  let state = {
        \ 'lines': getline(1, '$'), 'cursor': [line('.'), col('.')], 'mode': mode(),
        \ 'props': props, 'visible': flint#suggest#visible_text(), 'done': get(a, 'done', 0),
        \ 'idx': empty(S) ? 0 : S.idx, 'cycling': empty(S) ? 0 : S.cycle_id != 0,
        \ 'nalts': empty(S) ? 0 : len(S.alts),
        \ 'alts': empty(S) ? {} : map(copy(S.alts), '{"text": v:val.text, "done": v:val.done, "dup": v:val.dup,
        \                                             "reason": v:val.reason}'),
        \ 'status': flint#rpc#status(), 'pid': flint#rpc#pid(),
        \ 'requests': st.requests, 'stale': st.stale_chunks, 'typed_through': st.typed_through,
        \ 'statusline': flint#statusline(), 'pum': pumvisible(), 'messages': execute('messages'),
        \ 'tabmap': maparg('<Tab>', 'i'), 'drawn': flint#render#current(),
        \ 'tick': b:changedtick, 'refactor': flint#refactor#state(), 'windows': winnr('$'),
        \ 'diff': map(range(1, winnr('$')), 'getwinvar(v:val, "&diff")'), 'gamap': maparg('ga', 'n'),
        \ 'log': flint#rpc#log_lines(), 'qf': map(getqflist(), '[v:val.lnum, v:val.col, v:val.type, v:val.text]'),
        \ }
  let s = json_encode(state)
  if s !=# s:last
    let s:last = s
    call writefile([s], $FLINT_STATE . '.tmp')
    call rename($FLINT_STATE . '.tmp', $FLINT_STATE)
  endif
endfunction
call timer_start(10, function('s:dump'), {'repeat': -1})
