/**
 * The desktop renderer: production bundle size (every file Vite writes to assets/; the first script
 * apart) and the time from navigation to the start screen's first paint in headless Chromium, with
 * window.keyrite stubbed (the start screen calls nothing). Median of several cold page loads.
 *
 * The time is taken in the page: a MutationObserver sees the start screen enter the DOM, and the
 * clock is read after the next frame (requestAnimationFrame, then a task: the frame is painted).
 * Reading it from the test process after a Playwright wait would add the wait's polling to it.
 * The browser's own first-contentful-paint is reported beside it.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchRow } from './run.ts';
import { launchChromium } from '../test/helpers/chromium.ts';
import { APP_TEST_ORIGIN, buildRenderer } from '../test/helpers/bridge.ts';
import { resolveAppFile } from '../electron/security.ts';

const RUNS = 15;

export async function bench(): Promise<BenchRow[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-renderer-bench-'));
  try {
    await buildRenderer(dir);
    const assets = path.join(dir, 'assets');
    const files = readdirSync(assets).map((f) => ({ f, size: statSync(path.join(assets, f)).size }));
    const total = files.reduce((a, b) => a + b.size, 0);
    const js = files.filter((x) => x.f.endsWith('.js')).reduce((a, b) => a + b.size, 0);
    const entry = /<script[^>]*src="\.\/assets\/([^"]+)"/.exec(readFileSync(path.join(dir, 'index.html'), 'utf8'))?.[1];
    const first = files.find((x) => x.f === entry)?.size ?? 0;

    const browser = await launchChromium();
    const times: number[] = [];
    const fcps: number[] = [];
    try {
      for (let i = 0; i < RUNS; i++) {
        const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
        const page = await context.newPage();
        await page.route('**/*', (route) => {
          const found = resolveAppFile(dir, route.request().url().replace(APP_TEST_ORIGIN, 'app://keyrite'));
          return found ? route.fulfill({ status: 200, contentType: found.mimeType, body: readFileSync(found.file) }) : route.abort();
        });
        // A string, not a function: tsx's name helpers would not exist in the page.
        await page.addInitScript({
          content: [
            "window.keyrite = new Proxy({}, { get: (_t, k) => (k === 'onEvent' ? () => () => {} : async () => ({ ok: true, value: null })) });",
            // From navigation start to the frame that shows the start screen.
            'window.__startPainted = new Promise((resolve) => {',
            "  const seen = () => document.querySelector('[data-testid=screen-start]');",
            '  const done = () => requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0));',
            '  const mo = new MutationObserver(() => { if (seen()) { mo.disconnect(); done(); } });',
            '  mo.observe(document, { childList: true, subtree: true });',
            '});',
          ].join('\n'),
        });
        await page.goto(`${APP_TEST_ORIGIN}/index.html`);
        await page.getByTestId('screen-start').waitFor();
        const ms = await page.evaluate(() => (window as unknown as { __startPainted: Promise<number> }).__startPainted);
        times.push(ms);
        fcps.push(await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN));
        await context.close();
      }
    } finally {
      await browser.close();
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const ms = median(times);
    return [
      { name: 'renderer bundle (assets/)', value: `${(total / 1024).toFixed(1)} KiB`, note: `${files.length} files; JS ${(js / 1024).toFixed(1)} KiB, of which the first script ${(first / 1024).toFixed(1)} KiB; uncompressed` },
      { name: 'renderer first render', value: `${ms.toFixed(1)} ms`, note: `median of ${RUNS} cold loads in headless Chromium (navigation start → start screen painted); goal 300 ms: ${ms <= 300 ? 'met' : 'OVER'}` },
      { name: 'renderer first contentful paint', value: `${median(fcps).toFixed(1)} ms`, note: "the browser's own paint timing, same loads" },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
