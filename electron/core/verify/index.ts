/**
 * The auditor's check of a bundle (docs/policy.md), run in this order: the chain (chain.ts), the envelope
 * and its signers (envelope.ts), co-signatures (cosign.ts), what the caller expects, the files
 * (files.ts), the events (events.ts), the recoveries (recoveries.ts) and the policy (policy.ts).
 * Every rule is a named check with a one-line detail (docs/transcript.md lists them); nothing here
 * throws on bad input. This module and everything it imports is plain Node: no PKCS#11.
 */
import { CEREMONY_PREDICATE_TYPE } from '../transcript/dsse.ts';
import { fail, plural, short, type VerifyCheck } from './checklist.ts';
import { eventsOf } from './context.ts';
import {
  ceremonyFacts,
  checkCompleted,
  checkRecoveryTested,
  checkRequiredEvents,
  checkRootKey,
  checkSharesConfirmed,
  rootFromEvents,
} from './events.ts';
import { checkBackupWrapped, checkExportFiles, checkPlanSha256 } from './files.ts';
import { checkPolicy, type Policy } from './policy.ts';
import { verifyRecoveries, type RecoveryVerifyResult } from './recoveries.ts';
import { conclude } from './verdict.ts';
import { collectWarnings, knownRecoveryKeys } from './warnings.ts';
import { checkCommon } from './common.ts';
import { startedKind } from '../lifecycle/kind.ts';
import { verifyDestruction, verifyReshare } from '../lifecycle/verify-lifecycle.ts';

export type { CheckStatus, VerifyCheck } from './checklist.ts';
export type { RecoveryVerifyResult } from './recoveries.ts';
export type { Policy } from './policy.ts';
export { COMPLETENESS_CHECKS, ENVELOPE_CHECKS } from './verdict.ts';

export interface VerifyResult {
  valid: boolean;
  /** False when the ceremony stopped early (no ceremony.completed, aborted, or never signed). */
  complete: boolean;
  /** Type of the last event in the transcript. */
  lastStep?: string;
  /** "VALID", "VALID (REHEARSAL)", "INVALID" or "INCOMPLETE: stopped after key.generated" (and the like). */
  verdict: string;
  /** SHA-256 of the signed payload, when there is a readable envelope. */
  statementSha256?: string;
  checks: VerifyCheck[];
  /** What an auditor must weigh though no rule failed (rehearsal, network up, ...). */
  warnings: string[];
  recoveries: RecoveryVerifyResult[];
}

export interface VerifyOptions {
  /** keyids (lowercase hex SHA-256 of SPKI DER) that must have signed. */
  expectSigners?: string[];
  /** The statement digest the caller holds (from the paper record). */
  expectStatement?: string;
  policy?: Policy;
}

/** Verifies a ceremony bundle folder; never throws. */
export function verifyBundle(dir: string, opts: VerifyOptions = {}): VerifyResult {
  // A destroy or re-share ceremony's bundle has its own checks (docs/lifecycle.md).
  const kind = startedKind(dir);
  if (kind === 'destroy') return { ...verifyDestruction(dir, opts), recoveries: [] };
  if (kind === 'reshare') return { recoveries: [], ...verifyReshare(dir, opts) };
  const { list, ctx, plan, ceremonyId } = checkCommon(dir, CEREMONY_PREDICATE_TYPE, opts);
  const policy = opts.policy;
  checkRequiredEvents(ctx, list);
  checkPlanSha256(ctx, list);
  checkRootKey(ctx, list);
  checkBackupWrapped(ctx, list);
  checkSharesConfirmed(ctx, list);
  checkRecoveryTested(ctx, list);
  checkExportFiles(ctx, list);
  checkCompleted(ctx, list, 'ceremony');

  const knownKeys = knownRecoveryKeys(plan, policy);
  const transcriptHead = ctx.transcript?.lines.length ? ctx.transcript.head : undefined;
  const recoveries = verifyRecoveries(dir, {
    ceremonyId: ceremonyId ?? ctx.statement?.predicate.ceremonyId,
    chainHead: ctx.statement?.predicate.chainHead ?? transcriptHead,
    statementSha256: ctx.statement ? ctx.statementSha256 : undefined,
    root: ctx.statement?.predicate.root ?? rootFromEvents(eventsOf(ctx, 'key.generated')[0]),
    split: eventsOf(ctx, 'backup.split')[0],
    plan,
    knownKeys,
  });
  /** recoveries: recoveries/ is absent or a real folder of recovery folders, and none of them is INVALID. */
  list.run('recoveries', () => {
    if (recoveries.problems.length) fail(recoveries.problems[0]);
    const rs = recoveries.results;
    if (rs.length === 0) return 'no recoveries/';
    const broken = rs.find((r) => r.verdict === 'INVALID');
    if (broken) fail(`${broken.path} is not valid: ${broken.checks.find((c) => !c.ok)!.detail}`);
    const incomplete = rs.filter((r) => !r.complete).length;
    const un = rs.filter((r) => r.verdict === 'UNAUTHENTICATED').length;
    return `${plural(rs.length, 'recovery', 'recoveries')} verified${incomplete ? `, ${incomplete} stopped early (incomplete)` : ''}${un ? `, ${un} UNAUTHENTICATED` : ''}`;
  });

  const facts = ceremonyFacts(ctx, plan);
  if (policy) checkPolicy(ctx, list, policy, facts, recoveries.results, ceremonyId);

  const r = conclude(list.checks, ctx, 'ceremony.completed', 'ceremony.aborted');
  const unregistered = [...ctx.cosigned].filter(([k]) => !knownKeys.has(k)).map(([k, c]) => `${c.role} ${c.participant} ${short(k)}`);
  const warnings = collectWarnings(list.checks, facts, recoveries.results, policy, unregistered);
  const verdict = r.valid && facts.rehearsal ? 'VALID (REHEARSAL)' : r.verdict;
  return { ...r, verdict, statementSha256: ctx.statementSha256, checks: list.checks, warnings, recoveries: recoveries.results };
}

/** The first failed check as one line, for error messages. */
export function firstFailure(result: { checks: VerifyCheck[] }): string | undefined {
  const c = result.checks.find((x) => !x.ok);
  return c ? `${c.name}: ${c.detail}` : undefined;
}

/** The one word of a verdict: VALID, VALID (REHEARSAL), INCOMPLETE, INVALID (recoveries: also UNAUTHENTICATED). */
export function verdictWord(verdict: string): string {
  return verdict.startsWith('INCOMPLETE') ? 'INCOMPLETE' : verdict;
}
