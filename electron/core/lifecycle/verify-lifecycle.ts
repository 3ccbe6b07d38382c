/**
 * `keyrite verify` of a destroy or re-share ceremony's bundle (docs/lifecycle.md): the same chain,
 * envelope, co-signature, subject, plan and policy checks as a ceremony, then each kind's own.
 * Destroy (statement type urn:keyrite:destruction:v1): every version the plan names has a
 * version.destroyed with nothing left on the token, sheets acknowledged before, and a certificate
 * that agrees. Re-share (urn:keyrite:ceremony:v1, the same root): the old shares verified and the
 * old backup retired, then the new backup wrapped, confirmed and test-recovered as at generation.
 * Plain Node, like all of verify.
 */
import { Checklist, fail, type VerifyCheck } from '../verify/checklist.ts';
import { eventsOf } from '../verify/context.ts';
import { ceremonyFacts, checkCompleted, checkRecoveryTested, checkSharesConfirmed } from '../verify/events.ts';
import { checkPolicy, type Policy } from '../verify/policy.ts';
import { checkBackupWrapped } from '../verify/files.ts';
import { CEREMONY_PREDICATE_TYPE } from '../transcript/dsse.ts';
import type { FolderContext } from '../verify/context.ts';
import { collectWarnings, knownRecoveryKeys } from '../verify/warnings.ts';
import { verifyRecoveries, type RecoveryVerifyResult } from '../verify/recoveries.ts';
import { plural } from '../verify/checklist.ts';
import { checkPlanSha256 } from '../verify/files.ts';
import { conclude } from '../verify/verdict.ts';
import { requireRootSignature } from '../verify/events.ts';
import { short, skipped } from '../verify/checklist.ts';
import { readBundleFacts, statementDigest } from './facts.ts';
import { checkCommon, type CommonResult } from '../verify/common.ts';
import path from 'node:path';

export const DESTRUCTION_PREDICATE_TYPE = 'urn:keyrite:destruction:v1';

export interface DestructionVerifyResult {
  recoveries?: RecoveryVerifyResult[];
  valid: boolean;
  complete: boolean;
  lastStep?: string;
  verdict: string;
  statementSha256?: string;
  checks: VerifyCheck[];
  warnings: string[];
}

type Opts = { expectSigners?: string[]; expectStatement?: string; policy?: Policy };

/** The checks every lifecycle bundle shares with a ceremony's (verify/common.ts), then the plan's digest. */
function commonChecks(dir: string, predicateType: string, opts: Opts): CommonResult {
  const r = checkCommon(dir, predicateType, opts);
  checkPlanSha256(r.ctx, r.list);
  return r;
}

/** Policy (the same rules as any bundle's; "sealed" holds trivially), the verdict and the same warnings as a ceremony's. */
function conclusion(list: Checklist, ctx: FolderContext, plan: unknown, ceremonyId: string | undefined, opts: Opts, recoveries: RecoveryVerifyResult[], extraWarnings: string[]): DestructionVerifyResult {
  checkCompleted(ctx, list, 'ceremony');
  const facts = { ...ceremonyFacts(ctx, plan), unsealed: '' };
  if (opts.policy) checkPolicy(ctx, list, opts.policy, facts, recoveries, ceremonyId);
  const r = conclude(list.checks, ctx, 'ceremony.completed', 'ceremony.aborted');
  const warnings = [...collectWarnings(list.checks, facts, recoveries, opts.policy), ...extraWarnings];
  if (r.valid && !opts.policy?.cosigners && !vouchedFromBefore(ctx, plan, opts.policy))
    warnings.push(`signers: only this ceremony's own signer signed it; no key from before it (the root, a co-signer plan.json or a policy registers) did, so anyone holding the previous bundle could have made it`);
  return { ...r, verdict: r.valid && facts.rehearsal ? 'VALID (REHEARSAL)' : r.verdict, statementSha256: ctx.statementSha256, checks: list.checks, warnings };
}

