/**
 * The desktop app, driven like a person would: the production renderer build in headless Chromium,
 * window.keyrite bridged to the real ipc.ts handlers, backed by a SoftHSM token. A whole ceremony by
 * clicks and typing (each custodian's words read off the "printed" sheet and typed back), then the
 * bundle verified on the Verify screen and by `keyrite verify`, then a recovery into a second token,
 * then a ceremony stopped with a reason. Every bridge message is recorded, and the test proves that no
 * PIN, share words or backup key ever reached the renderer. Screenshots go to test-output/app/.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSoftHsmSandbox, type SoftHsmSandbox } from '../../electron/core/hsm/softhsm.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { APP_TEST_ORIGIN, buildRenderer, createTestPrinter, installBridge, type Bridge, type TestPrinter } from '../helpers/bridge.ts';

const OUT = path.resolve('test-output/app');
const PIN = 'Pin-7391-xq';
const RECOVERY_PIN = 'Rec-2648-zw';

let work: string;
let hsm: SoftHsmSandbox;
let browser: Browser;
let page: Page;
let paper: Page;
let bridge: Bridge;
let printer: TestPrinter;
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
  for (const w of words) await page.keyboard.type(`${w.slice(0, 4)} `);
}

function writePlan(dir: string, id: string, label: string) {
  const plan = {
    version: 1,
    id,
    title: `E2E ceremony ${id}`,
    participants: [
      { id: 'ada', name: 'Ada Admin', role: 'administrator' },
      { id: 'wes', name: 'Wes Witness', role: 'witness' },
      { id: 'c1', name: 'Carol One', role: 'custodian' },
      { id: 'c2', name: 'Carl Two', role: 'custodian' },
      { id: 'c3', name: 'Cleo Three', role: 'custodian' },
    ],
    hsm: { module: hsm.module, tokenLabel: 'ceremony' },
    key: { label, algorithm: 'ec-p256', sealAfterExport: true },
    backup: { groupThreshold: 1, groups: [{ threshold: 2, custodians: ['c1', 'c2', 'c3'] }] },
    exports: [{ name: 'vault-e2e', kind: 'vault-transit', wrappingKey: 'vault.pub.pem', hashFunction: 'SHA1', type: 'ecdsa-p256' }],
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
  bridge.attach(createHandlers({ printer, emit: bridge.emit, verify: coreVerify }));
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

    await page.locator('input[name=plan]').fill(planFile);
    await page.locator('input[name=out]').fill(path.join(work, 'bundles'));
    await screenshot('plan');
    await page.keyboard.press('Enter');

    await page.getByTestId('preflight-checks').waitFor();
    await expect.poll(() => page.getByTestId('interfaces').textContent()).toContain('lo');
    const online = page.locator('input[name=accept-online]');
    if (await online.count()) await online.check();
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
      await page.getByRole('button', { name: /sheet$/ }).click();
      await page.getByTestId('confirm-words').waitFor();
      expect(printer.sheets).toHaveLength(i + 1);
      const words = await readSheet(printer.sheets[i].html, `c${i + 1}`);
      expect(words).toHaveLength(33);
      mnemonics.push(words.join(' '));
      if (i === 1) {
        // A custodian who mixes up sheets is told, and types again.
        await typeWords(mnemonics[0].split(' '));
        await expect.poll(() => page.locator('.error').textContent()).toContain('do not match');
        await screenshot('custodian-wrong-words');
      }
      if (i === 0) {
        await typeWords(words.slice(0, 5));
        await screenshot('custodian-typing');
        await typeWords(words.slice(5));
      } else await typeWords(words);
      await page.getByTestId('share-confirmed').waitFor();
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
    await page.keyboard.press('Enter');
    await page.getByTestId('screen-summary').waitFor();
    bundleDir = (await page.getByTestId('bundle-dir').textContent()) ?? '';
    expect(bundleDir).toBe(path.join(work, 'bundles', 'e2e-root-2026'));
    await screenshot('summary');

    // The bundle passes the auditor's command-line check.
    const out = execFileSync(process.execPath, ['bin/keyrite.mjs', 'verify', bundleDir, '--json'], { encoding: 'utf8', env: { ...process.env, SOFTHSM2_CONF: hsm.confPath } });
    expect(JSON.parse(out)).toMatchObject({ valid: true });
    const transcript = readFileSync(path.join(bundleDir, 'transcript.jsonl'), 'utf8');
    expect(transcript).toContain('"frontEnd":"desktop"');
    expect(transcript).toContain('Test printer (e2e paper tray)');
  });

  it('verifies that bundle on the Verify screen', async () => {
    await page.reload();
    await page.getByRole('button', { name: /Verify a bundle/ }).click();
    await page.locator('input[name=bundle]').fill(bundleDir);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('verify-verdict').textContent()).toContain('The bundle is valid');
    expect(await page.getByTestId('timeline').locator('li').count()).toBeGreaterThan(20);
    await expect.poll(() => page.getByTestId('timeline').textContent()).toContain('Share of group 1, member 2 (c2) confirmed');
    await screenshot('verify');
  });

  it('recovers the root key into a second token from two of the printed shares', async () => {
    await page.reload();
    await page.getByRole('button', { name: /Recover from shares/ }).click();
    await page.locator('input[name=bundle]').fill(bundleDir);
    await page.locator('input[name=module]').fill(hsm.module);
    await page.getByRole('button', { name: 'Find tokens' }).click();
    await page.locator('select[name=token]').selectOption('recovery');
    await screenshot('recover-start');
    await page.getByRole('button', { name: 'Start entering shares' }).click();

    await page.getByTestId('recover-words').waitFor();
    await page.locator('.word-input').focus();
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

  it('stops a second ceremony with a reason that goes into the transcript', async () => {
    const file = writePlan(work, 'e2e-stopped-2026', 'e2e-stopped-2026');
    await page.reload();
    await page.getByRole('button', { name: /Run a ceremony/ }).click();
    await page.locator('input[name=plan]').fill(file);
    await page.locator('input[name=out]').fill(path.join(work, 'bundles'));
    await page.keyboard.press('Enter');
    await page.getByTestId('preflight-checks').waitFor();
    const online = page.locator('input[name=accept-online]');
    if (await online.count()) await online.check();
    await page.getByRole('button', { name: 'Start the ceremony' }).click();
    await page.getByTestId('screen-checkin').waitFor();
    await page.getByRole('button', { name: 'Stop ceremony…' }).click();
    await page.keyboard.type('The witness was called away.');
    await screenshot('stop-dialog');
    await page.getByRole('button', { name: 'Stop the ceremony' }).click();
    await page.getByTestId('screen-stopped').waitFor();
    await screenshot('stopped');
    const lines = readFileSync(path.join(work, 'bundles', 'e2e-stopped-2026', 'transcript.jsonl'), 'utf8').trim().split('\n');
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ type: 'ceremony.aborted', data: { reason: 'The witness was called away.' } });
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
    const forbidden = [PIN, RECOVERY_PIN, 'wrong-pin-1', kek.toString('hex'), kek.toString('base64'), 'PRIVATE KEY'];
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
});
