/**
 * `keyrite ceremony status`: what a ceremony did and did not do, read from its transcript alone
 * (the transcript is the journal: every step is on disk before the step is reported done).
 * plan.json, when it is readable, only adds what was planned but never started (steps, exports).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { OperationError, UsageError } from '../errors.ts';
import { sha256Hex } from '../transcript/chain.ts';
import { ENVELOPE_FILE, TRANSCRIPT_FILE } from '../transcript/dsse.ts';
import type { TranscriptEvent } from '../transcript/events.ts';
import { readTranscript } from '../transcript/read.ts';
import type { TokenSelectedBy } from '../hsm/types.ts';
import { notAKeyriteBundle } from '../util/bundle-dir.ts';

export type PhaseState = 'done' | 'started' | 'failed' | 'not done' | 'not planned';

export interface Phase {
  name: string;
  state: PhaseState;
  detail: string;
}

/** A key the transcript announced (key.generating): it may exist on the token. */
export interface AnnouncedKey {
  role: 'signer' | 'root';
  label: string;
  /** Hex CKA_ID. */
  id: string;
  algorithm: string;
  /** generated: the transcript records it made; announced: the run stopped during its generation; destroyed: removed by an abort. */
  state: 'announced' | 'generated' | 'destroyed';
}

export type Outcome = 'completed' | 'completed-unsigned' | 'aborted' | 'stopped' | 'not started';

export interface CeremonyStatus {
  bundleDir: string;
  ceremonyId?: string;
  title?: string;
  outcome: Outcome;
  /** One line, e.g. "stopped after backup.split (seq 14, 2026-…)". */
  summary: string;
  phases: Phase[];
  keys: AnnouncedKey[];
  /** The token the transcript names (hsm.selected). */
  token?: { modulePath: string; label: string; serialNumber: string; slotId?: string; selectedBy?: TokenSelectedBy; initArgs?: string };
  aborted?: { seq: number; step: string; reason: string };
  /** Whether transcript.dsse.json exists. */
  signed: boolean;
  /** Whether an abort's clean-up ran (ceremony.cleanup-completed). */
  cleanedUp: boolean;
  lastEvent?: { seq: number; type: string; time: string };
  events: TranscriptEvent[];
  /** Bytes of a final line whose write never finished (the process died while writing it). */
  tornTail?: { line: number; bytes: Buffer; offset: number };
}

/**
 * Reads BUNDLE's transcript. Throws UsageError (exit 2) when BUNDLE is not a folder, OperationError
 * (exit 1) when the transcript is missing, unreadable or its chain is broken, naming the line.
 * A torn last line is not an error: it is reported (`tornTail`) and left out.
 */
export function readCeremonyJournal(bundleDir: string): { events: TranscriptEvent[]; tornTail?: CeremonyStatus['tornTail']; head: string } {
  let isDir = false;
  try {
    isDir = statSync(bundleDir).isDirectory();
  } catch {
    throw new UsageError(`bundle ${bundleDir} does not exist`);
  }
  if (!isDir) throw new UsageError(`bundle ${bundleDir} is not a folder`);
  const file = path.join(bundleDir, TRANSCRIPT_FILE);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    // No transcript at all is the wrong folder (exit 2, as verify and report say); an unreadable one is a failure.
    if (code === 'ENOENT') throw notAKeyriteBundle(bundleDir);
    throw new OperationError(`${file} cannot be read (${code}); without it nothing can be said about this ceremony`);
  }
  // A line that does not end with "\n" is an event whose write never finished: set it aside.
  const end = bytes.lastIndexOf(0x0a) + 1;
  const tail = bytes.subarray(end);
  const whole = readTranscript(bytes.subarray(0, end));
  if (whole.problems.length) throw new OperationError(`${file}: ${whole.problems[0].detail}${whole.problems.length > 1 ? ` (and ${whole.problems.length - 1} more problems)` : ''}`);
  if (whole.events.length === 0 && tail.length === 0) throw new OperationError(`${file} is empty`);
  const tornTail = tail.length ? { line: whole.lines.length + 1, bytes: Buffer.from(tail), offset: end } : undefined;
  return { events: whole.events, tornTail, head: whole.head };
}

interface PlanView {
  steps: { id: string }[];
  exports: { name: string }[];
  sealAfterExport?: boolean;
}

