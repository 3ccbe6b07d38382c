/**
 * What the opencryptoki and tpm2-pkcs11 integration tests share: the real `keyrite` binary as a
 * child process (optionally inside a sandbox's namespaces), a ceremony per algorithm judged
 * "completed, or refused before any token object exists", the state a crash right after the
 * signer's key generation leaves (for `ceremony abort`), and the record of what each token did.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TranscriptWriter } from '../../electron/core/transcript/writer.ts';
import type { TokenInfo, ModuleInfo, RootAlgorithm } from '../../electron/core/hsm/types.ts';
import { writeSmallPlan } from './reliability.ts';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(REPO, 'bin', 'keyrite.mjs');
export const ALGORITHMS: RootAlgorithm[] = ['aes-256', 'ec-p256', 'ec-p384', 'rsa-3072', 'rsa-4096', 'ed25519'];

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliHost {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Wraps argv to run inside a sandbox's namespaces (opencryptoki); identity otherwise. */
  wrap?: (argv: string[], cwd: string) => string[];
}

/** The real binary, as a user runs it; bounded so a hung token cannot hang the suite. */
export function keyrite(host: CliHost, args: string[], extraEnv: Record<string, string> = {}, input = ''): CliRun {
  const argv = [process.execPath, BIN, ...args];
  const [cmd, ...rest] = host.wrap ? host.wrap(argv, host.cwd) : argv;
  const r = spawnSync(cmd!, rest, { env: { ...host.env, ...extraEnv }, cwd: host.cwd, encoding: 'utf8', input, timeout: 180_000, killSignal: 'SIGKILL' });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** A one-line `keyrite: error:` message and no stack trace; returns the line. */
export function oneErrorLine(r: CliRun): string {
  const lines = r.stderr.trim().split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 1 || !lines[0]!.startsWith('keyrite: error: ') || /\n\s+at /.test(r.stderr))
    throw new Error(`expected one 'keyrite: error:' line, got:\n${r.stderr}`);
  return lines[0]!;
}

export interface CeremonyAttempt {
  algorithm: RootAlgorithm;
  outcome: 'completed' | 'refused';
  code: number | null;
  /** The refusal line, or verify's verdict. */
  message: string;
  bundle: string;
  objectsBefore: string[];
  objectsAfter: string[];
}

/** Runs `ceremony run` for a small plan (no exports unless asked) on the token; counts objects around it. */
export function attemptCeremony(
  host: CliHost,
  o: { work: string; module: string; tokenLabel: string; pin: string; algorithm: RootAlgorithm; id: string; objectLabels: () => string[]; awsExport?: boolean },
): CeremonyAttempt {
  const dir = path.join(o.work, o.id);
  const plan = writeSmallPlan(dir, { id: o.id, module: o.module, tokenLabel: o.tokenLabel, algorithm: o.algorithm, awsExport: o.awsExport });
  const shares = path.join(dir, 'shares');
  mkdirSync(shares, { recursive: true });
  const out = path.join(dir, 'out');
  const objectsBefore = o.objectLabels();
  const r = keyrite(host, ['ceremony', 'run', '--rehearsal', '--plan', plan, '--out', out, '--shares-out', shares, '--confirm-from', shares, '--ack-all', '--pin-env', 'KR_PIN'], { KR_PIN: o.pin });
  const objectsAfter = o.objectLabels();
  const bundle = path.join(out, o.id);
  if (r.code === 0) {
    const v = keyrite(host, ['verify', '--json', bundle]);
    let verdict: string;
    try {
      verdict = String((JSON.parse(v.stdout) as { verdict: unknown }).verdict);
    } catch {
      verdict = `verify exit ${v.code}: ${v.stdout}${v.stderr}`;
    }
    return { algorithm: o.algorithm, outcome: 'completed', code: r.code, message: verdict, bundle, objectsBefore, objectsAfter };
  }
  return { algorithm: o.algorithm, outcome: 'refused', code: r.code, message: r.stderr.trim(), bundle, objectsBefore, objectsAfter };
}

/** One line of `hsm list`'s per-token judgement: status word, capability, mechanism, detail. */
export interface ListedCapability {
  /** native / FALLBACK / REFUSED (older lists: usable / MISSING). */
  status: string;
  capability: string;
  mechanism: string;
  detail: string;
}

export interface ListedToken {
  capabilities: ListedCapability[];
  /** Per root algorithm: usable or REFUSED, and the reason (empty when `hsm list` does not judge algorithms). */
  algorithms: Record<string, { status: string; detail: string }>;
}

/** The block of `hsm list` output for the slot whose token has this label. */
function slotBlock(hsmListOut: string, tokenLabel: string): string | undefined {
  const esc = tokenLabel.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return hsmListOut.split(/\n(?=\s*slot \d+)/).find((b) => new RegExp(`token:\\s+'${esc}'`).test(b));
}

