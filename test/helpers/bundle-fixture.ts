/**
 * A complete, valid ceremony bundle (docs/transcript.md) made with node:crypto keys only, so that verifier
 * tests and benchmarks need no HSM. It is written with the real TranscriptWriter and signBundle;
 * the ceremony engine produces the same shapes from a token.
 */
import { createCipheriv, createHash, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { canonicalJson, GENESIS_PREV_HASH, lineHash, sha256Hex } from '../../electron/core/transcript/chain.ts';
import {
  CEREMONY_PREDICATE_TYPE,
  ENVELOPE_FILE,
  keyidOf,
  RECOVERY_PREDICATE_TYPE,
  signBundle,
  softwareSigner,
  spkiToPem,
  TRANSCRIPT_FILE,
  writeSignerPublicKey,
  type EnvelopeSigner,
  type PredicateBase,
  type RootDescription,
} from '../../electron/core/transcript/dsse.ts';
import type { TranscriptEvent } from '../../electron/core/transcript/events.ts';
import { readTranscript } from '../../electron/core/transcript/read.ts';
import { TranscriptWriter } from '../../electron/core/transcript/writer.ts';

export type FixtureRootAlgorithm = 'ec-p384' | 'ec-p256' | 'ed25519' | 'rsa-3072' | 'aes-256';

export interface BundleFixtureOptions {
  ceremonyId?: string;
  rootAlgorithm?: FixtureRootAlgorithm;
  /** note.added events written before ceremony.completed (benchmarks use thousands). */
  notes?: number;
  /** Number of shares in one group (threshold 2). */
  shares?: number;
  /** Stop right after the first event of this type: no completion, no envelope (an interrupted run). */
  stopAfter?: string;
  /** With stopAfter: write ceremony.aborted with this reason and sign the partial bundle. */
  abortReason?: string;
  /** Whether the root key signs too when it can (default true; false makes an asymmetric root's bundle invalid, as docs/transcript.md wants the root to sign). */
  rootSigns?: boolean;
}

export interface SoftwareBundle {
  dir: string;
  ceremonyId: string;
  rootAlgorithm: FixtureRootAlgorithm;
  signers: EnvelopeSigner[];
  ceremonySigner: EnvelopeSigner;
  ceremonyKeyid: string;
  rootSigner?: EnvelopeSigner;
  /** SPKI DER of the root (asymmetric roots). */
  rootSpki?: Buffer;
  root: RootDescription;
}

const START = Date.parse('2026-11-22T14:00:00.000Z');

/** A clock that ticks one second per reading. */
function fakeClock(start = START): () => Date {
  let t = start;
  return () => new Date((t += 1000));
}

function keyPair(alg: Exclude<FixtureRootAlgorithm, 'aes-256'>): KeyObject {
  switch (alg) {
    case 'ec-p384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    case 'ec-p256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    case 'ed25519':
      return generateKeyPairSync('ed25519').privateKey;
    case 'rsa-3072':
      return generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey;
  }
}

/** AES-CMAC(key, 16 zero bytes)[0..3], the SPEC's KCV, for the fixture's software AES root. */
function aesKcv(key: Buffer): string {
  const enc = (b: Buffer): Buffer => {
    const c = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
    return Buffer.concat([c.update(b), c.final()]);
  };
  // CMAC of one complete zero block is AES(K, K1), K1 being the first subkey (RFC 4493).
  const l = enc(Buffer.alloc(16));
  const k1 = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) k1[i] = ((l[i] << 1) | (i < 15 ? l[i + 1] >> 7 : 0)) & 0xff;
  if (l[0] & 0x80) k1[15] ^= 0x87;
  return enc(k1).subarray(0, 3).toString('hex');
}

function checkValue(seed: string): string {
  return createHash('sha256').update(`fixture share ${seed}`).digest('hex').slice(0, 16);
}

