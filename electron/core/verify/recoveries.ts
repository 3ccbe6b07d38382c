/**
 * Recoveries (docs/policy.md): BUNDLE/recoveries/<time>/, each with its own transcript and envelope. A
 * recovery is outside the ceremony's signed statement, so it must prove on its own which ceremony it
 * restored (id, chain head and statement digest), that it used a threshold set of that ceremony's
 * shares, that the key it restored is that ceremony's root, and who vouches for it: a signature by
 * the recovered root, or by a key the plan or the policy registered. A recovery signed only by a
 * key made during the recovery proves nothing by itself: it is UNAUTHENTICATED.
 */
import path from 'node:path';
import { RECOVERIES_DIR, RECOVERY_PREDICATE_TYPE } from '../transcript/dsse.ts';
import type { TranscriptEvent } from '../transcript/events.ts';
import { checkStatementChain, checkTranscript } from './chain.ts';
import { Checklist, fail, get, plural, short, type VerifyCheck } from './checklist.ts';
import { eventsOf, newContext, type FolderContext, type RootFacts } from './context.ts';
import { checkCosignatures } from './cosign.ts';
import { checkEnvelope, unsignedLine } from './envelope.ts';
import { checkCompleted, thresholdProblem } from './events.ts';
import { checkSubjects } from './files.ts';
import { entryAt, listDir, NO_LINKS } from './folder.ts';
import { conclude } from './verdict.ts';

export type RecoveryVerdict = 'VALID' | 'UNAUTHENTICATED' | 'INVALID' | string;

export interface RecoveryVerifyResult {
  /** Path relative to the bundle, e.g. "recoveries/2027-03-01T10-00-00.000Z". */
  path: string;
  /** Sound: complete, and every check but recovery.authenticated passed. */
  valid: boolean;
  /** Signed by the recovered root or by a registered key. */
  authenticated: boolean;
  complete: boolean;
  lastStep?: string;
  /** VALID, UNAUTHENTICATED, INVALID, or "INCOMPLETE: <why>". */
  verdict: RecoveryVerdict;
  checks: VerifyCheck[];
}

/** What a recovery is checked against: the ceremony bundle as verified. */
export interface RecoveredCeremony {
  ceremonyId?: string;
  /** The signed statement's chainHead (the transcript's head when there is none). */
  chainHead?: string;
  statementSha256?: string;
  root?: RootFacts;
  split?: TranscriptEvent;
  plan: unknown;
  /** keyids whose signature authenticates a recovery, with where they come from ("plan", "policy"). */
  knownKeys: Map<string, string>;
}

const AUTH = new Set(['recovery.authenticated']);

export function verifyRecoveries(dir: string, ceremony: RecoveredCeremony): { results: RecoveryVerifyResult[]; problems: string[] } {
  const results: RecoveryVerifyResult[] = [];
  const problems: string[] = [];
  // lstat, not stat: a recoveries that is a file, or a link to a folder elsewhere, is never read.
  const kind = entryAt(dir, RECOVERIES_DIR).kind;
  if (kind === 'missing') return { results, problems };
  if (kind === 'link') return { results, problems: [`${RECOVERIES_DIR} is a symbolic link; ${NO_LINKS}`] };
  if (kind !== 'dir') return { results, problems: [`${RECOVERIES_DIR} is not a folder`] };
  const base = path.join(dir, RECOVERIES_DIR);
  const entries = listDir(base).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // recoveries/ is unsigned: a copy of a real recovery under another name would read as a second recovery.
  const seen = new Map<string, string>();
  for (const e of entries) {
    const rel = `${RECOVERIES_DIR}/${e.name}`;
    if (e.isSymbolicLink()) problems.push(`${rel} is a symbolic link; ${NO_LINKS}`);
    else if (!e.isDirectory()) problems.push(`${rel} is not a recovery folder`);
    else {
      const { result, statementSha256 } = verifyRecoveryFolder(path.join(base, e.name), rel, ceremony);
      results.push(result);
      const first = statementSha256 && seen.get(statementSha256);
      if (first) problems.push(`${rel} is a copy of ${first} (the same signed recovery statement): one recovery, listed twice`);
      else if (statementSha256) seen.set(statementSha256, rel);
    }
  }
  return { results, problems };
}

/** Verifies one recovery folder against the ceremony it recovered; never throws. */
export function verifyRecovery(dir: string, rel: string, ceremony: RecoveredCeremony): RecoveryVerifyResult {
  return verifyRecoveryFolder(dir, rel, ceremony).result;
}

