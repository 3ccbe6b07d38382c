/**
 * A whole headless ceremony (3-of-5, four exports, as `keyrite demo` plans it) against its floor:
 * the same PKCS#11 operations done bare through graphene-pk11 on the same SoftHSM token in the same
 * process (signer and root key generation, the verification signature, the KEK import and RFC 5649
 * wrap, the test recovery's unwrap and signature, per export an RSA public key import, an AES-256
 * session key, an OAEP wrap and a KWP wrap, the seal, the envelope signatures). Process start is
 * never timed; the ceremony runs through runHeadlessCeremony exactly as `ceremony run` does.
 *
 * RSA key generation in SoftHSM takes a random time (prime search), so one run says little. The
 * bench runs ceremony and floor alternately REPS times and reports the median of each, and also
 * times every C_GenerateKeyPair inside both (the same pkcs11js binding, instrumented) to give the
 * ratio with key generation taken out — the part of the ceremony that is Keyrite's own cost.
 */
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as graphene from 'graphene-pk11';
import { runHeadlessCeremony } from '../electron/cli/ceremony-runner.ts';
import { writeDemoPlan } from '../electron/core/ceremony/demo-plan.ts';
import { openModule } from '../electron/core/hsm/module.ts';
import { CKM } from '../electron/core/hsm/mechanisms.ts';
import { CKK, CKO, publicKeyFromParts, rootKeyGen, signerKeyGen, unwrapTemplate } from '../electron/core/hsm/templates.ts';
import { publicPartsOfSpki } from '../electron/core/hsm/encoding.ts';
import { createSoftHsmSandbox } from '../electron/core/hsm/softhsm.ts';
import type { HsmModule, RootAlgorithm } from '../electron/core/hsm/types.ts';
import type { BenchRow } from './run.ts';

const REPS = Number(process.env.KEYRITE_BENCH_REPS ?? 5);
const PIN = '24681357';
const TOKEN = 'bench';

type Lib = Record<string, unknown>;

/** Times every C_* call of a pkcs11js binding: total ms and count per function, until restored. */
function instrument(lib: Lib): { ms: Map<string, number>; count: Map<string, number>; keygens: number[]; restore: () => void } {
  const ms = new Map<string, number>();
  const keygens: number[] = [];
  const count = new Map<string, number>();
  const names: string[] = [];
  for (let proto = Object.getPrototypeOf(lib); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const n of Object.getOwnPropertyNames(proto)) if (/^C_\w+$/.test(n) && !names.includes(n)) names.push(n);
  }
  for (const n of names) {
    const orig = lib[n] as (...a: unknown[]) => unknown;
    lib[n] = function (this: unknown, ...a: unknown[]) {
      const t0 = performance.now();
      try {
        return orig.apply(this, a);
      } finally {
        const dt = performance.now() - t0;
        if (n === 'C_GenerateKeyPair') keygens.push(dt);
        ms.set(n, (ms.get(n) ?? 0) + dt);
        count.set(n, (count.get(n) ?? 0) + 1);
      }
    };
  }
  return { ms, count, keygens, restore: () => names.forEach((n) => delete lib[n]) };
}

