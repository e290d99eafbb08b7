" autoload/flint/render.vim - draw and clear ghost text with text properties.
" No RPC and no suggestion logic here.
"
" The first line of a suggestion is inline virtual text at the cursor
" (prop_add() with 'text'); further lines are virtual text below the line
" ('text_align': 'below'), wrapped like the buffer when 'wrap' is on. Tabs are
" expanded to the spaces they will occupy (Vim draws a Tab in virtual text as
" one cell) and control characters shown as ^X, so what is drawn lines up
" with what accepting inserts.

let s:types_done = 0
let s:current = {}

function! s:types() abort
  if s:types_done
    return
  endif
  let s:types_done = 1
  for [name, group] in [['flint_ghost', 'FlintSuggestion'], ['flint_redacted', 'FlintRedacted']]
    if empty(prop_type_get(name))
      call prop_type_add(name, {'highlight': group, 'combine': 1})
    endif
  endfor
endfunction

" Expand chunks [[text, type], ...] starting at virtual column vcol.
" Returns the chunks with tabs as spaces and control characters as ^X.
function! s:expand(chunks, vcol, ts) abort
  let out = []
  let vcol = a:vcol
  for [text, type] in a:chunks
    let s = ''
    for ch in split(text, '\zs')
      if ch ==# "\t"
        let n = a:ts - vcol % a:ts
        let s .= repeat(' ', n)
        let vcol += n
      elseif char2nr(ch) < 32 || char2nr(ch) == 127
        let t = strtrans(ch)
        let s .= t
        let vcol += strwidth(t)
      else
        let s .= ch
        let vcol += strwidth(ch)
      endif
    endfor
    call add(out, [s, type])
  endfor
  return out
endfunction

" Chunks of one suggestion line: marks are [start, end) byte ranges in the
" whole text, off the byte offset of this line in it.
function! s:line_chunks(line, off, marks) abort
  if empty(a:marks)
    return [[a:line, 'flint_ghost']]
  endif
  let chunks = []
  let pos = 0
  for [ms, me] in a:marks
    let s = max([ms - a:off, pos])
    let e = min([me - a:off, len(a:line)])
    if e > s
      if s > pos
        call add(chunks, [strpart(a:line, pos, s - pos), 'flint_ghost'])
      endif
      call add(chunks, [strpart(a:line, s, e - s), 'flint_redacted'])
      let pos = e
    endif
  endfor
  if pos < len(a:line)
    call add(chunks, [strpart(a:line, pos), 'flint_ghost'])
  endif
  return chunks
endfunction

function! flint#render#clear(...) abort
  let buf = a:0 ? a:1 : get(s:current, 'buf', -1)
  let s:current = {}
  if buf > 0 && bufexists(buf)
    call s:types()
    for t in ['flint_ghost', 'flint_redacted']
      call prop_remove({'type': t, 'bufnr': buf, 'all': 1})
    endfor
  endif
endfunction

" Draw text at (lnum, col) (1-based line, 1-based byte column of the cursor) of
" buffer buf, shown in the current window. marks: redaction ranges in text.
function! flint#render#show(buf, lnum, col, text, marks) abort
  call s:types()
  call flint#render#clear(a:buf)
  if a:text ==# ''
    return
  endif
  let line = getbufline(a:buf, a:lnum)[0]
  let ts = getbufvar(a:buf, '&tabstop')
  let vcol0 = strdisplaywidth(strpart(line, 0, a:col - 1))
  let lines = split(a:text, "\n", 1)
  let first = s:expand(s:line_chunks(lines[0], 0, a:marks), vcol0, ts)
  for [s, type] in first
    if s !=# ''
      call prop_add(a:lnum, a:col, {'type': type, 'text': s, 'bufnr': a:buf})
    endif
  endfor
  let off = len(lines[0]) + 1
  let after = strpart(line, a:col - 1)
  let below = []
  for i in range(1, len(lines) - 1)
    let chunks = s:expand(s:line_chunks(lines[i], off, a:marks), 0, ts)
    let off += len(lines[i]) + 1
    let text = join(map(copy(chunks), 'v:val[0]'), '')
    if i == len(lines) - 1 && after =~# '\S'
      let text .= after
    endif
    " one property per screen line: a redacted part colours the whole line
    let type = len(filter(copy(chunks), 'v:val[1] ==# "flint_redacted"')) ? 'flint_redacted' : 'flint_ghost'
    call add(below, text)
    call prop_add(a:lnum, 0, {'type': type, 'text': text ==# '' ? ' ' : text,
          \ 'text_align': 'below', 'text_wrap': &wrap ? 'wrap' : 'truncate', 'bufnr': a:buf})
  endfor
  let s:current = {'buf': a:buf, 'lnum': a:lnum, 'col': a:col, 'text': a:text,
        \ 'first': join(map(copy(first), 'v:val[0]'), ''), 'below': below,
        \ 'at': reltime()}
endfunction

" What is drawn now ({} when nothing): buf, lnum, col, text, first, below.
function! flint#render#current() abort
  return s:current
endfunction
