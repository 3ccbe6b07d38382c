/**
 * Shared pieces of the recovery tests: a ceremony run headless on a real SoftHSM token (no exports,
 * so it is quick), the CLI run in this process or as a real child process, and pkcs11-tool's view
 * of a token (independent of Keyrite) for "nothing changed" checks.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runHeadlessCeremony } from '../../electron/cli/ceremony-runner.ts';
import type { CliIO } from '../../electron/cli/command.ts';
import { main } from '../../electron/cli/keyrite.ts';
import type { RootAlgorithm } from '../../electron/core/hsm/types.ts';
import type { SoftHsmSandbox } from '../../electron/core/hsm/softhsm.ts';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const KEYRITE = path.join(REPO, 'bin', 'keyrite.mjs');

export interface CeremonyFixture {
  bundle: string;
  /** Share mnemonics in custodian order (group 1 member 1, ...). */
  shares: string[];
  label: string;
  algorithm: RootAlgorithm;
}

export async function runCeremony(
  sb: SoftHsmSandbox,
  work: string,
  o: { id: string; algorithm: RootAlgorithm; tokenLabel: string; pin: string; passphrase?: string; threshold?: number; count?: number; seal?: boolean },
): Promise<CeremonyFixture> {
  const dir = path.join(work, o.id);
  const count = o.count ?? 3;
  const custodians = Array.from({ length: count }, (_, i) => `c${i + 1}`);
  const plan = {
    version: 1,
    id: o.id,
    title: `Recovery test ${o.algorithm}`,
    participants: [
      { id: 'ada', name: 'Ada Admin', role: 'administrator' },
      { id: 'wes', name: 'Wes Witness', role: 'witness' },
      ...custodians.map((id, i) => ({ id, name: `Custodian ${i + 1}`, role: 'custodian' })),
    ],
    hsm: { module: sb.module, tokenLabel: o.tokenLabel },
    key: { label: `${o.id}-root`, algorithm: o.algorithm, sealAfterExport: o.seal ?? true },
    backup: { groupThreshold: 1, groups: [{ threshold: o.threshold ?? 2, custodians }], iterationExponent: 0, passphrase: o.passphrase !== undefined },
    exports: [],
  };
  const planDir = path.join(dir, 'plan');
  mkdirSync(planDir, { recursive: true });
  const planFile = path.join(planDir, 'plan.json');
  writeFileSync(planFile, JSON.stringify(plan, null, 2));
  const sharesOut = path.join(dir, 'shares');
  mkdirSync(sharesOut, { recursive: true });
  const { io } = captureIO({ env: { KR_TEST_PASSPHRASE: o.passphrase ?? '' } });
  const r = await runHeadlessCeremony(
    {
      planFile,
      outDir: path.join(dir, 'out'),
      sharesOut,
      confirmFrom: sharesOut,
      ackAll: true,
      rehearsal: true,
      frontEnd: 'cli',
      pin: o.pin,
      passphraseEnv: o.passphrase !== undefined ? 'KR_TEST_PASSPHRASE' : undefined,
      quiet: true,
    },
    io,
  );
  const shares = readdirSync(sharesOut)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => readFileSync(path.join(sharesOut, f), 'utf8').trim());
  return { bundle: r.bundleDir, shares, label: `${o.id}-root`, algorithm: o.algorithm };
}

export function captureIO(o: { stdin?: string; env?: Record<string, string> } = {}): { io: CliIO; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    readStdin: async () => o.stdin ?? '',
    stdinIsTTY: false,
    promptSecret: async () => {
      throw new Error('no terminal in tests');
    },
    prompt: async () => {
      throw new Error('no terminal in tests');
    },
    env: { ...process.env, ...o.env },
    cwd: REPO,
  };
  return { io, out, err };
}

/** The CLI in this process (fast): exit status, stdout and stderr. */
export async function cli(args: string[], o: { stdin?: string; env?: Record<string, string> } = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  const { io, out, err } = captureIO(o);
  const status = await main(args, io);
  return { status, stdout: out.join(''), stderr: err.join('') };
}

/** The CLI as a real child process (bin/keyrite.mjs), with real standard input. */
export function cliProcess(sb: SoftHsmSandbox, args: string[], o: { stdin?: string; env?: Record<string, string> } = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [KEYRITE, ...args], { input: o.stdin ?? '', env: { ...sb.env, ...o.env }, encoding: 'utf8', cwd: REPO });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Every object on the token as pkcs11-tool lists it after login (no Keyrite code). */
export function tokenObjects(sb: SoftHsmSandbox, tokenLabel: string, pin: string): string[] {
  const out = execFileSync('pkcs11-tool', ['--module', sb.module, '--token-label', tokenLabel, '--login', '--pin', pin, '--list-objects'], { env: sb.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out.split('\n').filter((l) => /^(Private Key|Public Key|Secret Key|Data|Certificate) Object/.test(l));
}

export function pkcs11Tool(sb: SoftHsmSandbox, args: string[]): string {
  return execFileSync('pkcs11-tool', ['--module', sb.module, ...args], { env: sb.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function openssl(args: string[], input?: Buffer | string): Buffer {
  return execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'] });
}