function verifyRecoveryFolder(dir: string, rel: string, ceremony: RecoveredCeremony): { result: RecoveryVerifyResult; statementSha256?: string } {
  const list = new Checklist();
  const ctx = newContext(dir, rel);
  const unsigned = unsignedLine(ctx, false);
  checkTranscript(ctx, list);
  checkEnvelope(ctx, list, RECOVERY_PREDICATE_TYPE, false);
  checkCosignatures(ctx, list, ceremony.plan, unsigned);
  checkSubjects(ctx, list, false, unsigned);
  checkStatementChain(ctx, list, unsigned);
  checkCeremonyLink(ctx, list, ceremony);
  checkRecoveryShares(ctx, list, ceremony);
  checkRecoveredRoot(ctx, list, ceremony);
  checkCompleted(ctx, list, 'recovery');
  checkAuthenticated(ctx, list, ceremony, unsigned);

  const r = conclude(list.checks, ctx, 'recovery.completed', 'recovery.aborted', AUTH);
  const authenticated = list.checks.find((c) => c.name === 'recovery.authenticated')?.ok === true;
  const verdict = r.valid && !authenticated ? 'UNAUTHENTICATED' : r.verdict;
  return { result: { path: rel, valid: r.valid, authenticated, complete: r.complete, lastStep: r.lastStep, verdict, checks: list.checks }, statementSha256: ctx.statementSha256 };
}

/** recovery.ceremony: recovery.started names this bundle's ceremony id, signed chain head and statement digest; nothing in the recovery names another ceremony. */
function checkCeremonyLink(ctx: FolderContext, list: Checklist, c: RecoveredCeremony): void {
  list.run('recovery.ceremony', () => {
    if (!c.ceremonyId) fail('the bundle names no ceremony to compare with');
    const first = ctx.events[0];
    if (!first || first.seq !== 0 || first.type !== 'recovery.started') fail('the first event is not recovery.started');
    const d = first.data;
    if (d.ceremonyId !== c.ceremonyId) fail(`recovery.started names ceremony ${String(d.ceremonyId)}, not ${c.ceremonyId}`);
    const wrong = ctx.events.find((e) => e.data.ceremonyId !== undefined && e.data.ceremonyId !== c.ceremonyId);
    if (wrong) fail(`${wrong.type} (seq ${wrong.seq}) names ceremony ${String(wrong.data.ceremonyId)}, not ${c.ceremonyId}`);
    if (ctx.statement && ctx.statement.predicate.ceremonyId !== c.ceremonyId) fail(`the statement names ceremony ${ctx.statement.predicate.ceremonyId}, not ${c.ceremonyId}`);
    if (d.ceremonyChainHead !== c.chainHead) fail(`recovery.started names chain head ${short(String(d.ceremonyChainHead))}, not the ceremony's ${short(String(c.chainHead))}`);
    const pHead = ctx.statement?.predicate.raw.ceremonyChainHead;
    if (pHead !== undefined && pHead !== c.chainHead) fail(`the statement names chain head ${short(String(pHead))}, not the ceremony's`);
    const named = get(d, 'ceremonyStatementSha256');
    if (c.statementSha256 !== undefined && named === undefined) fail(`recovery.started names no ceremonyStatementSha256; the ceremony's is ${short(c.statementSha256)}`);
    if (c.statementSha256 !== undefined && named !== c.statementSha256) fail(`recovery.started names statement ${short(String(named))}, not the ceremony's ${short(c.statementSha256)}`);
    return `recovery of ceremony ${c.ceremonyId}, chain head ${short(c.chainHead!)}${c.statementSha256 ? `, statement ${short(c.statementSha256)}` : ''}`;
  });
}

