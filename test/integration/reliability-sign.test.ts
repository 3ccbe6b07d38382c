/**
 * `keyrite ceremony sign` on bundles left "completed but never signed", over a real SoftHSM token:
 * the envelope signature fails (a fault injected into the real module), the bundle is then signed
 * later through the real CLI, and verify says VALID with the report the engine wrote. Refusals
 * (already signed, aborted, not completed, not a bundle, wrong PIN, a key gone from the token, a
 * report cut short) exit with the documented code, one line, and write nothing.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../electron/cli/command.ts';
import { runHeadlessCeremony } from '../../electron/cli/ceremony-runner.ts';
import { main } from '../../electron/cli/keyrite.ts';
import { ceremonyStatus } from '../../electron/core/ceremony/status.ts';
import { faultInjector, type FaultSpec } from '../../electron/core/hsm/fault-injection.ts';
import { openModule } from '../../electron/core/hsm/index.ts';
import { createSoftHsmSandbox, type SoftHsmSandbox } from '../../electron/core/hsm/softhsm.ts';
import type { KeyRef, RootAlgorithm } from '../../electron/core/hsm/types.ts';
import { verifyBundle } from '../../electron/core/verify/index.ts';
import { ceremonyLabels, runCli, tokenObjects, writeSmallPlan } from '../helpers/reliability.ts';

const PIN = '580417';
const TOKEN = 'signing';
let sandbox: SoftHsmSandbox;
let work: string;
const env = { P: PIN };

beforeAll(() => {
  sandbox = createSoftHsmSandbox();
  process.env.SOFTHSM2_CONF = sandbox.confPath;
  sandbox.initToken(TOKEN, PIN);
  work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-sign-'));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  sandbox?.dispose();
});

const keyLabel = (args: unknown[]) => (args[0] as KeyRef | undefined)?.label ?? '';
const silentIO: CliIO = { stdout: () => {}, stderr: () => {}, readStdin: async () => '', stdinIsTTY: false, promptSecret: async () => '', prompt: async () => '', env: {}, cwd: '/' };

let n = 0;
/** Runs a whole headless ceremony with a token fault; returns the bundle it left. */
async function runWithFault(fault: (id: string) => FaultSpec | undefined, algorithm: RootAlgorithm = 'ec-p256'): Promise<{ id: string; bundle: string }> {
  const id = `sign-${++n}-${process.pid}`;
  const dir = path.join(work, id);
  const plan = writeSmallPlan(dir, { id, module: sandbox.module, tokenLabel: TOKEN, algorithm });
  const shares = path.join(dir, 'shares');
  mkdirSync(shares);
  const spec = fault(id);
  const inj = spec && faultInjector(spec);
  await runHeadlessCeremony(
    { planFile: plan, outDir: path.join(dir, 'out'), sharesOut: shares, confirmFrom: shares, ackAll: true, frontEnd: 'cli', rehearsal: true, pin: PIN, quiet: true, openModule: inj?.openModule },
    silentIO,
  ).catch(() => undefined);
  if (inj) expect(inj.fired, 'the fault fired').toBeDefined();
  return { id, bundle: path.join(dir, 'out', id) };
}

/** The token unplugged during the envelope's signature (the signer's 2nd signature; the 1st is finish()'s check). */
const atEnvelope = (id: string): FaultSpec => ({ ckr: 'CKR_DEVICE_REMOVED', method: 'sign', nth: 2, match: (a) => keyLabel(a) === `keyrite-signer:${id}` });

