/**
 * The desktop renderer: production bundle size (every file Vite writes to assets/) and the time from
 * navigation to the start screen's first render in headless Chromium, with window.keyrite stubbed
 * (the start screen calls nothing). Median of several cold page loads.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchRow } from './run.ts';
import { launchChromium } from '../test/helpers/chromium.ts';
import { APP_TEST_ORIGIN, buildRenderer } from '../test/helpers/bridge.ts';
import { resolveAppFile } from '../electron/security.ts';

const RUNS = 7;

export async function bench(): Promise<BenchRow[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-renderer-bench-'));
  try {
    await buildRenderer(dir);
    const assets = path.join(dir, 'assets');
    const files = readdirSync(assets).map((f) => ({ f, size: statSync(path.join(assets, f)).size }));
    const total = files.reduce((a, b) => a + b.size, 0);
    const js = files.filter((x) => x.f.endsWith('.js')).reduce((a, b) => a + b.size, 0);

    const browser = await launchChromium();
    const times: number[] = [];
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
          content: "window.keyrite = new Proxy({}, { get: (_t, k) => (k === 'onEvent' ? () => () => {} : async () => ({ ok: true, value: null })) });",
        });
        await page.goto(`${APP_TEST_ORIGIN}/index.html`);
        await page.getByTestId('screen-start').waitFor();
        // From navigation start to the moment the start screen is in the DOM and painted.
        const ms = await page.evaluate(() => new Promise<number>((r) => requestAnimationFrame(() => r(performance.now()))));
        times.push(ms);
        await context.close();
      }
    } finally {
      await browser.close();
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    return [
      { name: 'renderer bundle (assets/)', value: `${(total / 1024).toFixed(1)} KiB`, note: `${files.length} files; JS ${(js / 1024).toFixed(1)} KiB, uncompressed` },
      { name: 'renderer first render', value: `${median.toFixed(1)} ms`, note: `median of ${RUNS} cold loads in headless Chromium (navigation start → start screen painted)` },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
