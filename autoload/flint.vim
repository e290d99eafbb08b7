" autoload/flint.vim - flint for Vim: the public functions, :Flint, keys and
" the one autocommand dispatcher. (Neovim runs lua/flint/ instead; the
" functions marked "both" work there too.)
"
" Pieces: flint#config (g:flint_*), flint#rpc (the server over the JSON
" channel), flint#suggest (state, requests, accept), flint#render (text
" properties).

" ---------------------------------------------------------------- setup

function! s:setup() abort
  if exists('g:flint_config')
    return
  endif
  let [cfg, err] = flint#config#build()
  let g:flint_config = cfg
  if !empty(err)
    echohl ErrorMsg | echomsg 'flint: ' . err . ' (using the defaults)' | echohl None
  endif
  call flint#rpc#on('chunk', function('s:on_chunk'))
  call flint#rpc#on('__exit', function('s:on_exit'))
endfunction

function! s:on_chunk(p) abort
  if !flint#refactor#on_chunk(a:p)
    call flint#suggest#on_chunk(a:p)
  endif
endfunction

function! s:on_exit(_) abort
  call flint#suggest#clear()
  call flint#refactor#on_exit()
endfunction

" Reads g:flint_* once (the first event or command does it).
function! flint#setup() abort
  call s:setup()
endfunction

" Re-read g:flint_* (after changing them at run time) and map the keys again.
function! flint#reload() abort
  unlet! g:flint_config
  call s:setup()
  call s:apply_keymaps()
endfunction

" ---------------------------------------------------------------- keys

let s:plug = {'accept': "\<Plug>(flint-accept)", 'accept_word': "\<Plug>(flint-accept-word)",
      \ 'accept_line': "\<Plug>(flint-accept-line)", 'next': "\<Plug>(flint-next)",
      \ 'prev': "\<Plug>(flint-prev)", 'dismiss': "\<Plug>(flint-dismiss)"}
let s:mapped = {}

function! s:is_ours(m) abort
  return !empty(a:m) && get(a:m, 'rhs', '') =~# '^flint#key('
endfunction

" The <expr> behind every default key: flint's action when it applies, else
" what the key did before.
function! flint#key(action) abort
  try
    if a:action ==# 'next' || a:action ==# 'prev'
      let yes = flint#visible() || flint#suggest#enabled_for(bufnr(''))
    elseif a:action ==# 'dismiss'
      let yes = flint#visible()
    else
      let yes = flint#visible()
    endif
  catch
    let yes = 0
  endtry
  return yes ? s:plug[a:action] : "\<Plug>(flint-fallback-" . tr(a:action, '_', '-') . ')'
endfunction

function! s:unmap_keys() abort
  for [lhs, prev] in items(s:mapped)
    if s:is_ours(maparg(lhs, 'i', 0, 1))
      execute 'silent! iunmap' lhs
      if !empty(prev)
        call mapset('i', 0, prev)
      endif
    endif
  endfor
  let s:mapped = {}
endfunction

