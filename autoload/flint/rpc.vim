" autoload/flint/rpc.vim - the `flint serve` co-process over Vim's JSON channel.
"
" job_start(cmd, {'mode': 'json'}): requests go out as [id, {method, params}]
" with ch_sendexpr() and a callback (never ch_evalexpr(): nothing waits for the
" server); server notifications [0, {method, params}] reach s:on_message().
" Started lazily by flint#rpc#ensure(); restarted with backoff when it dies (the
" user is told once); stopped on VimLeavePre.

let s:job = v:null
let s:ch = v:null
let s:gen = 0
let s:status = 'stopped'   " stopped starting running backoff failed missing
let s:info = {}
let s:last_error = ''
let s:cmd = []
let s:pid = 0
let s:started = 0
let s:quick_deaths = 0
let s:told = 0
let s:stopping = 0
let s:timer = -1
let s:next_id = 1
let s:log = []
let s:levels = {'debug': 1, 'info': 2, 'warn': 3, 'error': 4}
let s:handlers = {}

function! flint#rpc#status() abort
  return s:status
endfunction

function! flint#rpc#info() abort
  return s:info
endfunction

function! flint#rpc#pid() abort
  return s:pid
endfunction

function! flint#rpc#last_error() abort
  return s:last_error
endfunction

function! flint#rpc#running() abort
  return s:job isnot v:null
endfunction

function! flint#rpc#on(method, Fn) abort
  let s:handlers[a:method] = a:Fn
endfunction

" Append to the log ring. Callers never pass suggestion text.
function! flint#rpc#log(level, msg) abort
  let min = get(s:levels, get(get(g:, 'flint_config', {}), 'log_level', 'warn'), 3)
  if get(s:levels, a:level, 2) < min
    return
  endif
  call add(s:log, strftime('%H:%M:%S') . ' ' . printf('%-5s', a:level) . ' ' . a:msg)
  if len(s:log) > 1000
    call remove(s:log, 0)
  endif
endfunction

function! flint#rpc#log_lines() abort
  return copy(s:log)
endfunction

function! s:tell(msg, hl) abort
  execute 'echohl' a:hl
  echomsg 'flint: ' . a:msg
  echohl None
endfunction

" Plugin root: the directory holding plugin/, autoload/, build/, models/.
let s:root = fnamemodify(resolve(expand('<sfile>:p')), ':h:h:h')
function! flint#rpc#root() abort
  return s:root
endfunction

" The server command line: [cmd, ''] or [[], reason].
function! flint#rpc#command(cfg) abort
  if !empty(a:cfg.server_cmd)
    let cmd = copy(a:cfg.server_cmd)
    if !executable(cmd[0])
      return [[], 'server_cmd: ' . cmd[0] . ' is not executable']
    endif
  elseif executable(s:root . '/build/flint')
    let cmd = [s:root . '/build/flint', 'serve']
  elseif executable('flint')
    let cmd = [exepath('flint'), 'serve']
  else
    return [[], 'no server binary: ' . s:root . '/build/flint is not built (run `make` in '
          \ . s:root . ') and flint is not on $PATH']
  endif
  if !empty(a:cfg.model)
    call extend(cmd, ['--model', expand(a:cfg.model)])
  endif
  let allow = flint#rpc#allowlist(a:cfg)
  if !empty(allow)
    call extend(cmd, ['--allowlist', allow])
  endif
  return [cmd + a:cfg.server_args, '']
endfunction

" The allow-list file the server keeps (g:flint_allowlist), or '' for none.
function! flint#rpc#allowlist(cfg) abort
  if a:cfg.allowlist ==# 'none'
    return ''
  elseif !empty(a:cfg.allowlist)
    return expand(a:cfg.allowlist)
  endif
  return (empty($XDG_DATA_HOME) ? expand('~/.local/share') : $XDG_DATA_HOME) . '/flint/allow.list'
endfunction

function! s:on_message(gen, ch, msg) abort
  if a:gen != s:gen || type(a:msg) != v:t_dict
    return
  endif
  let method = get(a:msg, 'method', '')
  let params = get(a:msg, 'params', {})
  if method ==# 'log' && type(params) == v:t_dict
    call flint#rpc#log(get(params, 'level', 'info'), 'server: ' . get(params, 'message', ''))
    return
  endif
  if has_key(s:handlers, method)
    try
      call s:handlers[method](params)
    catch
      call flint#rpc#log('error', 'handler ' . method . ': ' . v:exception . ' ' . v:throwpoint)
    endtry
  endif
endfunction

function! s:on_stderr(gen, ch, line) abort
  if a:line !=# ''
    call flint#rpc#log('info', 'server stderr: ' . a:line)
  endif
endfunction

function! s:restart_later(timer) abort
  let s:timer = -1
  if s:status ==# 'backoff'
    let s:status = 'stopped'
    call flint#rpc#start()
  endif
endfunction

function! s:on_exit(gen, job, code) abort
  if a:gen != s:gen
    return
  endif
  let s:job = v:null
  let s:ch = v:null
  let s:pid = 0
  if s:stopping
    let s:status = 'stopped'
    return
  endif
  let ran = float2nr(reltimefloat(reltime(s:started)) * 1000)
  call flint#rpc#log('error', printf('server exited (code %d) after %d ms', a:code, ran))
  if has_key(s:handlers, '__exit')
    call s:handlers['__exit']({})
  endif
  if ran > 30000
    let s:quick_deaths = 0
  endif
  let s:quick_deaths += 1
  if s:quick_deaths > 5
    let s:status = 'failed'
    let s:last_error = printf('the server exited %d times in a row (code %d)', s:quick_deaths - 1, a:code)
    call s:tell(s:last_error . '; see :Flint log, then :Flint restart', 'ErrorMsg')
    return
  endif
  if !s:told
    let s:told = 1
    call s:tell(printf('server exited (code %d); restarting it. See :Flint log', a:code), 'WarningMsg')
  endif
  let s:status = 'backoff'
  let delay = s:quick_deaths == 1 ? 0 : min([30000, float2nr(250 * pow(2, s:quick_deaths - 1))])
  let s:timer = timer_start(delay, function('s:restart_later'))
