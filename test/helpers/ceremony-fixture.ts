/**
 * Real ceremonies for tests: a SoftHSM sandbox with a token made for this run, a plan written to
 * disk, and the headless runner the CLI uses. SOFTHSM2_CONF is set in this process before any
 * module is loaded, so every test file that uses it gets its own tokens.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { pinExports } from './plan-pins.ts';
import os from 'node:os';
import path from 'node:path';
import type { CliIO } from '../../electron/cli/command.ts';
import { runHeadlessCeremony, type HeadlessRunResult } from '../../electron/cli/ceremony-runner.ts';
import { createSoftHsmSandbox, type SoftHsmSandbox } from '../../electron/core/hsm/softhsm.ts';
import type { RootAlgorithm } from '../../electron/core/hsm/types.ts';

export const PIN = '731904';

export interface CapturedIO extends CliIO {
  out: string[];
  err: string[];
}

export function captureIO(opts: { stdin?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): CapturedIO {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    readStdin: async () => opts.stdin ?? '',
    stdinIsTTY: false,
    promptSecret: async () => {
      throw new Error('no terminal in tests');
    },
    prompt: async () => {
      throw new Error('no terminal in tests');
    },
    env: opts.env ?? process.env,
    cwd: opts.cwd ?? process.cwd(),
  };
}

export interface TokenEnv {
  sandbox: SoftHsmSandbox;
  tokenLabel: string;
  serial: string;
  work: string;
}

/** A sandbox with one token; sets SOFTHSM2_CONF for this process. Call once per test file. */
export function makeTokenEnv(tokenLabel = 'ceremony-token', extraTokens: string[] = []): TokenEnv {
  const sandbox = createSoftHsmSandbox();
  const serial = sandbox.initToken(tokenLabel, PIN);
  for (const t of extraTokens) sandbox.initToken(t, PIN);
  process.env.SOFTHSM2_CONF = sandbox.confPath;
  const work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-test-'));
  return { sandbox, tokenLabel, serial, work };
}

export interface PlanOptions {
  id: string;
  algorithm: RootAlgorithm;
  label?: string;
  groupThreshold?: number;
  groups?: { threshold: number; count: number }[];
  passphrase?: boolean;
  exports?: unknown[];
  steps?: boolean;
  seal?: boolean;
}

/** Writes plan.json into work/<id>-plan/ and returns its path. */
export function writePlan(env: TokenEnv, o: PlanOptions): string {
  const groups = o.groups ?? [{ threshold: 2, count: 3 }];
  let n = 0;
  const custodianGroups = groups.map((g) => Array.from({ length: g.count }, () => `c${++n}`));
  const plan = {
    version: 1,
    id: o.id,
    title: `Test ceremony ${o.id}`,
    participants: [
      { id: 'ada', name: 'Ada Admin', role: 'administrator' },
      { id: 'wes', name: 'Wes Witness', role: 'witness' },
      ...custodianGroups.flat().map((c) => ({ id: c, name: `Custodian ${c.toUpperCase()}`, role: 'custodian' })),
    ],
    hsm: { module: env.sandbox.module, tokenLabel: env.tokenLabel },
    key: { label: o.label ?? `${o.id}-root`, algorithm: o.algorithm, sealAfterExport: o.seal ?? false },
    backup: {
      groupThreshold: o.groupThreshold ?? 1,
      groups: groups.map((g, i) => ({ threshold: g.threshold, custodians: custodianGroups[i] })),
      iterationExponent: 0,
      passphrase: o.passphrase ?? false,
    },
    exports: [] as unknown[],
    steps: o.steps === false ? [] : [{ id: 'room', text: 'The room is sealed.', ackBy: ['wes'] }],
  };
  const dir = path.join(env.work, `${o.id}-plan`);
  mkdirSync(dir, { recursive: true });
  // docs/plan.md pins: the digests of the files the test put into the plan's folder.
  plan.exports = pinExports(dir, o.exports);
  const file = path.join(dir, 'plan.json');
  writeFileSync(file, JSON.stringify(plan, null, 2));
  return file;
}

export interface RunOutcome extends HeadlessRunResult {
  outDir: string;
  sharesOut: string;
  io: CapturedIO;
}

/** Runs a whole headless ceremony (rehearsal: --ack-all, confirmations from the written sheets). */
export async function runCeremony(env: TokenEnv, o: PlanOptions & { passphraseValue?: string }): Promise<RunOutcome> {
  const planFile = writePlan(env, o);
  const outDir = path.join(env.work, 'bundles');
  const sharesOut = path.join(env.work, `${o.id}-shares`);
  mkdirSync(sharesOut, { recursive: true });
  const io = captureIO({ env: { ...process.env, TEST_PASSPHRASE: o.passphraseValue ?? '' } });
  const r = await runHeadlessCeremony(
    {
      planFile,
      outDir,
      sharesOut,
      confirmFrom: sharesOut,
      ackAll: true,
      rehearsal: true,
      frontEnd: 'cli',
      pin: PIN,
      passphraseEnv: o.passphrase ? 'TEST_PASSPHRASE' : undefined,
      quiet: true,
    },
    io,
  );
  return { ...r, outDir, sharesOut, io };
}

export function writeFile(file: string, data: string | Buffer): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, data);
}
