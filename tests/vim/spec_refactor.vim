" :FlintRefactor in real Vim with the real server and the default model: the
" rewrite streams into a preview split in diff mode, accept applies exactly
" the previewed text as one undo step, reject and a changed buffer leave the
" buffer as it is, cancel stops the stream. The model's rename is not assumed
" to be right; what it did is printed as a note.

let s:above = ['import sys', '', '']
let s:func = [
      \ 'def summarize(records, key):',
      \ '    count = 0',
      \ '    total = 0.0',
      \ '    smallest = None',
      \ '    largest = None',
      \ '    for rec in records:',
      \ '        if key not in rec:',
      \ '            continue',
      \ '        value = rec[key]',
      \ '        if value is None:',
      \ '            continue',
      \ '        count += 1',
      \ '        total += value',
      \ '        if smallest is None or value < smallest:',
      \ '            smallest = value',
      \ '        if largest is None or value > largest:',
      \ '            largest = value',
      \ '    if count == 0:',
      \ '        return None',
      \ '    mean = total / count',
      \ '    spread = largest - smallest',
      \ '    result = {',
      \ '        "count": count,',
      \ '        "mean": mean,',
      \ '        "min": smallest,',
      \ '        "max": largest,',
      \ '        "spread": spread,',
      \ '    }',
      \ '    print("summarized", count, file=sys.stderr)',
      \ '    return result',
      \ ]
let s:below = ['', '', 'if __name__ == "__main__":', '    print(summarize([{"x": 1}], "x"))']
let s:file = s:above + s:func + s:below
let s:first = len(s:above) + 1
let s:last = len(s:above) + len(s:func)
let s:instruction = 'rename count to n_seen'
let s:opts = {'lines': s:file}

function! s:start(...) abort
  call WaitServer()
  call Type(printf(':%d,%dFlintRefactor %s', s:first, s:last, a:0 ? a:1 : s:instruction))
  call Keys('Enter')
endfunction

" Waits until the refactor is done; returns [state, whether a preview was
" seen while the text was still streaming].
function! s:wait_done() abort
  let start = reltime()
  let seen = 0
  while reltimefloat(reltime(start)) < 20
    let st = State()
    let r = get(st, 'refactor', {})
    if !empty(r) && !r.done && r.text !=# '' && r.preview !=# st.lines
      let seen = 1
    endif
    if !empty(r) && r.done
      return [st, seen]
    endif
    sleep 10m
  endwhile
  throw 'timed out waiting for the refactor: ' . string(State())[: 600]
endfunction

