/**
 * "Write a new plan" in the desktop app, filled in like an administrator would: the production
 * renderer in headless Chromium, window.keyrite bridged to the real ipc.ts handlers, a SoftHSM token.
 * A 2-of-3 plan is typed in by keyboard and clicks; a bad threshold is flagged at its field as you
 * type and the flag goes when it is fixed; an existing file is never overwritten; the saved plan.json
 * passes `keyrite plan check` and the app moves on to the checks. Screenshots: test-output/app/plan-form-*.png.
 */
import { execFileSync } from 'node:child_process';
import { sha256File } from '../helpers/plan-pins.ts';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_ALGORITHMS, AZURE_ALGORITHMS, checkPlanObject, EXPORT_KINDS as PLAN_EXPORT_KINDS, GCP_ALGORITHMS, planSchema, VAULT_HASHES as PLAN_VAULT_HASHES } from '../../electron/core/ceremony/plan.ts';
import { createSoftHsmSandbox, type SoftHsmSandbox } from '../../electron/core/hsm/softhsm.ts';
import {
  anchorOf,
  draftToPlan,
  emptyDraft,
  EXPORT_ALGORITHMS,
  EXPORT_KINDS,
  fieldPaths,
  newExport,
  ROLES,
  VAULT_HASHES,
  type ExportKind,
} from '../../renderer/screens/ceremony/PlanFormModel.ts';
import { APP_TEST_ORIGIN, buildRenderer, createScriptedDialogs, createTestPrinter, installBridge, type Bridge } from '../helpers/bridge.ts';
import { launchChromium } from '../helpers/chromium.ts';

const OUT = path.resolve('test-output/app');
const PIN = 'Pin-5120-fm';

let work: string;
let hsm: SoftHsmSandbox;
let browser: Browser;
let page: Page;
let bridge: Bridge;
const dialogs = createScriptedDialogs();

