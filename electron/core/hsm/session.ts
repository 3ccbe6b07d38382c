import { createCipheriv, createHash } from 'node:crypto';
import * as graphene from 'graphene-pk11';
import type { ITemplate, MechanismType } from 'graphene-pk11';
import { HsmError, pkcs11Call, toHsmError, type HsmErrorContext } from './errors.ts';
import { CKM, mechanismName } from './mechanisms.ts';
import { kcvPath, rsaSignPath, type SignerAlgorithm } from './capabilities.ts';
import { kcvFromEcb } from './kcv-ecb.ts';
import { sha256DigestInfo } from './rsa-digestinfo.ts';
import {
  curveOfParams,
  ecSpki,
  ecdsaRawToDer,
  publicPartsOfSpki,
  rsaSpki,
  unwrapEcPoint,
  EC_PARAMS,
} from './encoding.ts';
import {
  CKK,
  CKO,
  KEY_TYPE_NAMES,
  publicKeyFromParts,
  rootKeyGen,
  signerKeyGen,
  unwrapTemplate,
  type KeyGenPlan,
  type Placement,
} from './templates.ts';
import type {
  HsmSession,
  KeyAttributeChanges,
  KeyAttributes,
  KeyRef,
  KwpInfo,
  MechanismInfo,
  ObjectInfo,
  OaepHash,
  RootAlgorithm,
  RootKey,
  SignatureScheme,
  TokenInfo,
  UnwrapTarget,
} from './types.ts';

type GKey = graphene.SessionObject;

const CKM_AES_ECB = 0x1081;
const CKM_RSA_PKCS = 0x0001;

/** Read by number: graphene's names paramsEC/paramsECDSA share CKA_EC_PARAMS, so reading by name misses. */
const CKA_EC_PARAMS = 0x180;
const CKA_EC_POINT = 0x181;

const CLASS_KIND: Record<number, KeyRef['kind'] | undefined> = {
  [CKO.SECRET_KEY]: 'secret',
  [CKO.PRIVATE_KEY]: 'private',
  [CKO.PUBLIC_KEY]: 'public',
};
const CLASS_INFO: Record<number, ObjectInfo['class']> = {
  [graphene.ObjectClass.DATA]: 'data',
  [graphene.ObjectClass.CERTIFICATE]: 'certificate',
  [CKO.PUBLIC_KEY]: 'public',
  [CKO.PRIVATE_KEY]: 'private',
  [CKO.SECRET_KEY]: 'secret',
};
const CLASS_NAMES: Record<number, string> = { [CKO.PUBLIC_KEY]: 'PUBLIC_KEY', [CKO.PRIVATE_KEY]: 'PRIVATE_KEY', [CKO.SECRET_KEY]: 'SECRET_KEY' };
const KIND_CLASS: Record<KeyRef['kind'], number> = { secret: CKO.SECRET_KEY, private: CKO.PRIVATE_KEY, public: CKO.PUBLIC_KEY };

/** Known-answer material for the RFC 5649 self-test: public test values, never a real key. */
const KAT_KEK = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const KAT_SECRET = Buffer.from('c37b7e6492584340bed12207808941155068f738', 'hex'); // 20 bytes: not a multiple of 8
const RFC5649_IV = Buffer.from('a65959a6', 'hex');

function nodeKwp(kek: Buffer, data: Buffer): Buffer {
  const c = createCipheriv('id-aes256-wrap-pad', kek, RFC5649_IV);
  return Buffer.concat([c.update(data), c.final()]);
}

/** A wrapper around a GrapheneSession (fault injection's Proxy) answers this with the session itself. */
export const UNDERLYING_SESSION = Symbol.for('keyrite.underlyingSession');

/** The GrapheneSession under any wrapper; throws for sessions not made by openModule. */
export function underlyingSession(s: HsmSession): GrapheneSession {
  const inner = (s as unknown as Record<symbol, unknown>)[UNDERLYING_SESSION] ?? s;
  if (!(inner instanceof GrapheneSession)) throw new HsmError('refused', 'not a session opened by openModule');
  return inner;
}

