/**
 * Token faults at every step of a headless ceremony, over a real SoftHSM token: the fault wrapper
 * makes one real pkcs11js call fail (device removed, session lost, token absent, PIN locked) and
 * keeps failing as a real token would. Each run must stop cleanly: a ceremony.aborted event naming
 * the step and the failure, a one-line message saying what to do, verify saying INCOMPLETE, no
 * stray exception — and `ceremony abort` must then leave no object of the ceremony on the token.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abortCeremony } from '../../electron/core/ceremony/abort.ts';
import { Ceremony } from '../../electron/core/ceremony/engine.ts';
import { ceremonyStatus } from '../../electron/core/ceremony/status.ts';
import { KeyriteError } from '../../electron/core/errors.ts';
import { faultInjector, type FaultCkr, type FaultSpec } from '../../electron/core/hsm/fault-injection.ts';
import { HsmError } from '../../electron/core/hsm/errors.ts';
import { openModule } from '../../electron/core/hsm/index.ts';
import { createSoftHsmSandbox, type SoftHsmSandbox } from '../../electron/core/hsm/softhsm.ts';
import type { KeyRef } from '../../electron/core/hsm/types.ts';
import { readTranscript } from '../../electron/core/transcript/read.ts';
import { verifyBundle } from '../../electron/core/verify/index.ts';
import { runHeadlessCeremony } from '../../electron/cli/ceremony-runner.ts';
import { ceremonyLabels, runCli, tokenObjects, writeSmallPlan } from '../helpers/reliability.ts';

const PIN = '246810';
const TOKEN = 'faults';
let sandbox: SoftHsmSandbox;
let work: string;

beforeAll(() => {
  sandbox = createSoftHsmSandbox();
  process.env.SOFTHSM2_CONF = sandbox.confPath;
  sandbox.initToken(TOKEN, PIN);
  work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-faults-'));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  sandbox?.dispose();
});

const keyLabel = (args: unknown[]) => (args[0] as KeyRef | undefined)?.label ?? '';

interface Step {
  name: string;
  /** The engine's step name recorded in ceremony.aborted. */
  recorded: string;
  fault: (id: string) => Omit<FaultSpec, 'ckr'>;
  exports?: boolean;
  seal?: boolean;
}

const STEPS: Step[] = [
  { name: 'signer key', recorded: 'signer', fault: () => ({ method: 'generateSignerKey', fn: 'C_GenerateKeyPair' }) },
  { name: 'root key', recorded: 'root', fault: () => ({ method: 'generateRootKey', fn: 'C_GenerateKeyPair' }) },
  { name: 'verification', recorded: 'verification', fault: (id) => ({ method: 'sign', match: (a) => keyLabel(a) === `${id}-root` }) },
  { name: 'backup wrap', recorded: 'backup', fault: () => ({ method: 'wrapKwp', fn: 'C_WrapKey' }) },
  { name: 'test recovery unwrap', recorded: 'recovery-test', fault: () => ({ method: 'unwrapKwp', fn: 'C_UnwrapKey' }) },
  { name: 'export', recorded: 'exports', exports: true, fault: () => ({ method: 'importRsaPublicKey', fn: 'C_CreateObject', match: (a) => a[1] === 'keyrite-kms-aws' }) },
  { name: 'seal', recorded: 'seal', seal: true, fault: () => ({ method: 'setAttributes' }) },
  { name: 'signing', recorded: 'signing', fault: (id) => ({ method: 'sign', match: (a) => keyLabel(a) === `keyrite-signer:${id}` }) },
];

