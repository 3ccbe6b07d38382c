/**
 * Readable one-line summaries of transcript events, for the ceremony's live log and the Verify
 * screen's timeline. Built from an allow-list of public fields per event type, so nothing that is
 * not explicitly named here can ever reach the renderer through a summary.
 */
import type { TimelineEntry } from './api.ts';
import type { EventType, TranscriptEvent } from './core/transcript/events.ts';

type D = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const short = (hex: unknown, n = 16) => (typeof hex === 'string' && hex.length > n ? `${hex.slice(0, n)}…` : String(hex ?? ''));
const okText = (ok: unknown) => (ok ? 'passed' : 'FAILED');
const share = (d: D) => `group ${d.group}, member ${d.member} (${d.custodian})`;

const pos = (d: D) => `${d.group}-${d.member}`;
const tokenName = (t: D | undefined) => `'${t?.label}' (serial ${t?.serialNumber})`;

/** One per event type (the type makes a new event without a summary a compile error, not a bare type name on screen). */
const SUMMARIES: { [T in EventType]: (d: D) => string } = {
  'ceremony.started': (d) => `Ceremony '${d.ceremonyId}' started${d.rehearsal ? ' (rehearsal)' : ''}; ${(d.host?.networkInterfaces ?? []).filter((i: D) => i.up).length} network interface(s) up`,
  'participant.checked-in': (d) => `${d.participant} checked in as ${d.role}`,
  'step.acknowledged': (d) => `Step '${d.step}' acknowledged by ${(d.by ?? []).join(', ')}`,
  'hsm.selected': (d) => `Token '${d.token?.label}' (${d.token?.manufacturer} ${d.token?.model}, serial ${d.token?.serialNumber}) selected`,
  'preflight.passed': (d) => `Checks passed: ${(d.checks ?? []).map((c: D) => c.name).join(', ')}`,
  'hsm.logged-in': (d) => `Logged in to token '${d.tokenLabel}'`,
  'selftest.kwp': (d) => `Key-wrap self-test (${d.mechanism}) ${okText(d.ok)}`,
  'key.generating': (d) => `Generating the ${d.role} key '${d.label}' (${d.algorithm})`,
  'signer.generated': (d) => `Transcript signing key generated, key id ${short(d.keyid)}`,
  'key.generated': (d) => `Root key '${d.label}' (${d.algorithm}) generated; fingerprint ${d.publicKey?.sha256 ? short(d.publicKey.sha256, 64) : `KCV ${d.kcv}`}`,
  'key.verified': (d) => `Root key checks: ${(d.checks ?? []).map((c: D) => `${c.name} ${okText(c.ok)}`).join(', ')}`,
  'backup.split': (d) => `Backup key split into ${(d.shares ?? []).length} shares (${d.groupThreshold} of ${(d.groups ?? []).length} group(s) needed); backup key KCV ${d.kekKcv}`,
  'backup.wrapped': (d) => `Root key wrapped under the backup key (${d.mechanism}), sha256 ${short(d.sha256)}`,
  'share.printed': (d) => `Sheet for ${share(d)} printed to ${d.output}${d.rehearsal ? ' (rehearsal)' : ''}`,
  'share.confirmed': (d) => `Share of ${share(d)} confirmed (check value ${d.checkValue})`,
  'backup.kek-wiped': () => 'Backup key erased from memory',
  'backup.recovery-tested': (d) => `Test recovery with ${(d.shares ?? []).length} shares ${okText(d.ok)}`,
  'export.created': (d) => `Export '${d.target}' (${d.kind}, ${d.algorithm}) written: ${(d.files ?? []).map((f: D) => f.path).join(', ')}`,
  'key.sealed': (d) => `Root key '${d.label}' sealed (extractable: ${d.extractable})`,
  'exception.recorded': (d) => `Exception${d.step ? ` at ${d.step}` : ''}: ${d.text}`,
  'note.added': (d) => `Note: ${d.text}`,
  'ceremony.aborted': (d) => `Ceremony STOPPED at '${d.step}': ${d.reason}`,
  // The event's own chainHead is the head *before* it; the bundle's chain head includes it.
  'ceremony.completed': (d) => `Ceremony completed after ${d.eventCount} events (chain head up to here ${short(d.chainHead)})`,
  'printer.checked': (d) => `Printer '${d.queue}' (${d.deviceUri}) checked: ${(d.checks ?? []).map((c: D) => `${c.name} ${okText(c.ok)}`).join(', ')}`,
  'transcript.tail-removed': (d) => `Unfinished last line ${d.line} (${d.bytes} bytes) set aside`,
  'key.destroyed': (d) => `The ${d.role} key '${d.label}' removed from the token (${d.objects} object(s))`,
  'ceremony.cleanup-completed': (d) => `Clean-up done on token ${tokenName(d.token)}: ${d.destroyed} object(s) removed${d.signed ? '; abort signed' : ''}`,
  'reshare.old-shares-verified': (d) => `Current shares ${(d.shares ?? []).map(pos).join(', ')} open the backup of version ${d.version} (KCV ${d.kekKcv})`,
  'backup.retired': (d) => `Backup ${d.path} of '${d.ceremonyId}' retired: ${d.warning}`,
  'sheet.destroyed': (d) => `${d.custodian} destroyed their sheet(s) ${(d.shares ?? []).map((s: D) => `v${s.version} ${pos(s)}`).join(', ')}`,
  'version.destroyed': (d) => `Version ${d.version} ('${d.label}') destroyed on token ${tokenName(d.token)}: ${d.objects} object(s), ${d.remaining} left`,
  'destruction.certified': (d) => `Destruction certified: version(s) ${(d.versions ?? []).map((v: D) => v.version).join(', ')} gone from token ${tokenName(d.token)}`,
  'recovery.started': (d) => `Recovery started${d.ceremonyId ? ` for '${d.ceremonyId}'` : ''}`,
  'recovery.share-accepted': (d) => `Share ${pos(d)}${d.custodian ? ` (${d.custodian})` : ''} accepted (check value ${d.checkValue})`,
  'recovery.kek-verified': (d) => `Shares combine to the backup key, KCV ${d.kcv} ${okText(d.ok)}`,
  'recovery.kek-destroyed': () => 'Backup key erased from the token and from memory',
  'key.recovered': (d) => `Root key '${d.label}' (${d.algorithm}) restored into token ${tokenName(d.token)}`,
  'recovery.aborted': (d) => `Recovery STOPPED at '${d.step}': ${d.reason}`,
  'recovery.completed': (d) => `Recovery completed${d.label ? `: key '${d.label}' restored` : ''}`,
};

export function summarizeEvent(ev: TranscriptEvent): TimelineEntry {
  const f = (SUMMARIES as Record<string, ((d: D) => string) | undefined>)[ev.type];
  let summary: string;
  try {
    summary = f ? f(ev.data as D) : ev.type;
  } catch {
    summary = ev.type;
  }
  return { seq: ev.seq, time: ev.time, type: ev.type, actor: ev.actor, summary };
}
