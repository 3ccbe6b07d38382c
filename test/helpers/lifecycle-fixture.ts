/**
 * Ceremonies of a key's life for tests: a generate, rotate (or other kind) plan written with the
 * ceremony-fixture's writePlan, then given `ceremony`, `previous` (a path relative to the plan's
 * folder, as a user writes it) and `key.version`, and run headless into a chosen output folder.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runHeadlessCeremony } from '../../electron/cli/ceremony-runner.ts';
import { statementDigest } from '../../electron/core/lifecycle/facts.ts';
import { captureIO, PIN, writePlan, type PlanOptions, type TokenEnv } from './ceremony-fixture.ts';

export interface LifecyclePlan extends PlanOptions {
  ceremony?: string;
  /** The previous bundle folder (absolute; written into the plan relative to the plan's folder). */
  previous?: string;
  /** Override the statement digest pinned for `previous` (forgery tests). */
  previousDigest?: string;
  version?: number;
  /** Files put into the plan's folder before the plan is written (wrapping keys, import tokens). */
  files?: Record<string, Buffer | string>;
}

/** Writes the plan; returns its path. */
export function writeLifecyclePlan(env: TokenEnv, o: LifecyclePlan): string {
  const dir = path.join(env.work, `${o.id}-plan`);
  mkdirSync(dir, { recursive: true });
  for (const [name, data] of Object.entries(o.files ?? {})) writeFileSync(path.join(dir, name), data);
  const file = writePlan(env, o);
  const plan = JSON.parse(readFileSync(file, 'utf8'));
  if (o.ceremony) plan.ceremony = o.ceremony;
  if (o.previous) plan.previous = { bundle: path.relative(dir, o.previous), statementSha256: o.previousDigest ?? statementDigest(o.previous) };
  if (o.version !== undefined) plan.key.version = o.version;
  writeFileSync(file, JSON.stringify(plan, null, 2));
  return file;
}

/** Runs one ceremony of the lineage (rehearsal, --ack-all, confirmations from the sheets) into outDir. */
export async function runLifecycle(env: TokenEnv, o: LifecyclePlan & { outDir?: string }): Promise<{ bundleDir: string; statementSha256: string; sharesOut: string }> {
  const planFile = writeLifecyclePlan(env, o);
  const outDir = o.outDir ?? path.join(env.work, 'bundles');
  const sharesOut = path.join(env.work, `${o.id}-shares-${Math.random().toString(36).slice(2, 8)}`);
  const r = await runHeadlessCeremony(
    { planFile, outDir, sharesOut, confirmFrom: sharesOut, ackAll: true, rehearsal: true, frontEnd: 'cli', pin: PIN, quiet: true },
    captureIO(),
  );
  return { bundleDir: r.bundleDir, statementSha256: statementDigest(r.bundleDir)!, sharesOut };
}
