/**
 * Rotation (SPEC §8, docs/lifecycle.md): a generate ceremony with a link. The engine runs it as is;
 * what differs is in the plan (ceremony "rotate", previous, a new key label, key.version) and checked
 * by link.ts, recorded in ceremony.started, and in the exports' README.txt, which give each KMS's
 * command for a new version of the same key (exports/*.ts, from the Rotation below).
 */
import type { Rotation } from '../exports/bundle-files.ts';
import type { LifecycleStart } from './facts.ts';

/** The README facts of a rotation, or undefined for every other kind. */
export function rotationOf(l: LifecycleStart): Rotation | undefined {
  return l.kind === 'rotate' && l.previous ? { version: l.keyVersion, previousCeremonyId: l.previous.ceremonyId } : undefined;
}
