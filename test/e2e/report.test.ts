/**
 * The ceremony report in real headless Chromium, from a synthetic transcript that follows the event
 * catalogue (electron/core/transcript/events.ts): every item issue 6 lists is on the printed page,
 * the report is deterministic, an unfinished ceremony says INCOMPLETE, and `keyrite report`
 * re-renders it from a bundle without ever overwriting a file.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { renderReport } from '../../electron/core/sheets/report.ts';
import { fingerprintLines } from '../../electron/core/sheets/html.ts';
import { canonicalJson, sha256Hex } from '../../electron/core/transcript/chain.ts';
import { GENESIS_PREV, type EventData, type EventType, type TranscriptEvent } from '../../electron/core/transcript/events.ts';
import { main } from '../../electron/cli/keyrite.ts';
import type { CliIO } from '../../electron/cli/command.ts';
import { launchChromium, newPage, pdfPageCount, renderPrintable } from '../helpers/chromium.ts';

const OUT = path.resolve('test-output/report');
const hex = (seed: string) => sha256Hex(seed);

const ROOT_FP = hex('root spki');
const SIGNER_KEYID = hex('signer spki');
const MODULE_SHA = hex('libsofthsm2.so');
const WRAPPED_SHA = hex('root.wrapped');
const AWS_WRAPPING = hex('aws wrapping key');
const AWS_FILE = hex('EncryptedKeyMaterial.bin');

const participants = [
  { id: 'ada', name: 'Ada Admin', role: 'administrator' },
  { id: 'wes', name: 'Wes Witness', role: 'witness' },
  { id: 'c1', name: 'Carol One', role: 'custodian' },
  { id: 'c2', name: 'Carl Two', role: 'custodian' },
  { id: 'c3', name: 'Cleo <Three> & Sons', role: 'custodian' },
];

/** Builds a hash-chained transcript, one event a minute from 09:00 UTC. */
class Transcript {
  events: TranscriptEvent[] = [];
  add<T extends EventType>(type: T, actor: string, data: EventData[T]): this {
    const seq = this.events.length;
    const prev = seq === 0 ? GENESIS_PREV : sha256Hex(canonicalJson(this.events[seq - 1]));
    const time = new Date(Date.UTC(2026, 10, 22, 9, seq, 7, 123)).toISOString();
    this.events.push({ v: 1, seq, time, type, actor, data: data as Record<string, unknown>, prev });
    return this;
  }
  head(): string {
    return sha256Hex(canonicalJson(this.events[this.events.length - 1]));
  }
}

