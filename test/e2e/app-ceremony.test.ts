/**
 * The desktop app, driven like a person would: the production renderer build in headless Chromium,
 * window.keyrite bridged to the real ipc.ts handlers, backed by a SoftHSM token. A whole ceremony by
 * clicks and typing (each custodian's words read off the "printed" sheet and typed back), then the
 * bundle verified on the Verify screen and by `keyrite verify`, then a recovery into a second token,
 * then a ceremony stopped with a reason. Every bridge message is recorded, and the test proves that no
 * PIN, share words or backup key ever reached the renderer. Screenshots go to test-output/app/.
 */
import { execFileSync } from 'node:child_process';
import { pinExports } from '../helpers/plan-pins.ts';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSoftHsmSandbox, type SoftHsmSandbox } from '../../electron/core/hsm/softhsm.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { statementDigest } from '../../electron/core/transcript/dsse.ts';
import { pgpWordsOfHex } from '../../electron/core/transcript/pgp-words.ts';
import type { Result } from '../../electron/api.ts';
import type { Handlers } from '../../electron/ipc.ts';
import { APP_TEST_ORIGIN, buildRenderer, createScriptedDialogs, createTestPrinter, installBridge, type Bridge, type ScriptedDialogs, type TestPrinter } from '../helpers/bridge.ts';

const OUT = path.resolve('test-output/app');
const PIN = 'Pin-7391-xq';
const RECOVERY_PIN = 'Rec-2648-zw';
const PASSPHRASE = 'Pass-5512-kv';
const PASSPHRASE_TYPO = 'Pass-5512-kb';
const WITNESS_PIN = 'Wit-4417-rm';
let wesKeyid = '';

let work: string;
let hsm: SoftHsmSandbox;
let browser: Browser;
let page: Page;
let paper: Page;
let bridge: Bridge;
let printer: TestPrinter;
let dialogs: ScriptedDialogs;
let handlers: Handlers;
let planFile: string;
let bundleDir = '';
const mnemonics: string[] = [];
let shot = 0;