/** Builds a bundle folder at `dir` (which must not exist). */
export function makeSoftwareBundle(dir: string, opts: BundleFixtureOptions = {}): SoftwareBundle {
  const ceremonyId = opts.ceremonyId ?? 'fixture-root-2026';
  const rootAlgorithm = opts.rootAlgorithm ?? 'ec-p384';
  const shareCount = opts.shares ?? 3;
  mkdirSync(path.dirname(dir), { recursive: true });
  mkdirSync(dir);
  for (const sub of ['keys', 'backup', 'exports/vault-prod']) mkdirSync(path.join(dir, sub), { recursive: true });

  const custodians = Array.from({ length: shareCount }, (_, i) => `c${i + 1}`);
  const plan = {
    version: 1,
    id: ceremonyId,
    title: 'Fixture root key',
    participants: [
      { id: 'ada', name: 'Ada Admin', role: 'administrator' },
      { id: 'wes', name: 'Wes Witness', role: 'witness' },
      ...custodians.map((c, i) => ({ id: c, name: `Custodian ${i + 1}`, role: 'custodian' })),
    ],
    hsm: { module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'ceremony' },
    key: { label: ceremonyId, algorithm: rootAlgorithm, sealAfterExport: true },
    backup: { groupThreshold: 1, groups: [{ threshold: 2, custodians }], iterationExponent: 1, passphrase: false },
    exports: [{ name: 'vault-prod', kind: 'vault-transit', wrappingKey: 'vault/wrapping.pem', wrappingKeySha256: sha256Hex('fixture wrapping key'), hashFunction: 'SHA256', type: 'ecdsa-p384' }],
  };
  const planBytes = Buffer.from(JSON.stringify(plan, null, 2) + '\n');
  writeFileSync(path.join(dir, 'plan.json'), planBytes, { flag: 'wx' });

  const ceremonySigner = softwareSigner('ceremony', keyPair('ec-p384'));
  const ceremonyKeyid = keyidOf(ceremonySigner.spki);
  let rootSigner: EnvelopeSigner | undefined;
  let rootSpki: Buffer | undefined;
  let root: RootDescription;
  let rootKeyData: Record<string, unknown>;
  if (rootAlgorithm === 'aes-256') {
    const kcv = aesKcv(randomBytes(32));
    root = { algorithm: rootAlgorithm, label: ceremonyId, kcv };
    rootKeyData = { kcv };
  } else {
    rootSigner = softwareSigner('root', keyPair(rootAlgorithm));
    rootSpki = rootSigner.spki;
    root = { algorithm: rootAlgorithm, label: ceremonyId, publicKeySha256: sha256Hex(rootSpki) };
    rootKeyData = { publicKey: { spki: rootSpki.toString('base64'), sha256: sha256Hex(rootSpki) } };
  }

  const writer = TranscriptWriter.create(path.join(dir, TRANSCRIPT_FILE), { now: fakeClock() });
  const stop = (type: string): boolean => opts.stopAfter === type;
  const run = (): boolean => {
    writer.append('ceremony.started', 'ada', {
      ceremonyId,
      title: plan.title,
      planSha256: sha256Hex(planBytes),
      app: { name: 'keyrite', version: '0.1.0' },
      host: { platform: 'linux', arch: 'x64', networkInterfaces: [{ name: 'lo', up: false, internal: true, addresses: ['127.0.0.1'] }] },
      frontEnd: 'cli',
      rehearsal: true,
      participants: plan.participants,
    });
    if (stop('ceremony.started')) return false;
    writer.append('hsm.selected', 'ada', {
      module: { path: plan.hsm.module, sha256: sha256Hex('fixture module'), manufacturer: 'SoftHSM', library: 'Implementation of PKCS11' },
      token: { label: 'ceremony', manufacturer: 'SoftHSM project', model: 'SoftHSM v2', serialNumber: '4f1c2b7a9e0d3c11', firmware: '2.6' },
      mechanisms: [{ name: 'CKM_AES_KEY_WRAP_PAD', type: '0x0000210a', needed: 'backup', present: true }],
    });
    if (stop('hsm.selected')) return false;
    writer.append('signer.generated', 'system', {
      role: 'ceremony',
      label: `${ceremonyId}-signer`,
      id: '01',
      keyid: ceremonyKeyid,
      spki: ceremonySigner.spki.toString('base64'),
      attributes: { sensitive: true, extractable: false, sign: true },
    });
    writer.append('key.generated', 'system', {
      label: ceremonyId,
      id: '02',
      algorithm: rootAlgorithm,
      attributes: { sensitive: true, extractable: true, token: true, private: true },
      ...rootKeyData,
    });
    if (stop('key.generated')) return false;
    const shares = custodians.map((c, i) => ({ group: 1, member: i + 1, custodian: c, checkValue: checkValue(`${ceremonyId}/${i}`) }));
    writer.append('backup.split', 'system', {
      scheme: 'slip39',
      identifier: 4242,
      extendable: true,
      iterationExponent: 1,
      groupThreshold: 1,
      groups: [{ threshold: 2, count: shareCount }],
      kekKcv: 'a1b2c3',
      passphrase: false,
      shares,
    });
    if (stop('backup.split')) return false;
    const wrapped = randomBytes(rootAlgorithm === 'aes-256' ? 40 : 200);
    writeFileSync(path.join(dir, 'backup', 'root.wrapped'), wrapped, { flag: 'wx' });
    writer.append('backup.wrapped', 'system', {
      mechanism: 'CKM_AES_KEY_WRAP_PAD',
      mechanismType: '0x0000210a',
      zeroPadsInput: true,
      wrapped: wrapped.toString('base64'),
      sha256: sha256Hex(wrapped),
      path: 'backup/root.wrapped',
    });
    for (const s of shares) {
      writer.append('share.confirmed', s.custodian, { ...s, method: 'file' });
      if (stop('share.confirmed')) return false;
    }
    writer.append('backup.recovery-tested', 'system', {
      shares: [{ group: 1, member: 1 }, { group: 1, member: 2 }],
      ok: true,
      kekKcvOk: true,
      sameKey: true,
      detail: 'unwrapped key has the same public key',
    });
    if (stop('backup.recovery-tested')) return false;
    const importJson = Buffer.from(JSON.stringify({ ciphertext: randomBytes(64).toString('base64'), type: 'ecdsa-p384', hash_function: 'SHA256' }) + '\n');
    writeFileSync(path.join(dir, 'exports/vault-prod/import.json'), importJson, { flag: 'wx' });
    writeFileSync(path.join(dir, 'exports/vault-prod/README.txt'), 'vault write transit/keys/vault-prod/import @import.json\n', { flag: 'wx' });
    writer.append('export.created', 'system', {
      target: 'vault-prod',
      kind: 'vault-transit',
      algorithm: 'SHA256',
      wrappingKeySha256: sha256Hex('fixture wrapping key'),
      method: 'two-step OAEP+KWP',
      files: [{ path: 'exports/vault-prod/import.json', sha256: sha256Hex(importJson) }],
    });
    if (stop('export.created')) return false;
    for (let i = 0; i < (opts.notes ?? 0); i++) writer.append('note.added', 'wes', { text: `note ${i}: the witness observed step ${i}` });
    return true;
  };
  const finished = run();
  if (finished) writer.append('ceremony.completed', 'system', { chainHead: writer.head, eventCount: writer.count });
  else if (opts.abortReason) writer.append('ceremony.aborted', 'system', { reason: opts.abortReason, step: opts.stopAfter ?? '' });
  writer.close();

  if (rootSpki) writeFileSync(path.join(dir, 'keys', 'root.pub.pem'), spkiToPem(rootSpki), { flag: 'wx' });
  writeFileSync(path.join(dir, 'report.html'), `<!doctype html><title>${ceremonyId}</title><p>Ceremony report placeholder.</p>\n`, { flag: 'wx' });
  const signers = [ceremonySigner];
  if (rootSigner && opts.rootSigns !== false) signers.push(rootSigner);
  for (const s of signers) writeSignerPublicKey(dir, s.spki);

  const bundle: SoftwareBundle = { dir, ceremonyId, rootAlgorithm, signers, ceremonySigner, ceremonyKeyid, rootSigner, rootSpki, root };
  if (finished || opts.abortReason) resignBundle(bundle);
  return bundle;
}

