/**
 * From checks to a verdict. A folder is complete when its last event is the completion event, it was
 * not aborted, and it was signed; an incomplete folder is INCOMPLETE (with the last step) when
 * nothing shows damage, and INVALID otherwise.
 */
import { oneLine, type VerifyCheck } from './checklist.ts';
import type { FolderContext } from './context.ts';

/** Checks that can fail only because a run stopped early; the rest show tampering or damage. */
export const COMPLETENESS_CHECKS: ReadonlySet<string> = new Set([
  'events.required',
  'root.key',
  'backup.wrapped',
  'shares.confirmed',
  'backup.recovery-tested',
  'exports.files',
  'ceremony.completed',
  'recovery.completed',
  'recovery.root-key',
  'recovery.shares',
]);

/** Checks about the envelope; without an envelope they fail as "not signed", which is incompleteness. */
export const ENVELOPE_CHECKS: ReadonlySet<string> = new Set([
  'envelope.format',
  'statement.format',
  'signatures.verify',
  'signers.keyids',
  'signers.ceremony',
  'signer.one-time',
  'cosignatures',
  'signers.expected',
  'statement.expected',
  'subjects.digests',
  'subjects.complete',
  'statement.chain',
  'recovery.authenticated',
]);

export interface Conclusion {
  valid: boolean;
  complete: boolean;
  lastStep?: string;
  /** "VALID", "INVALID", or "INCOMPLETE: <why>" (the caller adds REHEARSAL / UNAUTHENTICATED). */
  verdict: string;
}

/** `soft`: failed checks that lower the verdict without making it INVALID (recovery.authenticated). */
export function conclude(checks: VerifyCheck[], ctx: FolderContext, completedType: string, abortedType: string, soft: ReadonlySet<string> = new Set()): Conclusion {
  const events = ctx.events;
  const lastStep = events.at(-1)?.type;
  const aborted = events.find((e) => e.type === abortedType);
  const complete = ctx.envelopeExists && !aborted && lastStep === completedType;
  const allOk = checks.every((c) => c.ok || soft.has(c.name));
  if (complete || !ctx.transcript || ctx.transcript.lines.length === 0) {
    return { valid: complete && allOk, complete, lastStep, verdict: complete && allOk ? 'VALID' : 'INVALID' };
  }
  const damaged =
    // A policy rule that fails on a run that stopped early says nothing about damage.
    checks.some((c) => !c.ok && !soft.has(c.name) && !c.name.startsWith('policy.') && !COMPLETENESS_CHECKS.has(c.name) && !(ENVELOPE_CHECKS.has(c.name) && !ctx.envelopeExists)) ||
    // Events after the completion event are not a run that stopped early.
    (events.some((e) => e.type === completedType) && lastStep !== completedType);
  const before = aborted ? events[aborted.seq - 1]?.type ?? 'nothing' : lastStep;
  const why = aborted
    ? abortedWhy(String(aborted.data.step ?? ''), before ?? 'nothing', String(aborted.data.reason ?? 'no reason given'))
    : !ctx.envelopeExists && lastStep === completedType
      ? 'completed but never signed'
      : `stopped after ${lastStep}`;
  return { valid: false, complete: false, lastStep, verdict: damaged ? 'INVALID' : `INCOMPLETE: ${why}` };
}

/** The step named as the transcript names it (ceremony.aborted.data.step), the words `status` uses too. */
function abortedWhy(step: string, before: string, reason: string): string {
  const at = step ? `aborted at step '${oneLine(step, 40)}'${step === before ? '' : ` (after ${before})`}` : `aborted after ${before}`;
  return `${at}: ${oneLine(reason, 160)}`;
}