/**
 * Whether a key that existed before this ceremony signed its statement: the root (when it signs), or a
 * co-signer whose key plan.json or the policy registers. A re-share or destroy bundle is otherwise
 * signed only by a key made during it, which proves nothing about who made the bundle.
 */
function vouchedFromBefore(ctx: FolderContext, plan: unknown, policy: Policy | undefined): boolean {
  const st = ctx.statement;
  if (st?.predicate.signers.some((s) => s.role === 'root' && ctx.verified.has(s.keyid))) return true;
  const registered = knownRecoveryKeys(plan, policy);
  return [...ctx.cosigned.keys()].some((k) => registered.has(k));
}

/**
 * The root a re-share re-wrapped: the key.generated of its version's generate or rotate bundle, found by
 * following the links to the bundles beside it (each must have the linked statement digest; each is
 * verified on its own), else, when they are absent, the root the statement names.
 */
function reshareRoot(ctx: FolderContext): { algorithm: string; publicKeySha256?: string; kcv?: string; from: string } | undefined {
  let facts = readBundleFacts(ctx.dir);
  const version = facts?.keyVersion;
  for (let hops = 0; facts?.previous && hops < 64; hops++) {
    const dir = path.join(path.dirname(facts.dir), facts.previous.ceremonyId);
    if (statementDigest(dir) !== facts.previous.statementSha256) break;
    facts = readBundleFacts(dir);
    const gen = facts?.events.find((e) => e.type === 'key.generated');
    if (facts && gen && facts.keyVersion === version && (facts.kind === 'generate' || facts.kind === 'rotate')) {
      const d = gen.data as { algorithm: string; publicKey?: { sha256: string }; kcv?: string };
      return { algorithm: d.algorithm, publicKeySha256: d.publicKey?.sha256, kcv: d.kcv, from: `${facts.ceremonyId}'s key.generated` };
    }
  }
  const r = ctx.statement?.predicate.root;
  return r ? { algorithm: r.algorithm, publicKeySha256: r.publicKeySha256, kcv: r.kcv, from: 'the statement (the generating bundle is not beside it)' } : undefined;
}

