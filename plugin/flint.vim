" flint.vim - offline AI code completion as ghost text, for Vim and Neovim
" Maintainer: the flint authors
" Help: :help flint
"
" This file only guards, defines the :Flint, :FlintRefactor, :FlintAllow and
" :FlintScan commands and the <Plug> maps, and hands over: Neovim to
" lua/flint/ (require('flint')), Vim to autoload/flint.vim.

if exists('g:loaded_flint') || &compatible
  finish
endif

if has('nvim')
  if !has('nvim-0.7')
    echohl WarningMsg | echomsg 'flint: needs Neovim 0.7 or later' | echohl None
    finish
  endif
  let g:loaded_flint = 1
  command! -bar -nargs=* -complete=customlist,flint#complete Flint
        \ lua require('flint').command(<q-args>)
  command! -range -nargs=* FlintRefactor
        \ lua require('flint').refactor(<line1>, <line2>, <q-args>)
  command! -bar FlintAllow lua require('flint').allow()
  command! -bar FlintScan lua require('flint').scan()
  " Zero-config start from g:flint_* (a later require('flint').setup() wins).
  lua require('flint')._plugin_loaded()
  finish
endif

if v:version < 900 || !has('patch-9.0.0185') || !has('textprop') || !has('job') || !has('channel')
  echohl WarningMsg
  echomsg 'flint: needs Vim 9.0.0185 or later with +textprop, +job and +channel'
  echohl None
  finish
endif
let g:loaded_flint = 1

command! -bar -nargs=* -complete=customlist,flint#complete Flint call flint#command(<q-args>)
command! -range -nargs=* FlintRefactor call flint#refactor#command(<line1>, <line2>, <q-args>)
command! -bar FlintAllow call flint#scan#allow()
command! -bar FlintScan call flint#scan#buffer()

inoremap <silent> <Plug>(flint-accept)      <Cmd>call flint#accept('all')<CR>
inoremap <silent> <Plug>(flint-accept-word) <Cmd>call flint#accept('word')<CR>
inoremap <silent> <Plug>(flint-accept-line) <Cmd>call flint#accept('line')<CR>
inoremap <silent> <Plug>(flint-next)        <Cmd>call flint#cycle(1)<CR>
inoremap <silent> <Plug>(flint-prev)        <Cmd>call flint#cycle(-1)<CR>
inoremap <silent> <Plug>(flint-dismiss)     <Cmd>call flint#dismiss()<CR>
inoremap <silent> <Plug>(flint-suggest)     <Cmd>call flint#suggest()<CR>
nnoremap <silent> <Plug>(flint-refactor-accept)    <Cmd>call flint#refactor#accept()<CR>
nnoremap <silent> <Plug>(flint-refactor-reject)    <Cmd>call flint#refactor#reject()<CR>
nnoremap <silent> <Plug>(flint-refactor-retry)     <Cmd>call flint#refactor#retry()<CR>
nnoremap <silent> <Plug>(flint-refactor-cancel)    <Cmd>call flint#refactor#cancel()<CR>
nnoremap <silent> <Plug>(flint-refactor-next-hunk) <Cmd>call flint#refactor#jump(1)<CR>
nnoremap <silent> <Plug>(flint-refactor-prev-hunk) <Cmd>call flint#refactor#jump(-1)<CR>

augroup flint
  autocmd!
  autocmd TextChangedI,TextChangedP,CursorMovedI * call flint#event('change')
  autocmd InsertEnter * call flint#event('enter')
  autocmd CompleteChanged * call flint#event('pum')
  autocmd CompleteDone * call flint#event('pumdone')
  autocmd InsertLeave,BufLeave,WinLeave * call flint#event('leave')
  autocmd ColorScheme * call flint#event('colors')
  autocmd VimResized * call flint#event('resized')
  autocmd VimLeavePre * call flint#event('exit')
  if v:vim_did_enter
    call flint#event('start')
  else
    autocmd VimEnter * call flint#event('start')
  endif
augroup END

highlight default link FlintSuggestion Comment
highlight default link FlintRedacted WarningMsg
