/**
 * Printing share sheets and reports. A sheet holds share words, so it never passes through the
 * renderer: main loads its HTML into a hidden, sandboxed window with no preload and no script
 * allowed by its CSP, waits for fonts and images, renders it to PDF in memory (Chromium's
 * printToPDF) and destroys the window. The PDF goes to a CUPS queue through core/printing (the
 * same checks, `lp` on standard input and spool check as the CLI). PDF files exist for rehearsals
 * only and the file name says so.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserWindowConstructorOptions, PrinterInfo, WebContentsPrintOptions } from 'electron';
import type { PrinterSummary } from './api.ts';
import { OperationError } from './core/errors.ts';
import { checkPrinter, deviceIsLocal, spoolDirFor, type PrinterCheckResult } from './core/printing/checks.ts';
import { listQueues } from './core/printing/cups.ts';
import { printPdf, type PrintedJob } from './core/printing/print-job.ts';
import { PRINT_CSP, printWindowOptions } from './security.ts';

/** What the ceremony handlers need from a printer; the test printer implements the same thing. */
export interface SheetPrinter {
  listPrinters(): Promise<PrinterSummary[]>;
  /** The checks before the first sheet (core/printing); a failed check is in the result, not thrown. */
  checkPrinter(queue: string): Promise<PrinterCheckResult>;
  /** Prints on a checked CUPS queue; resolves to the job and whether the spool was clean after it. */
  print(html: string, queue: string): Promise<{ jobId: number; spoolClean: boolean }>;
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

export interface CupsAccess {
  list(): Promise<PrinterSummary[]>;
  check(queue: string): Promise<PrinterCheckResult>;
  send(queue: string, pdf: Buffer): Promise<PrintedJob>;
}

/** This machine's CUPS through core/printing (the app's environment: CUPS_SERVER etc.). */
export function systemCups(env: NodeJS.ProcessEnv = process.env): CupsAccess {
  return {
    async list() {
      return (await listQueues({ env })).map((q) => ({
        name: q.name,
        displayName: q.name,
        description: `${q.deviceUri || 'no device'}${deviceIsLocal(q.deviceUri) ? '' : ' (not a local printer: refused for share sheets)'}`,
        isDefault: false,
      }));
    },
    check: (queue) => checkPrinter(queue, { env }),
    send: (queue, pdf) => printPdf(queue, pdf, { env, spoolDir: spoolDirFor(env) }),
  };
}

export function createElectronPrinter(newWindow: PrintWindowFactory, opts: { timeoutMs?: number; cups?: CupsAccess } = {}): SheetPrinter {
  const timeoutMs = opts.timeoutMs ?? PRINT_TIMEOUT_MS;
  const cups = opts.cups ?? systemCups();

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
    listPrinters: () => cups.list(),
    checkPrinter: (queue) => cups.check(queue),

    async print(html, queue) {
      // The PDF exists only in this Buffer; it is wiped once lp has it.
      const pdf = await withSheet(html, `rendering the sheet for ${queue}`, (win) => win.webContents.printToPDF({ printBackground: true, pageSize: 'A4' }));
      try {
        const job = await cups.send(queue, pdf);
        return { jobId: job.jobId, spoolClean: job.spoolClean };
      } finally {
        pdf.fill(0);
      }
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
