/**
 * The desktop app's recovery session: shares entered one at a time (checked at once by the
 * ShareCollector against the check values in the bundle's transcript), then the root key restored
 * into a token.
 *
 * SEAM: the recover engine (`keyrite recover`, electron/core/ceremony/recover.ts) writes the signed
 * recovery transcript into BUNDLE/recoveries/<time>/. Until it lands, restore() here does the
 * restore itself (KEK KCV check, RFC 5649 unwrap into a token object, same-key proof) without that
 * transcript, and says so in its result (transcriptDir undefined). Swap `restore` for the engine's.
 */
import { createPublicKey, verify as cryptoVerify, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { RecoveryPlanInfo, RecoveryProgress, RecoveryResult, RecoveryStartOptions } from './api.ts';
import { OperationError, UsageError } from './core/errors.ts';
import { openModule } from './core/hsm/index.ts';
import type { RootAlgorithm } from './core/hsm/types.ts';
import { rootSignatureScheme } from './core/ceremony/key-checks.ts';
import { ShareCollector } from './core/shares/index.ts';
import type { EventData } from './core/transcript/events.ts';
import { readTranscript } from './core/transcript/read.ts';

export interface RecoverySession {
  info: RecoveryPlanInfo;
  addShare(words: string): RecoveryProgress;
  restore(pin: string, passphrase?: string): RecoveryResult;
  cancel(): void;
}

interface BundleFacts {
  ceremonyId: string;
  split: EventData['backup.split'];
  key: EventData['key.generated'];
  wrapped: Buffer;
}

function readBundle(bundle: string): BundleFacts {
  const file = path.join(bundle, 'transcript.jsonl');
  if (!existsSync(file)) throw new UsageError(`bundle ${bundle}: no transcript.jsonl (is this a ceremony bundle folder?)`);
  const { events } = readTranscript(file);
  const find = <T extends keyof EventData>(type: T) => events.find((e) => e.type === type)?.data as EventData[T] | undefined;
  const started = find('ceremony.started');
  const split = find('backup.split');
  const key = find('key.generated');
  if (!started || !split || !key) throw new OperationError(`bundle ${bundle}: transcript has no ${!split ? 'backup.split' : 'key.generated'} event; nothing to recover`);
  const wrappedFile = path.join(bundle, 'backup', 'root.wrapped');
  if (!existsSync(wrappedFile)) throw new OperationError(`bundle ${bundle}: backup/root.wrapped is missing`);
  return { ceremonyId: started.ceremonyId, split, key, wrapped: readFileSync(wrappedFile) };
}

export function startRecovery(opts: RecoveryStartOptions): RecoverySession {
  const facts = readBundle(opts.bundle);
  const { split, key } = facts;
  const collector = new ShareCollector({ identifier: split.identifier, allowedCheckValues: new Set(split.shares.map((s) => s.checkValue)) });
  const have = new Map<number, number>();
  const info: RecoveryPlanInfo = {
    ceremonyId: facts.ceremonyId,
    root: { algorithm: key.algorithm, label: key.label, fingerprint: key.publicKey?.sha256 ?? `KCV ${key.kcv}` },
    groupThreshold: split.groupThreshold,
    groups: split.groups.map((g, i) => ({ group: i + 1, threshold: g.threshold, count: g.count })),
    passphrase: split.passphrase,
  };

  return {
    info,
    addShare(words) {
      const r = collector.add(words);
      const g = r.accepted.group;
      // The collector's copy is what counts; ours is only for the progress display.
      if (r.used) have.set(g, (have.get(g) ?? 0) + 1);
      return {
        group: g,
        member: r.accepted.member,
        used: r.used,
        complete: r.complete,
        needs: r.needs,
        groups: info.groups.map((x) => ({ group: x.group, have: have.get(x.group) ?? 0, threshold: x.threshold })),
      };
    },
    restore(pin, passphrase) {
      if (!collector.complete) throw new OperationError(`not enough shares yet: ${collector.needs()}`);
      const module = openModule(opts.module);
      let kek: Buffer | undefined;
      try {
        const session = module.login({ label: opts.tokenLabel }, pin);
        try {
          if (session.findObjects({ label: key.label }).length)
            throw new OperationError(`token '${opts.tokenLabel}' already has an object labelled '${key.label}'; a recovery never overwrites a key`);
          kek = Buffer.from(collector.secret(split.passphrase ? passphrase ?? '' : ''));
          const kekRef = session.importAesKey(kek, `keyrite-kek-recovery:${facts.ceremonyId}`, { unwrap: true, sign: true });
          try {
            if (session.aesKcv(kekRef) !== split.kekKcv)
              throw new OperationError('the shares combine to a backup key with a different KCV than the ceremony recorded (wrong passphrase?)');
            const alg = key.algorithm as RootAlgorithm;
            const spki = key.publicKey ? Buffer.from(key.publicKey.spki, 'base64') : undefined;
            const restored = session.unwrapKwp(kekRef, facts.wrapped, { algorithm: alg, label: key.label, id: Buffer.from(key.id, 'hex'), asToken: true, publicSpki: spki });
            let sameKey: boolean;
            if (alg === 'aes-256') sameKey = session.aesKcv(restored.key) === key.kcv;
            else {
              const scheme = rootSignatureScheme(alg)!;
              const msg = Buffer.concat([Buffer.from('keyrite recovery check v1\n'), randomBytes(32)]);
              const sig = session.sign(restored.key, scheme, msg);
              const pub = createPublicKey({ key: spki!, format: 'der', type: 'spki' });
              const hash = pub.asymmetricKeyType === 'ed25519' ? null : pub.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'sha384' : 'sha256';
              sameKey = cryptoVerify(hash, msg, pub, sig);
            }
            if (!sameKey) {
              session.destroy(restored.key);
              if (restored.publicKey) session.destroy(restored.publicKey);
              throw new OperationError('the restored key is not the ceremony\'s root key; it was removed from the token');
            }
            collector.wipe();
            return { label: key.label, id: key.id, fingerprint: info.root.fingerprint, sameKey, transcriptDir: undefined };
          } finally {
            session.destroy(kekRef);
          }
        } finally {
          try {
            session.logout();
          } catch {
            /* already logged out */
          }
          session.close();
        }
      } finally {
        // The entered shares stay (a wrong PIN should not mean typing them all again) until cancel or success.
        kek?.fill(0);
        module.close();
      }
    },
    cancel() {
      collector.wipe();
    },
  };
}
