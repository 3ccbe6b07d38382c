/**
 * Pinned inputs and fail-closed sealing in real headless ceremonies on a SoftHSM token (docs/plan.md):
 * - the KMS wrapping key and the import token are swapped on disk after the plan was loaded and
 *   checked (between the preflight and the export): the export still goes out under the KMS's key,
 *   with the KMS's import token, because the plan's files are read once and used from memory;
 * - sealing is the default and is read back;
 * - a CKA_EXTRACTABLE the token will not reveal (fault injection) is never taken as sealed or as
 *   non-extractable: the ceremony stops, naming the attribute.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHeadlessCeremony } from '../../electron/cli/ceremony-runner.ts';
import { KeyriteError } from '../../electron/core/errors.ts';
import { asksFor, faultInjector } from '../../electron/core/hsm/fault-injection.ts';
import { openModule } from '../../electron/core/hsm/index.ts';
import { createSoftHsmSandbox, type SoftHsmSandbox } from '../../electron/core/hsm/softhsm.ts';
import type { HsmModule, HsmSession, KeyRef, ModuleOptions } from '../../electron/core/hsm/types.ts';
import { readTranscript } from '../../electron/core/transcript/read.ts';
import { verifyBundle } from '../../electron/core/verify/index.ts';
import { pkcs8FromMaterial, spkiOfPkcs8, standInKms, unwrapRsaAes } from '../helpers/kms-standin.ts';
import { writeSmallPlan } from '../helpers/reliability.ts';

const PIN = '975310';
const TOKEN = 'pins';
/** CKA_EXTRACTABLE (PKCS#11 2.40). */
const CKA_EXTRACTABLE = 0x162;
let sandbox: SoftHsmSandbox;
let work: string;

beforeAll(() => {
  sandbox = createSoftHsmSandbox();
  process.env.SOFTHSM2_CONF = sandbox.confPath;
  sandbox.initToken(TOKEN, PIN);
  work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-pins-'));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  sandbox?.dispose();
});

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const noIO = { stdout: () => {}, stderr: () => {}, readStdin: async () => '', stdinIsTTY: false, promptSecret: async () => '', prompt: async () => '', env: {}, cwd: process.cwd() };

let n = 0;
function setup(o: { seal?: boolean | 'default'; awsWrappingKeyPem?: string } = {}) {
  const id = `pins-${++n}-${process.pid}`;
  const dir = path.join(work, id);
  const plan = writeSmallPlan(dir, { id, module: sandbox.module, tokenLabel: TOKEN, awsExport: !!o.awsWrappingKeyPem, awsWrappingKeyPem: o.awsWrappingKeyPem, seal: o.seal });
  const out = path.join(dir, 'out');
  const shares = path.join(dir, 'shares');
  mkdirSync(shares);
  return { id, dir, plan, out, shares, bundle: path.join(out, id) };
}

/** A rehearsal run (sheets as files, confirmed from them): these tests are about pinning and sealing, not printing. */
async function run(s: ReturnType<typeof setup>, open?: (p: string, opts?: ModuleOptions) => HsmModule) {
  return runHeadlessCeremony({ planFile: s.plan, outDir: s.out, rehearsal: true, sharesOut: s.shares, confirmFrom: s.shares, ackAll: true, frontEnd: 'cli', pin: PIN, quiet: true, openModule: open }, noIO);
}

/** core/hsm's module, with `before` run just before the session's `method` (the real call follows). */
function hookedModule(method: keyof HsmSession, before: () => void): (p: string, opts?: ModuleOptions) => HsmModule {
  return (p, opts) => {
    const real = openModule(p, opts);
    return {
      info: real.info,
      tokens: () => real.tokens(),
      findToken: (sel) => real.findToken(sel),
      selectToken: (sel) => real.selectToken!(sel),
      mechanisms: (sel) => real.mechanisms(sel),
      login: (sel, pin) => {
        const session = real.login(sel, pin);
        return new Proxy(session, {
          get(target, prop, receiver) {
            const value = Reflect.get(target, prop, receiver) as unknown;
            if (typeof value !== 'function') return value;
            return (...args: unknown[]) => {
              if (prop === method) before();
              return (value as (...a: unknown[]) => unknown).apply(target, args);
            };
          },
        });
      },
      close: () => real.close(),
    };
  };
}

