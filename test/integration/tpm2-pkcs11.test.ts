/**
 * tpm2-pkcs11 over swtpm, set up from scratch by the test run (test/helpers/tpm2.ts). Its tokens
 * all have the serial 0000000000000000 and it has no RFC 5649 wrap, RSA up to 3072 bits, and
 * RSA-OAEP for encrypt/decrypt only: `hsm list` and the preflight must say so, and every ceremony is
 * refused before any token object exists, naming each missing capability.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSoftHsmSandbox, type SoftHsmSandbox } from '../../electron/core/hsm/softhsm.ts';
import { writePlan, type TokenEnv } from '../helpers/ceremony-fixture.ts';
import { makeTpmToken, tpm2Missing, type TpmToken } from '../helpers/tpm2.ts';
import { KEYRITE, runCeremony } from './recover-fixtures.ts';

const missing = tpm2Missing();
if (missing) console.warn(`tpm2-pkcs11 tests skipped: ${missing}`);
const PIN = '731904';
let tok: TpmToken;
let env: TokenEnv;

const keyrite = (args: string[]) => {
  const r = spawnSync(process.execPath, [KEYRITE, ...args], { env: { ...tok.env, KR_PIN: PIN }, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};
const objects = () =>
  execFileSync('pkcs11-tool', ['--module', tok.module, '--token-label', tok.label, '--login', '--pin', PIN, '--list-objects'], { env: tok.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(() => {
  if (missing) return;
  tok = makeTpmToken('keyrite-tpm', PIN);
  env = { sandbox: { module: tok.module } as SoftHsmSandbox, tokenLabel: tok.label, serial: '', work: path.join(tok.dir, 'work') };
  mkdirSync(env.work);
}, 300_000);

afterAll(() => tok?.stop());

describe.skipIf(Boolean(missing))('tpm2-pkcs11 over swtpm', () => {
  it('hsm list: serial 0000000000000000, no RFC 5649, RSA-4096 over the size limit, OAEP without the wrap flag', () => {
    const r = keyrite(['hsm', 'list', '--module', tok.module]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("token:        'keyrite-tpm'");
    expect(r.stdout).toMatch(/serial:\s+0000000000000000/);
    expect(r.stdout).toMatch(/REFUSED\s+rsa-4096\s+root keygen: rsa-4096: CKM_RSA_PKCS_KEY_PAIR_GEN takes \d+\.\.3072, not 4096/);
    expect(r.stdout).toMatch(/REFUSED\s+export wrap\s+CKM_RSA_PKCS_OAEP: CKM_RSA_PKCS_OAEP is listed for .*ENCRYPT\/DECRYPT, not WRAP/);
    expect(r.stdout).toMatch(/REFUSED\s+aes-256\s+backup wrap: neither CKM_AES_KEY_WRAP_KWP nor CKM_AES_KEY_WRAP_PAD/);
  });

  it('an ec-p256 ceremony is refused before any token object exists, naming each missing capability', () => {
    const planFile = writePlan(env, { id: 'tpm-ec', algorithm: 'ec-p256', exports: [] });
    const shares = path.join(env.work, 'shares');
    mkdirSync(shares);
    const r = keyrite(['ceremony', 'run', '--rehearsal', '--plan', planFile, '--out', path.join(env.work, 'out'), '--shares-out', shares, '--confirm-from', shares, '--ack-all', '--pin-env', 'KR_PIN']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/keyrite: error: .*token 'keyrite-tpm' cannot run this ceremony: .*backup wrap: neither CKM_AES_KEY_WRAP_KWP nor CKM_AES_KEY_WRAP_PAD/);
    expect(objects()).not.toMatch(/Object;/);
  });

  it('recover of a SoftHSM ceremony onto it finds the token by label and refuses before changing anything', async () => {
    const sb = createSoftHsmSandbox();
    try {
      process.env.SOFTHSM2_CONF = sb.confPath;
      sb.initToken('ceremony', PIN);
      const c = await runCeremony(sb, env.work, { id: 'tpm-rec', algorithm: 'ec-p256', tokenLabel: 'ceremony', pin: PIN });
      const r = spawnSync(process.execPath, [KEYRITE, 'recover', '--bundle', c.bundle, '--module', tok.module, '--token', tok.label, '--pin-env', 'KR_PIN'], {
        env: { ...tok.env, KR_PIN: PIN },
        input: c.shares.join('\n') + '\n',
        encoding: 'utf8',
        timeout: 300_000,
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/keyrite: error: token 'keyrite-tpm' cannot take this recovery: backup wrap: neither CKM_AES_KEY_WRAP_KWP nor CKM_AES_KEY_WRAP_PAD.*nothing was changed/);
      expect(objects()).not.toMatch(/Object;/);
    } finally {
      sb.dispose();
    }
  }, 300_000);
});
