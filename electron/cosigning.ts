/**
 * The main process's end of the ceremony: witnesses co-sign the finished bundle with their own
 * tokens, and the one-page attestation is printed for wet signatures. Plain Node, like ipc.ts,
 * whose createHandlers spreads these in. The PIN comes in once per co-signature and goes straight to
 * core; nothing returned holds it.
 */
import path from 'node:path';
import type { CosignSummary, KeyriteApi, PrintTarget, Result } from './api.ts';
import { readAttestationData } from './core/ceremony/attestation-data.ts';
import { cosignBundle } from './core/ceremony/cosign.ts';
import { OperationError, UsageError } from './core/errors.ts';
import { renderAttestation } from './core/sheets/attestation.ts';
import type { SheetPrinter } from './print.ts';

export interface CosigningDeps {
  printer: SheetPrinter;
  /**
   * The bundle signed last in this session: a generate/rotate ceremony's, or a re-share's or a
   * destruction's (throws, saying why, when none is signed yet).
   */
  signed(): { bundleDir: string; planId: string };
  /** Whether the plan was opened as a rehearsal: the only case for PDF output. */
  rehearsal(): boolean;
  /** The module file behind a handle the page got from chooseModule/listModules. */
  modulePath(handle: string): string;
}

const ok = <T>(value: T): Result<T> => ({ ok: true, value });

export function cosigningHandlers(deps: CosigningDeps): Pick<KeyriteApi, 'cosign' | 'printAttestation'> {
  return {
    async cosign(options, pin): Promise<Result<CosignSummary>> {
      const c = deps.signed();
      const r = await cosignBundle(c.bundleDir, {
        participant: options.participant,
        modulePath: deps.modulePath(options.module),
        tokenLabel: options.tokenLabel,
        tokenSerial: options.tokenSerial,
        keyLabel: options.keyLabel,
        ...(options.moduleArgs ? { moduleArgs: options.moduleArgs } : {}),
        pin: async () => pin,
      });
      return ok({ participant: r.participant, role: r.role, keyid: r.keyid, signatures: r.signatures, cosignatures: r.cosignatures });
    },

    async printAttestation(target: PrintTarget) {
      const c = deps.signed();
      const html = renderAttestation(readAttestationData(c.bundleDir));
      if ('pdf' in target) {
        if (!deps.rehearsal()) throw new OperationError('PDF output is only for rehearsals; print the attestation on paper');
        // Next to the bundle, never inside it: the bundle's files are fixed by its signed statement.
        const file = path.join(path.dirname(c.bundleDir), `${c.planId}-rehearsal-attestation.pdf`);
        return ok({ output: await deps.printer.printToPdf(html, file) });
      }
      const names = (await deps.printer.listPrinters()).map((p) => p.name);
      if (!names.includes(target.printer)) throw new UsageError(`printer '${target.printer}' is not one of this machine's printers; choose one from the list`);
      // No secret on this page: any of the machine's printers will do.
      await deps.printer.print(html, target.printer);
      return ok({ output: target.printer });
    },
  };
}