function handleOf(ref: KeyRef): GKey {
  return ref.handle as GKey;
}

export class GrapheneSession implements HsmSession {
  private kwpCache: { info: KwpInfo; ok: boolean } | null | undefined;
  private mechCache: MechanismInfo[] | undefined;

  constructor(
    private readonly session: graphene.Session,
    readonly token: TokenInfo,
    private readonly listMechanisms: () => MechanismInfo[],
  ) {}

  private ctx(operation: string, mechanism?: string): HsmErrorContext {
    return { token: this.token.label, operation, mechanism };
  }

  private call<T>(operation: string, fn: () => T, mechanism?: string): T {
    return pkcs11Call(this.ctx(operation, mechanism), fn);
  }

  private mechanisms(): MechanismInfo[] {
    this.mechCache ??= this.listMechanisms();
    return this.mechCache;
  }

  private hasMechanism(type: number): boolean {
    return this.mechanisms().some((m) => m.type === type);
  }

  random(length: number): Buffer {
    return this.call('generate random bytes', () => this.session.generateRandom(length));
  }

  /** Reads one attribute (graphene name or CKA_* number); undefined when the object does not have it. */
  private attr<T>(obj: GKey, name: string | number): T | undefined {
    try {
      return obj.getAttribute(name as string) as T;
    } catch {
      return undefined;
    }
  }

  private objectInfo(obj: GKey): ObjectInfo {
    const cls = this.attr<number>(obj, 'class') ?? -1;
    const keyType = this.attr<number>(obj, 'keyType');
    return {
      class: CLASS_INFO[cls] ?? 'other',
      label: this.attr<string>(obj, 'label') ?? '',
      idHex: (this.attr<Buffer>(obj, 'id') ?? Buffer.alloc(0)).toString('hex'),
      keyType: keyType === undefined ? undefined : (KEY_TYPE_NAMES[keyType] ?? `0x${keyType.toString(16)}`),
      token: this.attr<boolean>(obj, 'token') ?? false,
    };
  }

  private find(template: ITemplate | null): GKey[] {
    return this.call('search for objects', () => {
      const coll = this.session.find(template);
      const out: GKey[] = [];
      for (let i = 0; i < coll.length; i++) out.push(coll.items(i));
      return out;
    });
  }

  private queryTemplate(query: { label?: string; idHex?: string }): ITemplate {
    const t: ITemplate = {};
    if (query.label !== undefined) t.label = query.label;
    if (query.idHex !== undefined) t.id = Buffer.from(query.idHex, 'hex');
    return t;
  }

  listObjects(): ObjectInfo[] {
    return this.find(null).map((o) => this.objectInfo(o));
  }

  findObjects(query: { label?: string; idHex?: string }): ObjectInfo[] {
    return this.find(this.queryTemplate(query)).map((o) => this.objectInfo(o));
  }

  private ref(obj: GKey, kind: KeyRef['kind']): KeyRef {
    return {
      kind,
      label: this.attr<string>(obj, 'label') ?? '',
      idHex: (this.attr<Buffer>(obj, 'id') ?? Buffer.alloc(0)).toString('hex'),
      handle: obj,
    };
  }

  findKey(query: { label?: string; idHex?: string; kind: KeyRef['kind'] }): KeyRef | undefined {
    const found = this.find({ ...this.queryTemplate(query), class: KIND_CLASS[query.kind] });
    return found.length ? this.ref(found[0], query.kind) : undefined;
  }

  findSigningKeys(query: { label?: string } = {}): KeyRef[] {
    const t: ITemplate = { class: CKO.PRIVATE_KEY, sign: true };
    if (query.label !== undefined) t.label = query.label;
    return this.find(t).map((o) => this.ref(o, 'private'));
  }

  private refuseExistingLabel(label: string): void {
    if (this.find({ label }).length > 0) {
      throw new HsmError('label-exists', `token '${this.token.label}' already has an object labelled '${label}'; choose another label`);
    }
  }

