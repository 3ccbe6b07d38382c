/**
 * What an auditor must weigh (docs/policy.md "Warnings"), shared by every kind of bundle: the facts
 * no policy rule decides become warnings; and the keys that make a recovery authenticated.
 */
import { plural, type VerifyCheck } from './checklist.ts';
import type { CeremonyFacts } from './events.ts';
import { policyKeys, type Policy } from './policy.ts';
import type { RecoveryVerifyResult } from './recoveries.ts';

/** Keys whose signature on a recovery authenticates it: participants' registered keyids (plan) and the policy's keys. */
export function knownRecoveryKeys(plan: unknown, policy: Policy | undefined): Map<string, string> {
  const known = new Map<string, string>();
  const participants = (plan as { participants?: unknown } | undefined)?.participants;
  for (const p of Array.isArray(participants) ? participants : []) {
    const k = (p as { keyid?: unknown } | null)?.keyid;
    if (typeof k === 'string') known.set(k, 'plan');
  }
  for (const k of policyKeys(policy)) known.set(k, 'policy');
  return known;
}

/** Warnings for what an auditor must weigh, for each fact no policy rule decides. */
export function collectWarnings(checks: VerifyCheck[], facts: CeremonyFacts, recoveries: RecoveryVerifyResult[], policy: Policy | undefined, unregistered: string[] = []): string[] {
  const w: string[] = [];
  const status = (name: string) => checks.find((c) => c.name === name)?.status;
  if (facts.rehearsal && policy?.rehearsal === undefined) w.push('rehearsal: this bundle records a rehearsal, not a production ceremony');
  if (facts.networkUp.length && policy?.networkUp === undefined) w.push(`network: a network interface was up during the ceremony (${facts.networkUp.join(', ')})`);
  if (facts.notCheckedIn.length && policy?.checkedIn === undefined) w.push(`check-in: ${plural(facts.notCheckedIn.length, 'participant')} never checked in (${facts.notCheckedIn.join(', ')})`);
  if (status('cosignatures') === 'skip' && policy?.cosigners === undefined) w.push('co-signatures: nobody in the room co-signed the statement with their own key');
  // A co-signature by a key nobody registered proves only that someone held the bundle: whoever has it can add one.
  else if (unregistered.length && policy?.cosigners === undefined) w.push(`co-signatures: ${unregistered.join(', ')} co-signed with a key neither plan.json nor a policy registers; anyone holding the bundle can add such a signature`);
  if (facts.unsealed && policy?.sealed === undefined) w.push(`sealed: ${facts.unsealed}`);
  if (status('signer.one-time') === 'skip') w.push('one-time signer: the statement does not say the ceremony signer was destroyed after signing (an older bundle); whoever holds the token may still sign with it');
  const un = recoveries.filter((r) => r.verdict === 'UNAUTHENTICATED');
  if (un.length && policy?.recoveries === undefined) w.push(`recoveries: ${un.map((r) => r.path).join(', ')} ${un.length === 1 ? 'is' : 'are'} UNAUTHENTICATED (no known key signed)`);
  return w;
}