const shot = (name: string) => page.screenshot({ path: path.join(OUT, `plan-form-${name}.png`), fullPage: true });
const field = (id: string) => page.locator(`#pf-${id}`);
const problemsOf = (id: string) => page.locator(`#pf-${id}-problems`);

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-plan-form-'));
  hsm = createSoftHsmSandbox(work);
  process.env.SOFTHSM2_CONF = hsm.confPath;
  hsm.initToken('ceremony', PIN);
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
  writeFileSync(path.join(work, 'vault.pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));

  const rendererDir = await buildRenderer(path.join(work, 'renderer'));
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
  bridge = await installBridge(page, rendererDir);
  const { createHandlers, coreVerify } = await import('../../electron/ipc.ts');
  bridge.attach(createHandlers({ printer: createTestPrinter(), emit: bridge.emit, verify: coreVerify, dialogs }));
  await page.goto(`${APP_TEST_ORIGIN}/index.html`);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  hsm?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('plan form model', () => {
  it('offers exactly the choices the plan schema accepts', () => {
    expect([...EXPORT_KINDS]).toEqual([...PLAN_EXPORT_KINDS]);
    expect(EXPORT_ALGORITHMS['aws-kms']).toEqual([...AWS_ALGORITHMS]);
    expect(EXPORT_ALGORITHMS['gcp-kms']).toEqual([...GCP_ALGORITHMS]);
    expect(EXPORT_ALGORITHMS['azure-byok']).toEqual([...AZURE_ALGORITHMS]);
    expect([...VAULT_HASHES]).toEqual([...PLAN_VAULT_HASHES]);
    expect([...ROLES]).toEqual(planSchema.shape.participants.element.shape.role.options);
  });

  it('puts every problem of an unfinished plan at a field of the form', () => {
    const d = emptyDraft();
    d.exports = EXPORT_KINDS.map((k: ExportKind) => newExport(k));
    const { problems } = checkPlanObject(draftToPlan(d), work);
    expect(problems.length).toBeGreaterThan(5);
    const known = fieldPaths(d);
    for (const p of problems) expect(anchorOf(p.path, known), p.path).not.toBe('');
  });

  it('writes the slot and the module parameters (C_Initialize) into the plan, and shows their problems at their fields', () => {
    const d = emptyDraft();
    d.hsm = { module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'ceremony', tokenSerial: '0123', slot: '3', initArgs: "configdir='sql:/x'" };
    expect(draftToPlan(d).hsm).toEqual({ module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'ceremony', tokenSerial: '0123', slot: 3, initArgs: "configdir='sql:/x'" });
    expect(checkPlanObject(draftToPlan(d), work).problems.filter((p) => p.path.startsWith('hsm'))).toEqual([]);
    d.hsm.slot = '-1';
    const bad = checkPlanObject(draftToPlan(d), work).problems.filter((p) => p.path.startsWith('hsm'));
    expect(bad.map((p) => anchorOf(p.path, fieldPaths(d)))).toEqual(['hsm.slot']);
    d.hsm.slot = '';
    d.hsm.initArgs = '';
    expect(draftToPlan(d).hsm).toEqual({ module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'ceremony', tokenSerial: '0123' });
  });
});

describe.sequential('writing a new plan in the app', () => {
  it('fills in a 2-of-3 plan, flags a bad threshold as you type, saves it and goes on to the checks', async () => {
    await page.getByRole('button', { name: /Run a ceremony/ }).click();
    await page.getByRole('button', { name: 'Write a new plan' }).click();
    await page.getByTestId('plan-form').waitFor();
    // A new form is checked at once; "still empty" waits until a field is visited, other problems show.
    await expect.poll(() => page.getByTestId('plan-form-summary').textContent()).toMatch(/\d+ problems to fix/);
    expect(await problemsOf('id').count()).toBe(0);
    await shot('1-empty');

    // The ceremony and its people, typed from the keyboard.
    await field('id').focus();
    await page.keyboard.type('form-root-2026');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Root key written in the form');
    const people: [string, string][] = [
      ['ada', 'Ada Admin'],
      ['wes', 'Wes Witness'],
      ['c1', 'Carol One'],
    ];
    for (const [i, [id, name]] of people.entries()) {
      const row = page.getByRole('group', { name: `Participant ${i + 1}`, exact: true });
      await row.getByLabel('Id').fill(id);
      await row.getByLabel('Name').fill(name);
    }
    for (const [id, name] of [
      ['c2', 'Carl Two'],
      ['c3', 'Cleo Three'],
    ]) {
      // "Add a participant" puts the cursor in the new row's Id box; its role starts as custodian.
      await page.getByRole('button', { name: 'Add a participant' }).focus();
      await page.keyboard.press('Enter');
      await page.keyboard.type(id);
      await page.keyboard.press('Tab');
      await page.keyboard.type(name);
    }
    expect(await field('participants-4-role').inputValue()).toBe('custodian');

    await page.getByLabel('PKCS#11 module').fill(hsm.module);
    await page.getByLabel('Token label').fill('ceremony');
    await page.getByLabel('Key label').fill('form-root-2026');
    await page.getByLabel('Algorithm', { exact: true }).selectOption('ec-p256');
    // Sealing is the default (docs/plan.md): the box starts ticked.
    expect(await page.getByLabel(/Seal the key after the exports/).isChecked()).toBe(true);

    // Backup: one group, threshold 4 of 3 first. The problem shows at the threshold as soon as it is checked.
    const group = page.getByRole('group', { name: 'Group 1', exact: true });
    await group.getByLabel(/^Threshold/).fill('4');
    for (const name of ['Carol One', 'Carl Two', 'Cleo Three']) await group.getByRole('checkbox', { name: new RegExp(`${name} \\(`) }).check();
    await expect.poll(() => problemsOf('backup-groups-0-threshold').textContent()).toContain('is 4 but the group has 3 custodian(s)');
    expect(await field('backup-groups-0-threshold').getAttribute('aria-invalid')).toBe('true');
    await expect.poll(() => page.getByTestId('plan-form-summary').textContent()).toContain('Backup, Group 1, threshold');
    await field('backup-groups-0-threshold').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(OUT, 'plan-form-2-bad-threshold.png') });
    await field('backup-groups-0-threshold').fill('2');
    await expect.poll(() => problemsOf('backup-groups-0-threshold').count()).toBe(0);

    // An export to Vault: its kind decides the fields; the key type offered fits the ec-p256 key.
    await page.getByRole('button', { name: 'Add an export' }).click();
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('pf-exports-0-kind');
    await page.keyboard.press('End'); // the last kind: vault-transit
    await expect.poll(() => field('exports-0-kind').inputValue()).toBe('vault-transit');
    const exp = page.getByRole('group', { name: 'Export 1', exact: true });
    await exp.getByLabel('Export name').fill('vault-form');
    await exp.getByLabel('Wrapping key file').fill('vault.pub.pem');
    // The pin (docs/plan.md): typed as the KMS printed it; anything but 64 hex digits is flagged at once.
    await exp.getByLabel('Wrapping key SHA-256').fill('not a digest');
    await expect.poll(() => problemsOf('exports-0-wrappingKeySha256').textContent()).toContain("must be the file's SHA-256 as 64 hex digits");
    await exp.getByLabel('Wrapping key SHA-256').fill(sha256File(path.join(work, 'vault.pub.pem')));
    await expect.poll(() => problemsOf('exports-0-wrappingKeySha256').count()).toBe(0);
    await exp.getByLabel('Hash function').selectOption('SHA1');
    expect(await exp.getByLabel('Vault key type').inputValue()).toBe('ecdsa-p256');
    expect(await exp.getByLabel('Import token file').count()).toBe(0);

    // A script step, confirmed by the witness (ticked with the space bar).
    await page.getByRole('button', { name: 'Add a step' }).click();
    await page.keyboard.type('The room is sealed and no phones are present.');
    await page.getByRole('group', { name: 'Step 1', exact: true }).getByRole('checkbox', { name: /Wes Witness/ }).focus();
    await page.keyboard.press('Space');

    // Where the plan goes. A name that is taken is refused, and the file is left alone.
    writeFileSync(path.join(work, 'taken.json'), 'not a plan\n');
    // The folder is picked in main's save dialog (scripted here); the page only suggests a name.
    // Only a .json file: a plan written as, say, a shell start-up file would be run by the shell.
    await page.getByLabel('File name').fill('.profile');
    dialogs.answer(path.join(work, 'bundles'));
    await page.getByRole('button', { name: 'Choose the output folder…' }).click();
    await expect.poll(() => page.getByTestId('chosen-out').textContent()).toBe('bundles');
    dialogs.answer(path.join(work, '.profile'));
    await page.getByRole('button', { name: 'Save plan and continue' }).click();
    await expect.poll(() => page.locator('.error').textContent()).toContain('the file name must end in .json');
    expect(existsSync(path.join(work, '.profile'))).toBe(false);
    await page.getByLabel('File name').fill('taken.json');
    dialogs.answer(path.join(work, 'taken.json'));
    await expect.poll(() => page.getByTestId('plan-form-summary').textContent()).toContain('✓ The plan is complete');
    await shot('3-filled');
    await page.getByRole('button', { name: 'Save plan and continue' }).click();
    await expect.poll(() => page.locator('.error').textContent()).toContain('already exists');
    expect(readFileSync(path.join(work, 'taken.json'), 'utf8')).toBe('not a plan\n');

    await page.getByLabel('File name').fill('form-plan.json');
    dialogs.answer(path.join(work, 'form-plan.json'));
    await page.getByLabel('File name').press('Enter');
    expect(dialogs.asked.filter((a) => a.kind === 'save').map((a) => a.suggestion)).toEqual(['.profile', 'taken.json', 'form-plan.json']);
    await page.getByTestId('preflight-checks').waitFor();
    await expect.poll(() => page.getByTestId('preflight-checks').textContent()).toMatch(/ceremony/);
    await shot('4-preflight');

    // The saved file is the plan that was typed, and `keyrite plan check` accepts it.
    const file = path.join(work, 'form-plan.json');
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved).toMatchObject({
      version: 1,
      id: 'form-root-2026',
      participants: [
        { id: 'ada', role: 'administrator' },
        { id: 'wes', role: 'witness' },
        { id: 'c1', name: 'Carol One', role: 'custodian' },
        { id: 'c2', name: 'Carl Two', role: 'custodian' },
        { id: 'c3', name: 'Cleo Three', role: 'custodian' },
      ],
      hsm: { module: hsm.module, tokenLabel: 'ceremony' },
      key: { label: 'form-root-2026', algorithm: 'ec-p256', sealAfterExport: true },
      backup: { groupThreshold: 1, groups: [{ threshold: 2, custodians: ['c1', 'c2', 'c3'] }], iterationExponent: 1, passphrase: false },
      exports: [{ name: 'vault-form', kind: 'vault-transit', wrappingKey: 'vault.pub.pem', wrappingKeySha256: sha256File(path.join(work, 'vault.pub.pem')), hashFunction: 'SHA1', type: 'ecdsa-p256' }],
      steps: [{ id: 'step-1', text: 'The room is sealed and no phones are present.', ackBy: ['wes'] }],
    });
    expect(checkPlanObject(saved, work).problems).toEqual([]);
    const out = execFileSync(process.execPath, ['bin/keyrite.mjs', 'plan', 'check', file], { encoding: 'utf8' });
    expect(out).toContain("plan 'form-root-2026' is valid");
    expect(bridge.foreignRequests).toEqual([]);
  });
});