  /** Runs a key-generation plan; the Ed25519 curve parameters fall back to the printable-string form. */
  private runKeyGen(plan: KeyGenPlan, placement: Placement, algorithm: RootAlgorithm | 'signer'): RootKey {
    const operation = `generate ${algorithm === 'signer' ? 'the ceremony signer' : `the ${algorithm} key`} '${placement.label}'`;
    if (plan.secret) {
      const key = this.call(operation, () => this.session.generateKey(plan.mechanism, plan.secret), plan.mechanismName);
      return { algorithm: algorithm === 'signer' ? 'ec-p384' : algorithm, key: this.ref(key, 'secret') };
    }
    let pair: graphene.IKeyPair;
    try {
      pair = this.session.generateKeyPair(plan.mechanism, plan.publicKey!, plan.privateKey!);
    } catch (err) {
      // PKCS#11 3.0 allows the curve name as a PrintableString; some tokens accept only that form.
      const edParams = plan.publicKey?.paramsEC as Buffer | undefined;
      if (algorithm === 'ed25519' && edParams?.equals(EC_PARAMS.ed25519)) {
        const retry = rootKeyGen('ed25519', placement, { edwardsParams: EC_PARAMS.ed25519Printable });
        try {
          pair = this.session.generateKeyPair(retry.mechanism, retry.publicKey!, retry.privateKey!);
        } catch {
          throw toHsmError(err, this.ctx(operation, plan.mechanismName));
        }
      } else {
        throw toHsmError(err, this.ctx(operation, plan.mechanismName));
      }
    }
    return {
      algorithm: algorithm === 'signer' ? 'ec-p384' : algorithm,
      key: this.ref(pair.privateKey, 'private'),
      publicKey: this.ref(pair.publicKey, 'public'),
    };
  }

  generateRootKey(algorithm: RootAlgorithm, label: string, id: Buffer): RootKey {
    this.refuseExistingLabel(label);
    const placement = { label, id, token: true };
    return this.runKeyGen(rootKeyGen(algorithm, placement), placement, algorithm);
  }

  generateSignerKey(label: string, id: Buffer, algorithm: SignerAlgorithm = 'ec-p384'): RootKey {
    this.refuseExistingLabel(label);
    const placement = { label, id, token: true };
    return { ...this.runKeyGen(signerKeyGen(placement, algorithm), placement, 'signer'), algorithm };
  }

  /**
   * A throwaway session object (never on the token) made with the same templates as the real key:
   * capability-probe.ts proves on it what the ceremony will do. RSA sizes can be smaller (rsaBits).
   */
  generateSessionKey(role: 'root' | 'signer', algorithm: RootAlgorithm, label: string, opts: { rsaBits?: number } = {}): RootKey {
    const placement = { label, id: Buffer.from(label), token: false };
    if (role === 'signer') return { ...this.runKeyGen(signerKeyGen(placement, algorithm as SignerAlgorithm), placement, 'signer'), algorithm };
    return this.runKeyGen(rootKeyGen(algorithm, placement, opts), placement, algorithm);
  }