endfunction

function! s:on_initialize(gen, err, result) abort
  if a:gen != s:gen
    return
  endif
  if !empty(a:err)
    let s:last_error = 'initialize: ' . a:err
    call flint#rpc#log('error', s:last_error)
    call s:tell(s:last_error, 'ErrorMsg')
    return
  endif
  let s:info = type(a:result) == v:t_dict ? a:result : {}
  let s:status = 'running'
  call flint#rpc#log('info', 'initialized')
  if get(s:info, 'model', v:null) is v:null
    " the server runs without a model: say why, once
    let why = get(s:info, 'error', 'no model')
    let s:last_error = 'no model: ' . (type(why) == v:t_string ? why : string(why))
    call flint#rpc#log('error', s:last_error)
    if !get(s:, 'told_model', 0)
      let s:told_model = 1
      call s:tell(s:last_error, 'ErrorMsg')
    endif
  endif
endfunction

" Spawn the server and send initialize. Returns 1 on success.
function! flint#rpc#start() abort
  if s:job isnot v:null
    return 1
  endif
  let [cmd, err] = flint#rpc#command(g:flint_config)
  if empty(cmd)
    if s:status !=# 'missing'
      call s:tell(err, 'ErrorMsg')
      call flint#rpc#log('error', err)
    endif
    let s:status = 'missing'
    let s:last_error = err
    return 0
  endif
  let s:cmd = cmd
  let allow = flint#rpc#allowlist(g:flint_config)
  if !empty(allow)
    " 0700: the list holds fingerprints only, still private
    call mkdir(fnamemodify(allow, ':h'), 'p', 0700)
  endif
  let s:stopping = 0
  let s:gen += 1
  let gen = s:gen
  let job = job_start(cmd, {
        \ 'mode': 'json',
        \ 'callback': function('s:on_message', [gen]),
        \ 'err_mode': 'nl',
        \ 'err_cb': function('s:on_stderr', [gen]),
        \ 'exit_cb': function('s:on_exit', [gen]),
        \ 'noblock': 1,
        \ 'stoponexit': 'term',
        \ })
  if job_status(job) ==# 'fail'
    let s:status = 'failed'
    let s:last_error = 'cannot start ' . cmd[0]
    call flint#rpc#log('error', s:last_error)
    return 0
  endif
  let s:job = job
  let s:ch = job_getchannel(job)
  let s:pid = job_info(job).process
  let s:started = reltime()
  let s:status = 'starting'
  call flint#rpc#log('info', 'started ' . join(cmd) . ' (pid ' . s:pid . ')')
  call flint#rpc#request('initialize', {'client': 'vim',
        \ 'client_version': printf('%d.%d.%d', v:version / 100, v:version % 100, v:versionlong % 10000),
        \ 'options': {}}, function('s:on_initialize', [gen]))
  return 1
endfunction

" Start unless running, starting, waiting to restart, or given up.
function! flint#rpc#ensure() abort
  if s:job isnot v:null
    return 1
  endif
  if s:status ==# 'stopped'
    return flint#rpc#start()
  endif
  return 0
endfunction

function! s:on_response(Cb, ch, msg) abort
  if type(a:msg) != v:t_dict
    return
  endif
  let err = get(a:msg, 'error', '')
  if type(err) != v:t_string
    let err = string(err)
  endif
  if a:Cb is v:null
    if !empty(err)
      call flint#rpc#log('warn', 'server error: ' . err)
    endif
    return
  endif
  call a:Cb(err, get(a:msg, 'result', v:null))
endfunction

" Send a request; Cb(err, result) runs later. Returns 0 when no server.
function! flint#rpc#request(method, params, ...) abort
  if s:ch is v:null || ch_status(s:ch) !=# 'open'
    return 0
  endif
  let Cb = a:0 ? a:1 : v:null
  call ch_sendexpr(s:ch, {'method': a:method, 'params': a:params},
        \ {'callback': function('s:on_response', [Cb])})
  return 1
endfunction

function! flint#rpc#new_id() abort
  let s:next_id += 1
  return s:next_id - 1
endfunction

" Stop the server (VimLeavePre, :Flint restart). Never waits.
function! flint#rpc#stop() abort
  if s:timer != -1
    call timer_stop(s:timer)
    let s:timer = -1
  endif
  if s:job is v:null
    let s:status = 'stopped'
    return
  endif
  let s:stopping = 1
  call flint#rpc#request('shutdown', {})
  silent! call ch_close_in(s:ch)
  call job_stop(s:job, 'term')
endfunction

function! flint#rpc#restart() abort
  call flint#rpc#stop()
  let s:gen += 1
  let s:job = v:null
  let s:ch = v:null
  let s:pid = 0
  let s:info = {}
  let s:quick_deaths = 0
  let s:status = 'stopped'
  return flint#rpc#start()
endfunction

function! flint#rpc#command_line() abort
  return s:cmd
endfunction