/** The bundle's plan.json, when it is the plan ceremony.started names; else undefined. */
function readPlanView(bundleDir: string, planSha256: unknown): PlanView | undefined {
  try {
    const bytes = readFileSync(path.join(bundleDir, 'plan.json'));
    if (sha256Hex(bytes) !== planSha256) return undefined;
    const p = JSON.parse(bytes.toString('utf8')) as { steps?: { id: string }[]; exports?: { name: string }[]; key?: { sealAfterExport?: boolean } };
    return { steps: Array.isArray(p.steps) ? p.steps : [], exports: Array.isArray(p.exports) ? p.exports : [], sealAfterExport: p.key?.sealAfterExport };
  } catch {
    return undefined;
  }
}

const str = (v: unknown): string => (typeof v === 'string' ? v : String(v ?? ''));

export function ceremonyStatus(bundleDir: string): CeremonyStatus {
  const { events, tornTail } = readCeremonyJournal(bundleDir);
  const of = (t: string) => events.filter((e) => e.type === t);
  const first = (t: string) => events.find((e) => e.type === t);
  const started = first('ceremony.started');
  const plan = started ? readPlanView(bundleDir, started.data.planSha256) : undefined;
  const abortedEv = first('ceremony.aborted');
  const completed = first('ceremony.completed');
  const signed = existsSync(path.join(bundleDir, ENVELOPE_FILE));
  const stopped = Boolean(abortedEv || completed);
  const phases: Phase[] = [];
  const add = (name: string, state: PhaseState, detail: string) => phases.push({ name, state, detail });
  const at = (e: TranscriptEvent) => `seq ${e.seq}, ${e.time}`;
  /** A phase that was begun (announce) and maybe finished (done); failed when the run aborted during it. */
  const phase = (name: string, done: TranscriptEvent | undefined, begun: TranscriptEvent | undefined, detail: (e: TranscriptEvent) => string) => {
    if (done) add(name, 'done', `${detail(done)} (${at(done)})`);
    else if (begun) add(name, abortedEv ? 'failed' : 'started', `begun (${at(begun)}) but never finished`);
    else add(name, 'not done', '');
  };

  if (started) add('started', 'done', `ceremony '${str(started.data.ceremonyId)}' (${at(started)})`);
  else add('started', 'not done', 'the transcript has no ceremony.started');
  const sel = first('hsm.selected');
  const token = sel
    ? {
        modulePath: str((sel.data.module as Record<string, unknown>)?.path),
        label: str((sel.data.token as Record<string, unknown>)?.label),
        serialNumber: str((sel.data.token as Record<string, unknown>)?.serialNumber),
        ...recordedSelection(sel.data as Record<string, unknown>),
      }
    : undefined;
  if (token)
    add('token selected', 'done', `token '${token.label}' serial ${token.serialNumber}${token.slotId !== undefined ? ` slot ${token.slotId}` : ''} in ${token.modulePath} (${at(sel!)})`);
  else add('token selected', 'not done', '');
  const login = first('hsm.logged-in');
  phase('logged in', login, undefined, () => `logged in to token '${str(login?.data.tokenLabel)}'`);

  const acked = new Set(of('step.acknowledged').map((e) => str(e.data.step)));
  for (const s of plan?.steps ?? []) add(`step '${s.id}'`, acked.has(s.id) ? 'done' : 'not done', acked.has(s.id) ? 'acknowledged' : '');
  if (!plan) for (const e of of('step.acknowledged')) add(`step '${str(e.data.step)}'`, 'done', `acknowledged (${at(e)})`);

  const generating = of('key.generating');
  const signerAnnounce = generating.find((e) => e.data.role === 'signer');
  const rootAnnounce = generating.find((e) => e.data.role === 'root');
  phase('signer key', first('signer.generated'), signerAnnounce, (e) => `'${str(e.data.label)}' keyid ${str(e.data.keyid)}`);
  phase('root key', first('key.generated'), rootAnnounce, (e) => `'${str(e.data.label)}' (${str(e.data.algorithm)}) id ${str(e.data.id)}`);
  const verified = first('key.verified');
  const verifiedOk = verified && Array.isArray(verified.data.checks) && (verified.data.checks as { ok: boolean }[]).every((c) => c.ok);
  if (verified) add('root key verified', verifiedOk ? 'done' : 'failed', `${verifiedOk ? 'attributes and signature checked' : 'a check failed'} (${at(verified)})`);
  else phase('root key verified', undefined, undefined, () => '');

  const split = first('backup.split');
  const wrapped = first('backup.wrapped');
  phase('backup split', split, undefined, (e) => `SLIP-39 set ${str(e.data.identifier)}, ${(e.data.shares as unknown[])?.length ?? 0} shares`);
  phase('backup wrapped', wrapped, split, (e) => `root wrapped with ${str(e.data.mechanism)}`);
  const shares = Array.isArray(split?.data.shares) ? (split!.data.shares as { group: number; member: number; custodian: string }[]) : [];
  const find = (t: string, s: { group: number; member: number }) => of(t).find((e) => e.data.group === s.group && e.data.member === s.member);
  for (const s of shares) {
    const p = find('share.printed', s);
    add(`sheet ${s.group}-${s.member} (${s.custodian}) printed`, p ? 'done' : 'not done', p ? at(p) : '');
  }
  for (const s of shares) {
    const c = find('share.confirmed', s);
    add(`share ${s.group}-${s.member} (${s.custodian}) confirmed`, c ? 'done' : 'not done', c ? `${str(c.data.method)} (${at(c)})` : '');
  }
  const tested = of('backup.recovery-tested').at(-1);
  if (tested) add('recovery test', tested.data.ok === true ? 'done' : 'failed', `${str(tested.data.detail)} (${at(tested)})`);
  else add('recovery test', 'not done', '');

  const made = of('export.created');
  const names = plan ? plan.exports.map((e) => e.name) : made.map((e) => str(e.data.target));
  if (plan && plan.exports.length === 0) add('exports', 'not planned', 'the plan has no exports');
  for (const n of names) {
    const e = made.find((x) => x.data.target === n);
    add(`export '${n}'`, e ? 'done' : 'not done', e ? `${str(e.data.kind)} ${str(e.data.algorithm)} (${at(e)})` : '');
  }
  const sealed = first('key.sealed');
  if (sealed) add('root sealed', sealed.data.extractable === false ? 'done' : 'failed', `extractable ${String(sealed.data.extractable)} (${at(sealed)})`);
  else add('root sealed', plan?.sealAfterExport === false ? 'not planned' : 'not done', plan?.sealAfterExport === false ? 'the plan keeps the root extractable' : '');
  if (completed) add('completed', 'done', at(completed));
  else add('completed', 'not done', '');
  add('signed', signed ? 'done' : 'not done', signed ? ENVELOPE_FILE : `no ${ENVELOPE_FILE}`);
  if (abortedEv) add('aborted', 'done', `at step '${str(abortedEv.data.step)}': ${str(abortedEv.data.reason)} (${at(abortedEv)})`);
  const cleanup = first('ceremony.cleanup-completed');
  if (abortedEv) add('keys removed from the token', cleanup ? 'done' : 'not done', cleanup ? `${str(cleanup.data.destroyed)} object(s) (${at(cleanup)})` : '`keyrite ceremony abort` has not cleaned up yet');

  const destroyed = new Set(of('key.destroyed').map((e) => `${str(e.data.label)}\0${str(e.data.id)}`));
  const pendingAfterSigning = Array.isArray(cleanup?.data.afterSigning) ? (cleanup!.data.afterSigning as { label: string; id: string }[]) : [];
  for (const p of pendingAfterSigning) destroyed.add(`${p.label}\0${p.id}`);
  const keys: AnnouncedKey[] = generating.map((e) => {
    const role = e.data.role === 'root' ? 'root' : 'signer';
    const label = str(e.data.label);
    const id = str(e.data.id);
    const made = role === 'signer' ? of('signer.generated').some((g) => g.data.id === id) : of('key.generated').some((g) => g.data.id === id);
    return { role, label, id, algorithm: str(e.data.algorithm), state: destroyed.has(`${label}\0${id}`) ? 'destroyed' : made ? 'generated' : 'announced' };
  });

  const last = events.at(-1);
  const outcome: Outcome = abortedEv ? 'aborted' : completed ? (signed ? 'completed' : 'completed-unsigned') : started ? 'stopped' : 'not started';
  const summary =
    outcome === 'completed'
      ? `completed and signed (${last ? at(last) : ''})`
      : outcome === 'completed-unsigned'
        ? `completed (seq ${completed!.seq}) but never signed: ${ENVELOPE_FILE} is missing`
        : outcome === 'aborted'
          ? `aborted at step '${str(abortedEv!.data.step)}' (seq ${abortedEv!.seq}): ${str(abortedEv!.data.reason)}`
          : last
            ? `stopped after ${last.type} (${at(last)}); it did not finish`
            : 'no events';
  return {
    bundleDir,
    ceremonyId: started ? str(started.data.ceremonyId) : undefined,
    title: started ? str(started.data.title) : undefined,
    outcome,
    summary: tornTail ? `${summary}; line ${tornTail.line} was being written when the run stopped (${tornTail.bytes.length} bytes, not an event)` : summary,
    phases,
    keys,
    token,
    aborted: abortedEv ? { seq: abortedEv.seq, step: str(abortedEv.data.step), reason: str(abortedEv.data.reason) } : undefined,
    signed,
    cleanedUp: Boolean(cleanup) && stopped,
    lastEvent: last ? { seq: last.seq, type: last.type, time: last.time } : undefined,
    events,
    tornTail,
  };
}

