/**
 * CLI start-up, side by side with a bare Node start in the same run: `node -e 0`, `keyrite --help`
 * and `keyrite verify` on a demo bundle, each a fresh process through bin/keyrite.mjs (the compiled
 * CLI in dist/cli). The goal is within 2x a bare Node start. Runs are interleaved so that machine
 * load hits each the same; the median of each is reported.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchRow } from './run.ts';

const RUNS = 21;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(root, 'bin', 'keyrite.mjs');

function timeOnce(args: string[]): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`bench: node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function bench(): Promise<BenchRow[]> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'keyrite-bench-startup-'));
  try {
    const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), 'cli'], { encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`bench: building the CLI failed: ${build.stderr}`);
    const demo = spawnSync(process.execPath, [BIN, 'demo', '--out', path.join(tmp, 'demo')], { encoding: 'utf8', cwd: tmp });
    if (demo.status !== 0) throw new Error(`bench: keyrite demo failed: ${demo.stderr}`);
    const bundle = path.join(tmp, 'demo', readdirSync(path.join(tmp, 'demo')).find((f) => f.startsWith('demo-'))!);

    const cases = { node: ['-e', '0'], help: [BIN, '--help'], verify: [BIN, 'verify', bundle] };
    const times: Record<keyof typeof cases, number[]> = { node: [], help: [], verify: [] };
    for (const args of Object.values(cases)) timeOnce(args); // warm the file cache
    for (let i = 0; i < RUNS; i++) for (const [k, args] of Object.entries(cases)) times[k as keyof typeof cases].push(timeOnce(args));

    const base = median(times.node);
    const row = (name: string, xs: number[]): BenchRow => {
      const ratio = median(xs) / base;
      return { name, value: `${median(xs).toFixed(1)} ms`, note: `${ratio.toFixed(2)}x node -e 0; ${ratio <= 2 ? 'within 2x' : 'OVER 2x'}` };
    };
    return [
      { name: 'start-up: node -e 0', value: `${base.toFixed(1)} ms`, note: `median of ${RUNS} processes, interleaved with the two below` },
      row('start-up: keyrite --help', times.help),
      row('start-up: keyrite verify DEMO-BUNDLE', times.verify),
    ];
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
