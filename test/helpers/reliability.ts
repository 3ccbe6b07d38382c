/** Small plans, token inspection and a captured CLI for the reliability tests and the benchmark. */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { pinTarget } from './plan-pins.ts';
import path from 'node:path';
import type { Plan } from '../../electron/core/ceremony/plan.ts';
import { openModule } from '../../electron/core/hsm/index.ts';
import type { ObjectInfo, RootAlgorithm } from '../../electron/core/hsm/types.ts';
import type { CliIO } from '../../electron/cli/command.ts';
import { main } from '../../electron/cli/keyrite.ts';

export interface SmallPlanOptions {
  id: string;
  module: string;
  tokenLabel: string;
  algorithm?: RootAlgorithm;
  custodians?: number;
  threshold?: number;
  /** key.sealAfterExport as written; 'default' leaves it out (the plan's default, true). */
  seal?: boolean | 'default';
  /** Adds one AWS export (two-step RSA-AES wrap) with a fresh 2048-bit wrapping key. */
  awsExport?: boolean;
  /** The AWS export's wrapping key (SPKI PEM) instead of a fresh one, e.g. a stand-in KMS's. */
  awsWrappingKeyPem?: string;
  passphrase?: boolean;
}

/** Writes DIR/plan.json: ec-p256, 2-of-3, iteration exponent 0, no steps; returns its path. */
export function writeSmallPlan(dir: string, o: SmallPlanOptions): string {
  mkdirSync(dir, { recursive: true });
  const n = o.custodians ?? 3;
  const custodians = Array.from({ length: n }, (_, i) => `c${i + 1}`);
  const exports: Plan['exports'] = [];
  if (o.awsExport) {
    const pem = o.awsWrappingKeyPem ?? (generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string);
    writeFileSync(path.join(dir, 'aws-wrap.pem'), pem);
    writeFileSync(path.join(dir, 'ImportToken.bin'), Buffer.from('test import token'));
    exports.push(pinTarget(dir, { name: 'aws', kind: 'aws-kms', wrappingKey: 'aws-wrap.pem', importToken: 'ImportToken.bin', algorithm: 'RSA_AES_KEY_WRAP_SHA_1' } as Plan['exports'][number]));
  }
  const plan = {
    version: 1,
    id: o.id,
    title: `reliability ${o.id}`,
    participants: [
      { id: 'ada', name: 'Ada Admin', role: 'administrator' },
      { id: 'wes', name: 'Wes Witness', role: 'witness' },
      ...custodians.map((c) => ({ id: c, name: `Custodian ${c}`, role: 'custodian' })),
    ],
    hsm: { module: o.module, tokenLabel: o.tokenLabel },
    key: { label: `${o.id}-root`, algorithm: o.algorithm ?? 'ec-p256', ...(o.seal === 'default' ? {} : { sealAfterExport: o.seal ?? false }) },
    backup: { groupThreshold: 1, groups: [{ threshold: o.threshold ?? 2, custodians }], iterationExponent: 0, passphrase: o.passphrase ?? false },
    exports,
  };
  const file = path.join(dir, 'plan.json');
  writeFileSync(file, JSON.stringify(plan, null, 2) + '\n');
  return file;
}

/** Labels of every object a ceremony with this plan id can create on the token. */
export function ceremonyLabels(id: string): string[] {
  return [`${id}-root`, `keyrite-signer:${id}`];
}

/** Objects on the token with any of these labels, seen through a fresh session of the real layer. */
export function tokenObjects(module: string, tokenLabel: string, pin: string, labels: string[]): ObjectInfo[] {
  const mod = openModule(module);
  try {
    const s = mod.login({ label: tokenLabel }, pin);
    try {
      return labels.flatMap((label) => s.findObjects({ label }));
    } finally {
      s.close();
    }
  } finally {
    mod.close();
  }
}

export interface CapturedRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI in this process (no process start), with captured output and no terminal. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Promise<CapturedRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    readStdin: async () => '',
    stdinIsTTY: false,
    promptSecret: async () => {
      throw new Error('no terminal');
    },
    prompt: async () => {
      throw new Error('no terminal');
    },
    env,
    cwd,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}