  readAttributes(key: KeyRef): KeyAttributes {
    const obj = handleOf(key);
    const cls = this.call(`read the attributes of '${key.label}'`, () => obj.getAttribute('class') as number);
    const keyType = this.attr<number>(obj, 'keyType') ?? -1;
    const bool = (name: string) => this.attr<boolean>(obj, name);
    const isPublic = cls === CKO.PUBLIC_KEY;
    // An attribute that cannot be read stays undefined: never defaulted to the value a check wants.
    const out: KeyAttributes = {
      class: CLASS_NAMES[cls] ?? `0x${cls.toString(16)}`,
      keyType: KEY_TYPE_NAMES[keyType] ?? `0x${keyType.toString(16)}`,
      label: this.attr<string>(obj, 'label') ?? '',
      id: (this.attr<Buffer>(obj, 'id') ?? Buffer.alloc(0)).toString('hex'),
      token: bool('token'),
      private: bool('private'),
      sensitive: bool('sensitive'),
      // Public keys have no CKA_EXTRACTABLE: they are readable by design.
      extractable: isPublic ? (bool('extractable') ?? true) : bool('extractable'),
      alwaysSensitive: bool('alwaysSensitive'),
      neverExtractable: bool('neverExtractable'),
      modifiable: bool('modifiable'),
      local: bool('local'),
      sign: bool('sign'),
      decrypt: bool('decrypt'),
      encrypt: bool('encrypt'),
      verify: bool('verify'),
      wrap: bool('wrap'),
      unwrap: bool('unwrap'),
      derive: bool('derive'),
    };
    for (const k of Object.keys(out) as (keyof KeyAttributes)[]) if (out[k] === undefined) delete out[k];
    if (keyType === CKK.AES || keyType === CKK.GENERIC_SECRET) out.valueLen = this.attr<number>(obj, 'valueLen');
    if (keyType === CKK.RSA) {
      const bits = this.attr<number>(obj, 'modulusBits');
      const modulus = this.attr<Buffer>(obj, 'modulus');
      out.modulusBits = bits ?? (modulus ? modulus.length * 8 : undefined);
    }
    if (keyType === CKK.EC || keyType === CKK.EC_EDWARDS) out.ecParams = this.attr<Buffer>(obj, CKA_EC_PARAMS)?.toString('hex');
    for (const k of ['valueLen', 'modulusBits', 'ecParams'] as const) if (out[k] === undefined) delete out[k];
    return out;
  }

  /** The public key object of a private key: same CKA_ID. */
  private publicObjectOf(key: KeyRef): GKey | undefined {
    if (key.kind === 'public') return handleOf(key);
    const found = this.find({ class: CKO.PUBLIC_KEY, id: Buffer.from(key.idHex, 'hex') });
    return found[0];
  }

  publicKeySpki(key: KeyRef): Buffer {
    const operation = `read the public key of '${key.label}'`;
    if (key.kind === 'secret') throw new HsmError('refused', `cannot ${operation}: it is a secret key`);
    const obj = this.publicObjectOf(key) ?? handleOf(key);
    const keyType = this.call(operation, () => obj.getAttribute('keyType') as number);
    try {
      if (keyType === CKK.RSA) return rsaSpki(obj.getAttribute('modulus') as Buffer, obj.getAttribute('publicExponent') as Buffer);
      const params = obj.getAttribute(CKA_EC_PARAMS);
      const curve = curveOfParams(params);
      if (!curve) throw new Error(`unknown curve parameters ${params.toString('hex')}`);
      return ecSpki(curve, unwrapEcPoint(obj.getAttribute(CKA_EC_POINT), curve));
    } catch (err) {
      throw toHsmError(err, this.ctx(operation));
    }
  }

  aesKcv(key: KeyRef): string {
    // Same judgement as the capability table (capabilities.ts): CMAC, else the same CMAC from AES-ECB.
    if (kcvPath(this.mechanisms()) === 'ecb') {
      const k = handleOf(key) as graphene.Key;
      return this.call(
        `compute the KCV of '${key.label}'`,
        () => kcvFromEcb((block) => this.session.createCipher({ name: CKM_AES_ECB, params: null }, k).once(block, Buffer.alloc(32)).subarray(0, 16)),
        'CKM_AES_ECB',
      );
    }
    const mac = this.call(
      `compute the KCV of '${key.label}'`,
      () => this.session.createSign({ name: CKM.AES_CMAC, params: null }, handleOf(key) as graphene.Key).once(Buffer.alloc(16)),
      'CKM_AES_CMAC',
    );
    return mac.subarray(0, 3).toString('hex');
  }