const FAULT_LIST: { ckr: FaultCkr; says: RegExp; todo: RegExp }[] = [
  { ckr: 'CKR_DEVICE_REMOVED', says: /token 'faults' was removed/, todo: /plug it back in, then run `keyrite ceremony abort \S+` to remove this ceremony's keys from token 'faults'/ },
  { ckr: 'CKR_SESSION_HANDLE_INVALID', says: /the session with token 'faults' was closed/, todo: /check that token 'faults' is connected, then run `keyrite ceremony abort \S+`/ },
  { ckr: 'CKR_TOKEN_NOT_PRESENT', says: /token 'faults' is not present/, todo: /insert token 'faults', then run `keyrite ceremony abort \S+`/ },
  { ckr: 'CKR_PIN_LOCKED', says: /PIN locked on token 'faults'/, todo: /once the security officer has reset the PIN, run `keyrite ceremony abort \S+`/ },
];

let n = 0;
function setup(step: { exports?: boolean; seal?: boolean }) {
  const id = `fault-${++n}-${process.pid}`;
  const dir = path.join(work, id);
  const plan = writeSmallPlan(dir, { id, module: sandbox.module, tokenLabel: TOKEN, awsExport: step.exports, seal: step.seal });
  const out = path.join(dir, 'out');
  const shares = path.join(dir, 'shares');
  mkdirSync(shares);
  return { id, plan, out, shares, bundle: path.join(out, id) };
}

/** Runs the headless ceremony (the CLI's own flow) with the fault; returns what it threw and every KEK buffer the run held. */
async function runWithFault(s: ReturnType<typeof setup>, spec: FaultSpec, o: { passphrase?: string } = {}) {
  const inj = faultInjector(spec);
  const keks: { buffer: Uint8Array; where: string }[] = [];
  let thrown: unknown;
  try {
    await runHeadlessCeremony(
      {
        planFile: s.plan, outDir: s.out, sharesOut: s.shares, confirmFrom: s.shares, ackAll: true, frontEnd: 'cli', rehearsal: true, pin: PIN, quiet: true, openModule: inj.openModule,
        passphraseEnv: o.passphrase !== undefined ? 'KR_PASS' : undefined,
        kekProbe: (buffer, where) => keks.push({ buffer, where }),
      },
      { stdout: () => {}, stderr: () => {}, readStdin: async () => '', stdinIsTTY: false, promptSecret: async () => '', prompt: async () => '', env: { KR_PASS: o.passphrase }, cwd: work },
    );
  } catch (err) {
    thrown = err;
  }
  return { thrown, fired: inj.fired, keks };
}

/** Every byte of every KEK buffer the run held is zero. */
function expectWiped(keks: { buffer: Uint8Array; where: string }[]): void {
  for (const k of keks) expect([...k.buffer].every((b) => b === 0), `KEK buffer (${k.where}) zeroed`).toBe(true);
}

/** Steps at which the backup key exists in memory. */
const AFTER_BACKUP = new Set(['backup wrap', 'test recovery unwrap', 'export', 'seal', 'signing']);

describe('token faults at every step stop the ceremony cleanly', () => {
  for (const step of STEPS) {
    for (const f of FAULT_LIST) {
      it(`${step.name} × ${f.ckr}`, async () => {
        const s = setup(step);
        const { thrown, fired, keks } = await runWithFault(s, { ckr: f.ckr, ...step.fault(s.id) });
        expect(fired, 'the fault fired').toBeDefined();
        // The KEK (and the test recovery's combined KEK) is zeroed on this path too.
        expect(keks.length > 0, 'a KEK was made before this fault').toBe(AFTER_BACKUP.has(step.name));
        expectWiped(keks);
        // A KeyriteError with one line: what failed, then what to do.
        expect(thrown).toBeInstanceOf(KeyriteError);
        const msg = (thrown as KeyriteError).message;
        expect(msg).not.toContain('\n');
        expect(msg).toMatch(f.says);
        expect(msg).toMatch(f.todo);
        expect(msg).not.toContain(PIN);

        // The transcript says where and why it stopped, and what to do.
        const t = readTranscript(path.join(s.bundle, 'transcript.jsonl'));
        expect(t.problems).toEqual([]);
        const aborted = t.events.filter((e) => e.type === 'ceremony.aborted');
        expect(aborted).toHaveLength(1);
        expect(aborted[0].data.step).toBe(step.recorded);
        expect(String(aborted[0].data.error)).toMatch(f.says);
        expect(String(aborted[0].data.advice)).toMatch(/keyrite ceremony abort/);
        expect(t.events.at(-1)!.type).toBe('ceremony.aborted');

        const v = verifyBundle(s.bundle);
        expect(v.valid).toBe(false);
        expect(v.verdict).toMatch(/^INCOMPLETE: aborted at step '[a-z.-]+'/);
        expect(ceremonyStatus(s.bundle).outcome).toBe('aborted');

        // "Plug it back in, then run abort": nothing of the ceremony is left on the token.
        const r = await abortCeremony(s.bundle, { pin: async () => PIN, confirm: async () => true });
        expect(r.verdict).toMatch(/^INCOMPLETE: aborted at step '[a-z.-]+'/);
        expect(tokenObjects(sandbox.module, TOKEN, PIN, ceremonyLabels(s.id))).toEqual([]);
      });
    }
  }

  for (const f of FAULT_LIST) {
    it(`login × ${f.ckr}: stops before any bundle or key exists, saying what to do`, async () => {
      const s = setup({});
      const { thrown, fired } = await runWithFault(s, { ckr: f.ckr, method: 'login', fn: 'C_Login' });
      expect(fired?.fn).toBe('C_Login');
      expect(thrown).toBeInstanceOf(HsmError);
      const msg = (thrown as Error).message;
      expect(msg).not.toContain('\n');
      expect(msg).toMatch(f.ckr === 'CKR_SESSION_HANDLE_INVALID' ? /session with token 'faults' was closed/ : f.says);
      expect(msg).toMatch(/run the ceremony again \(nothing was written or created yet\)/);
      expect(existsSync(s.bundle)).toBe(false);
      expect(tokenObjects(sandbox.module, TOKEN, PIN, ceremonyLabels(s.id))).toEqual([]);
    });
  }

  it('login × CKR_PIN_LOCKED in the app order (transcript begun first) records the abort', async () => {
    const s = setup({});
    const inj = faultInjector({ ckr: 'CKR_PIN_LOCKED', method: 'login', fn: 'C_Login' });
    const c = Ceremony.load(s.plan, { outDir: s.out, frontEnd: 'desktop', rehearsal: true, openModule: inj.openModule });
    Ceremony.assertPreflight(c.preflight());
    c.begin();
    let thrown: unknown;
    try {
      c.login(PIN);
    } catch (err) {
      thrown = err;
      c.abort((err as Error).message, err);
    } finally {
      c.close();
    }
    expect((thrown as HsmError).code).toBe('pin-locked');
    expect((thrown as Error).message).toMatch(/once the security officer has reset the PIN, run `keyrite ceremony abort .*` to close the bundle \(no key was created yet\)/);
    expect(verifyBundle(s.bundle).verdict).toMatch(/^INCOMPLETE: aborted/);
    const st = ceremonyStatus(s.bundle);
    expect(st.keys).toEqual([]);
    // Nothing on the token: abort needs no PIN and no token, and closes the record.
    const r = await abortCeremony(s.bundle, { pin: async () => { throw new Error('no PIN needed'); }, confirm: async () => true });
    expect(r.destroyed).toEqual([]);
  });

  it('a fault on the final envelope signature leaves "completed but never signed", which abort refuses', async () => {
    const s = setup({});
    const { thrown } = await runWithFault(s, { ckr: 'CKR_DEVICE_REMOVED', method: 'sign', nth: 2, match: (a) => keyLabel(a) === `keyrite-signer:${s.id}` });
    expect(thrown).toBeInstanceOf(KeyriteError);
    expect(verifyBundle(s.bundle).verdict).toBe('INCOMPLETE: completed but never signed');
    expect(ceremonyStatus(s.bundle).outcome).toBe('completed-unsigned');
    const r = await runCli(['ceremony', 'abort', s.bundle, '--reason', 'x', '--yes', '--pin-env', 'P'], { P: PIN });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^keyrite: error: ceremony '.*' completed \(its exports may already be imported\) but was never signed; abort never removes the keys of a completed ceremony\n$/);
    // The keys stay: the ceremony's work is done.
    expect(tokenObjects(sandbox.module, TOKEN, PIN, ceremonyLabels(s.id)).length).toBe(4);
  });

  it('fails the Nth PKCS#11 call of a run by index, through the real error mapping', async () => {
    const s = setup({});
    const probe = faultInjector({ ckr: 'CKR_DEVICE_REMOVED', callIndex: Number.MAX_SAFE_INTEGER });
    await runHeadlessCeremony(
      { planFile: s.plan, outDir: s.out, sharesOut: s.shares, confirmFrom: s.shares, ackAll: true, frontEnd: 'cli', rehearsal: true, pin: PIN, quiet: true, openModule: probe.openModule },
      { stdout: () => {}, stderr: () => {}, readStdin: async () => '', stdinIsTTY: false, promptSecret: async () => '', prompt: async () => '', env: {}, cwd: work },
    );
    const total = probe.calls;
    expect(total).toBeGreaterThan(50);
    // A handful of call indices spread over the run: each stops cleanly.
    for (const frac of [0.35, 0.6, 0.85]) {
      const t = setup({});
      const { thrown, fired } = await runWithFault(t, { ckr: 'CKR_DEVICE_REMOVED', callIndex: Math.floor(total * frac) });
      expect(fired).toBeDefined();
      expect(thrown).toBeInstanceOf(KeyriteError);
      expect((thrown as Error).message).not.toContain('\n');
      if (existsSync(t.bundle)) {
        expect(verifyBundle(t.bundle).verdict).toMatch(/^INCOMPLETE/);
        await abortCeremony(t.bundle, { pin: async () => PIN, confirm: async () => true });
      }
      expect(tokenObjects(sandbox.module, TOKEN, PIN, ceremonyLabels(t.id))).toEqual([]);
    }
  });
});

