/**
 * The checks every bundle starts with, whatever its kind (a generation, rotation, re-share or
 * destruction): the chain, the envelope and its signatures, co-signatures, what the caller or the
 * policy expects, the subjects, the statement's chain head, the ceremony's id and kind.
 */
import { checkStatementChain, checkTranscript } from './chain.ts';
import { Checklist } from './checklist.ts';
import { newContext, type FolderContext } from './context.ts';
import { checkCosignatures } from './cosign.ts';
import { checkEnvelope, checkExpectations, unsignedLine } from './envelope.ts';
import { checkCeremonyId, checkCeremonyKind } from './events.ts';
import { checkSubjects } from './files.ts';
import { readPlan } from './folder.ts';
import type { Policy } from './policy.ts';

export interface CommonOptions {
  expectSigners?: string[];
  expectStatement?: string;
  policy?: Policy;
}

export interface CommonResult {
  list: Checklist;
  ctx: FolderContext;
  /** plan.json as parsed (undefined when unreadable; its digest is checked separately). */
  plan: unknown;
  ceremonyId?: string;
}

export function checkCommon(dir: string, predicateType: string, opts: CommonOptions): CommonResult {
  const policy = opts.policy;
  const list = new Checklist();
  const ctx = newContext(dir, '');
  const unsigned = unsignedLine(ctx, true);
  const plan = readPlan(dir).json;
  checkTranscript(ctx, list);
  checkEnvelope(ctx, list, predicateType, true);
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
  checkCeremonyKind(ctx, list);
  return { list, ctx, plan, ceremonyId };
}