function ceremonyUpTo(stopAfter?: EventType): Transcript {
  const t = new Transcript();
  const steps: [EventType, string, unknown][] = [
    ['ceremony.started', 'ada', {
      ceremonyId: 'acme-root-2026', title: 'ACME production root key', planSha256: hex('plan'),
      app: { name: 'keyrite', version: '0.1.0' },
      host: { platform: 'linux', arch: 'x64', release: '6.1.0-18-amd64', hostname: 'ceremony-laptop', networkInterfaces: [
        { name: 'lo', up: true, internal: true, addresses: ['127.0.0.1', '::1'] },
        { name: 'enp0s31f6', up: false, internal: false, addresses: [] },
      ] },
      frontEnd: 'cli', rehearsal: false, participants,
    }],
    ...participants.map((p) => ['participant.checked-in', p.id, { participant: p.id, role: p.role }] as [EventType, string, unknown]),
    ['step.acknowledged', 'wes', { step: 'room', text: 'The room is sealed and no phones are present.', by: ['wes', 'ada'], method: 'prompt' }],
    ['step.acknowledged', 'ada', { step: 'laptop', text: 'The laptop booted from the sealed live image.', by: ['ada'], method: 'prompt' }],
    ['hsm.selected', 'system', {
      module: { path: '/usr/lib/softhsm/libsofthsm2.so', sha256: MODULE_SHA, manufacturer: 'SoftHSM', library: 'Implementation of PKCS11', libraryVersion: '2.6', cryptokiVersion: '2.40' },
      token: { label: 'ceremony', manufacturer: 'SoftHSM project', model: 'SoftHSM v2', serialNumber: '5c1e0a7bd1f3a9e2', firmware: '2.6', flags: ['login required', 'token initialized'] },
      mechanisms: [
        { name: 'CKM_RSA_PKCS_KEY_PAIR_GEN', type: '0x00000000', needed: 'root key generation', present: true },
        { name: 'CKM_AES_KEY_WRAP_PAD', type: '0x0000210a', needed: 'backup wrap', present: true },
      ],
    }],
    ['preflight.passed', 'system', { checks: [{ name: 'key label free', ok: true, detail: "no object labelled 'acme-root-2026'" }] }],
    ['hsm.logged-in', 'ada', { tokenLabel: 'ceremony', tokenSerial: '5c1e0a7bd1f3a9e2' }],
    ['selftest.kwp', 'system', { mechanism: 'CKM_AES_KEY_WRAP_PAD', mechanismType: '0x0000210a', zeroPadsInput: false, ok: true }],
    ['key.generating', 'system', { role: 'signer', label: 'acme-root-2026-transcript', id: '01', algorithm: 'ec-p384' }],
    ['signer.generated', 'system', { role: 'ceremony', label: 'acme-root-2026-transcript', id: '01', keyid: SIGNER_KEYID, spki: 'MHYw', attributes: { CKA_EXTRACTABLE: false } }],
    ['key.generating', 'system', { role: 'root', label: 'acme-root-2026', id: '02', algorithm: 'rsa-4096' }],
    ['key.generated', 'ada', {
      label: 'acme-root-2026', id: '02', algorithm: 'rsa-4096',
      attributes: { CKA_SENSITIVE: true, CKA_EXTRACTABLE: true, CKA_TOKEN: true, CKA_MODULUS_BITS: 4096 },
      publicKey: { spki: 'MIICIjAN', sha256: ROOT_FP },
    }],
    ['key.verified', 'system', { checks: [{ name: 'test signature verifies', ok: true, detail: 'RSASSA-PKCS1-v1_5 SHA-256' }] }],
    ['backup.split', 'system', {
      scheme: 'slip39', identifier: 21013, extendable: true, iterationExponent: 1, groupThreshold: 1,
      groups: [{ threshold: 2, count: 3 }], kekKcv: '7a1c0e', passphrase: false,
      shares: [
        { group: 1, member: 1, custodian: 'c1', checkValue: '1111aaaa2222bbbb' },
        { group: 1, member: 2, custodian: 'c2', checkValue: '3333cccc4444dddd' },
        { group: 1, member: 3, custodian: 'c3', checkValue: '5555eeee6666ffff' },
      ],
    }],
    ['backup.wrapped', 'system', { mechanism: 'CKM_AES_KEY_WRAP_PAD', mechanismType: '0x0000210a', zeroPadsInput: false, wrapped: 'AAAA', sha256: WRAPPED_SHA, path: 'backup/root.wrapped' }],
    ...[1, 2, 3].map((m) => ['share.printed', 'system', { group: 1, member: m, custodian: `c${m}`, output: `printer HP LaserJet`, rehearsal: false }] as [EventType, string, unknown]),
    ...[1, 2, 3].map((m) => ['share.confirmed', `c${m}`, { group: 1, member: m, custodian: `c${m}`,
      checkValue: ['1111aaaa2222bbbb', '3333cccc4444dddd', '5555eeee6666ffff'][m - 1], method: 'typed' }] as [EventType, string, unknown]),
    ['backup.recovery-tested', 'system', { shares: [{ group: 1, member: 1 }, { group: 1, member: 3 }], ok: true, kekKcvOk: true, sameKey: true, detail: 'unwrapped key has the same public key' }],
    ['backup.kek-wiped', 'system', {}],
    ['export.created', 'ada', {
      target: 'aws-prod', kind: 'aws-kms', algorithm: 'RSA_AES_KEY_WRAP_SHA_1', wrappingKeySha256: AWS_WRAPPING, method: 'two-step OAEP+KWP',
      files: [{ path: 'exports/aws-prod/EncryptedKeyMaterial.bin', sha256: AWS_FILE }, { path: 'exports/aws-prod/README.txt', sha256: hex('readme') }],
    }],
    ['exception.recorded', 'wes', { text: 'Printer jammed; sheet 2 reprinted and the spoiled copy shredded.', step: 'print' }],
    ['note.added', 'ada', { text: 'Ceremony ran 5 minutes late.' }],
    ['key.sealed', 'system', { label: 'acme-root-2026', id: '02', extractable: false }],
  ];
  for (const [type, actor, data] of steps) {
    t.add(type, actor, data as never);
    if (type === stopAfter) return t;
  }
  t.add('ceremony.completed', 'system', { chainHead: t.head(), eventCount: t.events.length });
  return t;
}

