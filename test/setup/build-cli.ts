/**
 * vitest globalSetup: compiles the CLI (dist/cli) once before the tests, so the tests that spawn
 * `bin/keyrite.mjs` run today's sources, not the build `npm ci` made before the last edit (~0.5 s).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), 'cli'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the CLI failed:\n${r.stderr}`);
}