  sign(key: KeyRef, scheme: SignatureScheme, data: Buffer): Buffer {
    const operation = `sign with '${key.label}'`;
    const k = handleOf(key) as graphene.Key;
    switch (scheme) {
      case 'ecdsa-sha256':
      case 'ecdsa-sha384': {
        // Hash in software: not every token has CKM_ECDSA_SHA384, every one has CKM_ECDSA.
        const digest = createHash(scheme === 'ecdsa-sha256' ? 'sha256' : 'sha384').update(data).digest();
        const raw = this.call(operation, () => this.session.createSign({ name: CKM.ECDSA, params: null }, k).once(digest), 'CKM_ECDSA');
        return ecdsaRawToDer(raw);
      }
      case 'rsa-pkcs1-sha256':
        if (rsaSignPath(this.mechanisms()) === 'digestinfo')
          return this.call(operation, () => this.session.createSign({ name: CKM_RSA_PKCS, params: null }, k).once(sha256DigestInfo(data)), 'CKM_RSA_PKCS');
        return this.call(operation, () => this.session.createSign({ name: CKM.SHA256_RSA_PKCS, params: null }, k).once(data), 'CKM_SHA256_RSA_PKCS');
      case 'ed25519':
        return this.call(operation, () => this.session.createSign({ name: CKM.EDDSA, params: null }, k).once(data), 'CKM_EDDSA');
    }
  }

  importAesKey(
    value: Buffer,
    label: string,
    usage: { wrap?: boolean; unwrap?: boolean; encrypt?: boolean; decrypt?: boolean; sign?: boolean },
  ): KeyRef {
    if (![16, 24, 32].includes(value.length)) throw new HsmError('refused', `an AES key is 16, 24 or 32 bytes, not ${value.length}`);
    const obj = this.call(`import the AES key '${label}'`, () =>
      this.session.create({
        class: CKO.SECRET_KEY,
        keyType: CKK.AES,
        token: false,
        private: true,
        sensitive: true,
        extractable: false,
        label,
        value,
        wrap: usage.wrap ?? false,
        unwrap: usage.unwrap ?? false,
        // sign is there for the KCV: where the KCV comes from AES-ECB (no CMAC), that needs encrypt.
        encrypt: usage.encrypt ?? (usage.sign === true && kcvPath(this.mechanisms()) === 'ecb'),
        decrypt: usage.decrypt ?? false,
        sign: usage.sign ?? false,
        verify: usage.sign ?? false,
        derive: false,
      }),
    );
    return this.ref(obj, 'secret');
  }

  generateAesSessionKey(label: string, usage: { wrap?: boolean; extractable?: boolean }): KeyRef {
    const key = this.call(
      `generate the AES session key '${label}'`,
      () =>
        this.session.generateKey(
          { name: CKM.AES_KEY_GEN, params: null },
          {
            class: CKO.SECRET_KEY,
            keyType: CKK.AES,
            valueLen: 32,
            token: false,
            private: true,
            sensitive: true,
            extractable: usage.extractable ?? false,
            label,
            wrap: usage.wrap ?? false,
            unwrap: usage.wrap ?? false,
            encrypt: false,
            decrypt: false,
            sign: true, // CKM_AES_CMAC, for its KCV
            verify: false,
            derive: false,
          },
        ),
      'CKM_AES_KEY_GEN',
    );
    return this.ref(key, 'secret');
  }

  importRsaPublicKey(spki: Buffer, label: string): KeyRef {
    let parts;
    try {
      parts = publicPartsOfSpki(spki);
    } catch (err) {
      throw new HsmError('refused', `wrapping key '${label}' is not a readable public key (${(err as Error).message.split('\n')[0]})`, { cause: err });
    }
    if (parts.kind !== 'rsa') throw new HsmError('refused', `wrapping key '${label}' is not an RSA public key`);
    const obj = this.call(`import the RSA public key '${label}'`, () =>
      this.session.create({
        class: CKO.PUBLIC_KEY,
        keyType: CKK.RSA,
        token: false,
        private: false,
        label,
        modulus: parts.modulus,
        publicExponent: parts.exponent,
        wrap: true,
        encrypt: true,
        verify: false,
      }),
    );
    return this.ref(obj, 'public');
  }