async function screenshot(name: string) {
  shot++;
  await page.screenshot({ path: path.join(OUT, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
}

/** Reads the words off a printed sheet, the way a custodian reads paper: render it, read the word grid. */
async function readSheet(html: string, name: string): Promise<string[]> {
  await paper.setContent(html);
  await paper.screenshot({ path: path.join(OUT, `sheet-${name}.png`), fullPage: true });
  return paper.locator('ol.words .w').allTextContents();
}

/** Types a share the way a hurried person would: the first four letters of each word, then a space. */
async function typeWords(words: string[]) {
  // The entry box is disabled while the previous share is being checked; keys typed then would be
  // lost (as they would for a person), so wait until it takes input again.
  await page.locator('.word-input:not([disabled])').focus();
  for (const w of words) await page.keyboard.type(`${w.slice(0, 4)} `);
}

/** A call straight to the handlers, checked and answered exactly as over IPC (what a compromised page could send). */
async function ipc(method: string, ...args: unknown[]): Promise<Result<unknown>> {
  const { dispatch } = await import('../../electron/ipc.ts');
  return dispatch(handlers, method, args);
}

function writePlan(dir: string, id: string, label: string, opts: { passphrase?: boolean } = {}) {
  const plan = {
    version: 1,
    id,
    title: `E2E ceremony ${id}`,
    participants: [
      { id: 'ada', name: 'Ada Admin', role: 'administrator' },
      { id: 'wes', name: 'Wes Witness', role: 'witness', keyid: wesKeyid },
      { id: 'c1', name: 'Carol One', role: 'custodian' },
      { id: 'c2', name: 'Carl Two', role: 'custodian' },
      { id: 'c3', name: 'Cleo Three', role: 'custodian' },
    ],
    hsm: { module: hsm.module, tokenLabel: 'ceremony' },
    key: { label, algorithm: 'ec-p256', sealAfterExport: true },
    backup: { groupThreshold: 1, groups: [{ threshold: 2, custodians: ['c1', 'c2', 'c3'] }], ...(opts.passphrase ? { passphrase: true } : {}) },
    exports: pinExports(dir, [{ name: 'vault-e2e', kind: 'vault-transit', wrappingKey: 'vault.pub.pem', hashFunction: 'SHA1', type: 'ecdsa-p256' }]),
    steps: [{ id: 'room', text: 'The room is sealed and no phones are present.', ackBy: ['wes'] }],
  };
  const file = path.join(dir, `${id}.json`);
  writeFileSync(file, JSON.stringify(plan, null, 2));
  return file;
}

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-app-e2e-'));
  hsm = createSoftHsmSandbox(work);
  // SoftHSM reads its configuration when the module is first initialised, in this process.
  process.env.SOFTHSM2_CONF = hsm.confPath;
  hsm.initToken('ceremony', PIN);
  hsm.initToken('recovery', RECOVERY_PIN);
  hsm.initToken('recovery2', RECOVERY_PIN);
  // Wes's own token and co-signing key (made with pkcs11-tool); the plan registers its keyid.
  hsm.initToken('wes-card', WITNESS_PIN);
  const tool = (args: string[]) => execFileSync('pkcs11-tool', ['--module', hsm.module, '--token-label', 'wes-card', '--login', '--pin', WITNESS_PIN, ...args], { env: { ...process.env, SOFTHSM2_CONF: hsm.confPath }, stdio: 'ignore' });
  tool(['--keypairgen', '--key-type', 'EC:prime256v1', '--label', 'wes-sign', '--id', '0a']);
  tool(['--read-object', '--type', 'pubkey', '--id', '0a', '-o', path.join(work, 'wes.der')]);
  wesKeyid = createHash('sha256').update(readFileSync(path.join(work, 'wes.der'))).digest('hex');
  // Something already labelled like the root on the second recovery token: a restore must go under another label.
  execFileSync('pkcs11-tool', ['--module', hsm.module, '--token-label', 'recovery2', '--login', '--pin', RECOVERY_PIN, '--keygen', '--key-type', 'AES:32', '--label', 'e2e-root-2026', '--id', '0f0f'], {
    env: { ...process.env, SOFTHSM2_CONF: hsm.confPath },
    stdio: 'ignore',
  });
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
  writeFileSync(path.join(work, 'vault.pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
  planFile = writePlan(work, 'e2e-root-2026', 'e2e-root-2026');

  const rendererDir = await buildRenderer(path.join(work, 'renderer'));
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  page = await context.newPage();
  paper = await (await browser.newContext({ viewport: { width: 820, height: 1100 } })).newPage();
  bridge = await installBridge(page, rendererDir);
  printer = createTestPrinter();
  // Loaded after SOFTHSM2_CONF is set; the same handlers Electron's ipcMain calls.
  const { createHandlers, coreVerify } = await import('../../electron/ipc.ts');
  dialogs = createScriptedDialogs();
  // What main sees as the interfaces: one live, so the checks screen needs "we know" (recorded).
  const networkInterfaces = () => [
    { name: 'lo', up: false, internal: true, addresses: ['127.0.0.1'] },
    { name: 'eth-e2e', up: true, internal: false, addresses: ['192.0.2.10'] },
  ];
  handlers = createHandlers({ printer, emit: bridge.emit, verify: coreVerify, dialogs, modules: () => [hsm.module], networkInterfaces });
  bridge.attach(handlers);
  await page.goto(`${APP_TEST_ORIGIN}/index.html`);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  hsm?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.sequential('desktop app, end to end', () => {
  it('runs a whole ceremony by clicks and typing', async () => {
    await page.getByTestId('screen-start').waitFor();
    await screenshot('start');
    await page.getByRole('button', { name: /Run a ceremony/ }).click();

    // The plan editor checks as you type.
    await page.getByTestId('screen-plan').waitFor();
    await page.getByRole('button', { name: 'Edit plan JSON (advanced)' }).click();
    await page.getByLabel('plan.json', { exact: true }).fill('{"version": 2, "id": "X"}');
    await expect.poll(() => page.locator('.problems').textContent()).toContain('version');
    await screenshot('plan-editor');
    await page.getByRole('button', { name: 'Open an existing plan' }).click();

    // Files come from main's dialogs; the page holds handles and shows names.
    dialogs.answer(planFile, path.join(work, 'bundles'));
    await page.getByRole('button', { name: 'Choose the plan file…' }).click();
    await page.getByRole('button', { name: 'Choose the output folder…' }).click();
    await expect.poll(() => page.getByTestId('chosen-plan').textContent()).toBe(path.basename(planFile));
    await expect.poll(() => page.getByTestId('chosen-out').textContent()).toBe('bundles');
    {
      // The chosen file's name (its text, not its box) is level with its button: centres within 2 px.
      const name = await page.getByTestId('chosen-plan').evaluate((el) => {
        const range = document.createRange();
        range.selectNodeContents(el);
        const r = range.getBoundingClientRect();
        return { y: r.top, height: r.height };
      });
      const button = await page.getByRole('button', { name: 'Choose the plan file…' }).boundingBox();
      expect(Math.abs(name.y + name.height / 2 - (button!.y + button!.height / 2))).toBeLessThan(2);
    }
    await screenshot('plan');
    await page.getByRole('button', { name: 'Open plan' }).click();

    await page.getByTestId('preflight-checks').waitFor();
    await expect.poll(() => page.getByTestId('interfaces').textContent()).toContain('lo');
    await expect.poll(() => page.getByTestId('interfaces').textContent()).toContain('UP — connected');
    // Main refuses to begin with a live network nobody acknowledged, before anything is written.
    expect(await ipc('begin')).toMatchObject({ ok: false, error: { message: expect.stringMatching(/network interface up at preflight: eth-e2e.*nothing was created/) } });
    await page.locator('input[name=accept-online]').check();
    // A production ceremony cannot start until its printer passed the checks (before any key exists).
    expect(await page.getByRole('button', { name: 'Start the ceremony' }).isDisabled()).toBe(true);
    expect(await ipc('generate')).toMatchObject({ ok: false });
    await page.getByRole('button', { name: 'Check the printer' }).click();
    await expect.poll(() => page.getByTestId('printer-checks').textContent()).toContain('the e2e test printer');
    await screenshot('preflight');
    await page.getByRole('button', { name: 'Start the ceremony' }).click();

    await page.getByTestId('screen-checkin').waitFor();
    for (const name of ['Ada Admin', 'Wes Witness', 'Carol One', 'Carl Two', 'Cleo Three']) await page.getByRole('button', { name: `Check in ${name}` }).click();
    await screenshot('checkin');
    await page.getByRole('button', { name: /Everyone is here/ }).click();

    await page.getByTestId('screen-steps').waitFor();
    await screenshot('steps');
    await page.keyboard.press('Enter');

    await page.getByTestId('screen-pin').waitFor();
    await page.keyboard.type('wrong-pin-1');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('.error').textContent()).toMatch(/PIN/i);
    await screenshot('pin-wrong');
    await page.locator('input[name=pin]').fill(PIN);
    await page.keyboard.press('Enter');
    await page.getByTestId('login-checks').waitFor();
    expect(await page.locator('input[name=pin]').inputValue()).toBe('');
    await screenshot('pin-ok');
    await page.keyboard.press('Enter');

    await page.getByTestId('screen-generate').waitFor();
    await page.keyboard.press('Enter');
    await page.getByTestId('root-fingerprint').waitFor();
    await screenshot('generated');
    await page.getByRole('button', { name: 'Create the backup shares' }).click();

    for (let i = 0; i < 3; i++) {
      await page.getByTestId('screen-custodian').waitFor();
      await expect.poll(() => page.locator('h1').textContent()).toContain(`Share ${i + 1} of 3`);
      if (i === 0) await screenshot('custodian-print');
      if (i === 1) {
        // A confirmed share is not printed again without a reason recorded first, and only to a printer the machine lists.
        expect(await ipc('printSheet', 0, { printer: 'test-printer' })).toEqual({
          ok: false,
          error: { code: 'operation', message: "Carol One's share is already confirmed; a reprint needs an exception recorded first (give the reason for the reprint)" },
        });
        expect(await ipc('printSheet', 1, { printer: 'lp-elsewhere' })).toMatchObject({ ok: false, error: { code: 'usage', message: expect.stringContaining("printer lp-elsewhere is not one of this machine's printers (test-printer)") } });
        expect(printer.sheets).toHaveLength(1);
        expect(await ipc('printSheet', 0, { printer: 'test-printer' }, 'The first sheet was torn.')).toMatchObject({ ok: true });
        expect(printer.sheets).toHaveLength(2);
      }
      await page.getByRole('button', { name: /sheet$/ }).click();
      await page.getByTestId('confirm-words').waitFor();
      expect(printer.sheets).toHaveLength(i === 0 ? 1 : i + 2);
      const words = await readSheet(printer.sheets.at(-1)!.html, `c${i + 1}`);
      expect(words).toHaveLength(33);
      mnemonics.push(words.join(' '));
      if (i === 1) {
        // A custodian who mixes up sheets is told, and types again.
        await typeWords(mnemonics[0].split(' '));
        await expect.poll(() => page.locator('.error').textContent()).toContain('do not match');
        await screenshot('custodian-wrong-words');
      }
      if (i === 0) {
        // One word mistyped (a real word of the list, so only the checksum can tell): the screen
        // names its position, keeps the other 32, and only that word is typed again.
        const typo = [...words];
        typo[7] = words[7] === 'academic' ? 'acid' : 'academic';
        await typeWords(typo.slice(0, 5));
        await screenshot('custodian-typing');
        await typeWords(typo.slice(5));
        await expect.poll(() => page.locator('.error').textContent()).toContain('Word 8 looks wrong');
        expect(await page.locator('.word-grid li').count()).toBe(33);
        expect(await page.locator('.word-grid li.suspect').textContent()).toBe('8 ?');
        expect(await page.locator('.words .label').textContent()).toContain('word 8 of 33 (type it again)');
        await screenshot('custodian-word-8-wrong');
        await typeWords([words[7]]);
      } else await typeWords(words);
      await page.getByTestId('share-confirmed').waitFor();
      // The words typed are shown only while typing: gone once the share is confirmed.
      expect(await page.locator('.word-grid li').count()).toBe(0);
      if (i === 0) await screenshot('custodian-confirmed');
      await page.keyboard.press('Enter');
    }

    await page.getByTestId('screen-test-recovery').waitFor();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('recovery-result').textContent()).toContain('The backup works');
    await screenshot('test-recovery');
    await page.keyboard.press('Enter');

    await page.getByTestId('screen-exports').waitFor();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('exports-done').textContent()).toContain('vault-e2e');
    await screenshot('exports');
    await page.keyboard.press('Enter');

    await page.getByTestId('screen-finish').waitFor();
    expect(await page.getByRole('button', { name: 'Stop ceremony…' }).count()).toBe(1);
    await page.keyboard.press('Enter');

    // The co-signing screen: the statement digest in hex and PGP words, then Wes co-signs with his own token.
    await page.getByTestId('screen-cosign').waitFor();
    // ceremony.completed is written: nothing left to stop; nobody has co-signed yet.
    expect(await page.getByRole('button', { name: 'Stop ceremony…' }).count()).toBe(0);
    expect(await page.getByTestId('cosign-continue').textContent()).toBe('Finish without co-signatures');
    const signedDir = path.join(work, 'bundles', 'e2e-root-2026');
    const digest = statementDigest(JSON.parse(readFileSync(path.join(signedDir, 'transcript.dsse.json'), 'utf8')));
    expect((await page.getByTestId('statement-hex').textContent())!.replace(/\s/g, '')).toBe(digest);
    expect(await page.getByTestId('statement-words').textContent()).toBe(pgpWordsOfHex(digest).join(' '));
    await screenshot('cosign');
    await page.locator('select[name=participant]').selectOption('wes');
    await page.getByRole('button', { name: 'Find tokens' }).click();
    const wesSerial = await page.locator('select[name=cosign-token] option', { hasText: /^wes-card \(/ }).getAttribute('value');
    await page.locator('select[name=cosign-token]').selectOption(wesSerial!);
    await page.locator('input[name=cosign-pin]').fill(WITNESS_PIN);
    await page.getByRole('button', { name: 'Sign as Wes Witness' }).click();
    await expect.poll(() => page.getByTestId('cosigner-wes').textContent()).toContain(`✓ Wes Witness (witness) key ${wesKeyid}`);
    expect(await page.locator('input[name=cosign-pin]').inputValue()).toBe('');
    expect(await page.getByTestId('cosign-continue').textContent()).toBe('Finish without more co-signatures');
    await screenshot('cosign-wes');
    // Ada tries with Wes's card: that key has signed already; refused on the screen, nothing written.
    await page.getByRole('button', { name: 'Find tokens' }).click();
    await page.locator('select[name=cosign-token]').selectOption(wesSerial!);
    await page.locator('input[name=cosign-pin]').fill(WITNESS_PIN);
    await page.getByRole('button', { name: 'Sign as Ada Admin' }).click();
    await expect.poll(() => page.locator('.error').textContent()).toContain('has already co-signed this statement');
    await screenshot('cosign-refused');
    const envelope = JSON.parse(readFileSync(path.join(signedDir, 'transcript.dsse.json'), 'utf8'));
    expect(envelope.signatures.map((x: { keyid: string }) => x.keyid).at(-1)).toBe(wesKeyid);
    expect(envelope.signatures).toHaveLength(3);
    expect(JSON.parse(readFileSync(path.join(signedDir, 'cosignatures', `${wesKeyid}.json`), 'utf8'))).toMatchObject({ participant: 'wes', role: 'witness' });
    // The attestation goes to the printer, never into the bundle.
    await page.getByRole('button', { name: 'Print the attestation…' }).click();
    await page.getByRole('button', { name: /^Print on / }).click();
    await page.getByTestId('attestation-printed').waitFor();
    const attestation = printer.sheets.at(-1)!.html;
    expect(attestation).toContain(`data-statement="${digest}"`);
    expect(attestation).toContain('co-signer, witness (wes)');
    await page.getByTestId('cosign-continue').click();
    await page.getByTestId('screen-summary').waitFor();
    expect(await page.getByTestId('statement-words').textContent()).toBe(pgpWordsOfHex(digest).join(' '));
    bundleDir = (await page.getByTestId('bundle-dir').textContent()) ?? '';
    {
      // One account of the transcript: the summary's count and chain head agree with the file and
      // with the completion event; the live panel is numbered by seq.
      const lines = readFileSync(path.join(bundleDir, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const completed = lines.at(-1);
      expect(completed.type).toBe('ceremony.completed');
      expect(await page.getByTestId('summary-events').textContent()).toContain(`holds ${lines.length} events (seq 0 to ${lines.length - 1})`);
      expect(completed.data.eventCount).toBe(lines.length - 1);
      const newest = page.getByTestId('live-log').locator('li').first();
      expect(await newest.locator('.seq').textContent()).toBe(`seq ${completed.seq}`);
      expect(await newest.textContent()).toContain(`Ceremony completed after ${lines.length - 1} events`);
    }
    expect(bundleDir).toBe(path.join(work, 'bundles', 'e2e-root-2026'));
    {
      // The facts' values keep the width: a long "Signed by (...)" label wraps in its own column
      // instead of squeezing the digest and its 32 words into a strip, one word a line.
      const labels = await page.getByTestId('summary-facts').locator('dt').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().width));
      const words = await page.getByTestId('statement-words').boundingBox();
      const facts = await page.getByTestId('summary-facts').boundingBox();
      expect(Math.max(...labels)).toBeLessThan(facts!.width * 0.4);
      expect(words!.width).toBeGreaterThan(facts!.width * 0.5);
    }
    {
      // A live-log line that wraps continues under its own summary, not under "seq NN".
      const starts = await page.getByTestId('live-log').locator('li').evaluateAll((lis) =>
        lis.map((li) => {
          const range = document.createRange();
          range.setStartAfter(li.querySelector('.time')!);
          range.setEnd(li, li.childNodes.length);
          const rects = Array.from(range.getClientRects()).filter((r) => r.width > 0);
          return { lines: new Set(rects.map((r) => Math.round(r.top))).size, lefts: new Set(rects.map((r) => Math.round(r.left))).size };
        }));
      expect(starts.some((s) => s.lines > 1), 'some summary wraps in the 1100 px window').toBe(true);
      for (const s of starts) expect(s.lefts).toBe(1);
    }
    await screenshot('summary');

    // The bundle passes the auditor's command-line check.
    const out = execFileSync(process.execPath, ['bin/keyrite.mjs', 'verify', bundleDir, '--json'], { encoding: 'utf8', env: { ...process.env, SOFTHSM2_CONF: hsm.confPath } });
    expect(JSON.parse(out)).toMatchObject({ valid: true });
    const transcript = readFileSync(path.join(bundleDir, 'transcript.jsonl'), 'utf8');
    expect(transcript).toContain('"frontEnd":"desktop"');
    // Printed on the queue (its name, not a display name), after its checks were recorded.
    const checkedAt = transcript.indexOf('"type":"printer.checked"');
    expect(checkedAt).toBeGreaterThan(0);
    expect(transcript.indexOf('"kind":"printer"')).toBeGreaterThan(checkedAt);
    expect(transcript).toContain('"output":"test-printer"');
    const events = transcript.trim().split('\n').map((l) => JSON.parse(l) as { type: string; actor: string; data: Record<string, unknown> });
    // The acknowledged live network, recorded as the CLI records --ack-network: an exception at step "network".
    expect(events.filter((e) => e.type === 'exception.recorded' && e.data.step === 'network')).toEqual([
      expect.objectContaining({ actor: 'ada', data: { step: 'network', text: "network interface up at preflight: eth-e2e (192.0.2.10); a ceremony machine should be offline; acknowledged by ada on the app's checks screen" } }),
    ]);
    const reprint = events.findIndex((e) => e.type === 'exception.recorded' && String(e.data.text).startsWith('reprint'));
    expect(events[reprint].data.text).toBe("reprint of Carol One's share (group 1, member 1): The first sheet was torn.");
    expect(events[reprint + 1]).toMatchObject({ type: 'share.printed', data: { custodian: 'c1' } });
  });

  it('verifies that bundle on the Verify screen', async () => {
    await page.reload();
    await page.getByRole('button', { name: /Verify a bundle/ }).click();
    dialogs.answer(bundleDir);
    await page.getByRole('button', { name: 'Choose the bundle folder…' }).click();
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await expect.poll(() => page.getByTestId('verify-verdict').textContent()).toContain('The bundle is valid');
    expect(await page.getByTestId('timeline').locator('li').count()).toBeGreaterThan(20);
    await expect.poll(() => page.getByTestId('timeline').textContent()).toContain('Share of group 1, member 2 (c2) confirmed');
    // 64-hex fingerprints and digests wrap: nothing pushes the 1100 px window sideways.
    expect(await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth])).toEqual([1100, 1100]);
    // Events are numbered by their transcript seq, as verify and status quote them.
    expect(await page.getByTestId('timeline').locator('li .seq').first().textContent()).toBe('seq 0');
    // Every check's mark sits in one column, however long its detail.
    const marks = await page.locator('.checklist .mark').evaluateAll((els) => els.map((e) => { const r = e.getBoundingClientRect(); return `${r.left}/${r.width}`; }));
    expect(marks.length).toBeGreaterThan(20);
    expect(new Set(marks).size).toBe(1);
    await screenshot('verify');
  });

  it('recovers the root key into a second token from two of the printed shares', async () => {
    await page.reload();
    await page.getByRole('button', { name: /Recover from shares/ }).click();
    dialogs.answer(bundleDir);
    await page.getByRole('button', { name: 'Choose the bundle folder…' }).click();
    // The module comes from the list main discovered (here: the SoftHSM library).
    await expect.poll(() => page.locator('select[name=module] option').allTextContents()).toEqual([path.basename(hsm.module)]);
    await page.getByRole('button', { name: 'Find tokens' }).click();
    // Tokens are chosen by serial number (labels can repeat).
    const serial = await page.locator('select[name=token] option', { hasText: /^recovery \(/ }).getAttribute('value');
    expect(serial).toMatch(/^[0-9a-f]+$/);
    await page.locator('select[name=token]').selectOption(serial!);
    await screenshot('recover-start');
    await page.getByRole('button', { name: 'Start entering shares' }).click();

    await page.getByTestId('recover-words').waitFor();
    await typeWords(mnemonics[2].split(' '));
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('group-progress').textContent()).toContain('Group 1: 1 of 2');
    await screenshot('recover-one-share');
    // The same share again is refused with a reason.
    await typeWords(mnemonics[2].split(' '));
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('.error').textContent()).toContain('duplicate');
    await screenshot('recover-duplicate');
    await typeWords(mnemonics[0].split(' '));
    await page.keyboard.press('Enter');
    await page.locator('input[name=pin]').waitFor();
    await screenshot('recover-pin');
    await page.locator('input[name=pin]').fill(RECOVERY_PIN);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('recover-result').textContent()).toContain('yes');
    await screenshot('recover-done');
    // The recovery wrote its own signed record, which verifies with the bundle.
    expect(await page.getByTestId('recover-result').textContent()).toContain(path.join(bundleDir, 'recoveries'));
    const out = execFileSync(process.execPath, ['bin/keyrite.mjs', 'verify', bundleDir, '--json'], { encoding: 'utf8', env: { ...process.env, SOFTHSM2_CONF: hsm.confPath } });
    const report = JSON.parse(out) as { valid: boolean; checks: { name: string }[] };
    expect(report.valid).toBe(true);
  });

  it('restores under another label when the label is taken, and keeps the session after a wrong PIN', async () => {
    const startOn = async (tokenLabel: string, label: string) => {
      await page.reload();
      await page.getByRole('button', { name: /Recover from shares/ }).click();
      dialogs.answer(bundleDir);
      await page.getByRole('button', { name: 'Choose the bundle folder…' }).click();
      await expect.poll(() => page.locator('select[name=module] option').count()).toBe(1);
      await page.getByRole('button', { name: 'Find tokens' }).click();
      const serial = await page.locator('select[name=token] option', { hasText: new RegExp(`^${tokenLabel} \\(`) }).getAttribute('value');
      await page.locator('select[name=token]').selectOption(serial!);
      await page.locator('input[name=label]').fill(label);
      await page.getByRole('button', { name: 'Start entering shares' }).click();
      await page.getByTestId('recover-words').waitFor();
      for (const m of [mnemonics[1], mnemonics[2]]) {
        await typeWords(m.split(' '));
        await page.keyboard.press('Enter');
      }
      await page.locator('input[name=pin]').waitFor();
    };
    const restore = async (pin: string) => {
      await page.locator('input[name=pin]').fill(pin);
      await page.keyboard.press('Enter');
    };

    await startOn('recovery2', '');
    await restore('wrong-pin-2');
    await expect.poll(() => page.locator('.error').textContent()).toMatch(/PIN/i);
    // Same session: the shares are still there, and the next refusal is about the label, naming --label.
    await restore(RECOVERY_PIN);
    await expect.poll(() => page.locator('.error').textContent()).toContain("already has 1 object labelled 'e2e-root-2026'");
    await screenshot('recover-label-taken');

    await startOn('recovery2', 'e2e-root-2026-restored');
    await expect.poll(() => page.locator('.lead').textContent()).toContain('restored as “e2e-root-2026-restored”');
    await restore(RECOVERY_PIN);
    await expect.poll(() => page.getByTestId('recover-result').textContent()).toContain('yes');
    expect(await page.getByTestId('recover-result').textContent()).toContain('e2e-root-2026-restored');
    await screenshot('recover-other-label');
  });

  it('closes a recovery after a failure the team cannot retry', async () => {
    // A path from the page is refused before anything is opened: only handles from main's choosers.
    expect(await ipc('recoverStart', { bundle: bundleDir, module: hsm.module, tokenLabel: 'recovery' })).toMatchObject({ ok: false, error: { code: 'usage', message: expect.stringMatching(/^recoverStart: invalid arguments \(0\.bundle: a handle from one of the app's choosers; 0\.module: a handle/) } });
    dialogs.answer(bundleDir);
    const bundle = ((await ipc('chooseFolder', 'bundle')) as { value: { handle: string } }).value.handle;
    const module = ((await ipc('listModules')) as { value: { handle: string }[] }).value[0].handle;
    expect(await ipc('recoverStart', { bundle, module, tokenLabel: 'recovery', label: 'e2e-root-again' })).toMatchObject({ ok: true, value: { targetLabel: 'e2e-root-again' } });
    for (const m of [mnemonics[0], mnemonics[1]]) expect((await ipc('recoverAddShare', m)).ok).toBe(true);
    // The key is on that token already (same CKA_ID): final, so the session is closed and its module released.
    const failed = await ipc('recoverRestore', RECOVERY_PIN);
    expect(failed).toMatchObject({ ok: false, error: { message: expect.stringMatching(/root's CKA_ID .*; this recovery is closed: start the recovery again$/) } });
    expect(await ipc('recoverRestore', RECOVERY_PIN)).toMatchObject({ ok: false, error: { message: 'no recovery is under way; choose a bundle and a token first' } });
  });

  it('asks for the backup passphrase twice, then stops the ceremony and shows the command that removes its keys', async () => {
    const file = writePlan(work, 'e2e-stopped-2026', 'e2e-stopped-2026', { passphrase: true });
    await page.reload();
    await page.getByRole('button', { name: /Run a ceremony/ }).click();
    dialogs.answer(file, path.join(work, 'bundles'));
    await page.getByRole('button', { name: 'Choose the plan file…' }).click();
    await page.getByRole('button', { name: 'Choose the output folder…' }).click();
    await expect.poll(() => page.getByTestId('chosen-out').textContent()).toBe('bundles');
    await page.getByRole('button', { name: 'Open plan' }).click();
    await page.getByTestId('preflight-checks').waitFor();
    await page.locator('input[name=accept-online]').check();
    await page.getByRole('button', { name: 'Check the printer' }).click();
    await page.getByTestId('printer-checks').waitFor();
    await page.getByRole('button', { name: 'Start the ceremony' }).click();
    await page.getByTestId('screen-checkin').waitFor();
    for (const name of ['Ada Admin', 'Wes Witness', 'Carol One', 'Carl Two', 'Cleo Three']) await page.getByRole('button', { name: `Check in ${name}` }).click();
    await page.getByRole('button', { name: /Everyone is here/ }).click();
    await page.getByTestId('screen-steps').waitFor();
    await page.keyboard.press('Enter');
    await page.getByTestId('screen-pin').waitFor();
    await page.locator('input[name=pin]').fill(PIN);
    await page.keyboard.press('Enter');
    await page.getByTestId('login-checks').waitFor();
    await page.keyboard.press('Enter');
    await page.getByTestId('screen-generate').waitFor();
    await page.keyboard.press('Enter');
    await page.getByTestId('root-fingerprint').waitFor();

    // Two different passphrases: refused on the screen, both boxes emptied, nothing sent to main.
    const from = bridge.messages.length;
    const backupCalls = () => bridge.messages.slice(from).filter((m) => m.direction === 'to-main' && m.channel === 'backup').map((m) => m.payload);
    await page.locator('input[name=passphrase]').fill(PASSPHRASE);
    await page.locator('input[name=passphrase-repeat]').fill(PASSPHRASE_TYPO);
    await page.getByRole('button', { name: 'Create the backup shares' }).click();
    await expect.poll(() => page.getByTestId('passphrase-mismatch').textContent()).toContain('The two passphrases differ');
    expect(await page.locator('input[name=passphrase]').inputValue()).toBe('');
    expect(await page.locator('input[name=passphrase-repeat]').inputValue()).toBe('');
    expect(backupCalls()).toEqual([]);
    await screenshot('passphrase-mismatch');
    await page.locator('input[name=passphrase]').fill(PASSPHRASE);
    await page.locator('input[name=passphrase-repeat]').fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Create the backup shares' }).click();
    await page.getByTestId('screen-custodian').waitFor();
    expect(backupCalls()).toEqual([JSON.stringify([PASSPHRASE])]);

    await page.getByRole('button', { name: 'Stop ceremony…' }).click();
    await page.keyboard.type('The witness was called away.');
    await screenshot('stop-dialog');
    await page.getByRole('button', { name: 'Stop the ceremony' }).click();
    await page.getByTestId('screen-stopped').waitFor();
    // The keys stay on the token until `keyrite ceremony abort` removes them: the screen says so, with the exact command.
    const stoppedBundle = path.join(work, 'bundles', 'e2e-stopped-2026');
    await expect.poll(() => page.getByTestId('stop-advice').textContent()).toContain("to remove this ceremony's keys from token 'ceremony'");
    expect(await page.getByTestId('stop-command').textContent()).toBe(`keyrite ceremony abort ${stoppedBundle}`);
    await screenshot('stopped');
    const lines = readFileSync(path.join(stoppedBundle, 'transcript.jsonl'), 'utf8').trim().split('\n');
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({
      type: 'ceremony.aborted',
      data: { reason: 'The witness was called away.', advice: `run \`keyrite ceremony abort ${stoppedBundle}\` to remove this ceremony's keys from token 'ceremony'` },
    });
  });

  it('never let a PIN, share words or the backup key reach the renderer, and the page made no other request', async () => {
    await bridge.flush();
    const toRenderer = bridge.messages.filter((m) => m.direction === 'to-renderer');
    const toMain = bridge.messages.filter((m) => m.direction === 'to-main');
    expect(mnemonics).toHaveLength(3);
    // The recorder sees the traffic: the PIN and typed words did go the other way.
    expect(toMain.some((m) => m.channel === 'login' && m.payload.includes(PIN))).toBe(true);
    expect(toMain.some((m) => m.channel === 'confirmShare')).toBe(true);

    const { combineMnemonics } = await import('../../electron/core/shares/index.ts');
    const kek = Buffer.from(combineMnemonics([mnemonics[0], mnemonics[1]]));
    expect(toMain.some((m) => m.channel === 'cosign' && m.payload.includes(WITNESS_PIN))).toBe(true);
    const forbidden = [PIN, RECOVERY_PIN, PASSPHRASE, PASSPHRASE_TYPO, WITNESS_PIN, 'wrong-pin-1', 'wrong-pin-2', kek.toString('hex'), kek.toString('base64'), 'PRIVATE KEY'];
    for (const m of mnemonics) {
      const w = m.split(' ');
      for (let i = 0; i + 3 <= w.length; i++) {
        forbidden.push(w.slice(i, i + 3).join(' '));
        if (i % 8 === 0) forbidden.push(JSON.stringify(w.slice(i, i + 3)).slice(1, -1));
      }
    }
    for (const msg of toRenderer) {
      // The public word list is the one answer allowed to hold share words, one by one in alphabetical order.
      const checks = msg.channel === 'wordList' ? forbidden.filter((f) => !f.startsWith('"')) : forbidden;
      for (const f of checks) expect(msg.payload.includes(f), `${msg.channel} carried a secret`).toBe(false);
    }
    expect(toRenderer.length).toBeGreaterThan(50);
    expect(bridge.foreignRequests).toEqual([]);
    writeFileSync(path.join(OUT, 'bridge-messages.json'), JSON.stringify({ count: bridge.messages.length, channels: [...new Set(bridge.messages.map((m) => `${m.direction}:${m.channel}`))] }, null, 2));
  });
  it('a screen that fails to render shows a plain message naming the bundle, not a blank window', async () => {
    const file = writePlan(work, 'e2e-crash-2026', 'e2e-crash-2026');
    // main answers login with a malformed value (a list expected): the PIN screen's render throws.
    bridge.attach({ ...handlers, login: async (pin) => {
      const r = await handlers.login(pin);
      return r.ok ? { ok: true, value: { checks: 'not a list' as never } } : r;
    } });
    try {
      await page.reload();
      await page.getByRole('button', { name: /Run a ceremony/ }).click();
      dialogs.answer(file, path.join(work, 'bundles'));
      await page.getByRole('button', { name: 'Choose the plan file…' }).click();
      await page.getByRole('button', { name: 'Choose the output folder…' }).click();
      await expect.poll(() => page.getByTestId('chosen-out').textContent()).toBe('bundles');
      await page.getByRole('button', { name: 'Open plan' }).click();
      await page.getByTestId('preflight-checks').waitFor();
      await page.locator('input[name=accept-online]').check();
      await page.getByRole('button', { name: 'Check the printer' }).click();
      await page.getByTestId('printer-checks').waitFor();
      await page.getByRole('button', { name: 'Start the ceremony' }).click();
      await page.getByTestId('screen-checkin').waitFor();
      for (const name of ['Ada Admin', 'Wes Witness', 'Carol One', 'Carl Two', 'Cleo Three']) await page.getByRole('button', { name: `Check in ${name}` }).click();
      await page.getByRole('button', { name: /Everyone is here/ }).click();
      await page.getByTestId('screen-steps').waitFor();
      await page.keyboard.press('Enter');
      await page.getByTestId('screen-pin').waitFor();
      await page.keyboard.type(PIN);
      await page.keyboard.press('Enter');
      await page.getByTestId('screen-error').waitFor();
      const bundle = path.join(work, 'bundles', 'e2e-crash-2026');
      expect(await page.getByTestId('screen-error-message').textContent()).toMatch(
        new RegExp(`^Something went wrong on this screen: .*map is not a function; the ceremony record is safe in ${bundle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}; restart the app\\.$`),
      );
      // The app's frame is still there, and the record the message points to exists.
      expect(await page.locator('.topbar').textContent()).toContain('Keyrite');
      expect(readFileSync(path.join(bundle, 'transcript.jsonl'), 'utf8')).toContain('"type":"hsm.logged-in"');
      await screenshot('screen-error');
    } finally {
      bridge.attach(handlers);
    }
  });
});
