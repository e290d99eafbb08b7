" autoload/flint/config.vim - flint's options for Vim, from g:flint_{name}.
" The options and their meaning are the same as in lua/flint/config.lua (the
" source of :help flint-options); keep the two in step.

let s:defaults = {
      \ 'enabled': v:true,
      \ 'filetypes': {'*': v:true, 'help': v:false, 'gitcommit': v:false,
      \               'gitrebase': v:false, 'hgcommit': v:false, 'svn': v:false, 'cvs': v:false},
      \ 'auto_trigger': v:true,
      \ 'debounce': 15,
      \ 'n_alt': 3,
      \ 'max_tokens': 64,
      \ 'max_ms': 0,
      \ 'max_lines': 8,
      \ 'context_lines': {'before': 100, 'after': 30},
      \ 'show_with_pum': v:false,
      \ 'keymaps': {'accept': '<Tab>', 'accept_word': '<M-Right>', 'accept_line': '<M-C-Right>',
      \             'next': '<M-]>', 'prev': '<M-[>', 'dismiss': '<C-]>'},
      \ 'refactor_keymaps': {'accept': 'ga', 'reject': 'gr', 'retry': 'gR', 'cancel': '<C-c>',
      \                      'next_hunk': ']c', 'prev_hunk': '[c'},
      \ 'refactor_context_lines': 20,
      \ 'refactor_max_tokens': 0,
      \ 'model': '',
      \ 'server_cmd': [],
      \ 'server_args': [],
      \ 'allowlist': '',
      \ 'log_level': 'warn',
      \ }

let s:bools = ['enabled', 'auto_trigger', 'show_with_pum']
let s:numbers = ['debounce', 'n_alt', 'max_tokens', 'max_ms', 'max_lines', 'refactor_context_lines',
      \ 'refactor_max_tokens']
let s:dicts = ['filetypes', 'context_lines', 'keymaps', 'refactor_keymaps']
let s:lists = ['server_cmd', 'server_args']
let s:strings = ['model', 'allowlist', 'log_level']

function! flint#config#defaults() abort
  return deepcopy(s:defaults)
endfunction

function! s:bool(v) abort
  return type(a:v) == v:t_bool ? a:v : (a:v ? v:true : v:false)
endfunction

" Build the configuration from g:flint_* over the defaults.
" Returns [config, ''] or [defaults, 'message naming the option'].
function! flint#config#build() abort
  let cfg = deepcopy(s:defaults)
  for name in keys(s:defaults)
    if !exists('g:flint_' . name)
      continue
    endif
    let v = get(g:, 'flint_' . name)
    let t = type(v)
    if index(s:bools, name) >= 0
      if t != v:t_bool && t != v:t_number
        return [s:defaults, 'g:flint_' . name . ': expected v:true/v:false or 0/1']
      endif
      let cfg[name] = s:bool(v)
    elseif index(s:numbers, name) >= 0
      if t != v:t_number || v < 0
        return [s:defaults, 'g:flint_' . name . ': expected a non-negative number']
      endif
      let cfg[name] = v
    elseif index(s:dicts, name) >= 0
      if t != v:t_dict
        return [s:defaults, 'g:flint_' . name . ': expected a dictionary']
      endif
      call extend(cfg[name], v)
    elseif index(s:lists, name) >= 0
      if t != v:t_list
        return [s:defaults, 'g:flint_' . name . ': expected a list']
      endif
      let cfg[name] = copy(v)
    else
      if t != v:t_string
        return [s:defaults, 'g:flint_' . name . ': expected a string']
      endif
      let cfg[name] = v
    endif
  endfor
  for [ft, on] in items(cfg.filetypes)
    if type(on) != v:t_bool && type(on) != v:t_number
      return [s:defaults, 'g:flint_filetypes[' . string(ft) . ']: expected v:true or v:false']
    endif
    let cfg.filetypes[ft] = s:bool(on)
  endfor
  for [action, lhs] in items(cfg.keymaps)
    if !has_key(s:defaults.keymaps, action)
      return [s:defaults, 'g:flint_keymaps: unknown action ' . string(action)]
    endif
    if type(lhs) == v:t_bool || type(lhs) == v:t_number
      let cfg.keymaps[action] = ''
    elseif type(lhs) != v:t_string
      return [s:defaults, 'g:flint_keymaps.' . action . ': expected a key or ""']
    endif
  endfor
  for [action, lhs] in items(cfg.refactor_keymaps)
    if !has_key(s:defaults.refactor_keymaps, action)
      return [s:defaults, 'g:flint_refactor_keymaps: unknown action ' . string(action)]
    endif
    if type(lhs) == v:t_bool || type(lhs) == v:t_number
      let cfg.refactor_keymaps[action] = ''
    elseif type(lhs) != v:t_string
      return [s:defaults, 'g:flint_refactor_keymaps.' . action . ': expected a key or ""']
    endif
  endfor
  if cfg.n_alt < 1 || cfg.max_lines < 1
    return [s:defaults, 'g:flint_n_alt and g:flint_max_lines must be at least 1']
  endif
  if index(['debug', 'info', 'warn', 'error'], cfg.log_level) < 0
    return [s:defaults, 'g:flint_log_level: expected debug, info, warn or error']
  endif
  return [cfg, '']
endfunction

" Is flint on for a buffer with filetype ft?
function! flint#config#filetype_enabled(cfg, ft) abort
  let ft = empty(a:ft) ? '*' : a:ft
  return get(a:cfg.filetypes, ft, get(a:cfg.filetypes, '*', v:true)) ? 1 : 0
endfunction
