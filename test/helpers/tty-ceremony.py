"""Drives `keyrite ceremony run` through a real pseudo-terminal, as an administrator would:
the network acknowledgement if this machine is online, PIN at a no-echo prompt, the check-ins, a note, a hasty "y" (asked again) and the step acknowledgement, then each
custodian typing their share at the "word N of 33" prompts: the first pastes a whole line with word 8
wrong and re-types only word 8 when asked; the second types word by word, with a word that is not in
the list at position 3; the third first types the first custodian's (valid) share, then their own
in capitals. Prints everything the terminal showed.
Usage: tty-ceremony.py KEYRITE_BIN PLAN OUT SHEETS PIN"""
import glob, os, pty, re, select, sys, time

bin_, plan, out, sheets, pin = sys.argv[1:6]
pid, fd = pty.fork()
if pid == 0:
    os.execv('/usr/bin/env',
             ['env', 'node', bin_, 'ceremony', 'run', '--rehearsal', '--plan', plan, '--out', out, '--shares-out', sheets])
buf = b''
PROMPT = b'type the 33 words of your share: '

def expect(pat, t=60):
    global buf
    end = time.time() + t
    while time.time() < end:
        if re.search(pat, buf):
            return
        try:
            d = os.read(fd, 4096)
        except OSError:
            break
        if not d:
            break
        buf += d
    if re.search(pat, buf):
        return
    sys.stdout.write(buf.decode(errors='replace'))
    sys.exit('timeout waiting for ' + pat.decode())

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
    sys.exit('timeout before the step prompt')

def consume(token):
    global buf
    buf = buf.replace(token, b'<asked>', 1)

before_steps()
expect(b'to record one\\): '); consume(b'to record one): '); os.write(fd, b'note: the witness arrived at 09:12\n')
expect(b'to record one\\): '); consume(b'to record one): '); os.write(fd, b'y\n')
expect(b'to record one\\): '); consume(b'to record one): '); os.write(fd, b'yes\n')
PROMPT = re.compile(rb'word (\d+) of 33(, again)?: ')
files = None
foreign_sent = False
for i in range(2000):
    m = PROMPT.search(buf)
    if not m:
        try:
            d = os.read(fd, 4096)
        except OSError:
            break
        if not d:
            break
        buf += d
        if b'Check it:' in buf:
            break
        continue
    n, again = int(m.group(1)), m.group(2)
    buf = buf[:m.start()] + b'<' + m.group(0).rstrip(b': ') + b'>' + buf[m.end():]
    files = sorted(glob.glob(os.path.join(sheets, '*.txt')))  # written one custodian at a time
    done = buf.count(b'confirmed (typed)')
    words = open(files[done]).read().strip().split()
    if again:
        answer = words[n - 1]
    elif done == 0:
        wrong = list(words); wrong[7] = 'academic' if wrong[7] != 'academic' else 'acid'
        answer = ' '.join(wrong)
    elif done == 1:
        answer = 'zzzz' if n == 3 and b'word 3 is not in the SLIP-39 word list' not in buf else words[n - 1]
    elif not foreign_sent:
        foreign_sent = True
        answer = open(files[0]).read().strip()
    else:
        answer = ' '.join(words).upper()
    os.write(fd, (answer + '\n').encode())
expect(b'Check it:', 60)
_, status = os.waitpid(pid, 0)
sys.stdout.write(buf.decode(errors='replace'))
sys.exit(os.waitstatus_to_exitcode(status))