interface Timing {
  total: number;
  keygen: number;
  /** The signer's and the root's C_GenerateKeyPair (the last two: preflight probes come first). */
  mainKeygen: number;
  keygenCalls: number;
  pkcs11: number;
  pkcs11Calls: number;
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One ceremony through the CLI's own runner; the module is instrumented through the engine's openModule seam. */
async function timeCeremony(planTemplate: string, dir: string, id: string): Promise<Timing> {
  const plan = JSON.parse(readFileSync(planTemplate, 'utf8'));
  plan.id = id;
  plan.key.label = `${id}-root`;
  const planFile = path.join(dir, `${id}.json`);
  writeFileSync(planFile, JSON.stringify(plan, null, 2));
  const shares = path.join(dir, `${id}-shares`);
  mkdirSync(shares);
  let stats: ReturnType<typeof instrument> | undefined;
  const open = (p: string): HsmModule => {
    const real = openModule(p);
    stats = instrument((real as unknown as { mod: { lib: Lib } }).mod.lib);
    return { ...real, info: real.info, tokens: () => real.tokens(), findToken: (s) => real.findToken(s), mechanisms: (s) => real.mechanisms(s), login: (s, pin) => real.login(s, pin), close: () => (stats!.restore(), real.close()) };
  };
  const noTty = { stdout: () => {}, stderr: () => {}, readStdin: async () => '', stdinIsTTY: false, promptSecret: async () => '', prompt: async () => '', env: {}, cwd: dir };
  const t0 = performance.now();
  await runHeadlessCeremony({ planFile, outDir: path.join(dir, 'out'), sharesOut: shares, confirmFrom: shares, ackAll: true, frontEnd: 'cli', pin: PIN, quiet: true, openModule: open }, noTty);
  const total = performance.now() - t0;
  return { total, keygen: stats!.ms.get('C_GenerateKeyPair') ?? 0, mainKeygen: stats!.keygens.slice(-2).reduce((a, b) => a + b, 0), keygenCalls: stats!.count.get('C_GenerateKeyPair') ?? 0, pkcs11: sum(stats!.ms), pkcs11Calls: sum(stats!.count) };
}

/** The floor: the ceremony's token operations, bare through graphene. */
function timeFloor(modulePath: string, alg: RootAlgorithm, kmsKeys: Buffer[], n: number): Timing {
  const mod = graphene.Module.load(modulePath);
  mod.initialize();
  const stats = instrument(mod.lib as unknown as Lib);
  const made: graphene.SessionObject[] = [];
  let total = 0;
  try {
    const t0 = performance.now();
    const slot = [...Array(mod.getSlots(true).length).keys()].map((i) => mod.getSlots(true).items(i)).find((s) => s.getToken().label.trim() === TOKEN)!;
    const session = slot.open(graphene.SessionFlag.RW_SESSION | graphene.SessionFlag.SERIAL_SESSION);
    session.login(PIN, graphene.UserType.USER);
    const place = (label: string) => ({ label: `${label}-floor-${n}`, id: Buffer.from(`${label}${n}`), token: true });
    const ecdsa = (key: graphene.Key, data: Buffer, hash: string) => session.createSign({ name: CKM.ECDSA, params: null }, key).once(createHash(hash).update(data).digest());
    const signRoot = (key: graphene.Key, data: Buffer) =>
      alg.startsWith('rsa') ? session.createSign({ name: CKM.SHA256_RSA_PKCS, params: null }, key).once(data) : ecdsa(key, data, 'sha384');

    const sp = signerKeyGen(place('signer'));
    const signer = session.generateKeyPair(sp.mechanism, sp.publicKey!, sp.privateKey!);
    signer.publicKey.getAttribute({ pointEC: null });
    const rp = rootKeyGen(alg, place('root'));
    const root = session.generateKeyPair(rp.mechanism, rp.publicKey!, rp.privateKey!);
    made.push(signer.privateKey, signer.publicKey, root.privateKey, root.publicKey);
    const spki = alg.startsWith('rsa')
      ? createPublicKey({ key: { kty: 'RSA', n: (root.publicKey.getAttribute('modulus') as Buffer).toString('base64url'), e: 'AQAB' }, format: 'jwk' }).export({ type: 'spki', format: 'der' })
      : undefined;
    signRoot(root.privateKey, Buffer.from('verification'));

    // Backup: 32 random bytes as the KEK, imported as a session key, wraps the root (RFC 5649).
    const kekValue = session.generateRandom(32);
    const kekTemplate = { class: CKO.SECRET_KEY, keyType: CKK.AES, token: false, private: true, sensitive: true, extractable: false, value: kekValue, wrap: true, unwrap: true, sign: true };
    const kek = session.create({ ...kekTemplate, label: 'floor-kek' }) as graphene.SecretKey;
    const wrapped = session.wrapKey({ name: CKM.AES_KEY_WRAP_PAD, params: null }, kek, root.privateKey);
    kek.destroy();

    // Test recovery: the KEK again, unwrap into a session key (with its public half), sign with it.
    const kek2 = session.create({ ...kekTemplate, label: 'floor-kek-test' }) as graphene.SecretKey;
    const tp = { label: 'floor-test', id: Buffer.from('t'), token: false };
    const restored = session.unwrapKey({ name: CKM.AES_KEY_WRAP_PAD, params: null }, kek2, wrapped, unwrapTemplate(alg, tp)) as graphene.Key;
    if (spki) session.create(publicKeyFromParts(alg, publicPartsOfSpki(spki), tp)).destroy();
    signRoot(restored, Buffer.from('recovery-test'));
    restored.destroy();
    kek2.destroy();

    // Four exports: KMS public key in, ephemeral AES-256, OAEP(ephemeral) || KWP(ephemeral, root).
    for (const der of kmsKeys) {
      const parts = publicPartsOfSpki(der);
      if (parts.kind !== 'rsa') throw new Error('KMS key is not RSA');
      const pub = session.create({ class: CKO.PUBLIC_KEY, keyType: CKK.RSA, token: false, private: false, modulus: parts.modulus, publicExponent: parts.exponent, wrap: true, encrypt: true, label: 'floor-kms' }) as graphene.PublicKey;
      const eph = session.generateKey({ name: CKM.AES_KEY_GEN, params: null }, { class: CKO.SECRET_KEY, keyType: CKK.AES, valueLen: 32, token: false, private: true, sensitive: true, extractable: true, wrap: true, label: 'floor-eph' });
      session.wrapKey({ name: CKM.RSA_PKCS_OAEP, params: new graphene.RsaOaepParams(graphene.MechanismEnum.SHA1, graphene.RsaMgf.MGF1_SHA1) }, pub, eph);
      session.wrapKey({ name: CKM.AES_KEY_WRAP_PAD, params: null }, eph, root.privateKey);
      eph.destroy();
      pub.destroy();
    }
    // Seal, then the envelope's signatures (ceremony signer and root).
    root.privateKey.setAttribute({ extractable: false });
    ecdsa(signer.privateKey, Buffer.from('envelope'), 'sha384');
    signRoot(root.privateKey, Buffer.from('envelope'));
    total = performance.now() - t0;
    for (const o of made) o.destroy();
    session.logout();
    session.close();
  } finally {
    stats.restore();
    mod.finalize();
    mod.close();
  }
  return { total, keygen: stats.ms.get('C_GenerateKeyPair') ?? 0, mainKeygen: stats.keygens.slice(-2).reduce((a, b) => a + b, 0), keygenCalls: stats.count.get('C_GenerateKeyPair') ?? 0, pkcs11: sum(stats.ms), pkcs11Calls: sum(stats.count) };
}

export async function bench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const sandbox = createSoftHsmSandbox();
  const savedConf = process.env.SOFTHSM2_CONF;
  process.env.SOFTHSM2_CONF = sandbox.confPath;
  const work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-bench-ceremony-'));
  try {
    sandbox.initToken(TOKEN, PIN);
    const targets: { alg: RootAlgorithm; target: number }[] = [
      { alg: 'rsa-3072', target: 1.5 },
      { alg: 'ec-p384', target: 3 },
    ];
    let peakRss = 0;
    const rssBefore = process.memoryUsage().rss;
    for (const { alg, target } of targets) {
      const dir = path.join(work, alg);
      mkdirSync(dir);
      const template = writeDemoPlan(dir, { id: `bench-${alg}`, algorithm: alg, module: sandbox.module, tokenLabel: TOKEN });
      const plan = JSON.parse(readFileSync(template, 'utf8')) as { exports: { wrappingKey: string }[] };
      const kmsKeys = plan.exports.map((e) => createPublicKey(readFileSync(path.join(dir, e.wrappingKey))).export({ type: 'spki', format: 'der' }));
      // Warm-up (module load, JIT, QR and word-list caches): one of each, not counted.
      await timeCeremony(template, dir, `warm-${alg}`);
      timeFloor(sandbox.module, alg, kmsKeys, -1);
      const cer: Timing[] = [];
      const flo: Timing[] = [];
      for (let i = 0; i < REPS; i++) {
        cer.push(await timeCeremony(template, dir, `run-${alg}-${i}`));
        peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
        flo.push(timeFloor(sandbox.module, alg, kmsKeys, i));
      }
      const ct = median(cer.map((t) => t.total));
      const ft = median(flo.map((t) => t.total));
      const ratio = ct / ft;
      // Comparable despite random prime search: the ceremony's signer+root keygen replaced by the
      // floor's median for the same two keys; its extra probe keygen stays in, as Keyrite's cost.
      const floorGen = median(flo.map((t) => t.mainKeygen));
      const normalized = median(cer.map((t) => t.total - t.mainKeygen + floorGen)) / ft;
      const verdict = (r: number) => (r <= target ? `within ${target}x` : `OVER ${target}x`);
      rows.push({
        name: `ceremony ${alg} vs floor`,
        value: `${ratio.toFixed(2)}x floor`,
        note: `${verdict(ratio)} (raw; RSA prime search makes this swing run to run): median of ${REPS}, ceremony ${ct.toFixed(0)} ms vs bare graphene ${ft.toFixed(0)} ms; 3-of-5, 4 exports`,
      });
      rows.push({
        name: `ceremony ${alg} keygen-normalized`,
        value: `${normalized.toFixed(2)}x floor`,
        note: `${verdict(normalized)}: signer+root keygen counted at the floor's median (${floorGen.toFixed(0)} ms; ceremony's own median ${median(cer.map((t) => t.mainKeygen)).toFixed(0)} ms); preflight probe keygen kept (${median(cer.map((t) => t.keygen - t.mainKeygen)).toFixed(0)} ms)`,
      });
      const noGen = median(cer.map((t) => t.total - t.keygen));
      rows.push({
        name: `ceremony ${alg} overhead`,
        value: `${(noGen - median(flo.map((t) => t.total - t.keygen))).toFixed(0)} ms`,
        note: `ceremony minus floor with every keygen removed (${noGen.toFixed(0)} vs ${median(flo.map((t) => t.total - t.keygen)).toFixed(0)} ms): sheets with QR codes, report, fsynced journal and files, SLIP-39, preflight probes`,
      });
      const inToken = median(cer.map((t) => t.pkcs11));
      rows.push({
        name: `ceremony ${alg} split`,
        value: `${inToken.toFixed(0)} ms in PKCS#11`,
        note: `of ${ct.toFixed(0)} ms: ${cer[0].pkcs11Calls} C_* calls (floor ${flo[0].pkcs11Calls}); the rest is Keyrite (SLIP-39, sheets with QR codes, report, files, fsyncs)`,
      });
    }
    rows.push({
      name: 'ceremony peak memory',
      value: `${(peakRss / 2 ** 20).toFixed(0)} MiB`,
      note: `process maxRSS after the ceremonies (RSS before them: ${(rssBefore / 2 ** 20).toFixed(0)} MiB; includes the bench process itself)`,
    });
  } finally {
    if (savedConf === undefined) delete process.env.SOFTHSM2_CONF;
    else process.env.SOFTHSM2_CONF = savedConf;
    rmSync(work, { recursive: true, force: true });
    sandbox.dispose();
  }
  return rows;
}
