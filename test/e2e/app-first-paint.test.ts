/**
 * The start screen is in the built index.html (renderer/prerender.tsx), so the window paints it
 * before any script runs; React then takes it over (renderer/boot.tsx). Proven in headless
 * Chromium on the production build: with every script refused the start screen is still there,
 * with its buttons disabled (a click can't be lost); with the scripts, the same screen becomes
 * usable with no hydration error, focus on "Run a ceremony", and a click opens the next screen
 * (which stays open once its own start-up calls are answered).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveAppFile } from '../../electron/security.ts';
import { APP_TEST_ORIGIN, buildRenderer } from '../helpers/bridge.ts';
import { launchChromium } from '../helpers/chromium.ts';

let work: string;
let dir: string;
let browser: Browser;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-first-paint-'));
  dir = await buildRenderer(path.join(work, 'renderer'));
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function open(opts: { scripts: boolean }): Promise<{ page: Page; errors: string[] }> {
  const page = await (await browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
  const errors: string[] = [];
  page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
  page.on('pageerror', (e) => void errors.push(e.message));
  await page.route('**/*', (route) => {
    const url = route.request().url();
    const found = resolveAppFile(dir, url.replace(APP_TEST_ORIGIN, 'app://keyrite'));
    if (!found || (!opts.scripts && found.file.endsWith('.js'))) return route.abort();
    return route.fulfill({ status: 200, contentType: found.mimeType, body: readFileSync(found.file) });
  });
  // The start screen calls nothing; a stub is enough. It answers in the API's own shapes: the
  // recover screen lists the modules as it opens, and a null there crashed its render and blanked
  // the window (an earlier stub did, and the screen then vanished moments after it appeared). It
  // records the calls, so a test can wait until a screen's answers have arrived.
  await page.addInitScript({
    content: `window.__calls = [];
      window.keyrite = new Proxy({}, { get: (_t, k) => (k === 'onEvent' ? () => () => {} : async () => {
        window.__calls.push(String(k));
        return { ok: true, value: k === 'listModules' ? [] : null };
      }) });`,
  });
  await page.goto(`${APP_TEST_ORIGIN}/index.html`);
  return { page, errors };
}

describe('first paint', () => {
  it('index.html carries the start screen, disabled until the app has loaded', () => {
    const html = readFileSync(path.join(dir, 'index.html'), 'utf8');
    expect(html).toContain('data-testid="screen-start"');
    expect(html).toMatch(/<fieldset class="booting" disabled="">/);
    expect(html).toContain('Run a ceremony');
    // The first script is the small loader; React comes after the paint.
    const entry = /<script[^>]*src="\.\/assets\/([^"]+)"/.exec(html)![1];
    expect(readFileSync(path.join(dir, 'assets', entry)).length).toBeLessThan(8 * 1024);
  });

  it('without any script, the start screen is shown and its buttons cannot be clicked', async () => {
    const { page } = await open({ scripts: false });
    await expect(page.getByTestId('screen-start').isVisible()).resolves.toBe(true);
    const run = page.getByRole('button', { name: /Run a ceremony/ });
    await expect(run.isVisible()).resolves.toBe(true);
    await expect(run.isDisabled()).resolves.toBe(true);
    // Looks like the working screen: not greyed out.
    await expect(run.evaluate((b) => getComputedStyle(b).opacity)).resolves.toBe('1');
    await page.context().close();
  });

  it('with the scripts, React takes it over: enabled, focused, no hydration error, and a click works', async () => {
    const { page, errors } = await open({ scripts: true });
    const run = page.getByRole('button', { name: /Run a ceremony/ });
    await page.waitForFunction(() => !document.querySelector('fieldset.booting'));
    await expect(run.isEnabled()).resolves.toBe(true);
    await expect(page.evaluate(() => document.activeElement?.textContent ?? '')).resolves.toMatch(/^Run a ceremony/);
    await page.getByRole('button', { name: /Verify a bundle/ }).click();
    await page.getByTestId('screen-verify').waitFor();
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('a click made while the app is still loading is not lost', async () => {
    const { page, errors } = await open({ scripts: true });
    // Playwright waits for the button to be enabled, as a person would find it clickable.
    await page.getByRole('button', { name: /Recover from shares/ }).click();
    await page.getByTestId('screen-recover').waitFor();
    // Still there once the screen's own start-up call has been answered and rendered: a screen
    // that appears and then crashes is not a click that worked.
    await page.waitForFunction(() => (window as unknown as { __calls: string[] }).__calls.includes('listModules'));
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0))));
    await expect(page.getByTestId('screen-recover').isVisible()).resolves.toBe(true);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
