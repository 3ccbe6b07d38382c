/**
 * The link from a plan to the ceremony it continues (SPEC §8): `previous.bundle` is read, verified
 * with core/verify, and its statement digest must be the one the plan pins. Only the previous
 * ceremony's id and statement digest enter the new bundle (in ceremony.started), never its files.
 *
 * `previous.bundle` is the one plan path that may leave the plan's folder: bundles keep their own
 * folders (`bundles/acme-root-2026/`, `bundles/acme-root-2027/`), so a rotation's plan names its
 * predecessor as e.g. `../bundles/acme-root-2026`. It is still relative to the plan's folder (an
 * absolute path is refused, so that a plan reviewed on one machine means the same on another), and
 * the digest pin is what makes it safe: a different folder with the same name cannot match.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { verifyBundle } from '../verify/index.ts';
import { readBundleFacts, type BundleFacts, type CeremonyKind, type LifecycleStart } from './facts.ts';
import { walkBack } from './lineage.ts';

export interface LinkPlanFields {
  id: string;
  ceremony: CeremonyKind;
  previous?: { bundle: string; statementSha256: string };
  key?: { label: string; algorithm: string; version?: number };
}

export interface LinkResult {
  problems: { path: string; message: string }[];
  lifecycle?: LifecycleStart;
  previous?: BundleFacts;
}

/** Resolves and checks `previous`; returns every problem (JSON paths as the plan checker reports them). */
export function resolvePrevious(plan: LinkPlanFields, planDir: string): LinkResult {
  const problems: LinkResult['problems'] = [];
  const add = (p: string, message: string) => problems.push({ path: p, message });
  if (plan.ceremony === 'generate') {
    if (plan.previous) add('previous', 'a generate ceremony starts a new key and continues nothing; remove previous or choose another ceremony kind');
    if (plan.key?.version !== undefined && plan.key.version !== 1) add('key.version', 'a generate ceremony makes version 1');
    return { problems, lifecycle: problems.length ? undefined : { kind: 'generate', keyVersion: 1 } };
  }
  if (!plan.previous) {
    add('previous', `is required for a ${plan.ceremony} ceremony: {"bundle": PATH, "statementSha256": HEX} of the ceremony it continues`);
    return { problems };
  }
  const rel = plan.previous.bundle;
  if (path.isAbsolute(rel) || path.win32.isAbsolute(rel) || /^[A-Za-z]:/.test(rel) || rel.includes('\0')) {
    add('previous.bundle', "is an absolute path; it is relative to the plan's folder (it may leave it, e.g. ../bundles/ID)");
    return { problems };
  }
  const dir = path.resolve(planDir, rel);
  try {
    if (!statSync(dir).isDirectory()) {
      add('previous.bundle', `${rel} is not a folder`);
      return { problems };
    }
  } catch {
    add('previous.bundle', `${rel} does not exist`);
    return { problems };
  }
  const facts = readBundleFacts(dir);
  if (!facts) {
    add('previous.bundle', `${rel} is not a Keyrite bundle (no readable transcript.jsonl)`);
    return { problems };
  }
  const result = verifyBundle(dir);
  if (!result.valid) add('previous.bundle', `${rel} does not verify (${result.verdict}); only a verified bundle can be continued`);
  const want = plan.previous.statementSha256.toLowerCase();
  if (result.statementSha256 !== want)
    add('previous.statementSha256', `is ${want}, but the statement digest of ${rel} is ${result.statementSha256 ?? 'unknown (no readable envelope)'}`);

  let keyVersion = facts.keyVersion;
  if (plan.ceremony === 'rotate' && plan.key) {
    keyVersion = plan.key.version ?? facts.keyVersion + 1;
    if (keyVersion <= facts.keyVersion) add('key.version', `is ${keyVersion}, but ${rel} already has version ${facts.keyVersion}; a rotation makes a newer version`);
    // Every earlier version found behind previous (it may be a re-share or a destroy bundle).
    const versions = walkBack(facts).lineage.filter((b) => b.generated && (b.kind === 'generate' || b.kind === 'rotate'));
    const sameLabel = versions.find((b) => b.generated!.label === plan.key!.label);
    if (sameLabel) add('key.label', `'${plan.key.label}' is the label of version ${sameLabel.keyVersion} (${sameLabel.ceremonyId}); a new version needs a new label`);
    const newest = versions[0];
    if (newest && plan.key.algorithm !== newest.generated!.algorithm)
      add('key.algorithm', `is ${plan.key.algorithm}, but version ${newest.keyVersion} is ${newest.generated!.algorithm}; a new version of the same KMS key keeps its algorithm`);
  } else if (plan.key?.version !== undefined) {
    add('key.version', `only a rotate ceremony sets a version (a ${plan.ceremony} keeps version ${facts.keyVersion})`);
  }
  if (facts.ceremonyId === plan.id) add('id', `'${plan.id}' is the id of the previous ceremony; each ceremony of a key has its own id`);
  if (problems.length) return { problems, previous: facts };
  return {
    problems,
    previous: facts,
    lifecycle: { kind: plan.ceremony, keyVersion, previous: { ceremonyId: facts.ceremonyId, statementSha256: want } },
  };
}
