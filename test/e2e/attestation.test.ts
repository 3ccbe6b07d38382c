/**
 * The attestation page in real headless Chromium: one page on A4 and on Letter even with many
 * signers and signatories; the statement digest in hex and as PGP words, the root fingerprint, every
 * envelope signer and a signature line per witness and administrator; REHEARSAL said when it is one.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { renderAttestation, type AttestationData } from '../../electron/core/sheets/attestation.ts';
import { fingerprintLines } from '../../electron/core/sheets/html.ts';
import { sha256Hex } from '../../electron/core/transcript/chain.ts';
import { pgpWordsOfHex } from '../../electron/core/transcript/pgp-words.ts';
import { launchChromium, pdfPageCount, renderPrintable } from '../helpers/chromium.ts';

const OUT = path.resolve('test-output/attestation');
let browser: Browser;

const data = (o: Partial<AttestationData> = {}): AttestationData => ({
  kind: 'ceremony',
  ceremonyId: 'acme-root-2026',
  title: 'ACME production root <key> & co',
  rehearsal: false,
  startedAt: '2026-11-22T09:00:00.000Z',
  endedAt: '2026-11-22T11:42:13.250Z',
  root: { algorithm: 'ec-p384', label: 'acme-root-2026', publicKeySha256: sha256Hex('root') },
  statementSha256: sha256Hex('statement'),
  chainHead: sha256Hex('head'),
  eventCount: 57,
  signatures: [
    { keyid: sha256Hex('signer'), role: 'ceremony signer (one-time)' },
    { keyid: sha256Hex('root key'), role: 'root' },
    ...['wes', 'wil', 'wendy', 'ada'].map((p) => ({ keyid: sha256Hex(p), role: `co-signer, ${p === 'ada' ? 'administrator' : 'witness'}`, participant: p })),
  ],
  signatories: [
    { id: 'ada', name: 'Ada Admin', role: 'administrator' },
    ...['Wes', 'Wil', 'Wendy', 'Walt', 'Wanda'].map((n) => ({ id: n.toLowerCase(), name: `${n} Witness`, role: 'witness' })),
  ],
  ...o,
});

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe('attestation page', () => {
  it('prints on one page (A4 and Letter) with the digest in hex and words, the signers and a line per signatory', async () => {
    const d = data();
    const { page, a4, letter } = await renderPrintable(browser, renderAttestation(d), OUT, 'attestation', { width: 800, height: 1100 });
    expect(pdfPageCount(a4)).toBe(1);
    expect(pdfPageCount(letter)).toBe(1);
    const text = (await page.locator('main').innerText()).replace(/\s+/g, ' ');
    for (const line of fingerprintLines(d.statementSha256)) expect(text).toContain(line);
    expect(text).toContain(pgpWordsOfHex(d.statementSha256).join(' '));
    for (const line of fingerprintLines(d.root.publicKeySha256!)) expect(text).toContain(line);
    expect(text).toContain('ACME production root <key> & co');
    expect(text).toContain('Held 2026-11-22 09:00:00 to 2026-11-22 11:42:13 UTC');
    expect(text).toContain(`keyrite verify BUNDLE --expect-statement ${d.statementSha256}`);
    for (const s of d.signatures) expect(text).toContain(s.keyid);
    expect(text).toContain('co-signer, witness (wil)');
    // A signature row per witness and the administrator, plus a blank one.
    expect(await page.locator('td.sig').count()).toBe(d.signatories.length + 1);
    expect(text).not.toContain('REHEARSAL');
    expect(await page.locator('script').count()).toBe(0);
  });

  it('a rehearsal says so; an AES root is named by its KCV; a recovery is titled as one', async () => {
    const d = data({ rehearsal: true, kind: 'recovery', root: { algorithm: 'aes-256', label: 'aes-root', kcv: '1a2b3c' } });
    const { page, a4 } = await renderPrintable(browser, renderAttestation(d), OUT, 'attestation-rehearsal', { width: 800, height: 1100 });
    expect(pdfPageCount(a4)).toBe(1);
    const text = await page.locator('main').innerText();
    expect(text).toContain('REHEARSAL — NOT A REAL RECOVERY');
    expect(text).toContain('Recovery attestation');
    expect(text).toContain('KCV 1a2b3c');
  });
});
