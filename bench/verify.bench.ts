/**
 * verifyBundle on a bundle whose transcript has 10,000 events, against the floor: reading the same
 * files and SHA-256 hashing every transcript line (what no verifier can skip).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BenchRow } from './run.ts';
import { verifyBundle } from '../electron/core/verify/index.ts';
import { makeSoftwareBundle } from '../test/helpers/bundle-fixture.ts';

const EVENTS = 10_000;
const RUNS = 5;

/** Reads every file of the bundle and hashes each transcript line: the least any verifier does. */
function floor(dir: string, parse = false): number {
  let n = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const bytes = readFileSync(p);
        if (e.name === 'transcript.jsonl') {
          let start = 0;
          for (let end = bytes.indexOf(10); end !== -1; start = end + 1, end = bytes.indexOf(10, start)) {
            createHash('sha256').update(bytes.subarray(start, end)).digest('hex');
            if (parse) JSON.parse(bytes.toString('utf8', start, end));
            n++;
          }
        } else createHash('sha256').update(bytes).digest('hex');
      }
    }
  };
  walk(dir);
  return n;
}

function median(fn: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)];
}

export async function bench(): Promise<BenchRow[]> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'keyrite-bench-verify-'));
  try {
    const fixed = 12; // the fixture's required events around the notes
    const b = makeSoftwareBundle(path.join(tmp, 'bundle'), { notes: EVENTS - fixed });
    const r = verifyBundle(b.dir);
    if (!r.valid) throw new Error(`bench bundle does not verify: ${r.checks.find((c) => !c.ok)?.detail}`);
    const events = readFileSync(path.join(b.dir, 'transcript.jsonl'), 'utf8').split('\n').length - 1;
    const floorMs = median(() => floor(b.dir));
    const parseFloorMs = median(() => floor(b.dir, true));
    const verifyMs = median(() => verifyBundle(b.dir));
    return [
      { name: `verify: bundle with ${events} events`, value: `${verifyMs.toFixed(1)} ms`, note: `median of ${RUNS}` },
      { name: 'verify: floor (read files, SHA-256 each line)', value: `${floorMs.toFixed(1)} ms` },
      { name: 'verify: ratio to floor', value: `${(verifyMs / floorMs).toFixed(2)}x floor`, note: verifyMs / floorMs <= 3 ? 'within 3x' : 'OVER 3x: each line must also be parsed and re-serialised to prove it is canonical (JCS), which hashing alone does not' },
      { name: 'verify: floor + JSON.parse each line', value: `${parseFloorMs.toFixed(1)} ms`, note: 'the least a verifier that reads the events does' },
      { name: 'verify: ratio to parse floor', value: `${(verifyMs / parseFloorMs).toFixed(2)}x`, note: verifyMs / parseFloorMs <= 3 ? 'within 3x' : 'OVER 3x' },
    ];
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