/** (Re)signs the bundle as it now is: chainHead and eventCount from the transcript, every file a subject. */
export function resignBundle(b: SoftwareBundle, edit?: (predicate: PredicateBase) => void, predicateType = CEREMONY_PREDICATE_TYPE): void {
  rmSync(path.join(b.dir, ENVELOPE_FILE), { force: true });
  const t = readTranscript(readFileSync(path.join(b.dir, TRANSCRIPT_FILE)));
  const predicate: PredicateBase = {
    ceremonyId: b.ceremonyId,
    title: 'Fixture root key',
    chainHead: t.head,
    eventCount: t.lines.length,
    root: { ...b.root },
  };
  edit?.(predicate);
  signBundle({ bundleDir: b.dir, predicateType, predicate, signers: b.signers });
}

/**
 * Rewrites transcript.jsonl from edited events, recomputing seq and every prev (a forger's re-chain).
 * With fixCompletion, ceremony.completed's chainHead and eventCount are recomputed too. `serialize`
 * replaces JCS for tests that need a non-canonical line; `keepSeq` keeps the edited seq values.
 */
export function rewriteTranscript(
  dir: string,
  edit: (events: TranscriptEvent[]) => TranscriptEvent[],
  opts: { fixCompletion?: boolean; keepSeq?: boolean; keepPrev?: (e: TranscriptEvent, i: number) => boolean; serialize?: (e: TranscriptEvent, i: number) => string } = {},
): void {
  const file = path.join(dir, TRANSCRIPT_FILE);
  const events = edit(readTranscript(readFileSync(file)).events.map((e) => structuredClone(e)));
  let prev = GENESIS_PREV_HASH;
  const lines = events.map((e, i) => {
    const ev = { ...e, seq: opts.keepSeq ? e.seq : i, prev: opts.keepPrev?.(e, i) ? e.prev : prev };
    if (opts.fixCompletion && ev.type === 'ceremony.completed') ev.data = { ...ev.data, chainHead: prev, eventCount: i };
    const line = opts.serialize ? opts.serialize(ev, i) : canonicalJson(ev);
    prev = lineHash(line);
    return line + '\n';
  });
  unlinkSync(file);
  writeFileSync(file, lines.join(''), { flag: 'wx' });
}

