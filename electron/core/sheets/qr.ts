/**
 * QR codes as inline SVG (no images, no scripts): one <path> of dark modules over a white square
 * with the standard 4-module quiet zone, so a sheet prints crisp in black and white at any size.
 */
import QRCode from 'qrcode';
import { esc } from './html.ts';

export interface QrSvgOptions {
  /** Printed width, a CSS length such as "45mm". */
  size: string;
  /** Marks the code for tests and print tooling, e.g. "mnemonic" or "wrapped-2". */
  name: string;
  label: string;
  /** Error correction level; M (15 %) unless the caller has a reason (see wrapped-chunks.ts). */
  ecc?: 'L' | 'M' | 'Q' | 'H';
}

const QUIET = 4;

/** QR of text that is entirely in the alphanumeric set (0-9 A-Z space $ % * + - . / :). */
export function alphanumericQrSvg(text: string, opts: QrSvgOptions): string {
  if (!/^[0-9A-Z $%*+\-./:]*$/.test(text)) throw new Error(`QR ${opts.name}: text is not in the QR alphanumeric set`);
  const qr = QRCode.create([{ data: text, mode: 'alphanumeric' }], { errorCorrectionLevel: opts.ecc ?? 'M' });
  const n = qr.modules.size;
  const dim = n + 2 * QUIET;
  let d = '';
  for (let r = 0; r < n; r++) {
    let c = 0;
    while (c < n) {
      if (!qr.modules.get(r, c)) { c++; continue; }
      const start = c;
      while (c < n && qr.modules.get(r, c)) c++;
      d += `M${start + QUIET} ${r + QUIET}h${c - start}v1h-${c - start}z`;
    }
  }
  return (
    `<svg class="qr" data-qr="${esc(opts.name)}" data-qr-version="${qr.version}" role="img" aria-label="${esc(opts.label)}" ` +
    `viewBox="0 0 ${dim} ${dim}" width="${esc(opts.size)}" height="${esc(opts.size)}" ` +
    `shape-rendering="crispEdges"><rect width="${dim}" height="${dim}" fill="#fff"/><path fill="#000" d="${d}"/></svg>`
  );
}
