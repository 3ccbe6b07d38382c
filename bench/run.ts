/**
 * `npm run bench`: runs every bench/*.bench.ts in this process and prints one table.
 * Each module exports `bench(): Promise<BenchRow[]>`. Only startup.bench.ts times process start-up
 * (fresh processes, against `node -e 0` in the same run).
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface BenchRow {
  name: string;
  /** e.g. "12.3 ms", "1.21x floor", "54 MiB" */
  value: string;
  note?: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv[2];
const files = readdirSync(here).filter((f) => f.endsWith('.bench.ts') && (!only || f.includes(only))).sort();
const rows: BenchRow[] = [];
for (const f of files) {
  const mod = (await import(pathToFileURL(path.join(here, f)).href)) as { bench: () => Promise<BenchRow[]> };
  process.stderr.write(`bench: ${f}\n`);
  rows.push(...(await mod.bench()));
}
const w1 = Math.max(4, ...rows.map((r) => r.name.length));
const w2 = Math.max(5, ...rows.map((r) => r.value.length));
console.log(`${'name'.padEnd(w1)}  ${'value'.padEnd(w2)}  note`);
console.log(`${'-'.repeat(w1)}  ${'-'.repeat(w2)}  ----`);
for (const r of rows) console.log(`${r.name.padEnd(w1)}  ${r.value.padEnd(w2)}  ${r.note ?? ''}`);
