/**
 * The desktop app's recovery session over the core recover engine (`keyrite recover`,
 * electron/core/ceremony/recover.ts): the bundle is verified and the token found when it starts,
 * shares are checked one by one as they are entered, and restore() writes the signed recovery
 * record into BUNDLE/recoveries/<time>/. Only public facts are returned to the renderer.
 */
import type { RecoveryPlanInfo, RecoveryProgress, RecoveryResult, RecoveryStartOptions } from './api.ts';
import { Recovery } from './core/ceremony/recover.ts';
import { KeyriteError } from './core/errors.ts';
import type { TranscriptEvent } from './core/transcript/events.ts';

export interface RecoverySession {
  info: RecoveryPlanInfo;
  addShare(words: string): RecoveryProgress;
  /** On a failure the team cannot retry in this session, the session closes itself (see `closed`). */
  restore(pin: string, passphrase?: string): RecoveryResult;
  cancel(): void;
  /** True once the module is released: after a restore, a final failure, or cancel(). */
  readonly closed: boolean;
}

/**
 * Failures the team can fix and retry without entering the shares again: a wrong or malformed PIN,
 * a missing or wrong SLIP-39 passphrase, or a target label already taken on the token (the object
 * can be removed first). Everything else ends the session. The core refuses these before it
 * changes anything on the token.
 */
export function isRetryableRestoreError(err: unknown): boolean {
  return err instanceof KeyriteError && err.retryable;
}

export function startRecovery(opts: RecoveryStartOptions, onEvent?: (ev: TranscriptEvent) => void): RecoverySession {
  const r = Recovery.open({
    bundle: opts.bundle,
    module: opts.module,
    tokenLabel: opts.tokenLabel,
    ...(opts.tokenSerial ? { tokenSerial: opts.tokenSerial } : {}),
    ...(opts.label !== undefined ? { label: opts.label } : {}),
    ...(opts.moduleArgs ? { moduleArgs: opts.moduleArgs } : {}),
    frontEnd: 'desktop',
    onEvent,
  });
  const i = r.info;
  let closed = false;
  const close = () => {
    closed = true;
    r.close();
  };
  return {
    info: {
      ceremonyId: i.ceremonyId,
      targetLabel: i.targetLabel,
      root: { algorithm: i.root.algorithm, label: i.root.label, fingerprint: i.root.fingerprint },
      groupThreshold: i.groupThreshold,
      groups: i.groups.map((g) => ({ ...g })),
      passphrase: i.passphrase,
    },
    addShare(words) {
      const p = r.addShare(words);
      return { group: p.group, member: p.member, used: p.used, complete: p.complete, needs: p.needs, groups: p.groups.map((g) => ({ ...g })) };
    },
    restore(pin, passphrase) {
      let o;
      try {
        o = r.restore(pin, passphrase);
      } catch (err) {
        if (!isRetryableRestoreError(err)) {
          // Final: wipe the shares and the backup key and release the module now, not at the next start.
          close();
          if (err instanceof KeyriteError && !err.message.includes('start the recovery again'))
            err.message = `${err.message}; this recovery is closed: start the recovery again`;
        }
        throw err;
      }
      close();
      // restore() proves the restored key is the ceremony's root (signature or KCV) or throws.
      return { label: o.label, id: o.idHex, fingerprint: o.fingerprint, sameKey: true, transcriptDir: o.recoveryDir };
    },
    cancel() {
      close();
    },
    get closed() {
      return closed;
    },
  };
}
