" autoload/flint/suggest.vim - when to ask, what to keep, what to accept.
" The Vim twin of lua/flint/suggest.lua (same states, same rules); no drawing
" (flint#render) and no process handling (flint#rpc) here.
"
" One suggestion state at a time (s:S): where it was asked for (buffer, line,
" column, the line's text before and after the cursor, line count,
" b:changedtick), the request id(s), the alternatives as they stream in, and
" `typed` - what was inserted since, read back from the buffer. It stays valid
" while the buffer is "origin + typed" and typed is a prefix of the shown
" alternative: typing its characters moves the ghost text on, with no request.
" Anything else drops it (cancelling the request in flight) and starts the
" debounce timer. Chunks of other requests, or arriving when the buffer no
" longer validates, are dropped as stale.

let s:S = {}
let s:timer = -1
let s:blocked_told = {}
let s:key_at = []
let s:stats = {'requests': 0, 'cancelled': 0, 'stale_chunks': 0, 'chunks': 0, 'typed_through': 0,
      \ 'accepted': {'all': 0, 'word': 0, 'line': 0}, 'blocked': 0, 'first_chunk_ms': [], 'render_ms': []}

function! flint#suggest#stats() abort
  return s:stats
endfunction

function! flint#suggest#state() abort
  return s:S
endfunction

function! s:cfg() abort
  return g:flint_config
endfunction

function! s:ms(since) abort
  return reltimefloat(reltime(a:since)) * 1000.0
endfunction

function! s:push(list, v) abort
  call add(a:list, a:v)
  if len(a:list) > 2000
    call remove(a:list, 0)
  endif
endfunction

" ---------------------------------------------------------------- eligibility

function! flint#suggest#enabled_for(buf) abort
  let cfg = s:cfg()
  if !cfg.enabled
    return 0
  endif
  let b = getbufvar(a:buf, 'flint_enabled', 1)
  if b is v:false || (type(b) == v:t_number && b == 0)
    return 0
  endif
  let bt = getbufvar(a:buf, '&buftype')
  if bt !=# '' && bt !=# 'acwrite'
    return 0
  endif
  if !getbufvar(a:buf, '&modifiable')
    return 0
  endif
  return flint#config#filetype_enabled(cfg, getbufvar(a:buf, '&filetype'))
endfunction

function! s:in_insert() abort
  return mode() =~# '^i'
endfunction

function! s:pum_hides() abort
  return pumvisible() && !s:cfg().show_with_pum
endfunction

" ---------------------------------------------------------------- state checks

" [1, typed] while the buffer is the origin plus typed; [0, ''] otherwise.
function! s:typed(S) abort
  if bufnr('') != a:S.buf || !s:in_insert()
    return [0, '']
  endif
  let crow = line('.')
  let ccol = col('.') - 1
  let tick = b:changedtick
  if tick == a:S.ctick && crow == a:S.crow && ccol == a:S.ccol
    return [1, a:S.typed]
  endif
  if crow < a:S.lnum || line('$') - a:S.nlines != crow - a:S.lnum
    return [0, '']
  endif
  let lines = getline(a:S.lnum, crow)
  let first = lines[0]
  let last = lines[-1]
  let nb = len(a:S.before)
  if strpart(first, 0, nb) !=# a:S.before || strpart(last, ccol) !=# a:S.after
    return [0, '']
  endif
  " the context it was made for is unchanged (a change elsewhere makes it stale)
  if (a:S.lnum > a:S.top + 1 ? getline(a:S.top + 1, a:S.lnum - 1) : []) !=# a:S.above
        \ || (a:S.below_n ? getline(crow + 1, crow + a:S.below_n) : []) !=# a:S.below
    return [0, '']
  endif
  if len(lines) == 1
    if ccol < nb
      return [0, '']
    endif
    let typed = strpart(first, nb, ccol - nb)
  else
    let lines[0] = strpart(first, nb)
    let lines[-1] = strpart(last, 0, ccol)
    let typed = join(lines, "\n")
  endif
  let a:S.ctick = tick
  let a:S.crow = crow
  let a:S.ccol = ccol
  let a:S.typed = typed
  return [1, typed]
endfunction

