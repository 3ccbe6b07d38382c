/**
 * The step names a ceremony's `ceremony.aborted.data.step` uses: the engine's own (steps, signer,
 * root, verification, backup, print, confirm, recovery-test, exports, seal, signing). When a run
 * stopped without recording its abort (a crash, a kill -9), `keyrite ceremony abort` records it
 * later and names the step from the last event on disk, in the same words, so `status`, `verify`
 * and the report say the same thing however the ceremony stopped.
 */
import type { TranscriptEvent } from '../transcript/events.ts';

const AFTER: Record<string, string> = {
  'ceremony.started': 'steps',
  'hsm.selected': 'steps',
  'preflight.passed': 'steps',
  'hsm.logged-in': 'steps',
  'selftest.kwp': 'steps',
  'participant.checked-in': 'steps',
  'step.acknowledged': 'steps',
  'note.added': 'steps',
  'exception.recorded': 'steps',
  'signer.generated': 'root',
  'key.generated': 'verification',
  'key.verified': 'backup',
  'backup.split': 'backup',
  'backup.wrapped': 'print',
  'share.printed': 'confirm',
  'share.confirmed': 'confirm',
  'backup.kek-wiped': 'confirm',
  'backup.recovery-tested': 'exports',
  'export.created': 'exports',
  'key.sealed': 'signing',
  'ceremony.completed': 'signing',
};

/** The step a run was in (or about to start) when `last` was the last event it wrote. */
export function stepAfter(last: Pick<TranscriptEvent, 'type' | 'data'> | undefined): string {
  if (!last) return 'none';
  if (last.type === 'key.generating') return (last.data as { role?: string }).role === 'root' ? 'root' : 'signer';
  // An exception says the step it was recorded at ("network" is recorded just before the steps).
  if (last.type === 'exception.recorded') {
    const at = (last.data as { step?: unknown }).step;
    if (typeof at === 'string' && at && at !== 'network') return at;
  }
  return AFTER[last.type] ?? last.type;
}
