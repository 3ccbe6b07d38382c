/**
 * What a recovery needs from a ceremony bundle: the share set's public facts (backup.split), the
 * wrapped root key (backup/root.wrapped, checked against backup.wrapped) and the root's identity
 * (key.generated). The bundle is verified first; an invalid or incomplete one is refused unless the
 * recovery team forces it, and then the verdict is recorded in the recovery transcript.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { OperationError, UsageError } from '../errors.ts';
import { ROOT_ALGORITHMS, type RootAlgorithm } from '../hsm/types.ts';
import { sha256Hex } from '../util/files.ts';
import { ENVELOPE_FILE, statementDigest, TRANSCRIPT_FILE } from '../transcript/dsse.ts';
import type { EventData, TranscriptEvent } from '../transcript/events.ts';
import { readTranscript } from '../transcript/read.ts';
import { firstFailure, verifyBundle } from '../verify/index.ts';
import { rootOfReshare } from '../lifecycle/reshare-root.ts';

export interface BundleVerification {
  valid: boolean;
  verdict: string;
  /** The first failed check, when not valid. */
  firstFailure?: string;
  /** True when the recovery went ahead on a bundle that did not verify (--force-unverified). */
  forced: boolean;
}

export interface RecoveryBundle {
  dir: string;
  ceremonyId: string;
  title: string;
  /** The signed statement's chainHead (the transcript's head when there is no envelope). */
  chainHead: string;
  /** The statement digest of the ceremony's envelope (SPEC §3); absent for an unsigned bundle (--force-unverified). */
  statementSha256?: string;
  split: EventData['backup.split'];
  key: EventData['key.generated'] & { algorithm: RootAlgorithm };
  /** The root public key (asymmetric roots). */
  spki?: Buffer;
  wrapped: Buffer;
  /** Whether the ceremony sealed its root (CKA_EXTRACTABLE false); a recovered root is sealed the same way. */
  sealed: boolean;
  verification: BundleVerification;
}

function only<T extends keyof EventData>(events: TranscriptEvent[], type: T, where: string): EventData[T] {
  const found = events.filter((e) => e.type === type);
  if (found.length !== 1) throw new OperationError(`${where}: the transcript has ${found.length === 0 ? `no ${type} event` : `${found.length} ${type} events`}; nothing can be recovered from it`);
  return found[0].data as EventData[T];
}

/** Reads and verifies a bundle for recovery. Throws a one-line KeyriteError when it cannot be used. */
export function loadRecoveryBundle(bundle: string, opts: { forceUnverified?: boolean } = {}): RecoveryBundle {
  const dir = path.resolve(bundle);
  if (!existsSync(dir)) throw new UsageError(`bundle ${bundle} does not exist`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`bundle ${bundle} is not a folder`);
  const transcriptFile = path.join(dir, TRANSCRIPT_FILE);
  if (!existsSync(transcriptFile)) throw new UsageError(`bundle ${bundle}: no ${TRANSCRIPT_FILE} (is this a ceremony bundle folder?)`);

  const result = verifyBundle(dir);
  const verification: BundleVerification = { valid: result.valid, verdict: result.verdict, forced: false };
  if (!result.valid) {
    verification.firstFailure = firstFailure(result) ?? result.verdict;
    const why = result.verdict.startsWith('INCOMPLETE') ? `incomplete: ${result.verdict.replace(/^INCOMPLETE:\s*/, '')}` : `invalid: ${verification.firstFailure}`;
    if (!opts.forceUnverified)
      throw new OperationError(`bundle ${bundle} does not verify (${why}); recovery refuses it unless --force-unverified is given, which is recorded`);
    verification.forced = true;
  }

  const read = readTranscript(readFileSync(transcriptFile));
  const events = read.events;
  const where = `bundle ${bundle}`;
  const started = only(events, 'ceremony.started', where);
  const split = only(events, 'backup.split', where);
  // A re-share bundle has no key.generated: the root is its version's, found behind it (docs/lifecycle.md).
  const key = events.some((e) => e.type === 'key.generated') ? only(events, 'key.generated', where) : rootOfReshare(dir, where);
  const wrappedEvent = only(events, 'backup.wrapped', where);
  if (!ROOT_ALGORITHMS.includes(key.algorithm as RootAlgorithm)) throw new OperationError(`${where}: key.generated names an unknown algorithm '${key.algorithm}'`);
  if (key.algorithm === 'aes-256' ? !key.kcv : !key.publicKey?.spki) throw new OperationError(`${where}: key.generated has no ${key.algorithm === 'aes-256' ? 'kcv' : 'publicKey'} to check the recovered key against`);
  if (!Array.isArray(split.shares) || !/^[0-9a-f]{6}$/.test(String(split.kekKcv))) throw new OperationError(`${where}: backup.split lacks its shares or kekKcv`);

  const wrappedFile = path.join(dir, 'backup', 'root.wrapped');
  if (!existsSync(wrappedFile)) throw new OperationError(`${where}: backup/root.wrapped is missing`);
  const wrapped = readFileSync(wrappedFile);
  if (sha256Hex(wrapped) !== wrappedEvent.sha256) throw new OperationError(`${where}: backup/root.wrapped does not match the sha256 in backup.wrapped`);

  let chainHead = read.head;
  let statementSha256: string | undefined;
  try {
    const env = JSON.parse(readFileSync(path.join(dir, ENVELOPE_FILE), 'utf8')) as { payload: string };
    const head = (JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as { predicate?: { chainHead?: unknown } }).predicate?.chainHead;
    if (typeof head === 'string' && /^[0-9a-f]{64}$/.test(head)) chainHead = head;
    statementSha256 = statementDigest(env);
  } catch {
    /* unsigned bundle (only with --force-unverified): the transcript's head stands in, and there is no statement */
  }

  const sealed = events.some((e) => e.type === 'key.sealed' && (e.data as EventData['key.sealed']).extractable === false);
  return {
    dir,
    ceremonyId: started.ceremonyId,
    title: started.title ?? '',
    chainHead,
    statementSha256,
    split,
    key: key as RecoveryBundle['key'],
    spki: key.publicKey ? Buffer.from(key.publicKey.spki, 'base64') : undefined,
    wrapped,
    sealed,
    verification,
  };
}
