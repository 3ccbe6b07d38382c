/**
 * Real headless Chromium for e2e tests: Debian's /usr/bin/chromium driven by playwright-core.
 * Shared by the sheet/report tests and the app e2e test. No network: background services off.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { QRCode, Options as JsQrOptions } from 'jsqr';

const require = createRequire(import.meta.url);
// jsqr is a UMD bundle: load it as CommonJS and take its default export.
type JsQr = (data: Uint8ClampedArray, width: number, height: number, options?: JsQrOptions) => QRCode | null;
const jsQRModule = require('jsqr') as JsQr & { default?: JsQr };
const jsQR: JsQr = jsQRModule.default ?? jsQRModule;
// pngjs comes with qrcode and has no type declarations; only its sync reader is used.
const { PNG } = require('pngjs') as {
  PNG: { sync: { read(png: Buffer): { data: Buffer; width: number; height: number } } };
};

export const CHROMIUM_PATH = process.env.KEYRITE_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/** A fresh page in its own context; `deviceScaleFactor` 2 gives screenshots sharp enough to decode QR codes. */
export async function newPage(
  browser: Browser,
  opts: { width?: number; height?: number; deviceScaleFactor?: number } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: { width: opts.width ?? 900, height: opts.height ?? 1200 },
    deviceScaleFactor: opts.deviceScaleFactor ?? 2,
    offline: true,
  });
  const page = await context.newPage();
  return { context, page };
}

/** Number of pages in a PDF produced by Chromium (counts page objects, not the page tree node). */
export function pdfPageCount(pdf: Buffer): number {
  const m = pdf.toString('latin1').match(/\/Type\s*\/Page(?![a-zA-Z])/g);
  return m ? m.length : 0;
}

/** Decodes the QR code in a PNG screenshot (e.g. `locator.screenshot()`), or returns null. */
export function decodeQrPng(png: Buffer): string | null {
  const { data, width, height } = PNG.sync.read(png);
  const found = jsQR(new Uint8ClampedArray(data.buffer, data.byteOffset, data.length), width, height, { inversionAttempts: 'dontInvert' });
  return found ? found.data : null;
}

/**
 * Loads a printable page (share sheet, report), keeps what a person would look at as test output
 * (DIR/NAME.html, a full-page PNG, A4 and Letter PDFs) and returns the page and both PDFs.
 */
export async function renderPrintable(
  browser: Browser,
  html: string,
  outDir: string,
  name: string,
  viewport: { width: number; height: number },
): Promise<{ page: Page; a4: Buffer; letter: Buffer }> {
  const { page } = await newPage(browser, { ...viewport, deviceScaleFactor: 2 });
  await page.setContent(html, { waitUntil: 'load' });
  writeFileSync(path.join(outDir, `${name}.html`), html);
  await page.screenshot({ path: path.join(outDir, `${name}.png`), fullPage: true });
  const a4 = await page.pdf({ format: 'A4' });
  const letter = await page.pdf({ format: 'Letter' });
  writeFileSync(path.join(outDir, `${name}-a4.pdf`), a4);
  writeFileSync(path.join(outDir, `${name}-letter.pdf`), letter);
  return { page, a4, letter };
}

/**
 * Decodes the QR code inside each region (in pixels) of a PNG page image, e.g. a PDF page rasterized
 * by pdftoppm as a scanner would see it; null where no code is found.
 */
export function decodeQrRegions(png: Buffer, regions: { x: number; y: number; width: number; height: number }[]): (string | null)[] {
  const { data, width, height } = PNG.sync.read(png);
  return regions.map((r) => {
    const x0 = Math.max(0, Math.floor(r.x));
    const y0 = Math.max(0, Math.floor(r.y));
    const w = Math.min(width - x0, Math.ceil(r.width));
    const h = Math.min(height - y0, Math.ceil(r.height));
    const crop = new Uint8ClampedArray(w * h * 4);
    for (let y = 0; y < h; y++) crop.set(data.subarray(((y0 + y) * width + x0) * 4, ((y0 + y) * width + x0 + w) * 4), y * w * 4);
    return jsQR(crop, w, h, { inversionAttempts: 'dontInvert' })?.data ?? null;
  });
}