function! s:t_accept() abort
  call s:start()
  let [st, seen] = s:wait_done()
  let r = st.refactor
  call True(r.updates >= 2, 'several chunks (' . r.updates . ')')
  " the harness polls a state file every ~10 ms and the default model can
  " finish the rename between two polls: also count the plugin's own
  " preview redraws before the final chunk
  call True(seen || r.live >= 1, 'the preview changed while the text was still streaming (' . r.live
        \ . ' redraws before the final chunk)')
  let want = s:above + r.new + s:below
  let st = WaitFor({s -> s.refactor.preview ==# want}, 3000, 'the preview holding the rewrite')
  call Eq([1, 1], st.diff, 'source and preview windows in diff mode')
  call True(stridx(r.status, 'tok/s') >= 0, 'the status line has the speed: ' . r.status)
  let text = join(r.new, "\n")
  call Out(printf('# model: reason %s, %d lines (of %d), "count" left %d, "n_seen" %d, %s', r.reason, len(r.new),
        \ len(s:func), count(text, 'count'), count(text, 'n_seen'), r.status))
  call Type('ga')
  let st = WaitFor({s -> empty(s.refactor)}, 3000, 'the accept')
  call Eq(want, st.lines, 'the buffer after accept: the previewed text in the range, nothing else changed')
  call Eq(1, st.windows, 'the preview is closed')
  call Eq([0], st.diff, 'diff mode is off')
  call Type('u')
  call WaitFor({s -> s.lines ==# s:file}, 3000, 'one undo to restore the original')
endfunction
call Test('the rewrite streams into a diff preview; accept applies exactly it, one undo step',
      \ function('s:t_accept'), s:opts)

function! s:t_reject() abort
  call s:start()
  let [st, _] = s:wait_done()
  let tick = st.tick
  call Type('gr')
  let st = WaitFor({s -> empty(s.refactor)}, 3000, 'the reject')
  call Eq(s:file, st.lines, 'buffer after reject')
  call Eq(tick, st.tick, 'changedtick after reject')
  call Eq(1, st.windows, 'the preview is closed')
  call Eq('', st.gamap, 'the preview keys are gone')
endfunction
call Test('reject leaves the buffer untouched', function('s:t_reject'), s:opts)

function! s:t_changed() abort
  call s:start()
  call s:wait_done()
  call Type(':call setline(1, "import os")')
  call Keys('Enter')
  let st = WaitFor({s -> s.lines[0] ==# 'import os'}, 3000, 'the change')
  let changed = st.lines
  call Type('ga')
  sleep 300m
  let st = State()
  call Eq(changed, st.lines, 'accept changed nothing')
  call True(!empty(st.refactor), 'the preview stays up')
  call True(stridx(st.refactor.status, 'buffer changed') >= 0, 'the status says why: ' . st.refactor.status)
  call True(stridx(st.messages, 'not applied') >= 0, 'and a message')
  call Type('gr')
  let st = WaitFor({s -> empty(s.refactor)}, 3000, 'the reject')
  call Eq(changed, st.lines, 'reject after a refused accept')
endfunction
call Test('a buffer changed after the request refuses to apply', function('s:t_changed'), s:opts)

function! s:t_cancel() abort
  let r = {}
  for _ in range(3)
    " the cancel is armed in the same keystrokes as the request: a timer in
    " the editor cancels at the first chunk (the default model can finish the
    " whole rename before this harness's next round trip)
    call WaitServer()
    call Type(printf(":%d,%dFlintRefactor %s\r", s:first, s:last, s:instruction)
          \ . ":call timer_start(1, {t -> get(flint#refactor#state(), 'updates', 0) >= 1"
          \ . " ? [timer_stop(t), flint#refactor#cancel()] : 0}, {'repeat': -1})\r")
    let st = WaitFor({s -> !empty(s.refactor) && s.refactor.done}, 20000, 'the stream to end')
    let r = st.refactor
    if r.reason ==# 'cancelled'
      break
    endif
    call Type('gr')
  endfor
  call Eq('cancelled', r.reason, 'cancelled while streaming')
  sleep 600m
  let later = State().refactor
  call Eq(r.updates, later.updates, 'no update after cancel')
  call Eq(r.text, later.text, 'the text stays as it was')
  call Eq(r.preview, later.preview, 'the preview stays as it was')
  call True(stridx(later.status, 'cancelled') >= 0, 'the status says cancelled')
  call Out(printf('# cancel: %d updates before, %d chunks dropped after', later.updates, later.late))
  call Type('gr')
  let st = WaitFor({s -> empty(s.refactor)}, 3000, 'the reject')
  call Eq(s:file, st.lines, 'buffer untouched')
endfunction
call Test('cancel stops the stream: no update after it', function('s:t_cancel'), s:opts)

function! s:t_prompt() abort
  call WaitServer()
  call Type(printf(':%d,%dFlintRefactor', s:first, s:first + 2))
  call Keys('Enter')
  call Type(s:instruction)
  call Keys('Enter')
  let st = WaitFor({s -> !empty(s.refactor)}, 3000, 'the refactor')
  call Eq(s:instruction, st.refactor.instruction, 'the typed instruction')
  call Eq(s:func[0 : 2], st.refactor.orig, 'the range')
  call Type('gr')
endfunction
call Test('without an instruction :FlintRefactor asks for one', function('s:t_prompt'), s:opts)

function! s:t_preview_window() abort
  call s:start()
  call s:wait_done()
  call Keys('C-w j')
  call Type('gr')
  let st = WaitFor({s -> empty(s.refactor) && s.windows == 1}, 3000, 'reject from the preview window')
  call Eq('', st.gamap, 'the source buffer has no preview keys left')
  call Eq([0], st.diff, 'diff mode is off')
  call Eq(s:file, st.lines, 'buffer untouched')
  call Type(printf(':%d,%dFlintRefactor %s', s:first, s:last, s:instruction))
  call Keys('Enter')
  call s:wait_done()
  call Keys('C-w j')
  call Type(':q')
  call Keys('Enter')
  let st = WaitFor({s -> empty(s.refactor) && s.windows == 1}, 3000, 'closing the preview window ends the refactor')
  call Eq('', st.gamap, 'and its keys')
  call Eq([0], st.diff, 'and diff mode')
endfunction
call Test('keys work in the preview window; closing it ends the refactor', function('s:t_preview_window'), s:opts)

function! s:t_blocked() abort
  call WaitServer()
  " what the server sends when a scanner halt rule stops the reply (the
  " default model does not write code the scanner halts on), typed in the
  " same keystrokes as the request so that it arrives before the server's
  " own reply (a 30-line rename takes the default model well under a second,
  " less than a round trip of this harness)
  call Type(printf(":%d,%dFlintRefactor %s\r", s:first, s:last, s:instruction)
        \ . ':call flint#refactor#on_chunk({"id": flint#refactor#state().id, "alt": 0, "text": "", "done": v:true, '
        \ . '"reason": "blocked", "findings": [{"rule": "eval-injection", "action": "halt", '
        \ . "\"message\": \"eval of a non-literal\"}]})\r")
  let st = WaitFor({s -> !empty(s.refactor) && s.refactor.done}, 3000, 'the final chunk')
  call Eq('blocked', st.refactor.reason, 'reason')
  call True(stridx(st.refactor.status, 'blocked by the scanner: eval of a non-literal') >= 0,
        \ 'the status shows it: ' . st.refactor.status)
  call Type('ga')
  sleep 300m
  call Eq(s:file, State().lines, 'accept refused')
  call Type('gr')
endfunction
call Test('a blocked rewrite shows the reason and cannot be applied', function('s:t_blocked'), s:opts)

call Finish()
