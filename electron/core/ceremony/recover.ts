/**
 * Recovery of a ceremony's root key from M shares into a new token (SPEC §1 `keyrite recover`, §3
 * recoveries/, §5). The order is what keeps a failed recovery harmless:
 *   1. the bundle is verified and read; the module is opened and the token found (no login);
 *   2. shares are added one at a time, each checked at once (words, checksum, same set, a check value
 *      the transcript knows, no duplicate), until the thresholds are met;
 *   3. the shares are combined and the backup key's KCV is checked in software (a wrong passphrase
 *      fails here, before any PIN is used);
 *   4. login, then the target label and id must be free: only then is the recovery transcript
 *      started and anything created on the token;
 *   5. the backup key becomes a session object, the root is unwrapped as a token object with the
 *      ceremony's usage and protection, the backup key object is destroyed and its buffer zeroed;
 *   6. the key is shown to be the root (signature checked with the root public key, or same KCV),
 *      sealed if the ceremony sealed it, and a new EC P-384 signer signs the recovery record with
 *      the recovered root where it can sign.
 * A failure after step 4 removes what this recovery created on the token and records why.
 * The CLI (`keyrite recover`) and the desktop app both drive this class.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { KeyriteError, OperationError, UsageError } from '../errors.ts';
import { endSession, exactSelector, HsmError, judgeMechanisms, openModule, selectOn } from '../hsm/index.ts';
import type { HsmModule, HsmSession, KeyAttributes, KeyRef, ModuleOptions, RootKey, TokenInfo, TokenSelectedBy } from '../hsm/types.ts';
import { ShareCollector } from '../shares/index.ts';
import { keyidOf, pae, RECOVERIES_DIR, RECOVERY_PREDICATE_TYPE, signBundle, statementDigest, verifySignature, type EnvelopeSigner } from '../transcript/dsse.ts';
import type { EventData, EventType, TranscriptEvent } from '../transcript/events.ts';
import { TranscriptWriter } from '../transcript/writer.ts';
import { makeNewDir, toPem, writeNewFile } from '../util/files.ts';
import { APP_NAME, APP_VERSION } from '../version.ts';
import { runningCode } from '../code.ts';
import { hostRecord } from './host.ts';
import { attributeChecks, flagCheck, keyIdentity, rootSignatureScheme, sealProblem, signerSchemeOf } from './key-checks.ts';
import { loadRecoveryBundle, type BundleVerification, type RecoveryBundle } from './recovery-bundle.ts';
import { aesKcvSoftware } from './recovery-kcv.ts';
import { checkWrittenEnvelope, destroyOneTimeSigner, oneTimeSigner } from './one-time-signer.ts';
import { describeDiffs, enforceUsage, wantedPublicUsage, wantedUsage } from './usage-flags.ts';
import { judgeCapabilities, refusals } from '../hsm/capabilities.ts';
import { proveCapabilities, type AttributeQuirk } from '../hsm/capability-probe.ts';

export type { BundleVerification } from './recovery-bundle.ts';

/** Same payload type as the ceremony's key checks: the root only ever signs a DSSE PAE. */
const DSSE_KEYCHECK_TYPE = 'application/vnd.keyrite.key-check+json';

export interface RecoveryOpenOptions {
  bundle: string;
  /** Path of the PKCS#11 module of the target HSM. */
  module: string;
  tokenLabel: string;
  tokenSerial?: string;
  /** Decimal slot id, only where label and serial both repeat. */
  tokenSlot?: string;
  /** C_Initialize reserved string (--module-args), e.g. for NSS softoken. */
  moduleArgs?: string;
  /** Replaces core/hsm's openModule (tests of tokens that misbehave). */
  openModule?: (path: string, opts?: ModuleOptions) => HsmModule;
  /** Label for the restored key; default: the ceremony's label. */
  label?: string;
  /** Go ahead on a bundle that does not verify; recorded in the recovery transcript. */
  forceUnverified?: boolean;
  frontEnd?: 'cli' | 'desktop';
  /** Called after every recovery event is on disk. */
  onEvent?: (event: TranscriptEvent) => void;
}

