/**
 * The desktop app's recovery session over the core recover engine (`keyrite recover`,
 * electron/core/ceremony/recover.ts): the bundle is verified and the token found when it starts,
 * shares are checked one by one as they are entered, and restore() writes the signed recovery
 * record into BUNDLE/recoveries/<time>/. Only public facts are returned to the renderer.
 */
import type { RecoveryPlanInfo, RecoveryProgress, RecoveryResult, RecoveryStartOptions } from './api.ts';
import { Recovery } from './core/ceremony/recover.ts';
import type { TranscriptEvent } from './core/transcript/events.ts';

export interface RecoverySession {
  info: RecoveryPlanInfo;
  addShare(words: string): RecoveryProgress;
  restore(pin: string, passphrase?: string): RecoveryResult;
  cancel(): void;
}

export function startRecovery(opts: RecoveryStartOptions, onEvent?: (ev: TranscriptEvent) => void): RecoverySession {
  const r = Recovery.open({ bundle: opts.bundle, module: opts.module, tokenLabel: opts.tokenLabel, frontEnd: 'desktop', onEvent });
  const i = r.info;
  return {
    info: {
      ceremonyId: i.ceremonyId,
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
      const o = r.restore(pin, passphrase);
      r.close();
      // restore() proves the restored key is the ceremony's root (signature or KCV) or throws.
      return { label: o.label, id: o.idHex, fingerprint: o.fingerprint, sameKey: true, transcriptDir: o.recoveryDir };
    },
    cancel() {
      r.close();
    },
  };
}