function! s:apply_keymaps() abort
  call s:unmap_keys()
  for [action, lhs] in items(g:flint_config.keymaps)
    if lhs ==# ''
      continue
    endif
    let prev = maparg(lhs, 'i', 0, 1)
    if s:is_ours(prev) || get(prev, 'buffer', 0)
      let prev = {}
    endif
    let fb = '<Plug>(flint-fallback-' . tr(action, '_', '-') . ')'
    if empty(prev)
      " nothing mapped: the key's own meaning, never remapped
      execute 'inoremap' fb lhs
    else
      let copy = deepcopy(prev)
      let copy.lhs = fb
      let copy.lhsraw = eval('"\' . fb . '"')
      silent! unlet copy.lhsrawalt
      call mapset('i', 0, copy)
    endif
    let s:mapped[lhs] = prev
    execute 'imap <silent><expr>' lhs 'flint#key(' . string(action) . ')'
  endfor
endfunction

" ---------------------------------------------------------------- events

" Every autocommand goes through here (one try/catch, errors to :Flint log).
" 'refactor-gone' takes the buffer number of a closed refactor preview.
function! flint#event(ev, ...) abort
  try
    call s:setup()
    if a:ev ==# 'change'
      call flint#suggest#on_change('change')
    elseif a:ev ==# 'enter'
      call flint#suggest#on_change('enter')
    elseif a:ev ==# 'pum'
      if !g:flint_config.show_with_pum
        call flint#render#clear()
      endif
    elseif a:ev ==# 'pumdone'
      call timer_start(0, {_ -> mode() =~# '^i' ? flint#suggest#on_change('pumdone') : 0})
    elseif a:ev ==# 'leave'
      call flint#suggest#on_leave()
    elseif a:ev ==# 'resized'
      call flint#suggest#redraw()
    elseif a:ev ==# 'exit'
      call flint#rpc#stop()
    elseif a:ev ==# 'start'
      call s:apply_keymaps()
    elseif a:ev ==# 'refactor-gone'
      call flint#refactor#preview_gone(a:1)
    endif
  catch
    call flint#rpc#log('error', a:ev . ': ' . v:exception . ' @ ' . v:throwpoint)
  endtry
endfunction

" ---------------------------------------------------------------- public

function! flint#accept(...) abort
  call s:setup()
  return flint#suggest#accept(a:0 ? a:1 : 'all')
endfunction

function! flint#cycle(dir) abort
  call s:setup()
  return flint#suggest#cycle(a:dir)
endfunction

function! flint#dismiss() abort
  call s:setup()
  return flint#suggest#dismiss()
endfunction

function! flint#suggest() abort
  call s:setup()
  return flint#suggest#trigger()
endfunction

" 1 when a suggestion is shown.
function! flint#visible() abort
  if has('nvim')
    return luaeval("require('flint').is_visible()") ? 1 : 0
  endif
  call s:setup()
  return flint#suggest#visible_text() !=# ''
endfunction

" (both) A short string for your 'statusline'; flint never sets it.
function! flint#statusline() abort
  if has('nvim')
    return luaeval("require('flint').statusline()")
  endif
  call s:setup()
  if !flint#suggest#enabled_for(bufnr(''))
    return ''
  endif
  let st = flint#rpc#status()
  if st ==# 'failed' || st ==# 'missing'
    return 'flint ✗'
  endif
  let pos = flint#suggest#position()
  if !empty(pos) && has_key(flint#suggest#state(), 'error')
    return 'flint ✗'
  endif
  if !empty(pos)
    if pos[1] > 1
      return printf('flint %d/%d', pos[0], pos[1])
    endif
    let S = flint#suggest#state()
    if !get(get(S.alts, S.idx, {}), 'done', 0)
      return 'flint …'
    endif
  endif
  return 'flint'
endfunction

function! s:scratch(name, lines) abort
  botright new
  setlocal buftype=nofile bufhidden=wipe noswapfile
  silent! execute 'file' fnameescape(a:name)
  call setline(1, a:lines)
  setlocal nomodifiable
endfunction

function! s:pct(list, p) abort
  if empty(a:list)
    return '-'
  endif
  let t = sort(copy(a:list), 'f')
  return printf('%.1f ms', t[max([0, float2nr(ceil(len(t) * a:p)) - 1])])
endfunction

function! s:stats_lines(server) abort
  let st = flint#suggest#stats()
  let lines = ['client:',
        \ printf('  requests %d, cancelled %d, chunks %d, stale chunks dropped %d, typed through %d, blocked %d',
        \   st.requests, st.cancelled, st.chunks, st.stale_chunks, st.typed_through, st.blocked),
        \ printf('  accepted: all %d, word %d, line %d', st.accepted.all, st.accepted.word, st.accepted.line),
        \ printf('  keystroke -> ghost text: p50 %s, p95 %s (%d samples)', s:pct(st.render_ms, 0.5), s:pct(st.render_ms, 0.95), len(st.render_ms)),
        \ printf('  request -> first text:   p50 %s, p95 %s (%d samples)', s:pct(st.first_chunk_ms, 0.5), s:pct(st.first_chunk_ms, 0.95), len(st.first_chunk_ms)),
        \ 'server:']
  return lines + map(split(type(a:server) == v:t_string ? a:server : json_encode(a:server), "\n"), '"  " . v:val')
endfunction

function! s:status_lines() abort
  let info = flint#rpc#info()
  let cmd = flint#rpc#command_line()
  if empty(cmd)
    let cmd = flint#rpc#command(g:flint_config)[0]
  endif
  let err = flint#rpc#last_error()
  return [
        \ 'flint: ' . (g:flint_config.enabled ? 'enabled' : 'disabled') . ', this buffer: ' . (flint#suggest#enabled_for(bufnr('')) ? 'on' : 'off'),
        \ 'server: ' . flint#rpc#status() . (flint#rpc#pid() ? ' (pid ' . flint#rpc#pid() . ')' : '') . (empty(err) ? '' : ' — ' . err),
        \ 'command: ' . join(cmd),
        \ 'version: ' . get(info, 'version', '-') . ', model: ' . s:model_text(get(info, 'model', v:null))
        \   . ', draft: ' . s:model_text(get(info, 'draft', v:null)),
        \ 'ghost text: inline virtual text (text properties)',
        \ ]
endfunction

function! s:model_text(m) abort
  if type(a:m) != v:t_dict
    return '-'
  endif
  return get(a:m, 'name', fnamemodify(get(a:m, 'path', '?'), ':t')) . ' (' . get(a:m, 'arch', '?') . ') ' . get(a:m, 'path', '')
endfunction

function! s:on_stats(err, result) abort
  call s:scratch('flint://stats', s:stats_lines(empty(a:err) ? a:result : 'error: ' . a:err))
endfunction

" :Flint {sub} [arg]
function! flint#command(args) abort
  if has('nvim')
    return luaeval("require('flint').command(_A)", a:args)
  endif
  call s:setup()
  let [sub, arg] = (split(a:args) + ['', ''])[0 : 1]
  let sub = empty(sub) ? 'status' : sub
  if sub ==# 'enable' || sub ==# 'disable' || sub ==# 'toggle'
    let on = sub ==# 'enable' ? 1 : sub ==# 'disable' ? 0 : -1
    if arg ==# 'buffer'
      let b:flint_enabled = on == -1 ? (flint#suggest#enabled_for(bufnr('')) ? v:false : v:true) : (on ? v:true : v:false)
    elseif arg ==# 'filetype'
      let g:flint_config.filetypes[empty(&filetype) ? '*' : &filetype] = on == -1 ? !flint#suggest#enabled_for(bufnr('')) : !!on
    else
      let g:flint_config.enabled = on == -1 ? !g:flint_config.enabled : !!on
    endif
    call flint#suggest#clear()
  elseif sub ==# 'status'
    echo join(s:status_lines(), "\n")
  elseif sub ==# 'stats'
    call flint#rpc#ensure()
    if !flint#rpc#request('stats', {}, function('s:on_stats'))
      call s:scratch('flint://stats', s:stats_lines('not running'))
    endif
  elseif sub ==# 'restart'
    call flint#suggest#clear()
    call flint#rpc#restart()
  elseif sub ==# 'log'
    call s:scratch('flint://log', flint#rpc#log_lines())
  else
    echohl ErrorMsg
    echomsg 'flint: unknown subcommand ' . sub . ' (enable|disable|toggle|status|stats|restart|log)'
    echohl None
  endif
endfunction

" (both) Completion for :Flint.
function! flint#complete(arglead, cmdline, cursorpos) abort
  if has('nvim')
    return luaeval("require('flint').complete_command(_A[1], _A[2])", [a:arglead, a:cmdline])
  endif
  let words = split(a:cmdline, '\s\+', 1)
  if len(words) <= 2
    let list = ['disable', 'enable', 'log', 'restart', 'stats', 'status', 'toggle']
  elseif index(['enable', 'disable', 'toggle'], words[1]) >= 0
    let list = ['buffer', 'filetype']
  else
    let list = []
  endif
  return filter(list, 'stridx(v:val, a:arglead) == 0')
endfunction
