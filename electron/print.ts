/**
 * Printing share sheets and reports. A sheet holds share words, so it never passes through the
 * renderer: main loads its HTML into a hidden, sandboxed window with no preload and no script
 * allowed by its CSP, waits for fonts and images, prints silently to the chosen printer, and
 * destroys the window. PDF output exists for rehearsals only and the file name says so.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserWindowConstructorOptions, PrinterInfo, WebContentsPrintOptions } from 'electron';
import type { PrinterSummary } from './api.ts';
import { OperationError } from './core/errors.ts';
import { PRINT_CSP, printWindowOptions } from './security.ts';

/** What the ceremony handlers need from a printer; the test printer implements the same thing. */
export interface SheetPrinter {
  listPrinters(): Promise<PrinterSummary[]>;
  /** Prints to the named printer; resolves to the name recorded in the transcript. */
  print(html: string, deviceName: string): Promise<string>;
  /** Rehearsals only: writes a PDF and resolves to its path. */
  printToPdf(html: string, file: string): Promise<string>;
}

/** The part of Electron's BrowserWindow this module uses. */
export interface PrintWindowLike {
  loadURL(url: string): Promise<void>;
  destroy(): void;
  isDestroyed(): boolean;
  webContents: {
    executeJavaScript(code: string): Promise<unknown>;
    print(options: WebContentsPrintOptions, callback: (success: boolean, failureReason: string) => void): void;
    printToPDF(options: Record<string, unknown>): Promise<Buffer>;
    getPrintersAsync(): Promise<PrinterInfo[]>;
  };
}

export type PrintWindowFactory = (options: BrowserWindowConstructorOptions) => PrintWindowLike;

export const PRINT_TIMEOUT_MS = 60_000;

/** Puts the print CSP into the sheet's <head> and makes a data: URL of it (never a file on disk). */
export function sheetDataUrl(html: string): string {
  const meta = `<meta http-equiv="Content-Security-Policy" content="${PRINT_CSP}">`;
  const withCsp = /<head[^>]*>/i.test(html) ? html.replace(/<head[^>]*>/i, (m) => `${m}${meta}`) : `${meta}${html}`;
  return `data:text/html;charset=utf-8;base64,${Buffer.from(withCsp, 'utf8').toString('base64')}`;
}

/** Resolves once the page's fonts are loaded and every image is decoded (or failed). */
export const WAIT_FOR_ASSETS_JS =
  'document.fonts.ready.then(() => Promise.all(Array.from(document.images).map((i) => i.complete ? null : new Promise((r) => { i.onload = i.onerror = r; })))).then(() => true)';

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new OperationError(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export function createElectronPrinter(newWindow: PrintWindowFactory, opts: { timeoutMs?: number } = {}): SheetPrinter {
  const timeoutMs = opts.timeoutMs ?? PRINT_TIMEOUT_MS;

  async function withSheet<T>(html: string, what: string, use: (win: PrintWindowLike) => Promise<T>): Promise<T> {
    const win = newWindow(printWindowOptions());
    try {
      return await withTimeout(
        (async () => {
          await win.loadURL(sheetDataUrl(html));
          await win.webContents.executeJavaScript(WAIT_FOR_ASSETS_JS);
          return use(win);
        })(),
        timeoutMs,
        what,
      );
    } finally {
      if (!win.isDestroyed()) win.destroy();
    }
  }

  return {
    async listPrinters() {
      const win = newWindow(printWindowOptions());
      try {
        const list = await withTimeout(win.webContents.getPrintersAsync(), timeoutMs, 'listing printers');
        return list.map((p) => ({
          name: p.name,
          displayName: p.displayName || p.name,
          description: p.description ?? '',
          isDefault: Boolean((p as PrinterInfo & { isDefault?: boolean }).isDefault ?? (p.options as Record<string, string> | undefined)?.['printer-is-default'] === 'true'),
        }));
      } finally {
        if (!win.isDestroyed()) win.destroy();
      }
    },

    print(html, deviceName) {
      return withSheet(html, `printing to ${deviceName}`, (win) =>
        new Promise<string>((resolve, reject) => {
          win.webContents.print({ silent: true, deviceName, printBackground: true, color: false, copies: 1 }, (success, failureReason) => {
            if (success) resolve(deviceName);
            else reject(new OperationError(`printer ${deviceName} did not print the sheet: ${failureReason || 'no reason given'}`));
          });
        }),
      );
    },

    printToPdf(html, file) {
      return withSheet(html, `writing ${path.basename(file)}`, async (win) => {
        const pdf = await win.webContents.printToPDF({ printBackground: true, pageSize: 'A4' });
        mkdirSync(path.dirname(file), { recursive: true });
        // Exclusive: a rehearsal sheet is never overwritten.
        writeFileSync(file, pdf, { flag: 'wx', mode: 0o600 });
        return file;
      });
    },
  };
}

/** The file name of a rehearsal PDF: it says REHEARSAL so nobody mistakes it for a real sheet. */
export function rehearsalPdfName(fileBase: string): string {
  return `REHEARSAL-${fileBase}.pdf`;
}