function! s:matches(a, typed) abort
  " blanks only would be invisible, yet <Tab> would insert them
  return !empty(a:a) && !a:a.dup && !a:a.blocked && len(a:a.text) >= len(a:typed)
        \ && strpart(a:a.text, 0, len(a:typed)) ==# a:typed
        \ && !(a:a.done && a:a.text !~# '\S')
endfunction

function! s:alt(S, i) abort
  return get(a:S.alts, a:i, {})
endfunction

" The alternative to show, switching to another that matches what was typed.
function! s:total(S) abort
  let n = empty(a:S.alts) ? 0 : max(map(keys(a:S.alts), 'str2nr(v:val)'))
  return max([n, a:S.cycle_id ? a:S.cycle_base + a:S.cycle_expect : 0])
endfunction

function! s:pick(S, typed) abort
  let cur = s:alt(a:S, a:S.idx)
  if s:matches(cur, a:typed)
    return cur
  endif
  if empty(cur) && a:typed ==# '' && a:S.idx <= s:total(a:S)
    return {}   " the alternative asked for is on its way
  endif
  for i in sort(map(keys(a:S.alts), 'str2nr(v:val)'), 'n')
    let a = a:S.alts[i]
    if s:matches(a, a:typed) && (len(a.text) > len(a:typed) || !a.done)
      let a:S.idx = i
      return a
    endif
  endfor
  return {}
endfunction

" ---------------------------------------------------------------- requests

function! s:cancel(S) abort
  if empty(a:S)
    return
  endif
  for id in [a:S.id, get(a:S, 'cycle_id', 0)]
    if id > 0 && !has_key(a:S.finished, id)
      let a:S.finished[id] = 1
      call flint#rpc#request('cancel', {'id': id})
      let s:stats.cancelled += 1
    endif
  endfor
endfunction

function! flint#suggest#clear() abort
  if s:timer != -1
    call timer_stop(s:timer)
    let s:timer = -1
  endif
  call s:cancel(s:S)
  let s:S = {}
  call flint#render#clear()
endfunction

function! s:on_complete_response(S, id, err, result) abort
  if !empty(a:err)
    call flint#rpc#log('warn', printf('complete %d failed: %s', a:id, a:err))
    if s:S is a:S
      let a:S.finished[a:id] = 1
      let a:S.error = a:err
    endif
  endif
endfunction

" Send a complete request for the cursor position now. Returns the state or {}.
function! flint#suggest#request(n_alt) abort
  let buf = bufnr('')
  if !flint#suggest#enabled_for(buf) || !s:in_insert()
    return {}
  endif
  if !flint#rpc#ensure()
    return {}
  endif
  let cfg = s:cfg()
  let lnum = line('.')
  let col = col('.') - 1
  let n = line('$')
  let line = getline(lnum)
  let before = strpart(line, 0, col)
  let after = strpart(line, col)
  " the prefix starts at a line rounded down to a multiple of 32, so it stays
  " put while you type: the server keeps its prompt trimming and cache
  let top = max([0, lnum - 1 - cfg.context_lines.before])
  let top -= top % 32
  let above = lnum > 1 ? getline(top + 1, lnum - 1) : []
  let below = lnum < n ? getline(lnum + 1, min([n, lnum + cfg.context_lines.after])) : []
  let id = flint#rpc#new_id()
  let params = {'id': id, 'buf': buf, 'path': expand('%:~:.'), 'filetype': &filetype,
        \ 'prefix': join(above + [before], "\n"), 'suffix': join([after] + below, "\n"),
        \ 'n_alt': a:n_alt, 'max_tokens': cfg.max_tokens, 'tabstop': &tabstop}
  if cfg.max_ms > 0
    let params.max_ms = cfg.max_ms
  endif
  call s:cancel(s:S)
  let S = {'id': id, 'buf': buf, 'lnum': lnum, 'col': col, 'before': before, 'after': after,
        \ 'top': top, 'above': above, 'below': below, 'below_n': len(below),
        \ 'nlines': n, 'ctick': b:changedtick, 'crow': lnum, 'ccol': col, 'typed': '',
        \ 'single': after =~# '\S', 'alts': {}, 'expect': a:n_alt, 'idx': 1,
        \ 'finished': {}, 'sent_at': reltime(), 'cycle_id': 0, 'cycle_base': 0,
        \ 'cycle_expect': 0, 'drawn': '', 'first_drawn': 0}
  let s:S = S
  let s:stats.requests += 1
  call flint#rpc#request('complete', params, function('s:on_complete_response', [S, id]))
  call flint#rpc#log('debug', printf('complete %d: buf %d line %d col %d prefix %d B suffix %d B n_alt %d',
        \ id, buf, lnum, col, len(params.prefix), len(params.suffix), a:n_alt))
  return S
endfunction