  /** Imports raw bytes as an extractable CKK_GENERIC_SECRET session object (self-test only). */
  private importTestSecret(value: Buffer, label: string): GKey {
    return this.session.create({
      class: CKO.SECRET_KEY,
      keyType: CKK.GENERIC_SECRET,
      token: false,
      private: true,
      sensitive: false,
      extractable: true,
      label,
      value,
    });
  }

  /**
   * Known-answer test of the token's RFC 5649 mechanism: wraps a known 20-byte secret with a known
   * KEK and compares with node:crypto over the bytes as they are and zero-padded to 24 bytes.
   */
  kwpSelfTest(): { info: KwpInfo; ok: boolean } | undefined {
    if (this.kwpCache !== undefined) return this.kwpCache ?? undefined;
    const type = this.hasMechanism(CKM.AES_KEY_WRAP_KWP) ? CKM.AES_KEY_WRAP_KWP : this.hasMechanism(CKM.AES_KEY_WRAP_PAD) ? CKM.AES_KEY_WRAP_PAD : undefined;
    if (type === undefined) {
      this.kwpCache = null;
      return undefined;
    }
    const name = mechanismName(type);
    let wrapped: Buffer;
    const kek = this.call('import the RFC 5649 self-test key', () => handleOf(this.importAesKey(KAT_KEK, 'keyrite-kwp-selftest-kek', { wrap: true })));
    try {
      const secret = this.call('import the RFC 5649 self-test secret', () => this.importTestSecret(KAT_SECRET, 'keyrite-kwp-selftest-secret'));
      try {
        wrapped = this.call('run the RFC 5649 self-test', () => this.session.wrapKey({ name: type, params: null }, kek as graphene.Key, secret as graphene.Key), name);
      } finally {
        this.call('remove the RFC 5649 self-test secret', () => secret.destroy());
      }
    } finally {
      this.call('remove the RFC 5649 self-test key', () => kek.destroy());
    }
    const exact = nodeKwp(KAT_KEK, KAT_SECRET);
    const padded = nodeKwp(KAT_KEK, Buffer.concat([KAT_SECRET, Buffer.alloc(4)]));
    const zeroPadsInput = wrapped.equals(padded);
    this.kwpCache = { info: { mechanism: name, mechanismType: type, zeroPadsInput }, ok: wrapped.equals(exact) || zeroPadsInput };
    return this.kwpCache;
  }

  kwpMechanism(): KwpInfo | undefined {
    const r = this.kwpSelfTest();
    return r?.ok ? r.info : undefined;
  }

  private requireKwp(operation: string): KwpInfo {
    const r = this.kwpSelfTest();
    if (!r) throw new HsmError('mechanism-missing', `token '${this.token.label}' has neither CKM_AES_KEY_WRAP_KWP nor CKM_AES_KEY_WRAP_PAD; cannot ${operation}`);
    if (!r.ok) throw new HsmError('refused', `token '${this.token.label}' failed the RFC 5649 known-answer test of ${r.info.mechanism}; cannot ${operation}`);
    return r.info;
  }

  wrapKwp(kek: KeyRef, key: KeyRef): { wrapped: Buffer; info: KwpInfo } {
    const operation = `wrap key '${key.label}'`;
    const info = this.requireKwp(operation);
    try {
      const wrapped = this.session.wrapKey({ name: info.mechanismType, params: null }, handleOf(kek) as graphene.Key, handleOf(key) as graphene.Key);
      return { wrapped, info };
    } catch (err) {
      throw this.wrapError(err, key, operation, info.mechanism);
    }
  }

