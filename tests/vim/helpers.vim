" tests/vim/helpers.vim - the harness of the Vim suite.
"
" The driver is Vim in Ex mode. Each test starts the Vim under test in a tmux
" pty (a real terminal: real keystrokes with `tmux send-keys`, real screen with
" `tmux capture-pane`), with flint from this repository, the real `flint serve`
" ($FLINT_BIN) and the default model (a fixture model until it exists).
" tests/vim/child.vim inside it writes its state as JSON; the driver polls it.
" Output: "ok - [vim 9.0.NNNN] name" / "not ok - ..." lines.

let g:root = $FLINT_ROOT
execute 'set rtp^=' . fnameescape(g:root)
let g:bin = empty($FLINT_BIN) ? g:root . '/build/flint' : $FLINT_BIN
let g:tag = printf('[vim %d.%d.%s] ', v:version / 100, v:version % 100,
      \ matchstr(execute('version'), 'Included patches: 1-\zs\d\+'))
let g:failed = 0
let g:sock = 'flint-vimtest-' . getpid()
let s:n = 0

function! Out(line) abort
  call writefile([a:line], '/dev/stdout', 'a')
endfunction

function! Model() abort
  if !empty($FLINT_TEST_MODEL)
    return $FLINT_TEST_MODEL
  endif
  if !empty(glob(g:root . '/models/flint-coder-moe.*.gguf', 0, 1))
    return ''
  endif
  return g:root . '/tests/fixtures/models/tiny-qwen3moe.F32.gguf'
endfunction

" Build a parrot model (tests/tools/parrot.c): `flint serve` with it streams
" text as every suggestion (greedy), whatever the prompt. Returns its path.
function! Parrot(text) abort
  let path = tempname() . '.gguf'
  let bin = (empty($FLINT_BUILD) ? g:root . '/build' : $FLINT_BUILD) . '/tests/parrot'
  if !executable(bin)
    throw bin . ' missing (make test-c or make test builds it)'
  endif
  let out = system(join(map([bin, '--vocab', g:root . '/models/flint-coder-moe.Q8_0.gguf', '--text', a:text,
        \ '--out', path], 'shellescape(v:val)')))
  if v:shell_error
    throw 'parrot: ' . out
  endif
  return path
endfunction

function! Tmux(args) abort
  let out = system('tmux -L ' . g:sock . ' ' . a:args)
  return out
endfunction

" Start the Vim under test. opts: globals (dict of g:flint_* without the
" prefix), pre (list of Ex commands run before flint loads), lines (buffer).
function! Spawn(...) abort
  let opts = a:0 ? a:1 : {}
  let s:n += 1
  let c = {'name': 'v' . s:n, 'state': tempname()}
  " allowlist: never the user's own list
  let globals = extend({'server_cmd': [g:bin, 'serve'], 'model': Model(), 'debounce': 5, 'allowlist': tempname()},
        \ get(opts, 'globals', {}))
  let cmds = ['set rtp^=' . g:root, 'set noswapfile shortmess+=I ttimeoutlen=10', 'filetype on']
  for [k, v] in items(globals)
    call add(cmds, 'let g:flint_' . k . ' = ' . string(v))
  endfor
  call extend(cmds, get(opts, 'pre', []))
  let init = tempname()
  call writefile(cmds, init)
  let file = tempname() . '.' . get(opts, 'ext', 'py')
  call writefile(get(opts, 'lines', ['']), file)
  let cmd = printf('env TERM=xterm-256color FLINT_STATE=%s vim -N -u NONE -i NONE -n --cmd "source %s" -S %s %s',
        \ c.state, init, g:root . '/tests/vim/child.vim', file)
  call Tmux(printf('-f /dev/null new-session -d -s %s -x 100 -y 30 %s', c.name, shellescape(cmd)))
  let c.file = file
  let g:c = c
  call WaitFor({s -> 1}, 5000, 'the Vim under test to start')
  return c
endfunction

function! Stop() abort
  call Tmux('kill-session -t ' . g:c.name)
endfunction

" Keys by tmux name (Tab, Escape, C-], M-Right, Enter ...), space separated.
function! Keys(keys) abort
  call Tmux('send-keys -t ' . g:c.name . ' ' . a:keys)
endfunction

" Literal text.
function! Type(text) abort
  call Tmux('send-keys -t ' . g:c.name . ' -l ' . shellescape(a:text))
endfunction

function! Screen() abort
  return split(Tmux('capture-pane -p -t ' . g:c.name), "\n")
endfunction

function! State() abort
  try
    return json_decode(readfile(g:c.state)[0])
  catch
    return {}
  endtry
endfunction

" Wait until Fn(state) is true; returns the state, throws after timeout ms.
function! WaitFor(Fn, timeout, what) abort
  let start = reltime()
  while reltimefloat(reltime(start)) * 1000 < a:timeout
    let st = State()
    if !empty(st) && a:Fn(st)
      return st
    endif
    sleep 20m
  endwhile
  throw 'timed out waiting for ' . a:what . ': ' . string(State())[: 600]
endfunction

" Wait until keys were processed (the state changed, or 150 ms).
function! Settle() abort
  sleep 150m
  return State()
endfunction

function! WaitSuggestion(...) abort
  return WaitFor({s -> s.visible !=# '' && s.done}, a:0 ? a:1 : 10000, 'a finished suggestion')
endfunction

function! WaitServer() abort
  call Type(':call flint#rpc#ensure()')
  call Keys('Enter')
  return WaitFor({s -> s.status ==# 'running'}, 20000, 'the server')
endfunction

" Fill the buffer with prompt lines, go to the end in Insert mode and wait for
" a suggestion; tries each prompt. Returns the state or throws.
let g:prompts = [
      \ ['def fibonacci(n):', '    if n < 2:', '        return n', '    return '],
      \ ['import os', 'import sys', '', 'def main():', '    path = '],
      \ ['for i in range(10):', '    print('],
      \ ['class Stack:', '    def push(self, item):', '        self.'],
      \ ]
function! SuggestAt(...) abort
  let Pred = a:0 ? a:1 : {t -> 1}
  for p in g:prompts
    call Keys('Escape')
    call Type(':%d|call setline(1, ' . string(p) . ')')
    call Keys('Enter')
    call Keys('G A')
    try
      let st = WaitSuggestion(8000)
      if Pred(st.visible)
        return st
      endif
    catch /timed out/
    endtry
  endfor
  throw 'no suggestion for any prompt'
endfunction

" A suggestion starting with a printable ASCII character (a test can type it).
function! Printable(t) abort
  return a:t =~# '^[[:print:]]' && char2nr(a:t) < 128
endfunction

function! Eq(want, got, what) abort
  if a:want !=# a:got
    throw a:what . ': expected ' . string(a:want) . ', got ' . string(a:got)
  endif
endfunction

function! True(v, what) abort
  if !a:v
    throw a:what . ': expected true'
  endif
endfunction

function! Test(name, Fn, ...) abort
  let start = reltime()
  try
    call Spawn(a:0 ? a:1 : {})
    call a:Fn()
    call Out('ok - ' . g:tag . a:name . printf(' # %.1f s', reltimefloat(reltime(start))))
  catch
    let g:failed += 1
    call Out('not ok - ' . g:tag . a:name)
    call Out('#   ' . strtrans(v:exception))
    call Out('#   ' . v:throwpoint)
    for l in Screen()
      call Out('#   | ' . strtrans(l))
    endfor
  finally
    silent! call Stop()
  endtry
endfunction

function! Finish() abort
  call Tmux('kill-server')
  if g:failed
    cquit 1
  endif
  qall!
endfunction
