import { createInterface } from 'node:readline';
import { OperationError } from '../core/errors.ts';
import type { CliIO } from './command.ts';

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Asks a question on the terminal; with `secret`, typed characters are not echoed. */
function ask(question: string, secret: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    if (secret) {
      // Suppress echo of everything typed after the question.
      const rlAny = rl as unknown as { _writeToOutput: (s: string) => void };
      let asked = false;
      rlAny._writeToOutput = (s: string) => {
        if (!asked) { process.stderr.write(s); asked = true; }
      };
    }
    rl.question(question, (answer) => {
      rl.close();
      if (secret) process.stderr.write('\n');
      resolve(answer);
    });
    rl.on('SIGINT', () => {
      rl.close();
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
    promptSecret: (q) => ask(q, true),
    prompt: (q) => ask(q, false),
    env: process.env,
    cwd: process.cwd(),
  };
}