/** Every file of a folder with its bytes, to prove a refusal wrote nothing. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const name = path.join(rel, e.name);
      if (e.isDirectory()) walk(name);
      else out.set(name, readFileSync(path.join(dir, name)).toString('base64'));
    }
  };
  walk('');
  return out;
}

function destroyOnToken(label: string): number {
  const mod = openModule(sandbox.module);
  try {
    const s = mod.login({ label: TOKEN }, PIN);
    try {
      return s.destroyObjects({ label });
    } finally {
      s.close();
    }
  } finally {
    mod.close();
  }
}

function expectOneLineError(r: { code: number; stderr: string }, code: 1 | 2, says: RegExp): void {
  expect(r.code).toBe(code);
  expect(r.stderr).toMatch(/^keyrite: error: [^\n]*\n$/);
  expect(r.stderr).toMatch(says);
  expect(r.stderr).not.toContain(PIN);
}

describe('keyrite ceremony sign', () => {
  it('signs a bundle whose envelope signature failed: verify goes from INCOMPLETE to VALID, report.html as the engine wrote it', async () => {
    const { id, bundle } = await runWithFault(atEnvelope);
    expect(existsSync(path.join(bundle, 'transcript.dsse.json'))).toBe(false);
    expect(verifyBundle(bundle).verdict).toBe('INCOMPLETE: completed but never signed');
    expect(ceremonyStatus(bundle).outcome).toBe('completed-unsigned');
    const transcript = readFileSync(path.join(bundle, 'transcript.jsonl'));
    const engineReport = readFileSync(path.join(bundle, 'report.html'));

    // A report cut short is neither signed nor replaced.
    writeFileSync(path.join(bundle, 'report.html'), engineReport.subarray(0, 1000));
    let before = snapshot(bundle);
    expectOneLineError(await runCli(['ceremony', 'sign', bundle, '--pin-env', 'P'], env), 1, /report\.html is not the report this transcript renders \(a write cut short\?\); move it out of the bundle/);
    expect(snapshot(bundle)).toEqual(before);

    // The process died before report.html: the command writes it.
    rmSync(path.join(bundle, 'report.html'));
    before = snapshot(bundle);
    // Wrong PIN: exit 1, nothing written.
    expectOneLineError(await runCli(['ceremony', 'sign', bundle, '--pin-env', 'P'], { P: '000000' }), 1, /PIN/i);
    expect(snapshot(bundle)).toEqual(before);
    // No PIN source and no terminal: usage.
    expectOneLineError(await runCli(['ceremony', 'sign', bundle], {}), 2, /no token PIN: give --pin-env VAR/);

    const r = await runCli(['ceremony', 'sign', bundle, '--pin-env', 'P'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Wrote report\.html \(it was missing\)\.\nSigned: .*transcript\.dsse\.json \(ceremony [0-9a-f]{16}…, root [0-9a-f]{16}…\)\nCeremony signer destroyed on the token \(one-time signer\)\.\nStatement digest [^\n]*\n  ([0-9a-f]{8} ){7}[0-9a-f]{8}\nAs words \(PGP word list\):\n(  [A-Za-z]+( [A-Za-z]+){7}\n){4}verify: VALID \(REHEARSAL\)\n$/);

    const v = verifyBundle(bundle);
    // --ack-all and --confirm-from make these runs rehearsals.
    expect(v.verdict).toBe('VALID (REHEARSAL)');
    expect(v.valid).toBe(true);
    expect(readFileSync(path.join(bundle, 'report.html')).equals(engineReport)).toBe(true);
    expect(readFileSync(path.join(bundle, 'transcript.jsonl')).equals(transcript)).toBe(true);
    const envelope = JSON.parse(readFileSync(path.join(bundle, 'transcript.dsse.json'), 'utf8'));
    expect(envelope.signatures).toHaveLength(2);
    expect(ceremonyStatus(bundle).outcome).toBe('completed');
    // Through the real CLI too; the root stays on the token, the one-time signer is gone.
    expect((await runCli(['verify', bundle], env)).code).toBe(0);
    expect(tokenObjects(sandbox.module, TOKEN, PIN, ceremonyLabels(id)).map((o) => o.label)).toEqual([`${id}-root`, `${id}-root`]);
    expect(r.stdout).not.toContain(PIN);

    // Already signed: refused, nothing changes.
    before = snapshot(bundle);
    expectOneLineError(await runCli(['ceremony', 'sign', bundle, '--pin-env', 'P'], env), 1, new RegExp(`ceremony '${id}' is already signed \\(transcript\\.dsse\\.json exists\\)`));
    expect(snapshot(bundle)).toEqual(before);
  });

  it('signs a statement of the same shape as the engine; a bundle the ceremony signed can never be signed again', async () => {
    const done = await runWithFault(() => undefined);
    expect(verifyBundle(done.bundle).valid).toBe(true);
    const late = await runWithFault(atEnvelope);
    expect((await runCli(['ceremony', 'sign', late.bundle, '--pin-env', 'P'], env)).code).toBe(0);
    const predicate = (dir: string) => JSON.parse(Buffer.from(JSON.parse(readFileSync(path.join(dir, 'transcript.dsse.json'), 'utf8')).payload, 'base64').toString('utf8')).predicate;
    const engine = predicate(done.bundle);
    const signed = predicate(late.bundle);
    expect(Object.keys(signed).sort()).toEqual(Object.keys(engine).sort());
    expect(engine.ceremonySigner).toEqual({ keyid: engine.signers[0].keyid, oneTime: true });
    expect(signed.ceremonySigner).toEqual({ keyid: signed.signers[0].keyid, oneTime: true });

    // The same bundle, envelope and report removed: the signer is gone, nothing is signed.
    const copy = path.join(work, 'resigned', done.id);
    cpSync(done.bundle, copy, { recursive: true });
    rmSync(path.join(copy, 'transcript.dsse.json'));
    rmSync(path.join(copy, 'report.html'));
    expectOneLineError(await runCli(['ceremony', 'sign', copy, '--pin-env', 'P'], env), 1, /signer key .* is not on token .*a bundle that was signed once can never be signed again/);
    expect(existsSync(path.join(copy, 'transcript.dsse.json'))).toBe(false);
  });

  it('a bundle whose report.html was written signs with the existing report; an AES root (no root signature), PIN typed at a prompt', async () => {
    const { bundle } = await runWithFault(atEnvelope, 'aes-256');
    expect(verifyBundle(bundle).verdict).toBe('INCOMPLETE: completed but never signed');
    const engineReport = readFileSync(path.join(bundle, 'report.html'));
    let out = '';
    let err = '';
    const asked: string[] = [];
    const io: CliIO = {
      stdout: (t) => void (out += t),
      stderr: (t) => void (err += t),
      readStdin: async () => '',
      stdinIsTTY: true,
      promptSecret: async (q) => {
        asked.push(q);
        return PIN;
      },
      prompt: async () => {
        throw new Error('no echoed prompt expected');
      },
      env: {},
      cwd: work,
    };
    const code = await main(['ceremony', 'sign', path.relative(work, bundle)], io);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(asked).toEqual(['token PIN: ']);
    expect(out).not.toContain(PIN);
    expect(out).toMatch(/^Signed: .*\(ceremony [0-9a-f]{16}…\)\nCeremony signer destroyed on the token \(one-time signer\)\.\n[^]*\nverify: VALID \(REHEARSAL\)\n$/);
    expect(verifyBundle(bundle).valid).toBe(true);
    expect(readFileSync(path.join(bundle, 'report.html')).equals(engineReport)).toBe(true);
  });

  it('refuses an aborted ceremony, one that did not complete, and a folder that is not a bundle', async () => {
    const aborted = await runWithFault(() => ({ ckr: 'CKR_DEVICE_REMOVED', method: 'wrapKwp', fn: 'C_WrapKey' }));
    expect(ceremonyStatus(aborted.bundle).outcome).toBe('aborted');
    let before = snapshot(aborted.bundle);
    expectOneLineError(await runCli(['ceremony', 'sign', aborted.bundle, '--pin-env', 'P'], env), 1, new RegExp(`ceremony '${aborted.id}' was aborted \\(seq \\d+, step 'backup'\\); an aborted ceremony is never signed as completed`));
    expect(snapshot(aborted.bundle)).toEqual(before);

    // A crash just before ceremony.completed: the transcript without its last line.
    const unsigned = await runWithFault(atEnvelope);
    const stopped = path.join(work, 'stopped', unsigned.id);
    cpSync(unsigned.bundle, stopped, { recursive: true });
    rmSync(path.join(stopped, 'report.html'));
    const lines = readFileSync(path.join(stopped, 'transcript.jsonl'), 'utf8').split('\n').filter(Boolean);
    writeFileSync(path.join(stopped, 'transcript.jsonl'), lines.slice(0, -1).join('\n') + '\n');
    expect(verifyBundle(stopped).verdict).toMatch(/^INCOMPLETE: stopped after /);
    before = snapshot(stopped);
    expectOneLineError(await runCli(['ceremony', 'sign', stopped, '--pin-env', 'P'], env), 1, new RegExp(`ceremony '${unsigned.id}' did not complete \\(stopped after [a-z.-]+, seq \\d+\\); only a completed ceremony can be signed`));
    expect(snapshot(stopped)).toEqual(before);

    // An edited bundle (the wrapped backup) fails verification: never signed.
    const edited = path.join(work, 'edited', unsigned.id);
    cpSync(unsigned.bundle, edited, { recursive: true });
    const wrapped = path.join(edited, 'backup', 'root.wrapped');
    const bytes = readFileSync(wrapped);
    bytes[0] ^= 1;
    writeFileSync(wrapped, bytes);
    expectOneLineError(await runCli(['ceremony', 'sign', edited, '--pin-env', 'P'], env), 1, /fails verification \(backup\.wrapped: backup\/root\.wrapped does not match/);
    expect(existsSync(path.join(edited, 'transcript.dsse.json'))).toBe(false);

    const empty = path.join(work, 'empty');
    mkdirSync(empty);
    expectOneLineError(await runCli(['ceremony', 'sign', empty, '--pin-env', 'P'], env), 2, /has no transcript\.jsonl: it is not a Keyrite bundle/);
    expectOneLineError(await runCli(['ceremony', 'sign', path.join(work, 'nowhere'), '--pin-env', 'P'], env), 2, /does not exist/);
  });

  it('fails clearly, writing nothing, when the signer or the root is no longer on the token', async () => {
    const a = await runWithFault(atEnvelope);
    rmSync(path.join(a.bundle, 'report.html'));
    expect(destroyOnToken(`keyrite-signer:${a.id}`)).toBe(2);
    let before = snapshot(a.bundle);
    expectOneLineError(
      await runCli(['ceremony', 'sign', a.bundle, '--pin-env', 'P'], env),
      1,
      new RegExp(`signer key 'keyrite-signer:${a.id}' \\(id [0-9a-f]{32}\\) is not on token '${TOKEN}' \\(serial \\w+\\): without the ceremony signer this bundle cannot be signed`),
    );
    expect(snapshot(a.bundle)).toEqual(before);

    const b = await runWithFault(atEnvelope);
    expect(destroyOnToken(`${b.id}-root`)).toBe(2);
    before = snapshot(b.bundle);
    expectOneLineError(
      await runCli(['ceremony', 'sign', b.bundle, '--pin-env', 'P'], env),
      1,
      new RegExp(`root key '${b.id}-root' \\(id [0-9a-f]{32}\\) is not on token '${TOKEN}' \\(serial \\w+\\): verify requires the signature of a ec-p256 root`),
    );
    expect(snapshot(b.bundle)).toEqual(before);
    expect(verifyBundle(b.bundle).verdict).toBe('INCOMPLETE: completed but never signed');
  });
});