describe('a fault inside an operation that cleans up after itself', () => {
  // An unwrap makes the private key, then its public key object; when the token fails that second
  // step it fails the cleanup's destroy too. The capability proofs at login run such an unwrap, where
  // nothing above the session maps errors: the cleanup's raw pkcs11js error once escaped there.
  it('an unwrap whose public key object fails reports the mapped fault, not the cleanup\'s raw error', async () => {
    const inj = faultInjector({ ckr: 'CKR_DEVICE_REMOVED', method: 'unwrapKwp', fn: 'C_CreateObject' });
    const mod = inj.openModule(sandbox.module);
    const label = `unwrap-cleanup-${process.pid}`;
    let thrown: unknown;
    try {
      const session = mod.login({ label: TOKEN }, PIN);
      const root = session.generateRootKey('ec-p256', label, Buffer.from('cleanup'));
      const kek = session.importAesKey(Buffer.alloc(32, 7), `${label}-kek`, { wrap: true, unwrap: true });
      const { wrapped } = session.wrapKwp(kek, root.key);
      try {
        session.unwrapKwp(kek, wrapped, { algorithm: 'ec-p256', label: `${label}-back`, id: Buffer.from('back'), asToken: false, publicSpki: session.publicKeySpki(root.publicKey!) });
      } catch (err) {
        thrown = err;
      }
    } finally {
      mod.close();
    }
    expect(inj.fired).toEqual({ fn: 'C_CreateObject', method: 'unwrapKwp' });
    expect(thrown).toBeInstanceOf(HsmError);
    expect((thrown as HsmError).message).toMatch(/token 'faults' was removed/);
    // The root's token objects (made before the fault) are removed with a clean module.
    const clean = openModule(sandbox.module);
    try {
      const session = clean.login({ label: TOKEN }, PIN);
      expect(session.destroyObjects({ label })).toBe(2);
      session.close();
    } finally {
      clean.close();
    }
  });
});

