"""Drives `keyrite ceremony run` through a real pseudo-terminal, as an administrator would:
PIN at a no-echo prompt, a note and the step acknowledgements, each custodian typing their share
(the first one with a wrong word, then correctly, in capitals). Prints everything the terminal showed.
Usage: tty-ceremony.py KEYRITE_BIN PLAN OUT SHEETS PIN"""
import glob, os, pty, re, sys, time

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

def consume(token):
    global buf
    buf = buf.replace(token, b'<asked>', 1)

expect(b'PIN for token'); consume(b'PIN for token'); os.write(fd, pin.encode() + b'\n')
expect(b'to record one\\): '); consume(b'to record one): '); os.write(fd, b'note: the witness arrived at 09:12\n')
expect(b'to record one\\): '); consume(b'to record one): '); os.write(fd, b'yes\n')
n = len(glob.glob(os.path.join(sheets, '*')))
for i in range(1000):
    m = re.search(PROMPT, buf)
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
    consume(PROMPT)
    done = buf.count(b'confirmed (typed)')
    files = sorted(glob.glob(os.path.join(sheets, '*.txt')))
    words = open(files[done]).read().strip()
    if done == 0 and b'do not match' not in buf:
        wrong = words.split(); wrong[7] = 'academic' if wrong[7] != 'academic' else 'acid'
        os.write(fd, (' '.join(wrong) + '\n').encode())
    else:
        os.write(fd, (words.upper() + '\n').encode())
expect(b'Check it:', 60)
_, status = os.waitpid(pid, 0)
sys.stdout.write(buf.decode(errors='replace'))
sys.exit(os.waitstatus_to_exitcode(status))