/** What the recovery team sees before entering shares. Public data only. */
export interface RecoveryInfo {
  bundleDir: string;
  ceremonyId: string;
  title: string;
  root: { algorithm: string; label: string; idHex: string; fingerprint: string };
  /** The label the key gets on the target token. */
  targetLabel: string;
  token: TokenInfo;
  groupThreshold: number;
  groups: { group: number; threshold: number; count: number }[];
  passphrase: boolean;
  verification: BundleVerification;
}

export interface ShareProgress {
  accepted: true;
  /** The share's position in the input (1-based), as messages name it. */
  position: number;
  group: number;
  member: number;
  checkValue: string;
  /** The custodian the ceremony gave this share to. */
  custodian?: string;
  /** False when valid but not needed (its group, or the set, already has enough). */
  used: boolean;
  complete: boolean;
  /** e.g. "group 1 needs 1 more share"; "" when complete. */
  needs: string;
  groups: { group: number; have: number; threshold: number }[];
}

export interface RecoveryOutcome {
  /** Absolute path of BUNDLE/recoveries/<time>/. */
  recoveryDir: string;
  /** "recoveries/<time>", as `keyrite verify` lists it. */
  relDir: string;
  algorithm: string;
  label: string;
  idHex: string;
  fingerprint: string;
  token: { label: string; serialNumber: string };
  sealed: boolean;
  chainHead: string;
  signers: { keyid: string; role: string }[];
  /** This recovery's own statement digest (SPEC §3), for the paper record. */
  statementSha256: string;
}

interface UsedShare {
  position: number;
  group: number;
  member: number;
  checkValue: string;
  custodian?: string;
}