  /** Wrap failures worded for the reader: not extractable, or a key type the token cannot wrap. */
  private wrapError(err: unknown, key: KeyRef, operation: string, mechanism: string): HsmError {
    const e = toHsmError(err, this.ctx(operation, mechanism));
    if (e.ckr === 'CKR_KEY_UNEXTRACTABLE') {
      return new HsmError('key-not-wrappable', `key '${key.label}' on token '${this.token.label}' is not extractable; it cannot be wrapped`, { ckr: e.ckr, cause: err });
    }
    if (e.ckr === 'CKR_KEY_NOT_WRAPPABLE' || e.ckr === 'CKR_KEY_TYPE_INCONSISTENT' || e.ckr === 'CKR_KEY_FUNCTION_NOT_PERMITTED' || e.ckr === 'CKR_MECHANISM_INVALID') {
      const type = this.attr<number>(handleOf(key), 'keyType');
      const typeName = type === undefined ? 'this' : (KEY_TYPE_NAMES[type] ?? `0x${type.toString(16)}`);
      return new HsmError('key-not-wrappable', `token '${this.token.label}' cannot wrap ${typeName} key '${key.label}' with ${mechanism} (${e.ckr})`, { ckr: e.ckr, cause: err });
    }
    return e;
  }

  unwrapKwp(kek: KeyRef, wrapped: Buffer, target: UnwrapTarget): RootKey {
    const operation = `unwrap the ${target.algorithm} key '${target.label}'`;
    const info = this.requireKwp(operation);
    const placement = { label: target.label, id: target.id, token: target.asToken };
    if (target.asToken) this.refuseExistingLabel(target.label);
    let parts;
    if (target.algorithm !== 'aes-256') {
      if (!target.publicSpki) throw new HsmError('refused', `cannot ${operation}: the public key (SPKI) is needed to create its public key object`);
      parts = publicPartsOfSpki(target.publicSpki);
    }
    const key = pkcs11Call(this.ctx(operation, info.mechanism), () =>
      this.session.unwrapKey({ name: info.mechanismType, params: null }, handleOf(kek) as graphene.Key, wrapped, unwrapTemplate(target.algorithm, placement)),
    );
    const kind = target.algorithm === 'aes-256' ? 'secret' : 'private';
    const root: RootKey = { algorithm: target.algorithm, key: this.ref(key, kind) };
    if (parts) {
      try {
        const pub = this.session.create(publicKeyFromParts(target.algorithm, parts, placement));
        root.publicKey = this.ref(pub, 'public');
      } catch (err) {
        try {
          key.destroy();
        } catch {
          /* the token may be gone; the first error is the one that matters */
        }
        throw toHsmError(err, this.ctx(`create the public key object of '${target.label}'`));
      }
    }
    return root;
  }

  wrapOaep(wrappingKey: KeyRef, key: KeyRef, hash: OaepHash): Buffer {
    const operation = `wrap key '${key.label}' with RSA-OAEP-${hash.toUpperCase()}`;
    const params = new graphene.RsaOaepParams(
      hash === 'sha1' ? graphene.MechanismEnum.SHA1 : graphene.MechanismEnum.SHA256,
      hash === 'sha1' ? graphene.RsaMgf.MGF1_SHA1 : graphene.RsaMgf.MGF1_SHA256,
    );
    try {
      return this.session.wrapKey({ name: CKM.RSA_PKCS_OAEP, params }, handleOf(wrappingKey) as graphene.Key, handleOf(key) as graphene.Key);
    } catch (err) {
      const ckr = toHsmError(err, this.ctx(operation)).ckr;
      // SoftHSM 2.6 accepts only SHA-1 in CK_RSA_PKCS_OAEP_PARAMS and says CKR_ARGUMENTS_BAD otherwise.
      if (hash === 'sha256' && (ckr === 'CKR_ARGUMENTS_BAD' || ckr === 'CKR_MECHANISM_PARAM_INVALID')) {
        throw new HsmError('mechanism-missing', `token '${this.token.label}' cannot do RSA-OAEP with SHA-256 (it supports SHA-1)`, { ckr, cause: err });
      }
      throw this.wrapError(err, key, operation, 'CKM_RSA_PKCS_OAEP');
    }
  }

