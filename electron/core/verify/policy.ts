/**
 * `verify --policy FILE` (docs/policy.md): what the online side requires before it imports key material.
 * Every field but `version` is optional and an omitted field sets no rule; unknown keys are errors.
 * The rules about who signed and which statement fold into signers.expected and statement.expected;
 * the rest are policy.* checks. Without a rule, what an auditor must weigh is a warning instead.
 */
import { fail, plural, short, type Checklist } from './checklist.ts';
import type { FolderContext } from './context.ts';
import type { CeremonyFacts } from './events.ts';
import type { RecoveryVerifyResult } from './recoveries.ts';
import type { Policy } from './policy-file.ts';

// Reading and validating a policy file (zod) lives in policy-file.ts, loaded only when one is given.
export type { Policy } from './policy-file.ts';

/** The keyids a policy registers (signers and co-signers): their signature authenticates a recovery. */
export function policyKeys(policy: Policy | undefined): string[] {
  return [...(policy?.signers ?? []), ...(policy?.cosigners?.keyids ?? [])];
}

/** The policy.* checks, one per rule the policy sets. */
export function checkPolicy(ctx: FolderContext, list: Checklist, policy: Policy, facts: CeremonyFacts, recoveries: RecoveryVerifyResult[], ceremonyId: string | undefined): void {
  const p = policy;
  /** policy.ceremony-id: the bundle is the ceremony the policy names. */
  if (p.ceremonyId !== undefined) {
    list.run('policy.ceremony-id', () => {
      const id = ctx.statement?.predicate.ceremonyId ?? ceremonyId;
      if (id !== p.ceremonyId) fail(`the bundle is ceremony ${String(id)}, the policy wants ${p.ceremonyId}`);
      return `ceremony ${id}`;
    });
  }
  /** policy.root: the signed statement's root has the policy's algorithm and public key digest (or KCV). */
  if (p.root !== undefined) {
    list.run('policy.root', () => {
      const r = ctx.statement?.predicate.root;
      if (!r) fail('no signed statement names a root');
      if (p.root!.algorithm !== undefined && r!.algorithm !== p.root!.algorithm) fail(`the root is ${r!.algorithm}, the policy wants ${p.root!.algorithm}`);
      if (p.root!.publicKeySha256 !== undefined && r!.publicKeySha256 !== p.root!.publicKeySha256) fail(`the root public key is ${short(String(r!.publicKeySha256))}, the policy wants ${short(p.root!.publicKeySha256)}`);
      if (p.root!.kcv !== undefined && r!.kcv !== p.root!.kcv) fail(`the root KCV is ${String(r!.kcv)}, the policy wants ${p.root!.kcv}`);
      return `root ${r!.algorithm} ${r!.publicKeySha256 ?? r!.kcv} as the policy wants`;
    });
  }
  /** policy.cosigners: at least `min` (default: all) of the policy's keyids co-signed, each verified against cosignatures/. */
  if (p.cosigners !== undefined) {
    list.run('policy.cosigners', () => {
      const want = [...new Set(p.cosigners!.keyids)];
      const min = p.cosigners!.min ?? want.length;
      const got = want.filter((k) => ctx.cosigned.has(k));
      const who = got.map((k) => `${ctx.cosigned.get(k)!.participant} ${short(k)}`).join(', ');
      if (got.length < min) fail(`${got.length} of the policy's co-signers signed${who ? ` (${who})` : ''}; the policy needs ${min}`);
      return `${got.length} of ${want.length} co-signers signed (${who}); the policy needs ${min}`;
    });
  }
  /** policy.rehearsal: with false, a rehearsal bundle fails. */
  if (p.rehearsal !== undefined) {
    list.run('policy.rehearsal', () => {
      if (facts.rehearsal && !p.rehearsal) fail('the bundle is a rehearsal; the policy does not accept rehearsals');
      return facts.rehearsal ? 'a rehearsal, which the policy accepts' : 'not a rehearsal';
    });
  }
  /** policy.network-up: with false, a ceremony with a network interface up fails. */
  if (p.networkUp !== undefined) {
    list.run('policy.network-up', () => {
      if (facts.networkUp.length && !p.networkUp) fail(`a network interface was up during the ceremony (${facts.networkUp.join(', ')}); the policy forbids it`);
      return facts.networkUp.length ? `network up (${facts.networkUp.join(', ')}), which the policy accepts` : 'no network interface was up';
    });
  }
  /** policy.checked-in: with true, every participant of the plan checked in. */
  if (p.checkedIn !== undefined) {
    list.run('policy.checked-in', () => {
      if (facts.notCheckedIn.length && p.checkedIn) fail(`${plural(facts.notCheckedIn.length, 'participant')} never checked in: ${facts.notCheckedIn.join(', ')}`);
      return facts.notCheckedIn.length ? `not checked in: ${facts.notCheckedIn.join(', ')}, which the policy accepts` : 'every participant checked in';
    });
  }
  /** policy.sealed: with true, the root was sealed (non-extractable, read back). */
  if (p.sealed !== undefined) {
    list.run('policy.sealed', () => {
      if (facts.unsealed && p.sealed) fail(`${facts.unsealed}; the policy requires a sealed root`);
      return facts.unsealed ? `${facts.unsealed}, which the policy accepts` : 'the root is non-extractable, as read back from the HSM';
    });
  }
  /** policy.recoveries: with "authenticated", every recovery is signed by the recovered root or a registered key. */
  if (p.recoveries !== undefined) {
    list.run('policy.recoveries', () => {
      const un = recoveries.filter((r) => r.verdict === 'UNAUTHENTICATED');
      if (un.length && p.recoveries === 'authenticated') fail(`${un[0].path} is UNAUTHENTICATED${un.length > 1 ? ` (and ${un.length - 1} more)` : ''}; the policy requires authenticated recoveries`);
      return recoveries.length ? `${plural(recoveries.length, 'recovery', 'recoveries')}, ${un.length} unauthenticated` : 'no recoveries';
    });
  }
}