/** "20261122T142333Z": the recovery folder's name. */
function folderTime(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

function positions(list: number[]): string {
  if (list.length === 1) return `share ${list[0]}`;
  return `shares ${list.slice(0, -1).join(', ')} and ${list[list.length - 1]}`;
}

export class Recovery {
  readonly info: RecoveryInfo;
  private readonly bundle: RecoveryBundle;
  private readonly opts: RecoveryOpenOptions;
  private module?: HsmModule;
  private readonly collector: ShareCollector;
  private readonly used: UsedShare[] = [];
  private attempts = 0;
  private kek?: Buffer;
  private session?: HsmSession;
  private writer?: TranscriptWriter;
  private dir?: string;
  private step = 'shares';
  private created: KeyRef[] = [];
  private finished = false;
  /** Provenance attributes the target token reports wrongly on its own keys (proven at restore, before anything is made). */
  private quirks: AttributeQuirk[] = [];
  /** How the target token was told apart (hsm.selected). */
  selectedBy: TokenSelectedBy = 'label';

  private constructor(bundle: RecoveryBundle, module: HsmModule, token: TokenInfo, opts: RecoveryOpenOptions) {
    this.bundle = bundle;
    this.module = module;
    this.opts = opts;
    const { split, key } = bundle;
    this.collector = new ShareCollector({ identifier: split.identifier, allowedCheckValues: new Set(split.shares.map((s) => s.checkValue)) });
    this.info = {
      bundleDir: bundle.dir,
      ceremonyId: bundle.ceremonyId,
      title: bundle.title,
      root: { algorithm: key.algorithm, label: key.label, idHex: key.id, fingerprint: key.publicKey?.sha256 ?? `KCV ${key.kcv}` },
      targetLabel: opts.label ?? key.label,
      token,
      groupThreshold: split.groupThreshold,
      groups: split.groups.map((g, i) => ({ group: i + 1, threshold: g.threshold, count: g.count })),
      passphrase: split.passphrase,
      verification: bundle.verification,
    };
  }

  /**
   * Reads and verifies the bundle, opens the module and finds the token. Touches nothing on the
   * token. Throws a one-line KeyriteError (an unverified bundle, a missing module or token).
   */
  static open(opts: RecoveryOpenOptions): Recovery {
    if (opts.label !== undefined && opts.label.trim() === '') throw new UsageError('recover: --label must not be empty');
    const bundle = loadRecoveryBundle(opts.bundle, { forceUnverified: opts.forceUnverified });
    if (!existsSync(opts.module)) throw new UsageError(`PKCS#11 module ${opts.module} does not exist`);
    const module = (opts.openModule ?? openModule)(opts.module, { initArgs: opts.moduleArgs });
    try {
      const { token, selectedBy } = selectOn(module, { label: opts.tokenLabel, serial: opts.tokenSerial, slotId: opts.tokenSlot });
      const rec = new Recovery(bundle, module, token, opts);
      rec.selectedBy = selectedBy;
      return rec;
    } catch (err) {
      module.close();
      throw err;
    }
  }

  get complete(): boolean {
    return this.collector.complete;
  }

  /** What is still needed, in words ("group 1 needs 2 more shares"); "" when complete. */
  needs(): string {
    if (this.collector.count > 0) return this.collector.needs();
    const { groups, groupThreshold } = this.info;
    const one = (g: { group: number; threshold: number }) => `group ${g.group} needs ${g.threshold} share${g.threshold === 1 ? '' : 's'}`;
    if (groups.length === 1) return one(groups[0]);
    return `${groupThreshold} of ${groups.length} groups needed (${groups.map((g) => `group ${g.group}: ${g.threshold} of ${g.count}`).join(', ')})`;
  }

  /**
   * Checks one share and adds it. `position` (1-based) names it in messages; by default the number
   * of shares accepted so far plus one. Throws Slip39Error ("share N: why") when it is refused.
   */
  addShare(mnemonic: string, position?: number): ShareProgress {
    if (this.finished) throw new OperationError('this recovery is over; start a new one');
    const pos = position ?? this.collector.count + 1;
    this.attempts++;
    const r = this.collector.add(mnemonic, pos);
    const info = r.accepted;
    const custodian = this.bundle.split.shares.find((s) => s.checkValue === info.checkValue)?.custodian;
    if (r.used) this.used.push({ position: pos, group: info.group, member: info.member, checkValue: info.checkValue, custodian });
    const have = (g: number) => this.used.filter((u) => u.group === g).length;
    return {
      accepted: true,
      position: pos,
      group: info.group,
      member: info.member,
      checkValue: info.checkValue,
      custodian,
      used: r.used,
      complete: r.complete,
      needs: r.needs,
      groups: this.info.groups.map((g) => ({ group: g.group, have: have(g.group), threshold: g.threshold })),
    };
  }

  /**
   * Combines the shares and checks the backup key's KCV against backup.split, in software: no
   * token is involved. A mismatch (a wrong SLIP-39 passphrase) is an OperationError naming the shares.
   */
  checkBackupKey(passphrase?: string): { kcv: string } {
    if (this.kek) return { kcv: this.bundle.split.kekKcv };
    if (!this.collector.complete) throw new OperationError(`not enough shares: ${this.collector.needs()}`);
    const split = this.bundle.split;
    if (split.passphrase && passphrase === undefined)
      throw new UsageError('the ceremony protected its shares with a SLIP-39 passphrase; give it (--passphrase-env VAR or at the prompt)', { retryable: true });
    const secret = this.collector.secret(split.passphrase ? passphrase : '');
    const kek = Buffer.from(secret);
    secret.fill(0);
    const kcv = aesKcvSoftware(kek);
    if (kek.length !== 32 || kcv !== split.kekKcv) {
      kek.fill(0);
      const which = positions(this.used.map((u) => u.position));
      throw new OperationError(
        `${which} combine to a backup key with KCV ${kcv}, not the ceremony's ${split.kekKcv}: ${split.passphrase ? 'wrong SLIP-39 passphrase' : 'these are not the shares of this backup'}; nothing was done on the token`,
        { retryable: split.passphrase },
      );
    }
    this.kek = kek;
    this.collector.wipe();
    return { kcv };
  }

  /**
   * Logs in to the target token and checks that the key can be restored there (label and CKA_ID
   * free, RFC 5649 unwrap), before any share is asked for: a wrong PIN or a taken label then costs
   * the team nothing. The session is kept for restore(). Changes nothing on the token.
   */
  login(pin: string): void {
    if (this.finished) throw new OperationError('this recovery is over; start a new one');
    if (!this.module) throw new OperationError('this recovery was closed');
    if (this.session) return;
    const session = this.module.login(exactSelector(this.info.token), pin);
    try {
      this.refuseIfTaken(session);
    } catch (err) {
      endSession(session);
      throw err;
    }
    this.session = session;
  }

  /**
   * Restores the root key into the token and writes the signed recovery record. Before anything on
   * the token changes: the backup key's KCV is checked, and the target label and CKA_ID must be free.
   * Uses the session of an earlier login(), if any.
   */
  restore(pin: string, passphrase?: string): RecoveryOutcome {
    if (this.finished) throw new OperationError('this recovery is over; start a new one');
    if (!this.module) throw new OperationError('this recovery was closed');
    this.checkBackupKey(passphrase);
    // A wrong PIN or a taken label leaves the checked backup key in memory, so the team can try
    // again without entering the shares again; close() wipes it.
    const session = this.session ?? this.module.login(exactSelector(this.info.token), pin);
    this.session = session;
    try {
      this.refuseIfTaken(session);
      try {
        this.begin(session);
        return this.run(session);
      } catch (err) {
        this.abort(err instanceof KeyriteError ? err.message : 'unexpected failure', err);
        throw err;
      }
    } finally {
      if (this.finished) {
        this.kek?.fill(0);
        this.kek = undefined;
      }
      this.closeSession();
    }
  }

  /**
   * Refuses before anything is created: the root's label and id must be free. (The recovery signer's
   * label names this recovery's own folder, so it is new; the HSM layer refuses a taken label anyway.)
   */
  private refuseIfTaken(s: HsmSession): void {
    const tok = `token '${this.info.token.label}'`;
    const label = this.info.targetLabel;
    const byLabel = s.findObjects({ label });
    if (byLabel.length)
      throw new OperationError(`${tok} already has ${byLabel.length} object${byLabel.length === 1 ? '' : 's'} labelled '${label}'; a recovery never overwrites a key (choose another --label or token); nothing was changed`, { retryable: true });
    const byId = s.findObjects({ idHex: this.bundle.key.id });
    if (byId.length)
      throw new OperationError(`${tok} already has an object with the root's CKA_ID ${this.bundle.key.id} (labelled '${byId[0].label}'); nothing was changed`);
    // The same proofs as a ceremony's login, with throwaway session objects: this token must unwrap the root's kind of key.
    const alg = this.bundle.key.algorithm;
    const caps = judgeCapabilities(this.module!.mechanisms(exactSelector(this.info.token)), alg);
    if (!caps.ok) throw new HsmError('mechanism-missing', `${tok} cannot take this recovery: ${refusals(caps)}; nothing was changed`);
    if (!s.kwpMechanism())
      throw new HsmError('mechanism-missing', `${tok} has neither CKM_AES_KEY_WRAP_KWP nor CKM_AES_KEY_WRAP_PAD, so it cannot unwrap the backup (RFC 5649); nothing was changed`);
    const proof = proveCapabilities(s, alg, caps);
    const failed = proof.checks.find((c) => !c.ok);
    if (failed) throw new HsmError('refused', `${tok} cannot take this recovery: ${failed.name}: ${failed.detail}; nothing was changed`);
    this.quirks = proof.quirks;
  }

  private record<T extends EventType>(type: T, data: EventData[T], actor = 'system'): TranscriptEvent {
    const ev = this.writer!.append<T>(type, actor, data as never) as TranscriptEvent;
    this.opts.onEvent?.(ev);
    return ev;
  }

  /** Creates BUNDLE/recoveries/<time>/ and the transcript's first events. */
  private begin(s: HsmSession): void {
    const base = path.join(this.bundle.dir, RECOVERIES_DIR);
    const stamp = folderTime(new Date());
    let name = stamp;
    for (let n = 2; existsSync(path.join(base, name)); n++) name = `${stamp}-${n}`;
    this.dir = path.join(base, name);
    makeNewDir(this.dir);
    this.writer = TranscriptWriter.create(path.join(this.dir, 'transcript.jsonl'));
    this.step = 'started';
    const host = hostRecord();
    const t = this.info.token;
    this.record('recovery.started', {
      ceremonyId: this.bundle.ceremonyId,
      ceremonyChainHead: this.bundle.chainHead,
      ...(this.bundle.statementSha256 ? { ceremonyStatementSha256: this.bundle.statementSha256 } : {}),
      app: { name: APP_NAME, version: APP_VERSION, code: runningCode() },
      host,
      frontEnd: this.opts.frontEnd ?? 'cli',
      bundleVerification: { ...this.bundle.verification },
      target: { label: this.info.targetLabel, id: this.bundle.key.id, tokenLabel: t.label, tokenSerial: t.serialNumber },
    });
    const m = this.module!.info;
    this.record('hsm.selected', {
      module: { path: m.path, sha256: m.sha256, manufacturer: m.manufacturer, library: m.library, libraryVersion: m.libraryVersion, cryptokiVersion: m.cryptokiVersion, ...(m.initArgs !== undefined ? { initArgs: m.initArgs } : {}) },
      token: { label: t.label, manufacturer: t.manufacturer, model: t.model, serialNumber: t.serialNumber, firmware: t.firmware, flags: t.flags, slotId: t.slotId, selectedBy: this.selectedBy },
      mechanisms: judgeMechanisms(this.module!.mechanisms(exactSelector(t)), this.bundle.key.algorithm),
      capabilities: judgeCapabilities(this.module!.mechanisms(exactSelector(t)), this.bundle.key.algorithm, { tokenFlags: t.flags }).rows,
    });
    this.record('hsm.logged-in', { tokenLabel: t.label, tokenSerial: s.token.serialNumber });
    for (const u of this.used) {
      this.record('recovery.share-accepted', { group: u.group, member: u.member, checkValue: u.checkValue, ...(u.custodian ? { custodian: u.custodian } : {}), position: u.position });
    }
    this.record('recovery.kek-verified', { kcv: this.bundle.split.kekKcv, ok: true, shares: this.used.map((u) => ({ group: u.group, member: u.member })) });
  }

  private run(s: HsmSession): RecoveryOutcome {
    const { key } = this.bundle;
    const alg = key.algorithm;
    const label = this.info.targetLabel;
    const t = this.info.token;

    this.step = 'unwrap';
    this.record('key.generating', { role: 'root', label, id: key.id, algorithm: alg });
    let root: RootKey;
    const kekRef = s.importAesKey(this.kek!, `keyrite-kek-recovery:${this.bundle.ceremonyId}`, { unwrap: true });
    try {
      root = s.unwrapKwp(kekRef, this.bundle.wrapped, { algorithm: alg, label, id: Buffer.from(key.id, 'hex'), asToken: true, publicSpki: this.bundle.spki });
      this.created.push(root.key);
      if (root.publicKey) this.created.push(root.publicKey);
    } finally {
      s.destroy(kekRef);
      this.kek!.fill(0);
      this.kek = undefined;
    }
    this.record('recovery.kek-destroyed', {});

    this.step = 'verification';
    // Usage flags exactly the ceremony's, corrected where the token ignored the template, else refused (and removed by abort()).
    const corrected = enforceUsage(s, root.key, wantedUsage(key.attributes as Partial<KeyAttributes> | undefined, alg));
    if (root.publicKey) corrected.push(...enforceUsage(s, root.publicKey, wantedPublicUsage(alg)));
    const attrs = s.readAttributes(root.key);
    const { kcv, spki, fields } = keyIdentity(s, root);
    const data: EventData['key.recovered'] = { label, id: key.id, algorithm: alg, token: { label: t.label, serialNumber: t.serialNumber }, attributes: { ...attrs }, ...fields };
    const checks = recoveredAttributeChecks(attrs, { label, idHex: key.id, algorithm: alg });
    checks.push({
      name: 'usage flags',
      ok: true,
      detail: corrected.length
        ? `the token ignored the unwrap template for ${describeDiffs(corrected)}; corrected with C_SetAttributeValue and read back equal to the ceremony's`
        : "every usage flag (sign, verify, encrypt, decrypt, wrap, unwrap, derive) equals the ceremony's",
    });
    const scheme = rootSignatureScheme(alg);
    if (alg === 'aes-256') {
      const ok = kcv === key.kcv;
      checks.push({ name: 'kcv', ok, detail: ok ? `the recovered key has the root's KCV ${key.kcv} (AES-CMAC in the token)` : `the recovered key's KCV ${kcv} is not the root's ${key.kcv}` });
    } else {
      const rootSpki = this.bundle.spki!;
      checks.push({ name: 'public key', ok: spki!.equals(rootSpki), detail: spki!.equals(rootSpki) ? 'the public key object is the root public key' : 'the public key object is not the root public key' });
      const msg = pae(DSSE_KEYCHECK_TYPE, Buffer.from(JSON.stringify({ ceremonyId: this.bundle.ceremonyId, purpose: 'recovery-verification', nonce: s.random(16).toString('hex') })));
      const ok = verifySignature(rootSpki, msg, s.sign(root.key, scheme!, msg));
      checks.push({ name: 'signature', ok, detail: ok ? `${scheme} signature by the recovered private key over a domain-separated message verifies with the root public key` : `${scheme} signature by the recovered private key does not verify with the root public key` });
    }
    // The record names the key as the ceremony's root only once it is proven so.
    const bad = checks.find((c) => !c.ok);
    if (bad) {
      this.record('key.verified', { checks });
      throw new OperationError(`the recovered key is not the ceremony's root: ${bad.name}: ${bad.detail}`);
    }
    this.record('key.recovered', data);
    this.record('key.verified', { checks });

    let sealed = false;
    if (this.bundle.sealed) {
      this.step = 'seal';
      s.setAttributes(root.key, { extractable: false });
      const back = s.readAttributes(root.key);
      const problem = sealProblem(back, 'the recovered key');
      sealed = problem === undefined;
      // Fail closed: an unreadable CKA_EXTRACTABLE is never recorded or taken as sealed.
      if (back.extractable !== undefined) this.record('key.sealed', { label, id: key.id, extractable: back.extractable });
      if (problem) throw new OperationError(problem);
    }

    this.step = 'signer';
    const signerLabel = `keyrite-recovery-signer:${this.bundle.ceremonyId}:${path.basename(this.dir!)}`;
    const signerId = s.random(16);
    const signerAlg = judgeCapabilities(this.module!.mechanisms(exactSelector(t)), alg).signer ?? 'ec-p384';
    this.record('key.generating', { role: 'signer', label: signerLabel, id: signerId.toString('hex'), algorithm: signerAlg });
    const signer = s.generateSignerKey(signerLabel, signerId, signerAlg);
    this.created.push(signer.key);
    if (signer.publicKey) this.created.push(signer.publicKey);
    const signerSpki = s.publicKeySpki(signer.publicKey ?? signer.key);
    const signerAttrs = s.readAttributes(signer.key);
    const signerBad = attributeChecks(signerAttrs, { label: signerLabel, idHex: signerId.toString('hex'), algorithm: signerAlg, extractable: false, quirks: this.quirks }).find((c) => !c.ok);
    if (signerBad) throw new OperationError(`recovery signer key attributes: ${signerBad.detail}`);
    const keyid = keyidOf(signerSpki);
    writeNewFile(path.join(this.dir!, 'keys', `${keyid}.pub.pem`), toPem(signerSpki));
    this.record('signer.generated', { role: 'ceremony', label: signerLabel, id: signerId.toString('hex'), keyid, spki: signerSpki.toString('base64'), attributes: { ...signerAttrs } });

    const signers: EnvelopeSigner[] = [{ role: 'ceremony', spki: signerSpki, sign: (m) => s.sign(signer.key, signerSchemeOf(signerSpki), m) }];
    if (scheme && spki) {
      writeNewFile(path.join(this.dir!, 'keys', `${keyidOf(spki)}.pub.pem`), toPem(spki));
      signers.push({ role: 'root', spki, sign: (m) => s.sign(root.key, scheme, m) });
    }

    this.step = 'signing';
    const w = this.writer!;
    this.record('recovery.completed', { chainHead: w.head, eventCount: w.count });
    w.close();
    // From here the record says the recovery is complete: nothing is rolled back any more.
    this.created = [];
    const signed = signBundle({
      bundleDir: this.dir!,
      predicateType: RECOVERY_PREDICATE_TYPE,
      predicate: {
        ceremonyId: this.bundle.ceremonyId,
        chainHead: w.head,
        eventCount: w.count,
        root: kcv !== undefined ? { algorithm: alg, label: key.label, kcv: key.kcv! } : { algorithm: alg, label: key.label, publicKeySha256: key.publicKey!.sha256 },
        ceremonyChainHead: this.bundle.chainHead,
        ...(this.bundle.statementSha256 ? { ceremonyStatementSha256: this.bundle.statementSha256 } : {}),
        ceremonySigner: oneTimeSigner(keyid),
        recoveredAs: { label, id: key.id, tokenLabel: t.label, tokenSerial: t.serialNumber },
        sharesUsed: this.used.map((u) => ({ group: u.group, member: u.member })),
      },
      signers,
    });
    this.finished = true;
    // One-time signer, as in a ceremony: the envelope is checked on disk, then the signer destroyed.
    this.step = 'signer-destroyed';
    checkWrittenEnvelope(signed.path, signed.statement);
    destroyOneTimeSigner(s, { label: signerLabel, idHex: signerId.toString('hex') }, `recovery ${RECOVERIES_DIR}/${path.basename(this.dir!)}`);
    this.step = 'done';
    return {
      recoveryDir: this.dir!,
      relDir: `${RECOVERIES_DIR}/${path.basename(this.dir!)}`,
      algorithm: alg,
      label,
      idHex: key.id,
      fingerprint: this.info.root.fingerprint,
      token: { label: t.label, serialNumber: t.serialNumber },
      sealed,
      chainHead: w.head,
      signers: signed.statement.predicate.signers.map((x) => ({ keyid: x.keyid, role: x.role })),
      statementSha256: statementDigest(signed.envelope),
    };
  }

  /** Takes away what this recovery created on the token and records where and why it stopped. */
  private abort(reason: string, error?: unknown): void {
    const removed: string[] = [];
    for (const ref of [...this.created].reverse()) {
      try {
        this.session?.destroy(ref);
        removed.push(`${ref.kind} key '${ref.label}'`);
      } catch {
        /* the token may be gone; the record says what was not removed by omission */
      }
    }
    this.created = [];
    if (this.writer && !this.writer.closed) {
      try {
        const data: EventData['recovery.aborted'] = { reason, step: this.step, removed };
        if (error instanceof KeyriteError && error.message !== reason) data.error = error.message;
        this.record('recovery.aborted', data);
      } finally {
        this.writer.close();
      }
    }
    this.finished = true;
  }

  private closeSession(): void {
    endSession(this.session);
    this.session = undefined;
  }

  /** Wipes the shares and the backup key from memory and releases the module. Safe to call twice. */
  close(): void {
    this.collector.wipe();
    this.kek?.fill(0);
    this.kek = undefined;
    this.closeSession();
    try {
      this.module?.close();
    } catch {
      /* already closed */
    }
    this.module = undefined;
    this.finished = true;
  }
}

/**
 * The ceremony's attribute checks, minus what an unwrapped key cannot have: it was not generated in
 * this token (CKA_LOCAL false), it was not always sensitive, and SoftHSM reports CKA_VALUE_LEN 0 for
 * unwrapped AES keys (the KCV proves the key instead).
 */
function recoveredAttributeChecks(a: KeyAttributes, want: { label: string; idHex: string; algorithm: RootKey['algorithm'] }): { name: string; ok: boolean; detail: string }[] {
  const skip = new Set(['generated in the token', 'sensitive', 'extractable']);
  if (want.algorithm === 'aes-256' && !a.valueLen) skip.add('size');
  const checks = attributeChecks(a, { ...want, extractable: true }).filter((c) => !skip.has(c.name));
  checks.push(flagCheck('sensitive', 'CKA_SENSITIVE', a.sensitive, true));
  return checks;
}