describe('the backup key (KEK) buffer is zeroed on every path', () => {
  it('success: the KEK and the test recovery KEK are zeroed, and the imported KEK can wrap but not unwrap', async () => {
    const s = setup({});
    const probe = faultInjector({ ckr: 'CKR_DEVICE_REMOVED', callIndex: Number.MAX_SAFE_INTEGER });
    const usages: Record<string, unknown>[] = [];
    const openModule: typeof probe.openModule = (p) => {
      const m = probe.openModule(p);
      const login = m.login.bind(m);
      m.login = (sel, pin) => {
        const sess = login(sel, pin);
        const importAesKey = sess.importAesKey.bind(sess);
        sess.importAesKey = (value, label, usage) => {
          if (label.startsWith('keyrite-kek')) usages.push({ label, ...usage });
          return importAesKey(value, label, usage);
        };
        return sess;
      };
      return m;
    };
    const keks: { buffer: Uint8Array; where: string }[] = [];
    await runHeadlessCeremony(
      { planFile: s.plan, outDir: s.out, sharesOut: s.shares, confirmFrom: s.shares, ackAll: true, frontEnd: 'cli', rehearsal: true, pin: PIN, quiet: true, openModule, kekProbe: (buffer, where) => keks.push({ buffer, where }) },
      { stdout: () => {}, stderr: () => {}, readStdin: async () => '', stdinIsTTY: false, promptSecret: async () => '', prompt: async () => '', env: {}, cwd: work },
    );
    expect(keks.map((k) => k.where)).toEqual(['backup', 'recovery-test']);
    expectWiped(keks);
    // Only the usage each side needs: the backup wraps (and signs for the KCV); the test recovery unwraps.
    expect(usages).toEqual([
      { label: `keyrite-kek:${s.id}`, wrap: true, sign: true },
      { label: `keyrite-kek-test:${s.id}`, unwrap: true, sign: true },
    ]);
  });

  it('a failed import of the KEK into the token', async () => {
    const s = setup({});
    const { thrown, fired, keks } = await runWithFault(s, { ckr: 'CKR_DEVICE_REMOVED', method: 'importAesKey', fn: 'C_CreateObject', match: (a) => a[1] === `keyrite-kek:${s.id}` });
    expect(fired?.method).toBe('importAesKey');
    expect(thrown).toBeInstanceOf(KeyriteError);
    expect(keks).toHaveLength(1);
    expectWiped(keks);
    await abortCeremony(s.bundle, { pin: async () => PIN, confirm: async () => true });
  });

  it('a failed split (a passphrase SLIP-39 refuses)', async () => {
    const dir = path.join(work, `split-${process.pid}`);
    const id = `split-${process.pid}`;
    const plan = writeSmallPlan(dir, { id, module: sandbox.module, tokenLabel: TOKEN, passphrase: true });
    mkdirSync(path.join(dir, 'shares'));
    const s = { id, plan, out: path.join(dir, 'out'), shares: path.join(dir, 'shares'), bundle: path.join(dir, 'out', id) };
    const { thrown, keks } = await runWithFault(s, { ckr: 'CKR_DEVICE_REMOVED', callIndex: Number.MAX_SAFE_INTEGER }, { passphrase: 'naïve ünicode' });
    expect((thrown as Error).message).toMatch(/passphrase must be printable ASCII/);
    expect(keks).toHaveLength(1);
    expectWiped(keks);
    await abortCeremony(s.bundle, { pin: async () => PIN, confirm: async () => true });
  });

  it('a retry of the test recovery after a mistyped passphrase', async () => {
    const dir = path.join(work, `retry-${process.pid}`);
    const id = `retry-${process.pid}`;
    const plan = writeSmallPlan(dir, { id, module: sandbox.module, tokenLabel: TOKEN, passphrase: true });
    const keks: { buffer: Uint8Array; where: string }[] = [];
    const c = Ceremony.load(plan, { outDir: path.join(dir, 'out'), frontEnd: 'desktop', rehearsal: true, kekProbe: (buffer, where) => keks.push({ buffer, where }) });
    try {
      Ceremony.assertPreflight(c.preflight());
      c.login(PIN);
      c.begin();
      c.generate();
      const shares = c.backup('right horse');
      for (const sh of shares) {
        const sheet = await c.shareSheet(sh.index);
        c.markPrinted(sh.index, { kind: 'file', file: 'memory' });
        c.confirmShare(sh.index, sheet.text, 'typed');
      }
      expectWiped(keks); // the backup KEK, once every sheet is out
      let retryable = false;
      try {
        c.testRecovery('wrong horse');
      } catch (err) {
        retryable = (err as KeyriteError).retryable;
      }
      expect(retryable).toBe(true);
      expect(keks.map((k) => k.where)).toEqual(['backup', 'recovery-test']);
      expectWiped(keks); // the wrong combination's KEK
      expect(c.testRecovery('right horse').ok).toBe(true);
      expect(keks).toHaveLength(3);
      expectWiped(keks);
    } finally {
      c.close();
    }
  });
});