/** `hsm list`'s judgement of one token: capability rows, then each root algorithm. */
export function listedToken(hsmListOut: string, tokenLabel: string): ListedToken {
  const out: ListedToken = { capabilities: [], algorithms: {} };
  const block = slotBlock(hsmListOut, tokenLabel);
  if (!block) return out;
  let inAlgorithms = false;
  for (const line of block.split('\n')) {
    if (/^\s{4}root algorithms:/.test(line)) inAlgorithms = true;
    if (inAlgorithms) {
      const a = /^\s{6}(usable|REFUSED)\s+(\S+)\s+(.*)$/.exec(line);
      if (a) out.algorithms[a[2]!] = { status: a[1]!, detail: a[3]!.trim() };
      continue;
    }
    // capability rows: "native    kcv                   CKM_AES_ECB: detail"
    const c = /^\s{6}(native|FALLBACK|REFUSED)\s+(\S(?:.*?\S)?)\s{2,}(\S[^:]*): (.*)$/.exec(line);
    if (c) {
      out.capabilities.push({ status: c[1]!, capability: c[2]!, mechanism: c[3]!, detail: c[4]!.trim() });
      continue;
    }
    // older mechanism rows: "usable   CKM_AES_KEY_GEN   what it is for"
    const m = /^\s{4,}(usable|MISSING)\s{2,}((?:CKM_|C_)\S+(?: or CKM_\S+)*)\s{2,}(.*)$/.exec(line);
    if (m) out.capabilities.push({ status: m[1]!, capability: m[3]!.trim(), mechanism: m[2]!, detail: m[3]!.trim() });
  }
  return out;
}

/** Whether a listed status means the token can do it. */
export const isUsable = (status: string): boolean => /^(usable|native|FALLBACK)$/.test(status);

/**
 * `hsm list` and the ceremony preflight agree (issue 11): where the list judges the algorithm,
 * usable means the ceremony passed its preflight, REFUSED means it was refused for the same reason.
 * Where it only judges mechanisms (older lists), no mechanism the refusal names is listed usable.
 */
export function agreementProblems(listed: ListedToken, at: CeremonyAttempt): string[] {
  const problems: string[] = [];
  const alg = listed.algorithms[at.algorithm];
  if (alg) {
    if (alg.status === 'usable' && at.outcome === 'refused') problems.push(`hsm list says ${at.algorithm} is usable, the ceremony was refused: ${at.message}`);
    if (alg.status === 'REFUSED' && at.outcome === 'completed') problems.push(`hsm list refuses ${at.algorithm} (${alg.detail}), the ceremony completed`);
    if (alg.status === 'REFUSED' && at.outcome === 'refused' && !at.message.includes(alg.detail))
      problems.push(`hsm list refuses ${at.algorithm} with "${alg.detail}", the ceremony with "${at.message}"`);
    return problems;
  }
  for (const mech of new Set(at.message.match(/CKM_[A-Z0-9_]+/g) ?? [])) {
    const shown = listed.capabilities.filter((x) => x.mechanism.split(/ or | \+ /).includes(mech));
    if (shown.length && shown.every((x) => isUsable(x.status))) problems.push(`the refusal names ${mech}, hsm list shows it usable`);
  }
  return problems;
}

/**
 * The state a crash right after the signer's key generation leaves: a transcript that announced the
 * key (key.generating) on the token it selected, and the key on that token. No ceremony gets that
 * far on these tokens (preflight refuses them all), so the transcript is written with the real
 * writer from the token's real description, as the engine writes it.
 */
export function crashedBundle(o: { dir: string; id: string; module: ModuleInfo; token: TokenInfo; selectedBy: 'label' | 'label+serial' | 'label+serial+slot'; keyId: string }): { bundle: string; signerLabel: string } {
  const bundle = path.join(o.dir, o.id);
  mkdirSync(bundle, { recursive: true });
  const signerLabel = `keyrite-signer:${o.id}`;
  writeFileSync(path.join(bundle, 'plan.json'), JSON.stringify({ version: 1, id: o.id }) + '\n');
  const w = TranscriptWriter.create(path.join(bundle, 'transcript.jsonl'));
  try {
    w.append('ceremony.started', 'system', {
      ceremonyId: o.id,
      title: `crashed ${o.id}`,
      planSha256: '0'.repeat(64),
      app: { name: 'keyrite', version: 'test' },
      host: {},
      frontEnd: 'cli',
      rehearsal: true,
      participants: [{ id: 'ada', name: 'Ada Admin', role: 'administrator' }],
    } as never);
    const m = o.module;
    const t = o.token;
    w.append('hsm.selected', 'system', {
      module: { path: m.path, sha256: m.sha256, manufacturer: m.manufacturer, library: m.library, libraryVersion: m.libraryVersion, cryptokiVersion: m.cryptokiVersion },
      token: { label: t.label, manufacturer: t.manufacturer, model: t.model, serialNumber: t.serialNumber, firmware: t.firmware, flags: t.flags, slotId: t.slotId, selectedBy: o.selectedBy },
      mechanisms: [],
    } as never);
    w.append('hsm.logged-in', 'system', { tokenLabel: t.label, tokenSerial: t.serialNumber } as never);
    w.append('key.generating', 'system', { role: 'signer', label: signerLabel, id: o.keyId, algorithm: 'ec-p384' });
  } finally {
    w.close();
  }
  return { bundle, signerLabel };
}

/** What one token did, for docs/hsm-compat-observed.md: written when KEYRITE_COMPAT_OBSERVED names a folder. */
export function recordObserved(token: string, data: unknown): void {
  const dir = process.env.KEYRITE_COMPAT_OBSERVED;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${token}.json`), JSON.stringify(data, null, 2) + '\n');
}

/** The module's description and tokens, read by a child process on the host (see describe-module.ts). */
export function describeModule(host: CliHost, module: string): { info: ModuleInfo; tokens: TokenInfo[] } {
  const argv = [process.execPath, '--import', 'tsx', path.join(REPO, 'test', 'helpers', 'describe-module.ts'), module];
  // From the repository, where `--import tsx` resolves.
  const [cmd, ...rest] = host.wrap ? host.wrap(argv, REPO) : argv;
  const r = spawnSync(cmd!, rest, { env: host.env, cwd: REPO, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`describe-module ${module} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { info: ModuleInfo; tokens: TokenInfo[] };
}