/** recovery.shares: each recovery.share-accepted is a share of the ceremony's backup.split (group, member, check value), and a recovery.kek-verified with backup.split's kekKcv used a threshold set of them before the key was restored. */
function checkRecoveryShares(ctx: FolderContext, list: Checklist, c: RecoveredCeremony): void {
  list.run('recovery.shares', () => {
    if (!c.split) fail('the bundle has no backup.split to compare with');
    const made = get(c.split!.data, 'shares');
    const accepted = eventsOf(ctx, 'recovery.share-accepted');
    if (accepted.length === 0) fail('no recovery.share-accepted event');
    const seen = new Set<string>();
    for (const ev of accepted) {
      const share = Array.isArray(made) ? made.find((s) => get(s, 'group') === ev.data.group && get(s, 'member') === ev.data.member) : undefined;
      if (!share) fail(`recovery.share-accepted (seq ${ev.seq}) is not a share of the ceremony's backup.split`);
      if (get(share, 'checkValue') !== ev.data.checkValue) fail(`recovery.share-accepted (seq ${ev.seq}) has another check value than the ceremony's share`);
      const key = `${ev.data.group}/${ev.data.member}`;
      if (seen.has(key)) fail(`recovery.share-accepted (seq ${ev.seq}) repeats group ${ev.data.group} member ${ev.data.member}`);
      seen.add(key);
    }
    const kek = eventsOf(ctx, 'recovery.kek-verified').filter((e) => e.data.ok === true);
    if (kek.length === 0) fail('no recovery.kek-verified event with ok true');
    const k = kek[0];
    if (k.data.kcv !== c.split!.data.kekKcv) fail(`recovery.kek-verified (seq ${k.seq}) kcv is not backup.split's kekKcv`);
    const shares = k.data.shares;
    if (Array.isArray(shares)) {
      for (const u of shares) if (!seen.has(`${get(u, 'group')}/${get(u, 'member')}`)) fail(`recovery.kek-verified (seq ${k.seq}) uses a share no recovery.share-accepted event accepted`);
    }
    const problem = thresholdProblem(`recovery.kek-verified (seq ${k.seq})`, shares, c.split!);
    if (problem) fail(problem);
    const recovered = eventsOf(ctx, 'key.recovered')[0];
    if (recovered && recovered.seq < k.seq) fail(`key.recovered (seq ${recovered.seq}) comes before recovery.kek-verified`);
    return `${plural(accepted.length, 'share')} of the ceremony accepted; the backup key they combine to has kekKcv ${String(k.data.kcv)} (seq ${k.seq})`;
  });
}

/** recovery.root-key: every key.recovered, and the statement's root, is the ceremony's root; a root signer, if listed, is that key. */
function checkRecoveredRoot(ctx: FolderContext, list: Checklist, c: RecoveredCeremony): void {
  list.run('recovery.root-key', () => {
    const root = c.root;
    if (!root) fail('the bundle has no root key to compare with');
    const want = root!.publicKeySha256 ?? root!.kcv;
    const recovered = eventsOf(ctx, 'key.recovered');
    if (recovered.length === 0) fail('no key.recovered event');
    for (const ev of recovered) {
      const got = root!.publicKeySha256 !== undefined ? get(ev.data, 'publicKey.sha256') : get(ev.data, 'kcv');
      if (got !== want) fail(`key.recovered (seq ${ev.seq}) is not the ceremony's root key`);
    }
    const p = ctx.statement?.predicate.root;
    if (p && (p.publicKeySha256 !== root!.publicKeySha256 || p.kcv !== root!.kcv)) fail("the statement's root is not the ceremony's root key");
    const rootSigners = ctx.statement?.predicate.signers.filter((s) => s.role === 'root') ?? [];
    if (rootSigners.length > 1) fail(`${rootSigners.length} signers have role root; expected one`);
    if (rootSigners[0] && root!.publicKeySha256 === undefined) fail('a symmetric root cannot be a signer');
    if (rootSigners[0] && rootSigners[0].keyid !== root!.publicKeySha256) fail(`the root signer ${short(rootSigners[0].keyid)} is not the ceremony's root key`);
    return `the recovered key is the ceremony's root (${short(want!)})`;
  });
}

/** recovery.authenticated: the recovered root signed the recovery's statement, or a key the plan or the policy registered did. */
function checkAuthenticated(ctx: FolderContext, list: Checklist, c: RecoveredCeremony, unsigned: string): void {
  list.run('recovery.authenticated', () => {
    if (!ctx.statement) fail(ctx.envelopeExists ? 'no statement to check' : unsigned);
    const rootId = c.root?.publicKeySha256;
    if (rootId && ctx.verified.get(rootId) === 'root') return `the recovered root ${short(rootId)} signed the recovery`;
    const by = [...ctx.cosigned.keys(), ...ctx.verified.keys()].filter((k) => c.knownKeys.has(k));
    if (by.length) return `signed by ${by.map((k) => `${short(k)} (registered in the ${c.knownKeys.get(k)})`).join(', ')}`;
    return fail('UNAUTHENTICATED: signed only by keys made for this recovery; neither the recovered root nor a key registered in the plan or the policy signed it');
  });
}