describe('a wrapping key or import token swapped after the plan was loaded', () => {
  it('the export is still under the pinned KMS key, with the pinned import token; sealing is the default and read back', async () => {
    const kms = standInKms(2048);
    const attacker = standInKms(3072);
    const s = setup({ awsWrappingKeyPem: kms.spkiPem, seal: 'default' });
    const tokenBytes = readFileSync(path.join(s.dir, 'ImportToken.bin'));
    expect(JSON.parse(readFileSync(s.plan, 'utf8')).key.sealAfterExport).toBeUndefined();

    // After the preflight and the login checks approved the KMS's files, and before anything is
    // wrapped, someone swaps both files for their own.
    let swapped = 0;
    const swap = () => {
      if (swapped++) return;
      writeFileSync(path.join(s.dir, 'aws-wrap.pem'), attacker.spkiPem);
      writeFileSync(path.join(s.dir, 'ImportToken.bin'), 'the attacker\u2019s import token');
    };
    const r = await run(s, hookedModule('generateRootKey', swap));
    expect(swapped).toBe(1);
    expect(readFileSync(path.join(s.dir, 'aws-wrap.pem'), 'utf8')).toBe(attacker.spkiPem);

    // The wrapped root opens with the KMS's private key and is the ceremony's root...
    const exp = path.join(r.bundleDir, 'exports', 'aws');
    const blob = readFileSync(path.join(exp, 'EncryptedKeyMaterial.bin'));
    const { material } = unwrapRsaAes(kms, blob, 'sha1');
    const rootPem = readFileSync(path.join(r.bundleDir, 'keys', 'root.pub.pem'), 'utf8');
    const rootSpki = Buffer.from(rootPem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    expect(spkiOfPkcs8(pkcs8FromMaterial(material).der).equals(rootSpki)).toBe(true);
    // ...and not with the swapped-in key.
    expect(() => unwrapRsaAes(attacker, blob.subarray(0, attacker.bits / 8), 'sha1')).toThrow();
    // The bundle's import token is the pinned one, and the transcript names the pinned key.
    expect(readFileSync(path.join(exp, 'ImportToken.bin')).equals(tokenBytes)).toBe(true);
    const t = readTranscript(path.join(r.bundleDir, 'transcript.jsonl'));
    const created = t.events.find((e) => e.type === 'export.created')!;
    expect(created.data.wrappingKeySha256).toBe(sha256(kms.spkiDer));

    // The README's first step is the online side's verify, with this bundle's command.
    const readme = readFileSync(path.join(exp, 'README.txt'), 'utf8');
    expect(readme).toContain(`  keyrite verify ${s.id} --policy policy.json\n`);
    expect(readme.indexOf('keyrite verify')).toBeLessThan(readme.indexOf('aws kms import-key-material'));

    // Sealed by default, and read back from the token.
    const sealed = t.events.filter((e) => e.type === 'key.sealed');
    expect(sealed).toHaveLength(1);
    expect(sealed[0].data.extractable).toBe(false);
    const mod = openModule(sandbox.module);
    try {
      const session = mod.login({ label: TOKEN }, PIN);
      const key = session.findKey({ label: `${s.id}-root`, kind: 'private' })!;
      expect(session.readAttributes(key).extractable).toBe(false);
      session.close();
    } finally {
      mod.close();
    }
    expect(verifyBundle(r.bundleDir).valid).toBe(true);
  });
});

describe('an attribute the token will not reveal fails closed', () => {
  const keyLabel = (args: unknown[]) => (args[0] as KeyRef | undefined)?.label ?? '';

  it('CKA_EXTRACTABLE unreadable after sealing: the ceremony stops at the seal, no key.sealed is recorded', async () => {
    const s = setup({ seal: true });
    // The root's second attribute read is the read-back after sealing (the first is at generation).
    const inj = faultInjector({ ckr: 'CKR_ATTRIBUTE_SENSITIVE', method: 'readAttributes', match: (a) => keyLabel(a) === `${s.id}-root`, nth: 2, fnMatch: asksFor(CKA_EXTRACTABLE) });
    let thrown: unknown;
    try {
      await run(s, inj.openModule);
    } catch (err) {
      thrown = err;
    }
    expect(inj.fired).toEqual({ fn: 'C_GetAttributeValue', method: 'readAttributes' });
    expect(thrown).toBeInstanceOf(KeyriteError);
    expect((thrown as Error).message).toMatch(/^CKA_EXTRACTABLE of the root key cannot be read after sealing; an unreadable attribute is never taken as sealed/);
    const t = readTranscript(path.join(s.bundle, 'transcript.jsonl'));
    expect(t.events.some((e) => e.type === 'key.sealed')).toBe(false);
    const aborted = t.events.filter((e) => e.type === 'ceremony.aborted');
    expect(aborted.map((e) => e.data.step)).toEqual(['seal']);
    expect(existsSync(path.join(s.bundle, 'transcript.dsse.json'))).toBe(false);
    expect(verifyBundle(s.bundle).valid).toBe(false);
  });

  it("CKA_EXTRACTABLE unreadable on the signer: its non-extractable check fails, naming the attribute", async () => {
    const s = setup();
    const inj = faultInjector({ ckr: 'CKR_ATTRIBUTE_TYPE_INVALID', method: 'readAttributes', match: (a) => keyLabel(a) === `keyrite-signer:${s.id}`, fnMatch: asksFor(CKA_EXTRACTABLE) });
    let thrown: unknown;
    try {
      await run(s, inj.openModule);
    } catch (err) {
      thrown = err;
    }
    expect(inj.fired?.fn).toBe('C_GetAttributeValue');
    expect((thrown as Error).message).toMatch(/^signer key attributes: CKA_EXTRACTABLE cannot be read \(wanted false\); an unreadable attribute is never taken as false/);
    const t = readTranscript(path.join(s.bundle, 'transcript.jsonl'));
    expect(t.events.filter((e) => e.type === 'ceremony.aborted').map((e) => e.data.step)).toEqual(['signer']);
    expect(t.events.some((e) => e.type === 'key.generated')).toBe(false);
  });
});
