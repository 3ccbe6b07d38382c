/**
 * Share sheets in real headless Chromium: every QR code is decoded back from the rendered pixels,
 * the sheet prints on exactly one A4 and one Letter page, and a recovery team's path works from
 * the printed codes alone (SLIP-39 combine + RFC 5649 unwrap, with no Keyrite-specific step).
 */
import { createCipheriv, createDecipheriv, createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { renderShareSheet, renderShareSheetSync, renderShareText, reshareNotice, shareSheetFileBase, type ShareSheetData } from '../../electron/core/sheets/share-sheet.ts';
import { decodeWrappedChunks } from '../../electron/core/sheets/wrapped-chunks.ts';
import { fingerprintLines } from '../../electron/core/sheets/html.ts';
import { combineMnemonics, shareCheckValue, splitSecret } from '../../electron/core/shares/index.ts';
import { decodeQrPng, decodeQrRegions, launchChromium, newPage, pdfPageCount, renderPrintable } from '../helpers/chromium.ts';

const OUT = path.resolve('test-output/sheets');
const AIV = Buffer.from('A65959A6', 'hex'); // RFC 5649 alternative initial value

function kwpWrap(kek: Buffer, data: Buffer): Buffer {
  const c = createCipheriv('id-aes256-wrap-pad', kek, AIV);
  return Buffer.concat([c.update(data), c.final()]);
}
function kwpUnwrap(kek: Buffer, data: Buffer): Buffer {
  const d = createDecipheriv('id-aes256-wrap-pad', kek, AIV);
  return Buffer.concat([d.update(data), d.final()]);
}

let browser: Browser;
beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/** Loads a sheet, saves a full-page PNG and A4/Letter PDFs, and returns the page for inspection. */
const load = (html: string, name: string) => renderPrintable(browser, html, OUT, name, { width: 820, height: 1100 });

async function decodeAll(page: Page): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const names = await page.$$eval('svg[data-qr]', (els) => els.map((e) => e.getAttribute('data-qr')!));
  for (const name of names) {
    const png = await page.locator(`svg[data-qr="${name}"]`).screenshot();
    const text = decodeQrPng(png);
    expect(text, `QR ${name} should decode from the screenshot`).not.toBeNull();
    out.set(name, text!);
  }
  return out;
}

async function expectFitsWidth(page: Page): Promise<void> {
  // Printable width of Letter and A4 with the sheet's 8 mm margins is at least 194 mm.
  await page.emulateMedia({ media: 'print' });
  const widthMm = await page.evaluate(() => document.querySelector('main')!.scrollWidth * 25.4 / 96);
  expect(widthMm).toBeLessThanOrEqual(194);
}

