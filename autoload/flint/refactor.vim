" autoload/flint/refactor.vim - :[range]FlintRefactor for Vim: the range is
" rewritten by the server and streamed into a preview split in diff mode.
" The Vim twin of lua/flint/refactor.lua (same life, same rules).
"
" One refactor R per buffer: requested (the range's lines and b:changedtick
" are kept), streaming (chunks of R.id), done (a final chunk or cancel), then
" accepted or rejected (closed). The preview buffer holds the whole file with
" the range replaced by the rewrite so far and the original lines the rewrite
" has not reached yet; it and the source window are diffed, so Vim's own diff
" highlighting shows the change. Accept applies exactly the previewed text to
" exactly the range, as one undo step, and only while b:changedtick is the
" one the request was made at.

let s:by_buf = {}
let s:by_id = {}
let s:actions = ['accept', 'reject', 'retry', 'cancel', 'next_hunk', 'prev_hunk']

function! s:tell(msg) abort
  echohl WarningMsg | echomsg 'flint: ' . a:msg | echohl None
endfunction

function! s:plug(action) abort
  return '<Plug>(flint-refactor-' . tr(a:action, '_', '-') . ')'
endfunction

" ---------------------------------------------------------------- keys

" Map the refactor keys in buffer buf (current), keeping the maps they hide.
function! s:map_keys(R, buf) abort
  let saved = {}
  for action in s:actions
    let lhs = get(g:flint_config.refactor_keymaps, action, '')
    if lhs ==# ''
      continue
    endif
    let prev = maparg(lhs, 'n', 0, 1)
    let saved[lhs] = get(prev, 'buffer', 0) ? prev : {}
    execute 'nmap <buffer><nowait><silent>' lhs s:plug(action)
  endfor
  let a:R.saved[a:buf] = saved
endfunction

" Buffer-local maps can only be changed from the buffer: done in a window
" showing it (none: the buffer is hidden or gone, its maps with it).
function! s:unmap_keys(R, buf) abort
  let w = bufwinid(a:buf)
  if w == -1
    return
  endif
  let cur = win_getid()
  noautocmd call win_gotoid(w)
  for [lhs, prev] in items(get(a:R.saved, a:buf, {}))
    silent! execute 'nunmap <buffer>' lhs
    if !empty(prev)
      call mapset('n', 0, prev)
    endif
  endfor
  noautocmd call win_gotoid(cur)
endfunction

" ---------------------------------------------------------------- the view

" The range's first line now (a text property follows edits).
function! s:first_line(R) abort
  let p = prop_find({'type': 'flint_refactor_range', 'bufnr': a:R.buf, 'lnum': 1, 'col': 1}, 'f')
  return empty(p) ? a:R.l1 : p.lnum
endfunction

" The rewrite's lines: complete lines while streaming, all once done.
function! s:new_lines(R) abort
  let lines = split(a:R.text, "\n", 1)
  let partial = remove(lines, -1)
  if a:R.done && partial !=# ''
    call add(lines, partial)
  endif
  return lines
endfunction

" Where the rewrite has got to in the original: after the original line
" equal to the last new line nearest to the same position, else as many
" lines in as the rewrite has.
function! s:reached(R, new) abort
  let k = len(a:new)
  if k == 0
    return 0
  endif
  let last = a:new[-1]
  let best = -1
  for j in range(len(a:R.orig))
    if a:R.orig[j] ==# last && (best < 0 || abs(j + 1 - k) < abs(best + 1 - k))
      let best = j
    endif
  endfor
  return min([best >= 0 ? best + 1 : k, len(a:R.orig)])
endfunction

