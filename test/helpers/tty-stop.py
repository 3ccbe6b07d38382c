"""Starts `keyrite ceremony run` (or `keyrite recover`) in a pseudo-terminal, answers the PIN prompt, and at the chosen
prompt sends a signal to a chosen process instead of answering, the way an operator's `kill` or a
process supervisor would. Prints what the terminal showed, then a line
`STOPPED exit=<status> leftover=<pids of keyrite processes still running>`; exits 0 unless the run
hung (then it kills what is left and exits 3).
Usage: tty-stop.py SIGNAL WHERE PIN -- COMMAND...
  SIGNAL  INT | TERM | CTRLC (Ctrl-C typed at the terminal instead of a signal)
  WHERE   pin (the PIN prompt, before the bundle exists) | step (the step acknowledgement) |
          words (the first custodian's word prompt) |
          share (`keyrite recover`: the PIN is answered, the signal comes at share 1's first word)
The signal goes to the process started (node itself, or `npx`, which wraps it)."""
import os, pty, re, select, signal, sys, time

sig, where, pin = sys.argv[1:4]
cmd = sys.argv[sys.argv.index('--') + 1:]
marker = cmd[-1]  # the last argument names this run (its shares folder); used to find leftovers
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
buf = b''

def read_until(pat, t=90):
    global buf
    end = time.time() + t
    while time.time() < end:
        if re.search(pat, buf):
            return True
        if not select.select([fd], [], [], 0.5)[0]:
            continue
        try:
            d = os.read(fd, 4096)
        except OSError:
            return False
        if not d:
            return False
        buf += d
    return bool(re.search(pat, buf))

def before_steps(t=90):
    """Answers the prompts before the plan's steps: the network acknowledgement (when an interface
    is up on this machine), the PIN, and each participant's check-in (the first by id, the others
    "present"). Returns when the first step prompt is showing."""
    global buf
    end = time.time() + t
    checked = 0
    while time.time() < end:
        if re.search(rb'to record one\): ', buf):
            return
        m = re.search(rb'type "connected"[^:]*: |PIN for token [^:]*: |Check-in: [^\n]*type "([a-z0-9-]+)" or "present" \(or "absent"\): ', buf)
        if m:
            if m.group(0).startswith(b'PIN'):
                answer = pin.encode()
            elif m.group(0).startswith(b'type "connected"'):
                answer = b'connected'
            else:
                answer = m.group(1) if checked == 0 else b'present'
                checked += 1
            buf = buf[:m.start()] + b'<answered>' + buf[m.end():]
            os.write(fd, answer + b'\n')
            continue
        if not select.select([fd], [], [], 0.5)[0]:
            continue
        try:
            d = os.read(fd, 4096)
        except OSError:
            break
        if not d:
            break
        buf += d
    sys.stdout.write(buf.decode(errors='replace'))
    os.kill(pid, signal.SIGKILL)
    sys.exit('timeout before the step prompt')

def leftovers():
    found = []
    for p in os.listdir('/proc'):
        if not p.isdigit() or int(p) == os.getpid():
            continue
        try:
            cl = open(f'/proc/{p}/cmdline', 'rb').read().split(b'\0')
        except OSError:
            continue
        if marker.encode() in cl and any(b'node' in a or b'keyrite' in a for a in cl[:2]):
            found.append(p)
    return found

if where == 'share':
    if not read_until(rb'PIN for token [^:]*: '):
        sys.stdout.write(buf.decode(errors='replace')); sys.exit('no PIN prompt')
    buf = buf.replace(b'PIN for token', b'<answered>', 1)
    os.write(fd, pin.encode() + b'\n')
    if not read_until(rb'word 1 of 33: '):
        sys.stdout.write(buf.decode(errors='replace')); sys.exit('no word prompt')
elif where == 'pin':
    # Only the network acknowledgement (if this machine is online); the signal comes at the PIN prompt.
    end = time.time() + 90
    while time.time() < end and not re.search(rb'PIN for token [^:]*: ', buf):
        m = re.search(rb'type "connected"[^:]*: ', buf)
        if m:
            buf = buf[:m.start()] + b'<answered>' + buf[m.end():]
            os.write(fd, b'connected\n')
            continue
        if select.select([fd], [], [], 0.5)[0]:
            try:
                d = os.read(fd, 4096)
            except OSError:
                break
            if not d:
                break
            buf += d
else:
    before_steps()
if where == 'words':
    buf = buf.replace(b'to record one): ', b'<asked>', 1)
    os.write(fd, b'yes\n')
    if not read_until(rb'word 1 of 33: '):
        sys.stdout.write(buf.decode(errors='replace')); sys.exit('no word prompt')
time.sleep(0.5)
if sig == 'CTRLC':
    os.write(fd, b'\x03')  # Ctrl-C typed at the terminal
else:
    os.kill(pid, getattr(signal, 'SIG' + sig))
end = time.time() + 20
status = None
while time.time() < end:
    try:
        if select.select([fd], [], [], 0.1)[0]:
            d = os.read(fd, 4096)
            if d:
                buf += d
                continue
    except OSError:
        pass
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = os.waitstatus_to_exitcode(st)
        break
    time.sleep(0.1)
if status is None:
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = os.waitstatus_to_exitcode(st)
time.sleep(0.5)
left = leftovers()
sys.stdout.write(buf.decode(errors='replace'))
sys.stdout.write(f'\nSTOPPED exit={status} leftover={",".join(left)}\n')
if status is None or left:
    for p in left + [str(pid)]:
        try:
            os.kill(int(p), signal.SIGKILL)
        except OSError:
            pass
    sys.exit(3)
