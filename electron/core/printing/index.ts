/**
 * Production printing of share sheets through CUPS (docs/sheets.md), shared by the CLI and the desktop app.
 * `CupsSheetPrinter.check()` runs before any key exists; `print()` renders in memory, sends the PDF to
 * the queue on lp's standard input and reports whether the spool is clean afterwards.
 */
import { assertPrinter, checkPrinter, spoolDirFor, type PrinterCheckResult, type PrinterOptions } from './checks.ts';
import { printPdf, type PrintedJob } from './print-job.ts';
import { OperationError } from '../errors.ts';

export { assertPrinter, checkPrinter, deviceIsLocal, serverIsLocal, spoolDirFor, NULL_DEVICE, PRESERVE_FIX, type PrinterCheckResult, type PrinterCheck, type PrinterOptions } from './checks.ts';
export { listQueues, queueInfo, serverSettings, keepsNothing, type QueueInfo } from './cups.ts';
export { jobFilesInSpool, printPdf, type PrintedJob } from './print-job.ts';
export { chromiumPdfRenderer, findChromium, type PdfRenderer } from './chromium-pdf.ts';

export class CupsSheetPrinter {
  private checked?: PrinterCheckResult;
  readonly spoolDir: string;

  constructor(
    readonly queue: string,
    private readonly renderPdf: (html: string) => Promise<Buffer>,
    private readonly opts: PrinterOptions & { jobTimeoutMs?: number } = {},
  ) {
    this.spoolDir = opts.spoolDir ?? spoolDirFor(opts.env);
  }

  /** Runs every check; throws the first failure as a one-line error after handing back the result. */
  async check(onResult?: (r: PrinterCheckResult) => void): Promise<PrinterCheckResult> {
    const r = await checkPrinter(this.queue, { ...this.opts, spoolDir: this.spoolDir });
    onResult?.(r);
    assertPrinter(r);
    this.checked = r;
    return r;
  }

  /** One sheet: PDF in memory → lp → job finished → spool checked. */
  async print(html: string): Promise<PrintedJob> {
    if (!this.checked) throw new OperationError(`printer '${this.queue}' has not been checked; a sheet is printed only after the printer checks pass`);
    let pdf: Buffer | undefined = await this.renderPdf(html);
    try {
      return await printPdf(this.queue, pdf, { ...this.opts, spoolDir: this.spoolDir });
    } finally {
      // The PDF holds the words: wiped once lp has it.
      pdf.fill(0);
      pdf = undefined;
    }
  }
}
