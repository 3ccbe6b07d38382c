/**
 * A token that ignores the recovery's unwrap template: the restored root must allow exactly what
 * the ceremony's did. Where C_SetAttributeValue fixes it, the recovery records the correction
 * (NSS: nss-ceremony.test.ts); where the token refuses, the recovery removes what it made and
 * refuses, and the token is left as it was.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Recovery } from '../../electron/core/ceremony/recover.ts';
import { createSoftHsmSandbox, type SoftHsmSandbox } from '../../electron/core/hsm/softhsm.ts';
import { templateIgnoringOpenModule } from '../helpers/template-ignoring-token.ts';
import { runCeremony, tokenObjects, type CeremonyFixture } from './recover-fixtures.ts';

const PIN = '552211';
let sb: SoftHsmSandbox;
let work: string;
let c: CeremonyFixture;

beforeAll(async () => {
  sb = createSoftHsmSandbox();
  process.env.SOFTHSM2_CONF = sb.confPath;
  work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-template-'));
  sb.initToken('ceremony', PIN);
  sb.initToken('stubborn', PIN);
  c = await runCeremony(sb, work, { id: 'tmpl-rsa', algorithm: 'rsa-3072', tokenLabel: 'ceremony', pin: PIN });
}, 120_000);

afterAll(() => {
  sb?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('recovery onto a token that ignores the unwrap template and will not be corrected', () => {
  it('refuses, removes the restored key, and leaves the token as it was', () => {
    const before = tokenObjects(sb, 'stubborn', PIN);
    const rec = Recovery.open({ bundle: c.bundle, module: sb.module, tokenLabel: 'stubborn', openModule: templateIgnoringOpenModule() });
    try {
      rec.addShare(c.shares[0]);
      rec.addShare(c.shares[1]);
      expect(() => rec.restore(PIN)).toThrow(
        /token 'stubborn' ignored the recovery template: the restored key has CKA_UNWRAP true \(ceremony: false\) and refused to change them \(CKR_ATTRIBUTE_READ_ONLY\)/,
      );
    } finally {
      rec.close();
    }
    expect(tokenObjects(sb, 'stubborn', PIN)).toEqual(before);
    const dir = path.join(c.bundle, 'recoveries');
    const events = readFileSync(path.join(dir, readdirSync(dir)[0], 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(events.some((e) => e.type === 'key.recovered')).toBe(false);
    const aborted = events.find((e) => e.type === 'recovery.aborted')!.data;
    expect(aborted.removed).toEqual(expect.arrayContaining([expect.stringMatching(/^private key 'tmpl-rsa-root'$/), expect.stringMatching(/^public key 'tmpl-rsa-root'$/)]));
  });
});
