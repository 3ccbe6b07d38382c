/** SLIP-39 split and combine of a 256-bit secret (33-word shares, one 3-of-5 group), median ms per operation. */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { combineMnemonics, splitSecret } from '../electron/core/shares/index.ts';
import type { BenchRow } from './run.ts';

const RUNS = 7;

function medianMs(f: () => void): number {
  f(); // warm-up (word list load, JIT)
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    f();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(RUNS / 2)];
}

export async function bench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const secret = new Uint8Array(randomBytes(32));
  for (const iterationExponent of [0, 1]) {
    const opts = { groupThreshold: 1, groups: [{ threshold: 3, count: 5 }], iterationExponent };
    const shares = splitSecret(secret, opts).groups[0].mnemonics;
    const split = medianMs(() => void splitSecret(secret, opts));
    const combine = medianMs(() => void combineMnemonics(shares.slice(1, 4)));
    const note = `3-of-5, 33 words, e=${iterationExponent} (${10000 << iterationExponent} PBKDF2 iterations), median of ${RUNS}`;
    rows.push({ name: `slip39 split e=${iterationExponent}`, value: `${split.toFixed(1)} ms`, note });
    rows.push({ name: `slip39 combine e=${iterationExponent}`, value: `${combine.toFixed(1)} ms`, note });
  }
  return rows;
}
