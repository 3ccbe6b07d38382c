import { createInterface } from 'node:readline';
import { OperationError } from '../core/errors.ts';
import type { CliIO, StopWatch } from './command.ts';

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Stops asked for by a signal (kill -INT / kill -TERM to this process, or forwarded by `npm exec`).
 * Without a handler Node dies at once and the transcript never says why; with one, the pending
 * prompt is answered with the stop and the run records it as an abort at the step it was in.
 */
const stops = {
  watchers: 0,
  received: undefined as OperationError | undefined,
  rejectPrompt: undefined as ((err: Error) => void) | undefined,
};

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function onSignal(signal: NodeJS.Signals): void {
  if (stops.received) {
    // A second signal while the first is being recorded: the operator wants out now.
    process.stderr.write(`\nkeyrite: error: ${signal} again: exiting at once; the stop may not be recorded in the transcript (keyrite status BUNDLE says what is there)\n`);
    process.exit(130);
  }
  stops.received = new OperationError(`stopped by ${signal} sent to the keyrite process`);
  process.stderr.write(`\nkeyrite: ${signal} received: stopping the run and recording where and why\n`);
  stops.rejectPrompt?.(stops.received);
}

function watchStops(): StopWatch {
  if (stops.watchers++ === 0) for (const s of SIGNALS) process.on(s, onSignal);
  let disposed = false;
  return {
    check() {
      if (stops.received) throw stops.received;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      if (--stops.watchers === 0) for (const s of SIGNALS) process.off(s, onSignal);
    },
  };
}

/** Asks a question on the terminal; with `secret`, typed characters are not echoed. */
function ask(question: string, secret: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    if (stops.received) return reject(stops.received);
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const done = () => {
      stops.rejectPrompt = undefined;
      rl.close();
    };
    stops.rejectPrompt = (err) => {
      done();
      reject(err);
    };
    if (secret) {
      // Suppress echo of everything typed after the question.
      const rlAny = rl as unknown as { _writeToOutput: (s: string) => void };
      let asked = false;
      rlAny._writeToOutput = (s: string) => {
        if (!asked) { process.stderr.write(s); asked = true; }
      };
    }
    rl.question(question, (answer) => {
      done();
      if (secret) process.stderr.write('\n');
      resolve(answer);
    });
    rl.on('SIGINT', () => {
      done();
      reject(new OperationError('interrupted by the operator (Ctrl-C)'));
    });
  });
}

export function processIO(): CliIO {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    readStdin: () => readAll(process.stdin),
    stdinIsTTY: Boolean(process.stdin.isTTY),
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    promptSecret: (q) => ask(q, true),
    prompt: (q) => ask(q, false),
    env: process.env,
    cwd: process.cwd(),
    watchStops,
  };
}