let browser: Browser;
beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

async function render(html: string, name: string): Promise<{ page: Page; text: string; a4: Buffer; letter: Buffer }> {
  const r = await renderPrintable(browser, html, OUT, name, { width: 900, height: 1200 });
  return { ...r, text: await r.page.locator('body').innerText() };
}

describe('ceremony report (complete ceremony)', () => {
  const t = ceremonyUpTo();
  const completed = t.events[t.events.length - 1];
  const chainHead = (completed.data as { chainHead: string }).chainHead;
  let page: Page;
  let text: string;
  let a4: Buffer;
  let letter: Buffer;

  beforeAll(async () => {
    ({ page, text, a4, letter } = await render(renderReport(t.events), 'report-complete'));
  });

  it('says COMPLETE and gives the ceremony id, title, date and duration', () => {
    expect(text).toContain('COMPLETE');
    expect(text).not.toContain('INCOMPLETE');
    expect(text).toContain('acme-root-2026');
    expect(text).toContain('ACME production root key');
    expect(text).toContain('2026-11-22');
    expect(text).toContain('2026-11-22 09:00:07 UTC');
    expect(text).toContain(`${t.events.length - 1} min 00 s`);
  });

  it('lists participants with roles, and each plan step with who acknowledged it and when', () => {
    for (const p of participants) {
      expect(text).toContain(p.name);
      expect(text).toMatch(new RegExp(`${p.name.replace(/[<>&]/g, '.')}\\s+${p.id}\\s+${p.role}`));
    }
    expect(text).toMatch(/room\s+The room is sealed and no phones are present\.\s+Wes Witness \(wes\), Ada Admin \(ada\)\s+09:06:07\s+prompt/);
    expect(text).toContain('The laptop booted from the sealed live image.');
  });

  it('records machine and network state, module and token', () => {
    expect(text).toMatch(/linux x64 · 6\.1\.0-18-amd64/);
    expect(text).toContain('ceremony-laptop');
    expect(text).toMatch(/offline: no network interface other than loopback was up/);
    expect(text).toContain('enp0s31f6');
    // Loopback is named as such, never "down" (it is up on every running machine) nor counted as a network.
    expect(text).toMatch(/lo\s+loopback\s+yes/);
    expect(text).toMatch(/enp0s31f6\s+down\s+no/);
    expect(text).toContain('/usr/lib/softhsm/libsofthsm2.so');
    expect(text).toContain(MODULE_SHA);
    for (const line of fingerprintLines(MODULE_SHA)) expect(text).toContain(line);
    for (const s of ['SoftHSM project', 'SoftHSM v2', '5c1e0a7bd1f3a9e2', 'Implementation of PKCS11']) expect(text).toContain(s);
    expect(text).toMatch(/Firmware\s+2\.6/i);
  });

  it('gives the root key with its fingerprint in full and in read-aloud groups', () => {
    expect(text).toContain('rsa-4096');
    expect(text).toContain(ROOT_FP);
    const groups = fingerprintLines(ROOT_FP);
    expect(groups).toHaveLength(2);
    expect(groups[0].split(' ')).toHaveLength(8);
    for (const line of groups) expect(text).toContain(line);
    expect(text).toContain('CKA_SENSITIVE');
  });

  it('gives the backup layout and each custodian share check value and confirmation time', () => {
    expect(text).toMatch(/1 of 1 group needed; group 1: 2 of 3/);
    expect(text).toContain('7a1c0e');
    expect(text).toContain('21013');
    expect(text).toMatch(/1-1\s+Carol One \(c1\)\s+1111aaaa2222bbbb\s+09:\d\d:07\s+09:\d\d:07 \(typed\)/);
    expect(text).toMatch(/1-3\s+Cleo <Three> & Sons \(c3\)\s+5555eeee6666ffff/);
    expect(text).not.toMatch(/NOT CONFIRMED|CHECK VALUE DIFFERS/);
    for (const line of fingerprintLines(WRAPPED_SHA)) expect(text).toContain(line);
  });

  it('gives self-tests, exports with wrapping-key fingerprints and file digests, exceptions and notes', () => {
    expect(text).toMatch(/AES key wrap with padding \(RFC 5649\) known answer, CKM_AES_KEY_WRAP_PAD\s+PASS/);
    expect(text).toMatch(/shares combined: 1-1, 1-3\s+PASS/);
    expect(text).toMatch(/test signature verifies\s+PASS/);
    expect(text).toContain('aws-prod');
    expect(text).toContain('RSA_AES_KEY_WRAP_SHA_1');
    for (const line of fingerprintLines(AWS_WRAPPING)) expect(text).toContain(line);
    expect(text).toContain('exports/aws-prod/EncryptedKeyMaterial.bin');
    expect(text).toContain(AWS_FILE);
    expect(text).toContain('Printer jammed; sheet 2 reprinted and the spoiled copy shredded.');
    expect(text).toContain('Ceremony ran 5 minutes late.');
  });

  it('gives the signers with key ids, the final chain head, and a signature line per participant', async () => {
    for (const line of fingerprintLines(SIGNER_KEYID)) expect(text).toContain(line);
    expect(text).toContain('root (proof of possession)');
    expect(text).toContain(chainHead);
    expect(text).toContain(`all ${t.events.length} events link`);
    expect(text).toContain(t.head());
    const sigs = await page.$$eval('.sig', (els) => els.map((e) => [e.getAttribute('data-participant'), e.querySelectorAll('.line').length]));
    expect(sigs).toEqual(participants.map((p) => [p.id, 2]));
  });

  it('escapes transcript text instead of interpreting it', async () => {
    expect(await page.$$eval('Three', (e) => e.length)).toBe(0);
    expect(renderReport(t.events)).toContain('Cleo &lt;Three&gt; &amp; Sons');
  });

  it('is deterministic, self-contained, and prints on A4 and Letter within the page width', async () => {
    const html = renderReport(t.events);
    expect(renderReport(structuredClone(t.events))).toBe(html);
    expect(/<script|<img|<link|@import|url\(|https?:\/\//i.test(html)).toBe(false);
    expect(pdfPageCount(a4)).toBeGreaterThanOrEqual(2);
    expect(pdfPageCount(letter)).toBeGreaterThanOrEqual(2);
    await page.emulateMedia({ media: 'print' });
    await page.setViewportSize({ width: Math.floor((215.9 - 30) / 25.4 * 96), height: 1000 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    // Each read-aloud line of a key id stays whole in a table column (two lines of 8 groups, not 4 or 5
    // ragged ones), and how a step was acknowledged is one word on one line.
    await page.setViewportSize({ width: Math.floor((210 - 30) / 25.4 * 96), height: 1000 });
    const lines = await page.$$eval('table.grid .groups, .nowrap', (els) =>
      els.map((e) => Math.round(e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight))));
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.every((n) => n <= 2)).toBe(true);
  });
});

/** The text of each page of a PDF, by poppler's pdftotext. */
function pdfPages(pdf: Buffer): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'keyrite-report-pdf-'));
  try {
    const file = path.join(dir, 'r.pdf');
    writeFileSync(file, pdf);
    return Array.from({ length: pdfPageCount(pdf) }, (_, i) =>
      execFileSync('pdftotext', ['-f', String(i + 1), '-l', String(i + 1), '-layout', file, '-'], { encoding: 'utf8' }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('ceremony report layout', () => {
  it('keeps the signature block on one page, on A4 and on Letter, whatever the length before it', async () => {
    // Notes of different lengths move the block to every position on the page.
    for (const notes of [0, 5, 10]) {
      const t = ceremonyUpTo();
      t.events.pop();
      for (let i = 0; i < notes; i++) t.add('note.added', 'ada', { text: `Note ${i + 1}: ${'the room was quiet and the witnesses watched every step. '.repeat(3)}` });
      t.add('ceremony.completed', 'system', { chainHead: t.head(), eventCount: t.events.length });
      const { a4, letter, page } = await render(renderReport(t.events), `report-signatures-${notes}`);
      await page.close();
      for (const [paper, pdf] of [['A4', a4], ['Letter', letter]] as const) {
        const pages = pdfPages(pdf);
        const at = pages.findIndex((p) => p.includes('By signing, each participant states'));
        expect(at, `${paper}, ${notes} notes`).toBeGreaterThanOrEqual(0);
        // The heading, the statement and every participant's signature and date lines on that page.
        expect(pages[at], `${paper}, ${notes} notes`).toMatch(/Signatures\s*\n/);
        expect(pages[at].match(/^\s*Signature\s+Date\s*$/gm)?.length ?? 0, `${paper}, ${notes} notes`).toBe(participants.length);
      }
    }
  }, 120_000);

  it('leaves a margin around the report on screen', async () => {
    const { page } = await render(renderReport(ceremonyUpTo().events), 'report-screen');
    await page.setViewportSize({ width: 1300, height: 900 });
    const box = await page.locator('h1').first().boundingBox();
    expect(box!.y).toBeGreaterThanOrEqual(24);
    await page.setViewportSize({ width: 700, height: 900 });
    const narrow = await page.locator('h1').first().boundingBox();
    expect(narrow!.x).toBeGreaterThanOrEqual(16);
    await page.close();
  });
});

describe('ceremony report (incomplete ceremonies)', () => {
  it('says INCOMPLETE with the last step reached when the transcript stops early', async () => {
    const t = ceremonyUpTo('share.printed');
    const { text } = await render(renderReport(t.events), 'report-incomplete');
    expect(text).toContain('INCOMPLETE');
    expect(text).toMatch(/Last event reached: #\d+ share\.printed/);
    expect(text).toMatch(/Last plan step acknowledged: laptop/);
    expect(text).toContain('NOT CONFIRMED');
    expect(text).toMatch(/not recorded: incomplete/);
  });

  it('says where and why an aborted ceremony stopped, and shows plan steps never acknowledged', async () => {
    const t = ceremonyUpTo('hsm.selected');
    t.add('ceremony.aborted', 'system', { reason: 'the token refused the PIN', step: 'login', error: 'CKR_PIN_INCORRECT' });
    const plan = { steps: [{ id: 'room', text: 'x', ackBy: ['wes'] }, { id: 'seal', text: 'The HSM goes back into its bag.', ackBy: ['wes'] }] };
    const { text } = await render(renderReport(t.events, { plan }), 'report-aborted');
    expect(text).toContain('INCOMPLETE');
    expect(text).toMatch(/Stopped at step login: the token refused the PIN \(CKR_PIN_INCORRECT\)/);
    expect(text).toMatch(/seal\s+The HSM goes back into its bag\.\s+Wes Witness \(wes\)\s+NOT ACKNOWLEDGED/);
  });

  it('renders something useful from no events at all', () => {
    const html = renderReport([]);
    expect(html).toContain('INCOMPLETE');
  });
});

describe('keyrite report BUNDLE', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'keyrite-report-'));
  const bundle = path.join(dir, 'acme-root-2026');
  const t = ceremonyUpTo();
  mkdirSync(bundle);
  writeFileSync(path.join(bundle, 'transcript.jsonl'), t.events.map((e) => canonicalJson(e) + '\n').join(''));
  writeFileSync(path.join(bundle, 'plan.json'), JSON.stringify({ id: 'acme-root-2026', steps: [] }));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const io: CliIO = {
      stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, readStdin: async () => '', stdinIsTTY: false,
      promptSecret: async () => '', prompt: async () => '', env: {}, cwd: dir,
    };
    const code = await main(argv, io);
    return { code, out, err };
  }

  it('prints the same report the ceremony would write, to standard output', async () => {
    const r = await run('report', 'acme-root-2026');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // The engine renders from events in memory (keys in insertion order); the CLI from JCS lines.
    expect(r.out === renderReport(t.events, { plan: { id: 'acme-root-2026', steps: [] } })).toBe(true);
  });

  it('writes --out exclusively and refuses to overwrite', async () => {
    const first = await run('report', 'acme-root-2026', '--out', 'report.html');
    expect(first.code).toBe(0);
    expect(readFileSync(path.join(dir, 'report.html'), 'utf8')).toContain('COMPLETE');
    writeFileSync(path.join(dir, 'report.html'), 'keep me');
    const second = await run('report', 'acme-root-2026', '--out', 'report.html');
    expect(second.code).toBe(2);
    expect(second.err).toMatch(/^keyrite: error: report: report\.html already exists/);
    expect(readFileSync(path.join(dir, 'report.html'), 'utf8')).toBe('keep me');
  });

  it('fails with one line and exit 2 for a folder that is not a bundle or a broken transcript line', async () => {
    const missing = await run('report', 'nowhere');
    expect(missing.code).toBe(2);
    expect(missing.err.trim().split('\n')).toHaveLength(1);
    expect(missing.err).toBe('keyrite: error: bundle nowhere does not exist\n');
    // A folder that is not a bundle: the words verify and ceremony status use too.
    const plain = path.join(dir, 'plain');
    mkdirSync(plain);
    const notBundle = await run('report', 'plain');
    expect(notBundle.code).toBe(2);
    expect(notBundle.err).toBe('keyrite: error: plain has no transcript.jsonl: it is not a Keyrite bundle\n');
    const broken = path.join(dir, 'broken');
    mkdirSync(broken);
    writeFileSync(path.join(broken, 'transcript.jsonl'), canonicalJson(t.events[0]) + '\n{oops\n');
    const bad = await run('report', 'broken');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/line 2 is not a JSON event/);
  });

  it('lists the envelope signers with --signatures', async () => {
    const statement = { predicate: { signers: [{ keyid: SIGNER_KEYID, role: 'ceremony', spki: 'x' }, { keyid: ROOT_FP, role: 'root', spki: 'y' }] } };
    writeFileSync(path.join(bundle, 'transcript.dsse.json'), JSON.stringify({
      payloadType: 'application/vnd.in-toto+json', payload: Buffer.from(JSON.stringify(statement)).toString('base64'),
      signatures: [{ keyid: SIGNER_KEYID, sig: 'AA==' }],
    }));
    const r = await run('report', 'acme-root-2026', '--signatures');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Signature present');
    expect(r.out).toContain(SIGNER_KEYID);
  });
});