function! s:debounced(timer) abort
  let s:timer = -1
  try
    if empty(s:S) && s:in_insert()
      call flint#suggest#request(1)
    endif
  catch
    call flint#rpc#log('error', 'request: ' . v:exception . ' @ ' . v:throwpoint)
  endtry
endfunction

" Draw again (the window changed size).
function! flint#suggest#redraw() abort
  if !empty(s:S)
    let s:S.drawn = ''
    call s:refresh()
  endif
endfunction

function! s:schedule() abort
  if !s:cfg().auto_trigger
    return
  endif
  if s:timer != -1
    call timer_stop(s:timer)
  endif
  let s:timer = timer_start(s:cfg().debounce, function('s:debounced'))
endfunction

" ---------------------------------------------------------------- drawing

function! s:draw(S, typed) abort
  let a = s:alt(a:S, a:S.idx)
  let rest = empty(a) ? '' : strpart(a.text, len(a:typed))
  if rest ==# '' || s:pum_hides()
    let a:S.drawn = ''
    call flint#render#clear()
    return
  endif
  let key = join([a:S.idx, a:S.crow, a:S.ccol, len(a:typed), len(a.text)], ':')
  if !empty(flint#render#current()) && a:S.drawn ==# key
    return
  endif
  let a:S.drawn = key
  let marks = map(copy(a.marks), '[v:val[0] - ' . len(a:typed) . ', v:val[1] - ' . len(a:typed) . ']')
  call flint#render#show(a:S.buf, a:S.crow, a:S.ccol + 1, rest, marks)
  if !empty(s:key_at)
    call s:push(s:stats.render_ms, s:ms(s:key_at))
    let s:key_at = []
  endif
  if !a:S.first_drawn
    let a:S.first_drawn = 1
    call s:push(s:stats.first_chunk_ms, s:ms(a:S.sent_at))
  endif
endfunction

" Re-check the state against the buffer and redraw; 1 while valid.
function! s:refresh() abort
  let S = s:S
  if empty(S)
    return 0
  endif
  let [ok, typed] = s:typed(S)
  if !ok
    return 0
  endif
  let a = s:pick(S, typed)
  if empty(a)
    if typed ==# ''
      call flint#render#clear()
      return 1
    endif
    return 0
  endif
  call s:draw(S, typed)
  return 1
endfunction

" ---------------------------------------------------------------- events

" TextChangedI/TextChangedP/CursorMovedI ('change'), InsertEnter ('enter'),
" CompleteDone ('pumdone').
function! flint#suggest#on_change(ev) abort
  let buf = bufnr('')
  if !flint#suggest#enabled_for(buf) || !(s:in_insert() || a:ev ==# 'enter')
    call flint#suggest#clear()
    return
  endif
  if a:ev ==# 'change'
    let s:key_at = reltime()
  endif
  let S = s:S
  if !empty(S)
    if s:refresh()
      let a = s:alt(S, S.idx)
      if !empty(a) && a.done && S.typed !=# '' && len(S.typed) >= len(a.text)
        let s:S = {}
        call flint#render#clear()
        call s:schedule()
      elseif S.typed !=# ''
        let s:stats.typed_through += 1
      endif
      return
    endif
    call flint#suggest#clear()
  else
    call flint#render#clear()
  endif
  call s:schedule()
endfunction

function! flint#suggest#on_leave() abort
  call flint#suggest#clear()
  let s:key_at = []
endfunction

function! s:tell_blocked(p) abort
  let msg = 'suggestion blocked'
  let f = get(get(a:p, 'findings', []), 0, {})
  if type(f) == v:t_dict
    let m = get(f, 'message', get(f, 'rule', ''))
    if type(m) == v:t_string && m !=# ''
      let msg .= ': ' . m
    endif
  endif
  let s:stats.blocked += 1
  call flint#rpc#log('warn', msg)
  let t = get(s:blocked_told, msg, [])
  if !empty(t) && s:ms(t) < 60000
    return
  endif
  let s:blocked_told[msg] = reltime()
  echohl WarningMsg
  echomsg 'flint: ' . msg
  echohl None
endfunction

" A stream that ended with reason "error": logged, told once per message.
function! s:tell_error(err) abort
  let msg = 'suggestion failed: ' . (type(a:err) == v:t_string && a:err !=# '' ? a:err : 'unknown error')
  call flint#rpc#log('warn', msg)
  if has_key(s:blocked_told, msg)
    return
  endif
  let s:blocked_told[msg] = reltime()
  echohl WarningMsg
  echomsg 'flint: ' . msg
  echohl None
endfunction

function! s:trim_tail(text) abort
  return substitute(a:text, '\(\n[ \t]*\)\+$', '', '')
endfunction

" A `chunk` notification from the server.
function! flint#suggest#on_chunk(p) abort
  if type(a:p) != v:t_dict
    return
  endif
  let S = s:S
  let id = get(a:p, 'id', -1)
  if empty(S) || (id != S.id && id != S.cycle_id)
    let s:stats.stale_chunks += 1
    return
  endif
  let s:stats.chunks += 1
  let alt = get(a:p, 'alt', 0)
  let k = (type(alt) == v:t_number ? alt : 0) + 1 + (id == S.id ? 0 : S.cycle_base)
  if !has_key(S.alts, k)
    let S.alts[k] = {'text': '', 'done': 0, 'marks': [], 'dup': 0, 'blocked': 0, 'reason': ''}
  endif
  let a = S.alts[k]
  if a.done
    return
  endif
  let text = get(a:p, 'text', '')
  if type(text) != v:t_string
    let text = ''
  endif
  let findings = get(a:p, 'findings', [])
  if type(findings) == v:t_list
    for f in findings
      " (for :FlintAllow)
      if type(f) == v:t_dict
        call flint#scan#note(f)
      endif
      " offsets into the whole text of this (id, alt); a redacted secret
      " arrives as the marker [REDACTED:<rule>]
      if type(f) == v:t_dict && get(f, 'action', '') ==# 'redact' && type(get(f, 'start', '')) == v:t_number
        let e = get(f, 'end', f.start)
        call add(a.marks, [f.start, type(e) == v:t_number ? e : f.start])
      endif
    endfor
  endif
  let a.text .= text
  " one line mid-line; max_lines otherwise
  let limit = S.single ? 1 : s:cfg().max_lines
  let pos = -1
  let nl = 0
  while 1
    let f = stridx(a.text, "\n", pos + 1)
    if f < 0
      break
    endif
    let nl += 1
    if nl >= limit
      let a.text = strpart(a.text, 0, f)
      let a.done = 1
      let a.reason = 'cut'
      break
    endif
    let pos = f
  endwhile
  let done = get(a:p, 'done', v:false)
  let done = type(done) == v:t_bool ? done : !!done
  if done
    let a.done = 1
    let reason = get(a:p, 'reason', '')
    let a.reason = a.reason ==# '' && type(reason) == v:t_string ? reason : a.reason
    if type(reason) == v:t_string && reason ==# 'blocked'
      let a.blocked = 1
      let a.text = ''
      call s:tell_blocked(a:p)
    elseif type(reason) == v:t_string && reason ==# 'error'
      call s:tell_error(get(a:p, 'error', ''))
    endif
    let S.finished[id] = 1
  endif
  if a.done
    let a.text = s:trim_tail(a.text)
    for i in range(1, k - 1)
      let b = s:alt(S, i)
      if !empty(b) && b.done && b.text ==# a.text
        let a.dup = 1
      endif
    endfor
    " the one asked for repeats an earlier one: show the next instead
    if (a.dup || a.text ==# '') && S.idx == k && k < s:total(S)
      let S.idx = k + 1
    endif
  endif
  " cut short here: stop the server's work when every alternative is complete
  if !has_key(S.finished, id)
    let base = id == S.id ? 0 : S.cycle_base
    let n = id == S.id ? S.expect : S.cycle_expect
    let all = 1
    for j in range(1, n)
      if !get(s:alt(S, base + j), 'done', 0)
        let all = 0
      endif
    endfor
    if all
      let S.finished[id] = 1
      call flint#rpc#request('cancel', {'id': id})
    endif
  endif
  let cur = s:alt(S, S.idx)
  if k == S.idx || empty(cur) || cur.text ==# ''
    if s:refresh()
      redraw
    else
      call flint#suggest#clear()
      call s:schedule()
      redraw
    endif
  endif
endfunction

" ---------------------------------------------------------------- actions

" The text still to be accepted (what is on screen), or ''.
function! flint#suggest#visible_text() abort
  let S = s:S
  if empty(S) || s:pum_hides()
    return ''
  endif
  let [ok, typed] = s:typed(S)
  if !ok
    return ''
  endif
  let a = s:pick(S, typed)
  let rest = empty(a) ? '' : strpart(a.text, len(typed))
  " nothing visible (blanks only so far): nothing to accept, keys fall back
  return rest =~# '\S' ? rest : ''
endfunction

function! s:class(c) abort
  if a:c ==# ' ' || a:c ==# "\t"
    return 's'
  elseif a:c =~# '[0-9A-Za-z_]' || char2nr(a:c) >= 128
    return 'w'
  endif
  return 'p'
endfunction

" Next word: a newline plus the next line's indent, or leading blanks and a
" run of word characters or of punctuation.
function! flint#suggest#next_word(rest) abort
  if a:rest[0] ==# "\n"
    return matchstr(a:rest, "^\n[ \t]*")
  endif
  let i = 0
  let n = len(a:rest)
  while i < n && s:class(a:rest[i]) ==# 's'
    let i += 1
  endwhile
  if i >= n
    return a:rest
  endif
  let c = s:class(a:rest[i])
  while i < n && a:rest[i] !=# "\n" && s:class(a:rest[i]) ==# c
    let i += 1
  endwhile
  return strpart(a:rest, 0, i)
endfunction

function! flint#suggest#next_line(rest) abort
  if a:rest[0] ==# "\n"
    return matchstr(a:rest, "^\n[^\n]*")
  endif
  return matchstr(a:rest, "^[^\n]*")
endfunction

function! s:insert(text) abort
  " one undo step: break before (like i_CTRL-G_u) and after (fed <C-g>u)
  let &undolevels = &undolevels
  let lnum = line('.')
  let c = col('.') - 1
  let line = getline(lnum)
  let before = strpart(line, 0, c)
  let after = strpart(line, c)
  let parts = split(a:text, "\n", 1)
  if len(parts) == 1
    call setline(lnum, before . parts[0] . after)
    call cursor(lnum, c + len(parts[0]) + 1)
  else
    call setline(lnum, before . parts[0])
    call append(lnum, parts[1 : -2] + [parts[-1] . after])
    call cursor(lnum + len(parts) - 1, len(parts[-1]) + 1)
  endif
  call feedkeys("\<C-g>u", 'ni')
endfunction

function! flint#suggest#accept(kind) abort
  let rest = flint#suggest#visible_text()
  if rest ==# ''
    return 0
  endif
  let piece = a:kind ==# 'word' ? flint#suggest#next_word(rest)
        \ : a:kind ==# 'line' ? flint#suggest#next_line(rest) : rest
  if piece ==# ''
    return 0
  endif
  let s:stats.accepted[a:kind] += 1
  call s:insert(piece)
  call flint#suggest#on_change('accept')
  return 1
endfunction

function! flint#suggest#cycle(dir) abort
  let S = s:S
  let cfg = s:cfg()
  let [ok, typed] = empty(S) ? [0, ''] : s:typed(S)
  if !ok
    call flint#suggest#clear()
    return !empty(flint#suggest#request(cfg.n_alt))
  endif
  if S.cycle_id == 0 && cfg.n_alt > 1
    let a = s:pick(S, typed)
    let keep = {}
    if !empty(a)
      let keep = {'text': strpart(a.text, len(typed)), 'done': 1, 'dup': 0, 'blocked': 0, 'reason': '',
            \ 'marks': map(copy(a.marks), '[v:val[0] - ' . len(typed) . ', v:val[1] - ' . len(typed) . ']')}
    endif
    let N = flint#suggest#request(cfg.n_alt)
    if empty(N)
      return 0
    endif
    let N.cycle_id = N.id
    let N.cycle_expect = cfg.n_alt
    let N.id = -1
    let N.alts = {}
    if !empty(keep) && keep.text !=# ''
      let N.alts[1] = keep
      let N.cycle_base = 1
      let N.idx = 2
    else
      let N.cycle_base = 0
      let N.idx = 1
    endif
    call flint#render#clear()
    call s:refresh()
    return 1
  endif
  let total = s:total(S)
  if total <= 1
    return 1
  endif
  let i = S.idx
  for n in range(total)
    let i = ((i - 1 + a:dir) % total + total) % total + 1
    let a = s:alt(S, i)
    if empty(a) || (s:matches(a, typed) && (a.text !=# typed || !a.done))
      break
    endif
  endfor
  let S.idx = i
  if !s:refresh()
    call flint#render#clear()
  endif
  return 1
endfunction

function! flint#suggest#dismiss() abort
  let had = !empty(s:S)
  call flint#suggest#clear()
  return had
endfunction

function! flint#suggest#trigger() abort
  call flint#suggest#clear()
  return !empty(flint#suggest#request(1))
endfunction

" [index, total] among alternatives, or [] without a suggestion.
function! flint#suggest#position() abort
  if empty(s:S)
    return []
  endif
  return [s:S.idx, s:total(s:S)]
endfunction
