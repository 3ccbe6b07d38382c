/**
 * Opening PKCS#11 modules, finding tokens, logging in, and `keyrite hsm list`, on real SoftHSM tokens.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../electron/core/errors.ts';
import { createSoftHsmSandbox, type SoftHsmSandbox } from '../../electron/core/hsm/softhsm.ts';
import { HsmError, judgeMechanisms, openModule, type HsmModule } from '../../electron/core/hsm/index.ts';
import { hsmListCommand } from '../../electron/cli/commands/hsm-list.ts';
import { parseCommandArgs, type CliIO } from '../../electron/cli/command.ts';

const PIN = '736251';
let sb: SoftHsmSandbox;
let mod: HsmModule;
let serialA: string;

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

beforeAll(() => {
  sb = createSoftHsmSandbox();
  serialA = sb.initToken('alpha', PIN);
  sb.initToken('pin-token', PIN);
  // SoftHSM fixes its slot list at C_Initialize, so every token is made before the module is opened.
  sb.initToken('twin', PIN);
  sb.initToken('twin', PIN);
  process.env.SOFTHSM2_CONF = sb.confPath;
  mod = openModule(sb.module);
});

afterAll(() => {
  mod?.close();
  sb?.dispose();
});

describe('openModule', () => {
  it('reports the module file hash and trimmed library info', () => {
    expect(mod.info.sha256).toBe(createHash('sha256').update(readFileSync(sb.module)).digest('hex'));
    expect(mod.info).toMatchObject({ path: sb.module, manufacturer: 'SoftHSM', library: 'Implementation of PKCS11', cryptokiVersion: '2.40' });
    expect(mod.info.libraryVersion).toMatch(/^2\.\d+$/);
  });

  it('a missing file is a usage error (exit 2)', () => {
    const err = thrown(() => openModule('/no/such/module.so'));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    expect((err as Error).message).toBe('module /no/such/module.so: no such file');
  });

  it.each([
    ['a shared library that is not PKCS#11', ['/usr/lib/x86_64-linux-gnu/libz.so.1', '/usr/lib/aarch64-linux-gnu/libz.so.1', '/lib/x86_64-linux-gnu/libz.so.1'].find((f) => existsSync(f)) ?? 'NO-LIBZ'],
    ['a text file', 'TEXT'],
  ])('%s is refused as module-load (exit 2)', (_what, file) => {
    let p = file;
    if (file === 'TEXT') {
      p = path.join(sb.dir, 'not-a-module.so');
      writeFileSync(p, 'hello, I am not a library\n');
    }
    expect(existsSync(p), `no libz found to test with (${p})`).toBe(true);
    const err = thrown(() => openModule(p)) as HsmError;
    expect(err).toBeInstanceOf(HsmError);
    expect(err.code).toBe('module-load');
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(new RegExp(`^module ${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a PKCS#11 library \\(.+\\)$`));
  });
});

describe('tokens', () => {
  it('lists tokens with trimmed labels and finds one by label, or label and serial; never by serial alone', () => {
    const alpha = mod.tokens().find((t) => t.label === 'alpha')!;
    expect(alpha).toMatchObject({ label: 'alpha', manufacturer: 'SoftHSM project', model: 'SoftHSM v2', serialNumber: serialA });
    expect(alpha.flags).toEqual(expect.arrayContaining(['RNG', 'LOGIN_REQUIRED', 'USER_PIN_INITIALIZED', 'TOKEN_INITIALIZED']));
    expect(alpha.firmware).toMatch(/^\d+\.\d+$/);
    expect(mod.findToken({ label: 'alpha' }).serialNumber).toBe(serialA);
    const alone = thrown(() => mod.findToken({ serial: serialA })) as Error;
    expect(alone.message).toMatch(/never picked by serial alone/);
    expect(mod.selectToken!({ label: 'alpha' }).selectedBy).toBe('label');
    expect(mod.findToken({ label: 'alpha', serial: serialA }).label).toBe('alpha');
  });

  it('no such token → token-not-found naming what is there', () => {
    const err = thrown(() => mod.findToken({ label: 'gamma' })) as HsmError;
    expect(err.code).toBe('token-not-found');
    expect(err.exitCode).toBe(1);
    expect(err.message).toContain("no token labelled 'gamma'");
    expect(err.message).toContain(`'alpha' (serial ${serialA}, slot `);
    expect((thrown(() => mod.findToken({ label: 'alpha', serial: '0000' })) as HsmError).code).toBe('token-not-found');
  });

  it('two tokens with one label → token-ambiguous asking for the serial', () => {
    const twins = mod.tokens().filter((t) => t.label === 'twin');
    expect(twins).toHaveLength(2);
    const err = thrown(() => mod.findToken({ label: 'twin' })) as HsmError;
    expect(err.code).toBe('token-ambiguous');
    expect(err.message).toContain('give the serial');
    for (const t of twins) {
      expect(err.message).toContain(t.serialNumber);
      expect(mod.findToken({ label: 'twin', serial: t.serialNumber }).serialNumber).toBe(t.serialNumber);
      expect(mod.selectToken!({ label: 'twin', serial: t.serialNumber }).selectedBy).toBe('label+serial');
    }
  });

  it('lists mechanisms with names for the PKCS#11 3.0 ones graphene does not know', () => {
    const mechs = mod.mechanisms({ label: 'alpha' });
    const byType = new Map(mechs.map((m) => [m.type, m]));
    expect(byType.get(0x1055)?.name).toBe('CKM_EC_EDWARDS_KEY_PAIR_GEN');
    expect(byType.get(0x1057)?.name).toBe('CKM_EDDSA');
    expect(byType.get(0x210a)?.name).toBe('CKM_AES_KEY_WRAP_PAD');
    expect(byType.get(0x108a)?.name).toBe('CKM_AES_CMAC');
    expect(byType.get(0x1041)?.flags).toEqual(expect.arrayContaining(['SIGN', 'VERIFY']));
    expect(byType.get(0x210a)?.flags).toEqual(expect.arrayContaining(['WRAP', 'UNWRAP']));
    expect(byType.has(0x210b)).toBe(false);
    expect(byType.has(0x1054)).toBe(false);
    for (const alg of ['aes-256', 'ec-p384', 'ed25519'] as const) {
      const rows = judgeMechanisms(mechs, alg, { tokenFlags: mod.findToken({ label: 'alpha' }).flags });
      expect(rows.every((r) => r.present), alg).toBe(true);
    }
    const withoutCmac = judgeMechanisms(mechs.filter((m) => m.type !== 0x108a), 'aes-256');
    expect(withoutCmac.find((r) => r.name === 'CKM_AES_CMAC')).toMatchObject({ present: false, type: '0x0000108a' });
  });
});

describe('login', () => {
  it('a wrong PIN is pin-incorrect and the message never holds the PIN', () => {
    const wrong = '99887766';
    const err = thrown(() => mod.login({ label: 'pin-token' }, wrong)) as HsmError;
    expect(err).toBeInstanceOf(HsmError);
    expect(err.code).toBe('pin-incorrect');
    expect(err.ckr).toBe('CKR_PIN_INCORRECT');
    expect(err.exitCode).toBe(1);
    expect(err.message).toMatch(/^wrong PIN for token 'pin-token'/);
    expect(err.message).not.toContain(wrong);
    expect(err.message).not.toContain(PIN);
  });

  it('the right PIN opens a session that reads the token random generator', () => {
    const s = mod.login({ label: 'alpha' }, PIN);
    try {
      expect(s.token.serialNumber).toBe(serialA);
      const r = s.random(32);
      expect(r).toHaveLength(32);
      expect(r.equals(s.random(32))).toBe(false);
    } finally {
      s.logout();
      s.close();
    }
  });
});

describe('keyrite hsm list', () => {
  function io(): CliIO & { out: string[] } {
    const out: string[] = [];
    return {
      out,
      stdout: (t) => out.push(t),
      stderr: () => {},
      readStdin: async () => '',
      stdinIsTTY: false,
      promptSecret: async () => '',
      prompt: async () => '',
      env: process.env,
      cwd: process.cwd(),
    };
  }

  it('prints the module, its hash, each token and the ceremony mechanisms marked usable or missing', async () => {
    const o = io();
    expect(await hsmListCommand.run(parseCommandArgs(hsmListCommand, ['--module', sb.module]), o)).toBe(0);
    const text = o.out.join('');
    expect(text).toContain(`module ${sb.module}`);
    expect(text).toContain(mod.info.sha256);
    expect(text).toContain("token:        'alpha'");
    expect(text).toContain(`serial:       ${serialA}`);
    expect(text).toMatch(/model:\s+SoftHSM v2/);
    expect(text).toMatch(/flags:\s+RNG LOGIN_REQUIRED/);
    expect(text).toMatch(/native\s+signer\s+CKM_EC_KEY_PAIR_GEN \+ CKM_ECDSA/);
    expect(text).toMatch(/native\s+kcv\s+CKM_AES_CMAC/);
    expect(text).toMatch(/usable\s+rsa-4096\s+native/);
    expect(text).toMatch(/usable\s+ed25519/);
    expect(text).toContain('(not initialised)');
  });

  it('--module with a file that is not PKCS#11 fails with exit 2', async () => {
    const p = path.join(sb.dir, 'plain.txt');
    writeFileSync(p, 'x');
    await expect(hsmListCommand.run(parseCommandArgs(hsmListCommand, ['--module', p]), io())).rejects.toMatchObject({ code: 'module-load', exitCode: 2 });
  });
});
