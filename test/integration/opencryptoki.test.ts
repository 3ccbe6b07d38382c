/**
 * opencryptoki's soft token, set up from scratch by the test run (test/helpers/opencryptoki.ts):
 * `hsm list` and the ceremony preflight agree on what it cannot do (no EC, no RFC 5649 wrap), a
 * ceremony is refused before any token object exists, naming every missing capability, and `abort`
 * finds the same token again through what hsm.selected recorded.
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSoftHsmSandbox, type SoftHsmSandbox } from '../../electron/core/hsm/softhsm.ts';
import { writePlan, type TokenEnv } from '../helpers/ceremony-fixture.ts';
import { makeOckToken, opencryptokiMissing, type OckToken } from '../helpers/opencryptoki.ts';
import { KEYRITE, runCeremony } from './recover-fixtures.ts';

const missing = opencryptokiMissing();
if (missing) console.warn(`opencryptoki tests skipped: ${missing}`);
const PIN = '731904';
let tok: OckToken;
let env: TokenEnv;

const keyrite = (args: string[]) => tok.run([process.execPath, KEYRITE, ...args], { env: { KR_PIN: PIN } });
const objects = () => tok.run(['pkcs11-tool', '--module', tok.module, '--token-label', tok.label, '--login', '--pin', PIN, '--list-objects']).stdout;

beforeAll(() => {
  if (missing) return;
  tok = makeOckToken('keyrite-ock', PIN);
  env = { sandbox: { module: tok.module } as SoftHsmSandbox, tokenLabel: tok.label, serial: '', work: path.join(tok.dir, 'work') };
  mkdirSync(env.work);
}, 120_000);

afterAll(() => {
  if (tok) rmSync(tok.dir, { recursive: true, force: true });
});

describe.skipIf(Boolean(missing))("opencryptoki's soft token", () => {
  it('hsm list shows the token and refuses EC and every backup, naming what is missing', () => {
    const r = keyrite(['hsm', 'list', '--module', tok.module]);
    expect(r.stderr.replace(/^.*(warning|WARNING).*\n/gm, '')).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("token:        'keyrite-ock'");
    expect(r.stdout).toMatch(/model:\s+IBM SoftTok/);
    expect(r.stdout).toMatch(/REFUSED\s+ec-p384\s+.*root keygen: ec-p384: the token does not list CKM_EC_KEY_PAIR_GEN/);
    expect(r.stdout).toMatch(/REFUSED\s+aes-256\s+.*backup wrap: neither CKM_AES_KEY_WRAP_KWP nor CKM_AES_KEY_WRAP_PAD/);
  });

  for (const alg of ['aes-256', 'ec-p384'] as const) {
    it(`an ${alg} ceremony is refused before any token object exists, naming each missing capability`, () => {
      const planFile = writePlan(env, { id: `ock-${alg}`, algorithm: alg, exports: [] });
      const shares = path.join(env.work, `shares-${alg}`);
      mkdirSync(shares);
      const r = keyrite(['ceremony', 'run', '--rehearsal', '--plan', planFile, '--out', path.join(env.work, 'out'), '--shares-out', shares, '--confirm-from', shares, '--ack-all', '--pin-env', 'KR_PIN']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/keyrite: error: .*token 'keyrite-ock' cannot run this ceremony: .*backup wrap: neither CKM_AES_KEY_WRAP_KWP nor CKM_AES_KEY_WRAP_PAD/);
      if (alg === 'ec-p384') expect(r.stderr).toMatch(/root keygen: ec-p384: the token does not list CKM_EC_KEY_PAIR_GEN/);
      expect(objects()).not.toMatch(/Object;/);
    });
  }

  it('recover of a SoftHSM ceremony onto it finds the token and refuses before changing anything', async () => {
    const sb = createSoftHsmSandbox();
    try {
      process.env.SOFTHSM2_CONF = sb.confPath;
      sb.initToken('ceremony', PIN);
      const c = await runCeremony(sb, env.work, { id: 'ock-rec', algorithm: 'rsa-3072', tokenLabel: 'ceremony', pin: PIN });
      const r = tok.run([process.execPath, KEYRITE, 'recover', '--bundle', c.bundle, '--module', tok.module, '--token', tok.label, '--pin-env', 'KR_PIN'], {
        env: { KR_PIN: PIN },
        input: c.shares.join('\n') + '\n',
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/keyrite: error: token 'keyrite-ock' cannot take this recovery: backup wrap: neither CKM_AES_KEY_WRAP_KWP nor CKM_AES_KEY_WRAP_PAD.*nothing was changed/);
      expect(objects()).not.toMatch(/Object;/);
    } finally {
      sb.dispose();
    }
  }, 300_000);
});
