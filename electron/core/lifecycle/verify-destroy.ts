/**
 * `keyrite verify` of a destroy ceremony's bundle (docs/lifecycle.md): the same chain, envelope,
 * co-signature, subject and plan checks as a ceremony, under the predicate type
 * urn:keyrite:destruction:v1, and, instead of the key and backup checks, the destruction's own:
 * every version the plan names has a version.destroyed event with nothing left on the token, every
 * custodian named acknowledged destroying their sheet, and the certificate agrees with both.
 * Plain Node, like all of verify.
 */
import { Checklist, fail, type VerifyCheck } from '../verify/checklist.ts';
import { checkStatementChain, checkTranscript } from '../verify/chain.ts';
import { eventsOf, newContext } from '../verify/context.ts';
import { checkCosignatures } from '../verify/cosign.ts';
import { checkEnvelope, checkExpectations, unsignedLine } from '../verify/envelope.ts';
import { ceremonyFacts, checkCeremonyId, checkCompleted } from '../verify/events.ts';
import { checkPolicy, type Policy } from '../verify/policy.ts';
import { checkPlanSha256, checkSubjects } from '../verify/files.ts';
import { readPlan } from '../verify/folder.ts';
import { conclude } from '../verify/verdict.ts';

export const DESTRUCTION_PREDICATE_TYPE = 'urn:keyrite:destruction:v1';

export interface DestructionVerifyResult {
  valid: boolean;
  complete: boolean;
  lastStep?: string;
  verdict: string;
  statementSha256?: string;
  checks: VerifyCheck[];
  warnings: string[];
}

export function verifyDestruction(dir: string, opts: { expectSigners?: string[]; expectStatement?: string; policy?: Policy } = {}): DestructionVerifyResult {
  const policy = opts.policy;
  const list = new Checklist();
  const ctx = newContext(dir, '');
  const unsigned = unsignedLine(ctx, true);
  const plan = readPlan(dir).json as { destroy?: { versions?: unknown } } | undefined;
  checkTranscript(ctx, list);
  checkEnvelope(ctx, list, DESTRUCTION_PREDICATE_TYPE, true);
  checkCosignatures(ctx, list, plan, unsigned);
  checkExpectations(ctx, list, true, {
    signers: [...(opts.expectSigners ?? []), ...(policy?.signers ?? [])],
    statements: [
      ...(opts.expectStatement ? [{ sha256: opts.expectStatement, from: '--expect-statement' }] : []),
      ...(policy?.statementSha256 ? [{ sha256: policy.statementSha256, from: "the policy's statementSha256" }] : []),
    ],
  });
  checkSubjects(ctx, list, true, unsigned);
  checkStatementChain(ctx, list, unsigned);
  const ceremonyId = checkCeremonyId(ctx, list);
  checkPlanSha256(ctx, list);

  /** destruction.versions: each version the plan names was destroyed on the token and a find returned nothing. */
  list.run('destruction.versions', () => {
    const wanted = Array.isArray(plan?.destroy?.versions) ? (plan!.destroy!.versions as unknown[]) : [];
    if (wanted.length === 0) fail('plan.json names no versions to destroy');
    const done = eventsOf(ctx, 'version.destroyed');
    for (const v of wanted) {
      const ev = done.find((e) => e.data.version === v);
      if (!ev) fail(`no version.destroyed event for version ${v}`);
      if (ev!.data.remaining !== 0) fail(`version ${v}: ${ev!.data.remaining} object(s) remained on the token`);
    }
    return `version${wanted.length > 1 ? 's' : ''} ${wanted.join(', ')} destroyed, none left on the token`;
  });
  /** destruction.sheets: every custodian who acknowledged, by sheet.destroyed, did so before the keys were destroyed. */
  list.run('destruction.sheets', () => {
    const sheets = eventsOf(ctx, 'sheet.destroyed');
    const first = eventsOf(ctx, 'version.destroyed')[0];
    const late = sheets.find((e) => first && e.seq > first.seq);
    if (late) fail(`sheet.destroyed for ${String(late.data.custodian)} (seq ${late.seq}) comes after the keys were destroyed`);
    return sheets.length ? `${sheets.length} custodian(s) acknowledged destroying their sheets: ${sheets.map((e) => e.data.custodian).join(', ')}` : 'no custodian held a share of the destroyed versions';
  });
  /** destruction.certified: the certificate lists exactly the destroyed versions, each gone. */
  list.run('destruction.certified', () => {
    const cert = eventsOf(ctx, 'destruction.certified');
    if (cert.length !== 1) fail(cert.length ? 'destruction.certified appears more than once' : 'no destruction.certified event');
    const versions = (cert[0].data.versions as { version: number; gone: boolean }[] | undefined) ?? [];
    const destroyed = eventsOf(ctx, 'version.destroyed').map((e) => e.data.version);
    if (versions.length !== destroyed.length || versions.some((v) => !destroyed.includes(v.version) || v.gone !== true)) fail('the certificate does not list exactly the destroyed versions, each gone');
    const copies = (cert[0].data.copiesRemaining as unknown[] | undefined) ?? [];
    return `certificate of destruction for version(s) ${versions.map((v) => v.version).join(', ')}; ${copies.length} place(s) where a copy may still exist`;
  });
  checkCompleted(ctx, list, 'ceremony');
  // The same policy rules as for any bundle; "sealed" holds trivially: the key is gone.
  const facts = { ...ceremonyFacts(ctx, plan), unsealed: '' };
  if (policy) checkPolicy(ctx, list, policy, facts, [], ceremonyId);

  const r = conclude(list.checks, ctx, 'ceremony.completed', 'ceremony.aborted');
  const rehearsal = eventsOf(ctx, 'ceremony.started')[0]?.data.rehearsal === true;
  const warnings: string[] = [];
  if (rehearsal) warnings.push('rehearsal: this bundle records a rehearsal, not a production ceremony');
  const copies = (eventsOf(ctx, 'destruction.certified')[0]?.data.copiesRemaining as { where: string }[] | undefined) ?? [];
  for (const c of copies) warnings.push(`copy may still exist: ${c.where}`);
  return { ...r, verdict: r.valid && rehearsal ? 'VALID (REHEARSAL)' : r.verdict, statementSha256: ctx.statementSha256, checks: list.checks, warnings };
}