const MARK: Record<PhaseState, string> = { done: 'done    ', started: 'STARTED ', failed: 'FAILED  ', 'not done': 'not done', 'not planned': 'n/a     ' };

/** The report `ceremony status` prints. */
export function formatStatus(s: CeremonyStatus): string {
  const out: string[] = [];
  out.push(`Ceremony ${s.ceremonyId ?? '(unknown)'}${s.title ? ` — ${s.title}` : ''}`);
  out.push(`Bundle:  ${s.bundleDir}`);
  out.push(`Status:  ${s.summary}`);
  if (s.token) out.push(`Token:   '${s.token.label}' serial ${s.token.serialNumber} (${s.token.modulePath})`);
  out.push('');
  const w = Math.max(...s.phases.map((p) => p.name.length));
  for (const p of s.phases) out.push(`  ${MARK[p.state]}  ${p.name.padEnd(w)}  ${p.detail}`.trimEnd());
  out.push('');
  if (s.keys.length === 0) out.push('Keys the transcript announced: none (nothing of this ceremony can be on the token)');
  else {
    out.push('Keys the transcript announced (key.generating), private and public halves share label and id:');
    for (const k of s.keys) {
      const state = k.state === 'generated' ? 'created' : k.state === 'destroyed' ? 'removed by abort' : 'generation begun; may exist on the token';
      out.push(`  ${k.role.padEnd(6)}  '${k.label}'  id ${k.id}  ${k.algorithm}  (${state})`);
    }
  }
  const live = s.keys.some((k) => k.state !== 'destroyed');
  if (s.outcome === 'stopped' || (s.outcome === 'aborted' && !s.cleanedUp && live)) {
    out.push('');
    // Once the abort is on record, what is left to do is the token clean-up, not recording it again.
    out.push(
      s.outcome === 'aborted'
        ? `Next: \`keyrite ceremony abort ${s.bundleDir}\` removes these keys from the token (the abort itself is already recorded).`
        : `Next: \`keyrite ceremony abort ${s.bundleDir} --reason TEXT\` records the abort${live ? ' and removes these keys from the token' : ''}.`,
    );
  }
  return out.join('\n') + '\n';
}

/** Slot, how the token was told apart, and the module's initialisation arguments, as hsm.selected recorded them. */
function recordedSelection(data: Record<string, unknown>): { slotId?: string; selectedBy?: TokenSelectedBy; initArgs?: string } {
  const t = (data.token ?? {}) as Record<string, unknown>;
  const m = (data.module ?? {}) as Record<string, unknown>;
  const out: { slotId?: string; selectedBy?: TokenSelectedBy; initArgs?: string } = {};
  if (typeof t.slotId === 'string') out.slotId = t.slotId;
  if (t.selectedBy === 'label' || t.selectedBy === 'label+serial' || t.selectedBy === 'label+serial+slot') out.selectedBy = t.selectedBy;
  if (typeof m.initArgs === 'string') out.initArgs = m.initArgs;
  return out;
}
