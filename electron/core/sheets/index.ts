/** Printable pages: share sheets (docs/sheets.md) and the ceremony report (docs/transcript.md). Data in, HTML out. */
export { renderShareSheet, renderShareSheetSync, renderShareText, shareSheetFileBase } from './share-sheet.ts';
export type { ShareSheetData, Paper } from './share-sheet.ts';
export { renderReport } from './report.ts';
export type { ReportOptions } from './report.ts';
export { encodeWrappedChunks, decodeWrappedChunks } from './wrapped-chunks.ts';
export { renderAttestation } from './attestation.ts';
export type { AttestationData } from './attestation.ts';