/** A re-share's bundle: the new backup as at generation (wrapped, confirmed, test-recovered), the old shares verified, the old backup retired. */
export function verifyReshare(dir: string, opts: Opts = {}): DestructionVerifyResult {
  const { list, ctx, plan, ceremonyId } = commonChecks(dir, CEREMONY_PREDICATE_TYPE, opts);
  /** reshare.old-shares: a threshold of the current shares combined to the old backup key (its KCV), and the old backup is listed as retired. */
  list.run('reshare.old-shares', () => {
    const v = eventsOf(ctx, 'reshare.old-shares-verified');
    if (v.length !== 1) fail('no single reshare.old-shares-verified event');
    const r = eventsOf(ctx, 'backup.retired');
    if (r.length !== 1) fail('no single backup.retired event');
    const w = eventsOf(ctx, 'backup.wrapped')[0];
    if (w && v[0].seq > w.seq) fail('the old shares were verified after the new backup was written');
    return `old shares of set ${String(v[0].data.identifier)} verified; ${String(r[0].data.ceremonyId)}'s backup/root.wrapped retired`;
  });
  /** reshare.old-sheets: every holder of the retired set acknowledged destroying their old sheet, after the new shares were tested. */
  list.run('reshare.old-sheets', () => {
    const retired = eventsOf(ctx, 'backup.retired')[0];
    const holders = Array.isArray(retired?.data.custodians) ? (retired!.data.custodians as string[]) : [];
    if (!holders.length) fail('backup.retired names no holders of the retired set');
    const tested = eventsOf(ctx, 'backup.recovery-tested').find((e) => e.data.ok === true);
    const acks = eventsOf(ctx, 'sheet.destroyed');
    const missing = holders.filter((h) => !acks.some((e) => e.data.custodian === h && tested && e.seq > tested.seq));
    if (missing.length) fail(`no acknowledgement, after the new shares were tested, of destroying the old sheet of ${missing.join(', ')}`);
    return `${holders.length} holder(s) of the retired set acknowledged destroying their old sheets: ${holders.join(', ')}`;
  });
  /**
   * reshare.root-signed: an asymmetric root signed the statement (role root, its SPKI hashing to the
   * root's publicKeySha256). The one-time signer is made during the re-share, so without the root anyone
   * holding the previous bundle could make one. An AES root cannot sign: skipped (and warned).
   */
  list.run('reshare.root-signed', () => {
    if (!ctx.statement) return skipped('no readable statement (the envelope checks say why)');
    const root = reshareRoot(ctx);
    if (!root) fail('the root is unknown');
    const named = ctx.statement!.predicate.root;
    if (root!.publicKeySha256) {
      if (named.publicKeySha256 !== root!.publicKeySha256) fail(`the statement names root ${named.publicKeySha256 ? short(named.publicKeySha256) : `KCV ${String(named.kcv)}`}, not ${root!.from}'s ${short(root!.publicKeySha256)}`);
      requireRootSignature(ctx, root!.publicKeySha256, 'the root');
      if (ctx.verified.get(root!.publicKeySha256) !== 'root') fail(`the root's signature ${short(root!.publicKeySha256)} does not verify`);
      return `the root ${short(root!.publicKeySha256)} (per ${root!.from}) signed the statement: the re-share was made by someone holding it`;
    }
    if (named.kcv !== root!.kcv) fail(`the statement names root KCV ${String(named.kcv)}, not ${root!.from}'s ${String(root!.kcv)}`);
    return skipped(`an ${root!.algorithm} root cannot sign; only a co-signer registered before the re-share can vouch for it (see warnings)`);
  });
  checkBackupWrapped(ctx, list);
  checkSharesConfirmed(ctx, list);
  checkRecoveryTested(ctx, list);
  // Recoveries from the new shares (keyrite recover on this bundle), checked as a ceremony's are.
  const knownKeys = knownRecoveryKeys(plan, opts.policy);
  const recoveries = verifyRecoveries(dir, {
    ceremonyId: ceremonyId ?? ctx.statement?.predicate.ceremonyId,
    chainHead: ctx.statement?.predicate.chainHead,
    statementSha256: ctx.statement ? ctx.statementSha256 : undefined,
    root: ctx.statement?.predicate.root,
    split: eventsOf(ctx, 'backup.split')[0],
    plan,
    knownKeys,
  });
  /** recoveries: as for a ceremony, none of them INVALID. */
  list.run('recoveries', () => {
    if (recoveries.problems.length) fail(recoveries.problems[0]);
    if (recoveries.results.length === 0) return 'no recoveries/';
    const broken = recoveries.results.find((r) => r.verdict === 'INVALID');
    if (broken) fail(`${broken.path} is not valid: ${broken.checks.find((c) => !c.ok)!.detail}`);
    return `${plural(recoveries.results.length, 'recovery', 'recoveries')} verified`;
  });
  const retired = eventsOf(ctx, 'backup.retired')[0];
  return { ...conclusion(list, ctx, plan, ceremonyId, opts, recoveries.results, retired ? [`retired backup: ${String(retired.data.warning)}`] : []), recoveries: recoveries.results };
}

export function verifyDestruction(dir: string, opts: Opts = {}): DestructionVerifyResult {
  const { list, ctx, plan: rawPlan, ceremonyId } = commonChecks(dir, DESTRUCTION_PREDICATE_TYPE, opts);
  const plan = rawPlan as { destroy?: { versions?: unknown } } | undefined;

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
  const copies = (eventsOf(ctx, 'destruction.certified')[0]?.data.copiesRemaining as { where: string }[] | undefined) ?? [];
  return conclusion(list, ctx, plan, ceremonyId, opts, [], copies.map((c) => `copy may still exist: ${c.where}`));
}
