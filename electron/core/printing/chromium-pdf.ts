/**
 * A share sheet's HTML to PDF bytes in memory, with the same Chromium print path the desktop app
 * uses (Electron's printToPDF): the CLI drives the system's headless Chromium through playwright-core.
 * The page is set from a string (no file, no URL), in an incognito context (storage in memory) with
 * JavaScript off and no network; the PDF comes back over the DevTools pipe, not through a file.
 * docs/printing.md says why Chromium rather than a second PDF layout.
 */
import { existsSync } from 'node:fs';
import { OperationError } from '../errors.ts';

export type PdfRenderer = {
  render(html: string): Promise<Buffer>;
  close(): Promise<void>;
};

/** Where Chromium is looked for: KEYRITE_CHROMIUM, then Debian's and other distributions' usual paths. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [env.KEYRITE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter(Boolean) as string[];
  return candidates.find((p) => existsSync(p));
}

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-breakpad',
  '--disable-crash-reporter',
  '--no-first-run',
  '--disable-sync',
  '--disk-cache-size=1',
];

export function chromiumPdfRenderer(env: NodeJS.ProcessEnv = process.env): PdfRenderer {
  let browser: import('playwright-core').Browser | undefined;
  return {
    async render(html) {
      if (!browser) {
        const exe = findChromium(env);
        if (!exe) throw new OperationError('Chromium is needed to print share sheets and none was found (install the chromium package, or set KEYRITE_CHROMIUM to its path)');
        const { chromium } = await import('playwright-core');
        browser = await chromium.launch({ executablePath: exe, args: ARGS, headless: true });
      }
      const context = await browser.newContext({ javaScriptEnabled: false, offline: true });
      try {
        const page = await context.newPage();
        await page.setContent(html, { waitUntil: 'load' });
        return await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true });
      } finally {
        await context.close();
      }
    },
    async close() {
      await browser?.close();
      browser = undefined;
    },
  };
}