" The preview's lines for the range: the rewrite so far (while streaming
" with its unfinished line), then the original lines not reached yet.
function! s:region(R) abort
  let new = s:new_lines(a:R)
  if a:R.done
    return new
  endif
  let partial = matchstr(a:R.text, '[^\n]*$')
  return new + (partial ==# '' ? [] : [partial]) + a:R.orig[s:reached(a:R, new) :]
endfunction

function! s:update(R) abort
  if a:R.closed || !bufexists(a:R.pbuf)
    return
  endif
  let region = s:region(a:R)
  let old = a:R.plen
  let l = a:R.l1
  if len(region) > old
    call appendbufline(a:R.pbuf, l - 1 + old, region[old :])
  elseif len(region) < old
    call deletebufline(a:R.pbuf, l + len(region), l + old - 1)
  endif
  if !empty(region)
    call setbufline(a:R.pbuf, l, region)
  endif
  let a:R.plen = len(region)
  let a:R.live += !a:R.done
  let w = bufwinid(a:R.pbuf)
  if w != -1
    call win_execute(w, 'diffupdate')
  endif
  redrawstatus!
endfunction

" ---------------------------------------------------------------- status

let s:ended = {'eos': 'done', 'stop': 'done',
      \ 'max_tokens': 'stopped at the token limit: the rewrite may be cut short',
      \ 'max_ms': 'stopped at the time limit: the rewrite may be cut short',
      \ 'cancelled': 'cancelled: the rewrite is cut short'}

function! s:status_text(R) abort
  let parts = []
  if !a:R.done
    call add(parts, printf('streaming %d lines, %.1f s', len(s:new_lines(a:R)), reltimefloat(reltime(a:R.t0))))
  elseif a:R.reason ==# 'blocked'
    call add(parts, 'blocked by the scanner' . (a:R.blocked ==# '' ? '' : ': ' . a:R.blocked) . ' (cannot be applied)')
  elseif a:R.reason ==# 'error'
    call add(parts, 'error: ' . a:R.error)
  else
    call add(parts, get(s:ended, a:R.reason, a:R.reason))
  endif
  let st = a:R.stats
  if type(st) == v:t_dict && type(get(st, 'generated_tokens', v:null)) == v:t_number
    let ms = type(get(st, 'gen_ms', 0)) == v:t_float ? st.gen_ms : 0.0
    let s = printf('%d tokens, %.2f s, %.0f tok/s', st.generated_tokens, ms / 1000.0,
          \ ms > 0 ? st.generated_tokens / (ms / 1000.0) : 0.0)
    let sp = get(st, 'spec', v:null)
    if type(sp) == v:t_dict && get(sp, 'drafted', 0) > 0
      let s .= printf(', speculation %s %d%% of %d accepted', sp.mode, float2nr(100.0 * sp.accepted / sp.drafted + 0.5),
            \ sp.drafted)
    endif
    call add(parts, s)
  endif
  if getbufvar(a:R.buf, 'changedtick') != a:R.tick
    call add(parts, 'the buffer changed: accepting is refused')
  endif
  let km = g:flint_config.refactor_keymaps
  let keys = []
  for [action, what] in a:R.done ? [['accept', 'accept'], ['reject', 'reject'], ['retry', 'retry']]
        \ : [['cancel', 'cancel'], ['reject', 'reject']]
    if get(km, action, '') !=# ''
      call add(keys, km[action] . ' ' . what)
    endif
  endfor
  return 'flint refactor: ' . a:R.instruction . ': ' . join(parts, ' | ') . '  [' . join(keys, '  ') . ']'
endfunction

" The preview window's 'statusline'.
function! flint#refactor#statusline() abort
  let buf = winbufnr(get(g:, 'statusline_winid', win_getid()))
  for R in values(s:by_buf)
    if R.pbuf == buf
      return substitute(s:status_text(R), '%', '%%', 'g')
    endif
  endfor
  return ''
endfunction

" ---------------------------------------------------------------- requests

function! s:finish(R, reason, err) abort
  let a:R.done = 1
  let a:R.reason = a:reason
  let a:R.error = a:err
  call s:update(a:R)
endfunction

function! s:on_response(R, id, err, result) abort
  if !empty(a:err) && !a:R.done && a:R.id == a:id
    call s:finish(a:R, 'error', a:err)
  endif
endfunction

function! s:request(R) abort
  let cfg = g:flint_config
  let a:R.l1 = s:first_line(a:R)
  let a:R.tick = getbufvar(a:R.buf, 'changedtick')
  let a:R.orig = getbufline(a:R.buf, a:R.l1, a:R.l1 + len(a:R.orig) - 1)
  call extend(a:R, {'text': '', 'done': 0, 'reason': '', 'error': '', 'stats': v:null, 'blocked': '',
        \ 'cancelled': 0, 'updates': 0, 'live': 0, 'late': 0, 't0': reltime()})
  let l2 = a:R.l1 + len(a:R.orig) - 1
  let c = cfg.refactor_context_lines
  let before = a:R.l1 > 1 ? getbufline(a:R.buf, max([1, a:R.l1 - c]), a:R.l1 - 1) : []
  let after = getbufline(a:R.buf, l2 + 1, l2 + c)
  let text = join(a:R.orig, "\n") . "\n"
  let a:R.id = flint#rpc#new_id()
  let s:by_id[a:R.id] = a:R
  call flint#rpc#ensure()
  let sent = flint#rpc#request('refactor', {
        \ 'buf': a:R.buf,
        \ 'path': fnamemodify(bufname(a:R.buf), ':~:.'),
        \ 'filetype': getbufvar(a:R.buf, '&filetype'),
        \ 'text': text,
        \ 'instruction': a:R.instruction,
        \ 'before': empty(before) ? '' : join(before, "\n") . "\n",
        \ 'after': empty(after) ? '' : join(after, "\n") . "\n",
        \ 'max_tokens': cfg.refactor_max_tokens > 0 ? cfg.refactor_max_tokens : min([4096, 64 + len(text)]),
        \ 'id': a:R.id,
        \ }, function('s:on_response', [a:R, a:R.id]))
  if !sent
    let err = flint#rpc#last_error()
    call s:finish(a:R, 'error', empty(err) ? 'the server is not running' : err)
  endif
  call s:update(a:R)
endfunction

" Opens the preview split: the whole file, diffed against the source window.
function! s:open_preview(R) abort
  let src = win_getid()
  let ft = &filetype
  let lines = getline(1, '$')
  execute 'botright new'
  setlocal buftype=nofile bufhidden=wipe noswapfile nobuflisted
  silent! execute 'file' fnameescape('flint://refactor/' . a:R.buf)
  let &l:filetype = ft
  call setline(1, lines)
  let a:R.pbuf = bufnr('')
  let a:R.plen = len(a:R.orig)
  setlocal statusline=%!flint#refactor#statusline()
  augroup flint_refactor
    execute 'autocmd BufWipeout <buffer> call flint#event("refactor-gone", ' . a:R.buf . ')'
  augroup END
  diffthis
  call s:map_keys(a:R, a:R.pbuf)
  call win_gotoid(src)
  diffthis
endfunction

" Start a refactor of lines l1..l2 of the current buffer.
function! flint#refactor#command(l1, l2, args) abort
  let instruction = a:args
  if instruction !~# '\S'
    let instruction = input('flint refactor: ')
    if instruction !~# '\S'
      return
    endif
  endif
  call flint#setup()
  let buf = bufnr('')
  if has_key(s:by_buf, buf)
    call s:close(s:by_buf[buf])
  endif
  if empty(prop_type_get('flint_refactor_range'))
    call prop_type_add('flint_refactor_range', {})
  endif
  call prop_add(a:l1, 1, {'type': 'flint_refactor_range', 'bufnr': buf, 'length': 0})
  let R = {'buf': buf, 'instruction': instruction, 'l1': a:l1, 'orig': getline(a:l1, a:l2), 'closed': 0,
        \ 'saved': {}, 'pbuf': -1, 'plen': 0, 'srcwin': win_getid()}
  let s:by_buf[buf] = R
  call s:map_keys(R, buf)
  call s:open_preview(R)
  call s:request(R)
endfunction

" A chunk notification; returns 0 when it is not a refactor's.
function! flint#refactor#on_chunk(p) abort
  let R = get(s:by_id, get(a:p, 'id', -1), {})
  if empty(R)
    return 0
  endif
  if R.cancelled || R.closed || R.done
    let R.late += 1
    return 1
  endif
  let text = get(a:p, 'text', '')
  let R.text .= type(text) == v:t_string ? text : ''
  let findings = get(a:p, 'findings', [])
  for f in type(findings) == v:t_list ? findings : []
    if type(f) == v:t_dict && get(f, 'action', '') ==# 'halt'
      let m = get(f, 'message', get(f, 'rule', ''))
      let R.blocked = type(m) == v:t_string ? m : ''
    endif
  endfor
  let R.updates += 1
  if get(a:p, 'done', v:false) is v:true
    let R.stats = get(a:p, 'stats', v:null)
    let reason = get(a:p, 'reason', 'eos')
    let err = get(a:p, 'error', '')
    call s:finish(R, type(reason) == v:t_string ? reason : 'eos', type(err) == v:t_string ? err : '')
  else
    call s:update(R)
  endif
  return 1
endfunction

" The preview buffer was wiped (its window closed): the refactor ends.
function! flint#refactor#preview_gone(buf) abort
  let R = get(s:by_buf, a:buf, {})
  if !empty(R)
    let R.pbuf = -1
    call s:close(R)
  endif
endfunction

" The server went away: streaming refactors end with an error.
function! flint#refactor#on_exit() abort
  for R in values(s:by_buf)
    if !R.done
      call s:finish(R, 'error', 'the server exited')
    endif
  endfor
endfunction

" ---------------------------------------------------------------- actions

function! s:close(R) abort
  if a:R.closed
    return
  endif
  if !a:R.done
    let a:R.cancelled = 1
    call flint#rpc#request('cancel', {'id': a:R.id})
  endif
  let a:R.closed = 1
  call remove(s:by_buf, a:R.buf)
  call s:unmap_keys(a:R, a:R.buf)
  if bufloaded(a:R.buf)
    call prop_remove({'type': 'flint_refactor_range', 'bufnr': a:R.buf, 'all': 1})
  endif
  for w in win_findbuf(a:R.buf)
    call win_execute(w, 'diffoff')
  endfor
  if bufexists(a:R.pbuf)
    let pbuf = a:R.pbuf
    let a:R.pbuf = -1
    execute 'bwipeout!' pbuf
  endif
endfunction

" The refactor of the current buffer, or of the preview shown in it.
function! s:current() abort
  let buf = bufnr('')
  for R in values(s:by_buf)
    if R.buf == buf || R.pbuf == buf
      return R
    endif
  endfor
  return {}
endfunction

" Replaces the range (current buffer) with lines, as one undo step.
function! s:apply(l1, n, lines) abort
  let &g:undolevels = &g:undolevels
  let k = min([a:n, len(a:lines)])
  if k > 0
    call setline(a:l1, a:lines[: k - 1])
  endif
  if len(a:lines) > a:n
    call append(a:l1 - 1 + a:n, a:lines[a:n :])
  elseif a:n > len(a:lines)
    call deletebufline('', a:l1 + k, a:l1 + a:n - 1)
  endif
endfunction

function! flint#refactor#accept() abort
  let R = s:current()
  if empty(R)
    return 0
  endif
  if !R.done
    call s:tell('the rewrite is still streaming: wait for it, or cancel it')
    return 0
  endif
  if R.reason ==# 'blocked' || R.reason ==# 'error'
    call s:tell('this rewrite cannot be applied (' . (R.reason ==# 'blocked' ? 'blocked by the scanner' : 'error') . ')')
    return 0
  endif
  if getbufvar(R.buf, 'changedtick') != R.tick
    call s:tell('the buffer changed after the refactor was asked for: not applied (retry or reject it)')
    redrawstatus!
    return 0
  endif
  let lines = s:new_lines(R)
  call s:close(R)
  let w = bufwinid(R.buf)
  if w == -1
    return 0
  endif
  call win_gotoid(w)
  call s:apply(R.l1, len(R.orig), lines)
  echomsg printf('flint: refactor applied (%d lines for %d; u undoes it)', len(lines), len(R.orig))
  return 1
endfunction

function! flint#refactor#reject() abort
  let R = s:current()
  if !empty(R)
    call s:close(R)
  endif
  return !empty(R)
endfunction

" Stop the stream; the preview stays with what came so far.
function! flint#refactor#cancel() abort
  let R = s:current()
  if empty(R) || R.done
    return 0
  endif
  let R.cancelled = 1
  call flint#rpc#request('cancel', {'id': R.id})
  call s:finish(R, 'cancelled', '')
  return 1
endfunction

" Ask again (for the range as it is now), with the instruction edited.
function! flint#refactor#retry() abort
  let R = s:current()
  if empty(R)
    return 0
  endif
  let instruction = input('flint refactor: ', R.instruction)
  if !R.done
    let R.cancelled = 1
    call flint#rpc#request('cancel', {'id': R.id})
  endif
  if instruction =~# '\S'
    let R.instruction = instruction
  endif
  " the preview starts again from the buffer as it is now
  let lines = getbufline(R.buf, 1, '$')
  call deletebufline(R.pbuf, 1, '$')
  call setbufline(R.pbuf, 1, lines)
  let R.plen = len(R.orig)
  call s:request(R)
  return 1
endfunction

" Next (1) or previous (-1) change, in the window the key was pressed in.
function! flint#refactor#jump(dir) abort
  execute 'normal!' (a:dir > 0 ? ']c' : '[c')
endfunction

" The refactor of the current buffer as plain data (tests), or {}.
function! flint#refactor#state() abort
  let R = s:current()
  if empty(R)
    return {}
  endif
  return {'id': R.id, 'instruction': R.instruction, 'text': R.text, 'done': R.done, 'reason': R.reason,
        \ 'error': R.error, 'updates': R.updates, 'live': R.live, 'late': R.late, 'tick': R.tick, 'orig': R.orig,
        \ 'new': s:new_lines(R), 'preview': getbufline(R.pbuf, 1, '$'), 'pbuf': R.pbuf,
        \ 'status': s:status_text(R)}
endfunction