/**
 * Adds BUNDLE/recoveries/<time>/ as a recovery would: its own transcript naming the ceremony, a
 * key.recovered event, a new ceremony signer recorded by signer.generated (and the root itself as
 * second signer), the envelope. `signWith` signs with another ceremony key than the recorded one.
 */
export function addRecovery(
  b: SoftwareBundle,
  opts: {
    time?: string;
    complete?: boolean;
    ceremonyId?: string;
    signWith?: EnvelopeSigner;
    /** A forger's values for the link to the ceremony (default: the real ones). */
    ceremonyChainHead?: string;
    /** null: recovery.started names no statement digest (an unbound recovery). */
    ceremonyStatementSha256?: string | null;
    /** false: no recovery.share-accepted and no recovery.kek-verified events. */
    shareEvents?: boolean;
    /** false: the recovered root does not sign (only the recovery's own signer does). */
    rootSigns?: boolean;
    tokenSerial?: string;
  } = {},
): string {
  const name = opts.time ?? '2027-03-01T10-00-00.000Z';
  const dir = path.join(b.dir, 'recoveries', name);
  mkdirSync(path.join(dir, 'keys'), { recursive: true });
  const recorded = softwareSigner('ceremony', keyPair('ec-p384'));
  const signer = opts.signWith ?? recorded;
  const w = TranscriptWriter.create(path.join(dir, TRANSCRIPT_FILE), { now: fakeClock(Date.parse('2027-03-01T10:00:00.000Z')) });
  const ceremonyId = opts.ceremonyId ?? b.ceremonyId;
  const ceremonyHead = opts.ceremonyChainHead ?? readTranscript(readFileSync(path.join(b.dir, TRANSCRIPT_FILE))).head;
  const payload = Buffer.from((JSON.parse(readFileSync(path.join(b.dir, ENVELOPE_FILE), 'utf8')) as { payload: string }).payload, 'base64');
  w.append('recovery.started', 'ada', {
    ceremonyId,
    ceremonyChainHead: ceremonyHead,
    ...(opts.ceremonyStatementSha256 === null ? {} : { ceremonyStatementSha256: opts.ceremonyStatementSha256 ?? sha256Hex(payload) }),
    app: { name: 'keyrite', version: '0.1.0' },
    host: { platform: 'linux', arch: 'x64', networkInterfaces: [] },
  });
  if (opts.shareEvents !== false) {
    w.append('recovery.share-accepted', 'c1', { group: 1, member: 1, checkValue: checkValue(`${b.ceremonyId}/0`) });
    w.append('recovery.share-accepted', 'c2', { group: 1, member: 2, checkValue: checkValue(`${b.ceremonyId}/1`) });
  }
  const complete = opts.complete !== false;
  if (complete) {
    if (opts.shareEvents !== false) w.append('recovery.kek-verified', 'system', { kcv: 'a1b2c3', ok: true, shares: [{ group: 1, member: 1 }, { group: 1, member: 2 }] });
    w.append('key.recovered', 'system', {
      label: b.root.label,
      id: '02',
      algorithm: b.root.algorithm,
      token: { label: 'new-token', serialNumber: opts.tokenSerial ?? '99aa' },
      attributes: { sensitive: true, extractable: false },
      ...(b.rootSpki ? { publicKey: { spki: b.rootSpki.toString('base64'), sha256: sha256Hex(b.rootSpki) } } : { kcv: b.root.kcv! }),
    });
    w.append('signer.generated', 'system', {
      role: 'ceremony',
      label: `keyrite-recovery-signer:${ceremonyId}:${name}`,
      id: '03',
      keyid: keyidOf(recorded.spki),
      spki: recorded.spki.toString('base64'),
      attributes: { sensitive: true, extractable: false, sign: true },
    });
    w.append('recovery.completed', 'system', { chainHead: w.head, eventCount: w.count });
  }
  const head = w.head;
  const count = w.count;
  w.close();
  if (!complete) return dir;
  const signers = [signer, ...(b.rootSigner && opts.rootSigns !== false ? [b.rootSigner] : [])];
  for (const s of signers) writeSignerPublicKey(dir, s.spki);
  signBundle({
    bundleDir: dir,
    predicateType: RECOVERY_PREDICATE_TYPE,
    predicate: { ceremonyId, chainHead: head, eventCount: count, root: { ...b.root } },
    signers,
  });
  return dir;
}