  /**
   * CKM_RSA_AES_KEY_WRAP needs CK_RSA_AES_KEY_WRAP_PARAMS, a struct holding a pointer to the OAEP
   * parameters; pkcs11js cannot pass it. So Keyrite always does the two steps itself
   * (OAEP(ephemeral) || KWP(ephemeral, key)), which docs/exports.md allows, and reports the native one absent.
   */
  hasRsaAesKeyWrap(_hash: OaepHash): boolean {
    return false;
  }

  /** Whether the token lists CKM_RSA_AES_KEY_WRAP at all (for display). */
  listsRsaAesKeyWrap(): boolean {
    return this.hasMechanism(CKM.RSA_AES_KEY_WRAP);
  }

  wrapRsaAesNative(_wrappingKey: KeyRef, key: KeyRef, _hash: OaepHash): Buffer {
    throw new HsmError(
      'mechanism-missing',
      `cannot wrap key '${key.label}' with CKM_RSA_AES_KEY_WRAP on token '${this.token.label}': the PKCS#11 binding cannot pass its parameters; use OAEP + KWP`,
    );
  }

  setAttributes(key: KeyRef, attrs: KeyAttributeChanges): void {
    const t: ITemplate = {};
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined) t[k] = v;
    if (Object.keys(t).length === 0) return;
    this.call(`change the attributes of '${key.label}'`, () => handleOf(key).setAttribute(t));
  }

  destroy(key: KeyRef): void {
    this.call(`destroy '${key.label}'`, () => handleOf(key).destroy());
  }

  destroyObjects(query: { label?: string; idHex?: string }): number {
    if (query.label === undefined && query.idHex === undefined) throw new HsmError('refused', 'refusing to destroy every object on the token: give a label or id');
    const objs = this.find(this.queryTemplate(query));
    for (const o of objs) this.call(`destroy '${query.label ?? query.idHex}'`, () => o.destroy());
    return objs.length;
  }

  /**
   * Whether the token can wrap a key of this algorithm with RFC 5649: generates a throwaway session
   * key (pair) and session KEK, tries, and destroys both. Wrappability depends on the key type, not
   * its size, so RSA probes use the smallest size the token takes of 1024 and 2048 bits (a 1024-bit
   * pair takes milliseconds; tokens in FIPS mode refuse it, and then 2048 is used).
   */
  probeWrappable(algorithm: RootAlgorithm): boolean {
    const placement = { label: 'keyrite-probe', id: Buffer.from('70726f6265', 'hex'), token: false };
    const sizes = algorithm.startsWith('rsa') ? [1024, 2048] : [undefined];
    const kek = this.generateAesSessionKey('keyrite-probe-kek', { wrap: true });
    let probe: RootKey | undefined;
    try {
      for (const [i, rsaBits] of sizes.entries()) {
        try {
          probe = this.runKeyGen(rootKeyGen(algorithm, placement, { rsaBits }), placement, algorithm);
          break;
        } catch (err) {
          if (i === sizes.length - 1 || !(err instanceof HsmError) || err.code !== 'refused') throw err;
        }
      }
      this.wrapKwp(kek, probe!.key);
      return true;
    } catch (err) {
      if (err instanceof HsmError && (err.code === 'key-not-wrappable' || err.code === 'refused' || err.code === 'mechanism-missing')) return false;
      throw err;
    } finally {
      for (const k of [probe?.key, probe?.publicKey, kek]) {
        try {
          if (k) handleOf(k).destroy();
        } catch {
          /* session objects vanish with the session anyway */
        }
      }
    }
  }

  logout(): void {
    try {
      this.session.logout();
    } catch (err) {
      const e = toHsmError(err, this.ctx('log out'));
      if (e.ckr !== 'CKR_USER_NOT_LOGGED_IN') throw e;
    }
  }

  close(): void {
    try {
      this.session.close();
    } catch (err) {
      const e = toHsmError(err, this.ctx('close the session'));
      if (e.code !== 'session-closed') throw e;
    }
  }
}