describe('share sheet (RSA-4096 root, rehearsal)', () => {
  const kek = randomBytes(32);
  const split = splitSecret(Buffer.from(kek), { groupThreshold: 1, groups: [{ threshold: 3, count: 5 }], iterationExponent: 0 });
  const mnemonics = split.groups[0].mnemonics;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 4096 });
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const fingerprint = createHash('sha256').update(spki).digest('hex');
  const wrapped = kwpWrap(kek, pkcs8);
  const data: ShareSheetData = {
    ceremonyId: 'acme-root-2026',
    title: 'ACME production root key',
    rootLabel: 'acme-root-2026',
    rootAlgorithm: 'rsa-4096',
    rootFingerprint: fingerprint,
    custodian: { id: 'c2', name: 'Carl <Two> & Co' },
    group: 1, groupCount: 1, groupThreshold: 1,
    member: 2, memberCount: 5, memberThreshold: 3,
    mnemonic: mnemonics[1],
    checkValue: shareCheckValue(mnemonics[1]),
    kekKcv: '5f3e1a',
    wrappedRootKey: wrapped,
    witnessNames: ['Wes Witness', 'Wanda Watcher'],
    rehearsal: true,
    paper: 'A4',
  };
  let page: Page;
  let a4: Buffer;
  let letter: Buffer;
  let qrs: Map<string, string>;
  let text: string;

  beforeAll(async () => {
    ({ page, a4, letter } = await load(await renderShareSheet(data), 'share-rsa4096-rehearsal'));
    qrs = await decodeAll(page);
    text = await page.locator('body').innerText();
  });

  it('says what to gather in plain words: one group is just "3 of the 5 shares"', () => {
    expect(text).toContain('Gather 3 of the 5 shares.');
    expect(text).not.toMatch(/of the 1 group/);
    const twoGroups = renderShareSheetSync({ ...data, groupCount: 2, groupThreshold: 2, passphrase: true });
    expect(twoGroups).toContain('Gather shares from all 2 groups: from each, as many as that group needs (this group: 3 of 5), and the SLIP-39 passphrase.');
    const twoOfThree = renderShareSheetSync({ ...data, groupCount: 3, groupThreshold: 2 });
    expect(twoOfThree).toContain('Gather shares from 2 of the 3 groups: from each');
  });

  it('decodes the words QR from the pixels to exactly the share (uppercase on paper)', () => {
    const scanned = qrs.get('mnemonic')!;
    expect(scanned).toBe(scanned.toUpperCase());
    expect(scanned.toLowerCase()).toBe(mnemonics[1]);
  });

  it('reassembles the wrapped root key from its QR codes, scanned in any order', () => {
    const chunks = [...qrs.entries()].filter(([k]) => k.startsWith('wrapped-')).map(([, v]) => v);
    expect(chunks.length).toBe(3); // one row: RSA-4096 fits in three codes, large enough to scan at 150 dpi
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(1300);
    expect(decodeWrappedChunks(chunks.reverse()).equals(wrapped)).toBe(true);
  });

  it('lets a recovery team restore the key from scanned sheets with SLIP-39 and RFC 5649 alone', () => {
    const chunks = [...qrs.entries()].filter(([k]) => k.startsWith('wrapped-')).map(([, v]) => v);
    const scannedShare = qrs.get('mnemonic')!.toLowerCase();
    const recoveredKek = Buffer.from(combineMnemonics([mnemonics[0], scannedShare, mnemonics[4]]));
    expect(recoveredKek.equals(kek)).toBe(true);
    expect(kwpUnwrap(recoveredKek, decodeWrappedChunks(chunks)).equals(pkcs8)).toBe(true);
  });

  it('shows every item docs/sheets.md asks for', () => {
    expect(text).toContain('acme-root-2026');
    expect(text).toContain('ACME production root key');
    expect(text).toContain('rsa-4096');
    for (const line of fingerprintLines(fingerprint)) expect(text).toContain(line);
    expect(text).toContain('Carl <Two> & Co'); // escaped in HTML, shown literally
    expect(text).toMatch(/Group 1 of 1 \(1 of 1 group needed\)/);
    expect(text).toMatch(/Member 2 of 5 \(3 of 5 needed in this group\)/);
    expect(text).toContain(data.checkValue);
    expect(text).toContain('5f3e1a');
    expect(text).toContain('keyrite recover --bundle');
    expect(text).toMatch(/SLIP-39 tool/);
    expect(text).toContain('RFC 5649');
    expect(text).toMatch(/Custodian: Carl <Two> & Co, signature/);
    expect(text).toMatch(/Witness \(Wes Witness, Wanda Watcher\)/);
    expect(text).toMatch(/Tamper-evident bag number/);
    expect(text).toContain('REHEARSAL — NOT A REAL SHARE');
  });

  it('numbers the 33 words in a grid, in order', async () => {
    const cells = await page.$$eval('ol.words li', (lis) => lis.map((li) => [li.querySelector('.n')!.textContent, li.querySelector('.w')!.textContent]));
    const words = mnemonics[1].split(' ');
    expect(words.length).toBe(33);
    expect(cells).toEqual(words.map((w, i) => [String(i + 1), w]));
    // Words 1..11 run down the first column (column-major grid).
    const boxes = await page.$$eval('ol.words li', (lis) => lis.map((li) => li.getBoundingClientRect().left));
    expect(boxes[0]).toBe(boxes[10]);
    expect(boxes[11]).toBeGreaterThan(boxes[0]);
  });

  it('every wrapped-key code decodes from the printed page rasterized at 150 dpi (a plain office scan)', async () => {
    // Laid out at the printable width of A4 (8 mm margins), printed to PDF, rasterized by poppler at
    // 150 dpi, and each code cut out of the page image where the layout put it.
    const { page: p, context } = await newPage(browser, { width: Math.round(((210 - 16) / 25.4) * 96), height: 1100, deviceScaleFactor: 1 });
    await p.setContent(await renderShareSheet(data), { waitUntil: 'load' });
    await p.emulateMedia({ media: 'print' });
    const rects = await p.$$eval('svg[data-qr^="wrapped-"]', (els) =>
      els.map((e) => {
        const r = e.getBoundingClientRect();
        return { x: r.left + window.scrollX, y: r.top + window.scrollY, width: r.width, height: r.height };
      }),
    );
    const dir = mkdtempSync(path.join(tmpdir(), 'keyrite-scan-'));
    try {
      const pdf = path.join(dir, 'sheet.pdf');
      writeFileSync(pdf, await p.pdf({ format: 'A4' }));
      execFileSync('pdftoppm', ['-r', '150', '-f', '1', '-l', '1', '-png', '-singlefile', pdf, path.join(dir, 'page')]);
      const px = 150 / 96;
      const margin = (8 / 25.4) * 150;
      const decoded = decodeQrRegions(
        readFileSync(path.join(dir, 'page.png')),
        rects.map((r) => ({ x: margin + r.x * px - 8, y: margin + r.y * px - 8, width: r.width * px + 16, height: r.height * px + 16 })),
      );
      expect(decoded.map((d) => d !== null), 'which codes decoded at 150 dpi').toEqual(rects.map(() => true));
      expect(decodeWrappedChunks(decoded as string[]).equals(wrapped)).toBe(true);
      expect(rects.length).toBeLessThanOrEqual(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await context.close();
    }
  });

  it('prints on exactly one page of A4 and of Letter, within the printable width', async () => {
    expect(pdfPageCount(a4)).toBe(1);
    expect(pdfPageCount(letter)).toBe(1);
    await expectFitsWidth(page);
  });

  it("a re-share's sheet (the largest root, with its notice) says what re-sharing cannot do and still fits one page", async () => {
    // On A4 paper, as the sheets of a re-share are (and of a generation by default).
    const notice = reshareNotice('acme-root-2025', 12345);
    const r = await load(await renderShareSheet({ ...data, notice }), 'share-rsa4096-reshare');
    const body = await r.page.locator('body').innerText();
    expect(body).toContain('old shares still open every copy of the old root.wrapped');
    expect(body).toContain("Re-sharing cannot retire acme-root-2025's shares (set 12345): old shares still open every copy of the old root.wrapped, so those copies must be destroyed.");
    expect(pdfPageCount(r.a4)).toBe(1);
    expect(pdfPageCount(r.letter)).toBe(1);
    await expectFitsWidth(r.page);
    expect(text.toLowerCase()).not.toContain('re-sharing');
  });

  it('loads nothing from anywhere and runs no script', async () => {
    const html = await renderShareSheet(data);
    expect(/<script|<img|<link|@import|url\(|https?:\/\//i.test(html)).toBe(false);
    expect(await page.$$eval('script', (s) => s.length)).toBe(0);
  });
});

describe('share sheet (EC P-384 root, two groups, production)', () => {
  const kek = randomBytes(32);
  const split = splitSecret(Buffer.from(kek), { groupThreshold: 2, groups: [{ threshold: 2, count: 3 }, { threshold: 1, count: 1 }], iterationExponent: 0 });
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const fingerprint = createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
  const wrapped = kwpWrap(kek, pkcs8);
  const mnemonic = split.groups[0].mnemonics[2];

  it('has no rehearsal banner, one wrapped-key code, and fits one page with a long title on either paper', async () => {
    const html = await renderShareSheet({
      ceremonyId: 'globex-issuing-ca-2027',
      title: 'Globex Corporation issuing CA — production signing key for the Western Hemisphere region',
      rootLabel: 'globex-issuing-2027', rootAlgorithm: 'ec-p384', rootFingerprint: fingerprint,
      custodian: { id: 'maximilian', name: 'Maximilian Alexander von Schwarzenberg-Hohenlohe' },
      group: 1, groupCount: 2, groupThreshold: 2, member: 3, memberCount: 3, memberThreshold: 2,
      mnemonic, checkValue: shareCheckValue(mnemonic), kekKcv: '00ff10', wrappedRootKey: wrapped,
      witnessNames: ['Wes Witness'], rehearsal: false, passphrase: true,
    });
    const { page, a4, letter } = await load(html, 'share-ecp384-production');
    const text = await page.locator('body').innerText();
    expect(text).not.toContain('REHEARSAL');
    expect(text).toMatch(/Group 1 of 2 \(2 of 2 groups needed\)/);
    expect(text).toMatch(/SLIP-39 passphrase/);
    const qrs = await decodeAll(page);
    expect(qrs.get('mnemonic')!.toLowerCase()).toBe(mnemonic);
    const chunks = [...qrs.keys()].filter((k) => k.startsWith('wrapped-'));
    expect(chunks).toEqual(['wrapped-1']);
    const recovered = Buffer.from(combineMnemonics([split.groups[0].mnemonics[0], qrs.get('mnemonic')!, split.groups[1].mnemonics[0]]));
    expect(recovered.equals(kek)).toBe(true);
    expect(kwpUnwrap(recovered, decodeWrappedChunks([qrs.get('wrapped-1')!])).equals(pkcs8)).toBe(true);
    expect(pdfPageCount(a4)).toBe(1);
    expect(pdfPageCount(letter)).toBe(1);
    await expectFitsWidth(page);
  });

  it('names the headless rehearsal files and writes the bare mnemonic on one line', () => {
    expect(shareSheetFileBase(2, 1, 'c4')).toBe('share-2-1-c4');
    expect(renderShareText(`  ${mnemonic.toUpperCase()}  `)).toBe(`${mnemonic}\n`);
  });
});
