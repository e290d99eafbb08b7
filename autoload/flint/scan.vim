" autoload/flint/scan.vim - the server's scanner from Vim.
"
" :FlintAllow allows the secret the last suggestion redacted. Vim never sees
" that secret: the server sends each secret finding with an opaque allow_id
" and keeps its fingerprint; `allow {allow_id}` adds the fingerprint to the
" server's allow-list (doc/protocol.md). :FlintScan scans the current buffer
" with the server's `scan` method into the quickfix list.

let s:last = {}   " {allow_id, rule, pid} of the last secret a suggestion redacted

" Remember a finding of a suggestion (flint#suggest#on_chunk calls this).
function! flint#scan#note(f) abort
  let id = get(a:f, 'allow_id', v:null)
  let rule = get(a:f, 'rule', '')
  if type(id) == v:t_number && get(a:f, 'action', '') ==# 'redact'
    " allow_ids belong to the server process that sent them
    let s:last = {'allow_id': id, 'rule': type(rule) == v:t_string ? rule : '', 'pid': flint#rpc#pid()}
  endif
endfunction

" The last redacted secret's {allow_id, rule} (of the running server), or {}.
function! flint#scan#last() abort
  if !empty(s:last) && s:last.pid != flint#rpc#pid()
    let s:last = {}
  endif
  return s:last
endfunction

function! s:tell(msg, hl) abort
  execute 'echohl' a:hl
  echomsg 'flint: ' . a:msg
  echohl None
endfunction

function! s:on_allow(last, err, result) abort
  if !empty(a:err)
    call flint#rpc#log('warn', 'allow failed: ' . a:err)
    call s:tell('could not allow the ' . a:last.rule . ' secret: ' . a:err, 'ErrorMsg')
    return
  endif
  if s:last is a:last
    let s:last = {}
  endif
  let saved = type(a:result) == v:t_dict && get(a:result, 'saved', v:false) is v:true
  call flint#rpc#log('info', 'allowed a ' . a:last.rule . ' secret')
  call s:tell(printf('allowed the %s secret of the last suggestion%s; it is no longer redacted', a:last.rule,
        \ saved ? ' (its fingerprint is saved)' : ' for this session'), 'None')
endfunction

" :FlintAllow - allow the secret the last suggestion redacted, by id.
function! flint#scan#allow() abort
  call flint#setup()
  let last = flint#scan#last()
  if empty(last)
    call s:tell('no redacted secret to allow (none was redacted in a suggestion yet)', 'WarningMsg')
    return 0
  endif
  if !flint#rpc#running() || !flint#rpc#request('allow', {'allow_id': last.allow_id}, function('s:on_allow', [last]))
    call s:tell('the server is not running; the secret was not allowed', 'WarningMsg')
    return 0
  endif
  return 1
endfunction

" Findings of the server's `scan` (byte offsets into lines joined by "\n")
" as quickfix entries of buffer buf (1-based line and byte column).
function! flint#scan#qflist(buf, lines, findings) abort
  let starts = []
  let off = 0
  for l in a:lines
    call add(starts, off)
    let off += len(l) + 1
  endfor
  let items = []
  for f in a:findings
    if type(f) != v:t_dict || type(get(f, 'start', '')) != v:t_number
      continue
    endif
    let row = 0
    while row + 1 < len(starts) && starts[row + 1] <= f.start
      let row += 1
    endwhile
    let sev = get(f, 'severity', '')
    call add(items, {'bufnr': a:buf, 'lnum': row + 1, 'col': f.start - starts[row] + 1,
          \ 'type': sev ==# 'critical' || sev ==# 'high' ? 'E' : sev ==# 'medium' ? 'W' : 'I',
          \ 'text': '[' . get(f, 'rule', '') . '] ' . get(f, 'message', '')})
  endfor
  return items
endfunction

function! s:on_scan(buf, tick, lines, err, result) abort
  if !empty(a:err)
    call s:tell('scan failed: ' . a:err, 'ErrorMsg')
    return
  endif
  if !bufexists(a:buf) || getbufvar(a:buf, 'changedtick') != a:tick
    call flint#rpc#log('info', 'scan result dropped: the buffer changed meanwhile')
    return
  endif
  let findings = type(a:result) == v:t_dict ? get(a:result, 'findings', []) : []
  let items = flint#scan#qflist(a:buf, a:lines, type(findings) == v:t_list ? findings : [])
  call setqflist([], ' ', {'title': 'flint scan: ' . bufname(a:buf), 'items': items})
  let n = len(items)
  call s:tell(n == 0 ? 'scan: no findings' : printf('scan: %d finding%s (:copen)', n, n == 1 ? '' : 's'), 'None')
endfunction

" :FlintScan - scan the current buffer into the quickfix list.
function! flint#scan#buffer() abort
  call flint#setup()
  if !flint#rpc#ensure()
    call s:tell('the server is not running: ' . flint#rpc#last_error(), 'ErrorMsg')
    return 0
  endif
  let buf = bufnr('')
  let lines = getline(1, '$')
  let params = {'text': join(lines, "\n") . "\n", 'role': 'output', 'filetype': &filetype}
  return flint#rpc#request('scan', params, function('s:on_scan', [buf, b:changedtick, lines]))
endfunction
