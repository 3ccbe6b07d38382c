/**
 * A custodian's share sheet (docs/sheets.md): one printed page, legible in black and white on A4 and
 * Letter, with no external resources (inline CSS, QR codes as inline SVG). The sheet holds the
 * share words, so it is rendered in memory and goes straight to the printer (or, in rehearsals,
 * to share-<group>-<member>-<custodian>.html); nothing here logs or keeps it.
 */
import { createHash } from 'node:crypto';
import { KeyriteError } from '../errors.ts';
import { esc, fingerprintLines, isHex } from './html.ts';
import { alphanumericQrSvg } from './qr.ts';
import { encodeWrappedChunks, WRAPPED_QR_ECC } from './wrapped-chunks.ts';

export type Paper = 'A4' | 'Letter';

/** The notice on every sheet printed in a re-share (issue 15): what re-sharing cannot do. */
export function reshareNotice(oldCeremonyId: string, oldSet: number): string {
  return `Re-sharing cannot retire ${oldCeremonyId}'s shares (set ${oldSet}): old shares still open every copy of the old root.wrapped, so those copies must be destroyed.`;
}

export interface ShareSheetData {
  ceremonyId: string;
  title: string;
  rootLabel: string;
  rootAlgorithm: string;
  /** Lowercase hex SHA-256 of the root's SPKI DER, or "KCV xxxxxx" for an AES root. */
  rootFingerprint: string;
  custodian: { id: string; name: string };
  /** 1-based. */
  group: number;
  groupCount: number;
  /** Groups needed to recover. */
  groupThreshold: number;
  /** 1-based. */
  member: number;
  memberCount: number;
  /** Members of this group needed. */
  memberThreshold: number;
  /** The SLIP-39 mnemonic, lowercase words separated by single spaces (33 words for a 256-bit backup key). */
  mnemonic: string;
  checkValue: string;
  kekKcv: string;
  /** backup/root.wrapped. */
  wrappedRootKey: Uint8Array;
  witnessNames: string[];
  rehearsal: boolean;
  /** Whether the SLIP-39 passphrase is needed as well. */
  passphrase?: boolean;
  /** Fixes the page size; without it the printer's paper is used (the layout fits both). */
  paper?: Paper;
  /** One plain-text line printed boxed above the recovery steps (a re-share: what it cannot do). */
  notice?: string;
}

/** File name (without extension) of a headless run's sheet and text file (docs/sheets.md). */
export function shareSheetFileBase(group: number, member: number, custodianId: string): string {
  return `share-${group}-${member}-${custodianId}`;
}

/** Contents of share-<g>-<m>-<custodian>.txt: the bare mnemonic on one line. */
export function renderShareText(mnemonic: string): string {
  return normalizeWords(mnemonic).join(' ') + '\n';
}

function normalizeWords(mnemonic: string): string[] {
  const words = mnemonic.trim().toLowerCase().split(/\s+/);
  // The message names no word: the words are the secret.
  if (words.length < 20 || !words.every((w) => /^[a-z]+$/.test(w))) {
    throw new KeyriteError('share sheet: the mnemonic is not a list of SLIP-39 words (letters a-z, at least 20 words)');
  }
  return words;
}

const WORD_COLUMNS = 3;

function wordGrid(words: string[]): string {
  const rows = Math.ceil(words.length / WORD_COLUMNS);
  const items = words
    .map((w, i) => `<li><span class="n">${i + 1}</span><span class="w">${esc(w)}</span></li>`)
    .join('');
  return `<ol class="words" style="grid-template-rows: repeat(${rows}, auto)">${items}</ol>`;
}

/** Printed QR width for the wrapped-key codes: one row across the 190 mm sheet, at most 38 mm each. */
/** One row: a single (small) code at 38 mm; several large codes share the 190 mm row, up to 62 mm each. */
function wrappedQrSize(count: number): string {
  if (count === 1) return '38mm';
  const perRow = Math.min(count, 3);
  return `${Math.min(62, Math.floor((190 - (perRow - 1) * 3) / perRow))}mm`;
}

function fingerprintHtml(fp: string): string {
  if (isHex(fp, 64)) {
    return `<span class="fp-note">SHA-256 of the public key (SPKI)</span><br>` +
      fingerprintLines(fp).map((l) => `<span class="fp-line">${esc(l)}</span>`).join('<br>');
  }
  return `<span class="fp-line">${esc(fp)}</span>`;
}

const CSS = `
*{box-sizing:border-box}
html,body{margin:0;padding:0;background:#fff;color:#000}
body{font-family:"DejaVu Sans","Liberation Sans",Arial,Helvetica,sans-serif;font-size:9pt;line-height:1.3;
 -webkit-print-color-adjust:exact;print-color-adjust:exact}
.sheet{width:190mm;margin:0 auto;padding:0}
.mono,.words,.fp-line,code{font-family:"DejaVu Sans Mono","Liberation Mono","Courier New",monospace}
.banner{border:1mm solid #000;text-align:center;font-weight:bold;font-size:15pt;letter-spacing:.04em;padding:.6mm 0;margin-bottom:1.5mm}
footer .rehearsal{font-weight:bold}
.notice{margin:.4mm 0;font-weight:bold;font-size:7pt;line-height:1.15}
.has-notice .howto,.has-notice .wrapped .small{line-height:1.15}
.nowrap{white-space:nowrap}
.kind{font-size:8pt;text-transform:uppercase;letter-spacing:.08em;border-bottom:.3mm solid #000;padding-bottom:.8mm;display:flex;justify-content:space-between}
h1{font-size:15pt;margin:1.2mm 0 1.5mm}
h2{font-size:10pt;margin:0 0 1.2mm;text-transform:uppercase;letter-spacing:.05em}
table.meta{width:100%;border-collapse:collapse;font-size:9pt}
table.meta th{text-align:left;font-weight:normal;font-size:7.5pt;text-transform:uppercase;white-space:nowrap;vertical-align:top;padding:.5mm 2mm .5mm 0;width:1%}
table.meta td{vertical-align:top;padding:.5mm 3mm .5mm 0}
.fp-note{font-size:7pt}
.fp-line{font-size:10.5pt;font-weight:bold;letter-spacing:.03em;white-space:nowrap}
.share{display:flex;gap:5mm;align-items:flex-start;border:.5mm solid #000;padding:2mm 3mm;margin:2mm 0}
ol.words{list-style:none;margin:0;padding:0;display:grid;grid-auto-flow:column;grid-template-columns:repeat(${WORD_COLUMNS},auto);
 column-gap:5mm;row-gap:0;flex:1}
ol.words li{display:flex;align-items:baseline;gap:2mm;border-bottom:.2mm solid #999;padding:.25mm 0;white-space:nowrap}
ol.words .n{font-size:9pt;width:6mm;text-align:right}
ol.words .w{font-size:13pt;font-weight:bold;letter-spacing:.04em}
aside.mqr{width:50mm;text-align:center}
.cap{font-size:7.5pt;margin-top:.5mm}
dl.checks{margin:2mm 0 0;text-align:left}
dl.checks dt{font-size:7.5pt;text-transform:uppercase}
dl.checks dd{margin:0 0 1.2mm;font-size:12pt;font-weight:bold;font-family:"DejaVu Sans Mono","Liberation Mono",monospace}
.wrapped{margin:0 0 2mm}
.wqr{display:flex;flex-wrap:wrap;gap:2.5mm 3mm}
figure{margin:0;text-align:center}
figcaption{font-size:8pt;font-weight:bold}
.small{font-size:7.5pt;margin:1mm 0 0}
.howto ol{margin:0;padding-left:5mm;font-size:8pt}
.howto li{margin-bottom:.6mm}
code{font-size:8pt}
.sign{display:grid;grid-template-columns:1fr 1fr;gap:0 8mm;margin-top:1mm}
.line{border-bottom:.3mm solid #000;height:8.5mm;display:flex;align-items:flex-end;font-size:7.5pt;padding-bottom:.5mm}
.line span{background:#fff}
.under{font-size:7.5pt;margin:0}
footer{margin-top:2mm;font-size:7.5pt;border-top:.3mm solid #000;padding-top:.8mm;display:flex;justify-content:space-between}
svg.qr{display:block;margin:0 auto}
`;

/** Renders a share sheet as a complete, self-contained HTML document. */
export async function renderShareSheet(data: ShareSheetData): Promise<string> {
  return renderShareSheetSync(data);
}

/**
 * The first recovery step in words a custodian reads once: with one group it is just "M of the N
 * shares"; with several, how many groups and, from each, that group's own threshold.
 */
function gatherText(d: ShareSheetData): string {
  const passphrase = d.passphrase ? ', and the SLIP-39 passphrase' : '';
  if (d.groupCount === 1) return `Gather ${d.memberThreshold} of the ${d.memberCount} shares${passphrase}.`;
  const groups = d.groupThreshold === d.groupCount ? `all ${d.groupCount} groups` : `${d.groupThreshold} of the ${d.groupCount} groups`;
  return `Gather shares from ${groups}: from each, as many as that group needs (this group: ${d.memberThreshold} of ${d.memberCount})${passphrase}.`;
}

/** Same as renderShareSheet, synchronously (QR codes are computed in memory). */
export function renderShareSheetSync(data: ShareSheetData): string {
  const words = normalizeWords(data.mnemonic);
  const upper = words.join(' ').toUpperCase();
  const wrapped = Buffer.from(data.wrappedRootKey);
  const chunks = encodeWrappedChunks(wrapped);
  const wrappedSha = createHash('sha256').update(wrapped).digest('hex');
  const qrSize = wrappedQrSize(chunks.length);
  const pos = `${data.group}-${data.member}`;
  const page = data.paper ? `@page{size:${data.paper};margin:8mm}` : '@page{margin:8mm}';
  const banner = data.rehearsal ? '<div class="banner">REHEARSAL — NOT A REAL SHARE</div>' : '';
  const witnesses = data.witnessNames.length ? ` (${data.witnessNames.map(esc).join(', ')})` : '';
  const groupsNeeded = `${data.groupThreshold} of ${data.groupCount} group${data.groupCount === 1 ? '' : 's'} needed`;

  const wrappedQrs = chunks
    .map((c, i) => `<figure>${alphanumericQrSvg(c, { size: qrSize, name: `wrapped-${i + 1}`, label: `Wrapped root key, part ${i + 1} of ${chunks.length}`, ecc: WRAPPED_QR_ECC })}` +
      `<figcaption>Wrapped key ${i + 1}/${chunks.length}</figcaption></figure>`)
    .join('');

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Share ${esc(pos)} · ${esc(data.custodian.name)} · ${esc(data.ceremonyId)}</title>
<style>${page}${CSS}</style></head>
<body><main class="sheet${data.notice ? ' has-notice' : ''}" data-ceremony="${esc(data.ceremonyId)}" data-share="${esc(pos)}">
${banner}<div class="kind"><span>Keyrite · SLIP-39 backup share · secret: keep sealed</span><span>Share ${esc(pos)}</span></div>
<h1>${esc(data.title)}</h1>
<table class="meta">
<tr><th>Ceremony</th><td class="mono">${esc(data.ceremonyId)}</td><th>Custodian</th><td><b>${esc(data.custodian.name)}</b> (${esc(data.custodian.id)})</td></tr>
<tr><th>Root key</th><td><span class="mono">${esc(data.rootLabel)}</span> · <span class="nowrap">${esc(data.rootAlgorithm)}</span></td>
<th>Position</th><td>Group <b>${data.group}</b> of ${data.groupCount} (${groupsNeeded})<br>Member <b>${data.member}</b> of ${data.memberCount} (${data.memberThreshold} of ${data.memberCount} needed in this group)</td></tr>
<tr><th>Fingerprint</th><td colspan="3" class="fp">${fingerprintHtml(data.rootFingerprint)}</td></tr>
</table>
<section class="share">
${wordGrid(words)}
<aside class="mqr">${alphanumericQrSvg(upper, { size: '44mm', name: 'mnemonic', label: 'Share words' })}
<div class="cap">The ${words.length} words above (uppercase)</div>
<dl class="checks"><dt>Share check value</dt><dd class="check-value">${esc(data.checkValue)}</dd>
<dt>Backup key KCV</dt><dd class="kek-kcv">${esc(data.kekKcv)}</dd></dl></aside>
</section>
<section class="wrapped"><h2>Wrapped root key · ${chunks.length} QR code${chunks.length === 1 ? '' : 's'}</h2>
<div class="wqr">${wrappedQrs}</div>
<p class="small">backup/root.wrapped (root key under the backup key, RFC 5649): ${wrapped.length} bytes, SHA-256 <span class="mono">${esc(wrappedSha)}</span>.
Each code reads <span class="mono">KRW1:part/parts:digest:base32</span>; join the base32 in part order and decode.</p>
</section>
${data.notice ? `<p class="notice">${esc(data.notice)}</p>\n` : ''}<section class="howto"><h2>Recovery</h2><ol>
<li>${gatherText(data)}</li>
<li>With Keyrite: <code>keyrite recover --bundle &lt;bundle folder&gt; --module &lt;PKCS#11 library&gt; --token &lt;token label&gt;</code>, then type or scan each share.</li>
<li>Without Keyrite: combine the shares with any SLIP-39 tool into the 32-byte backup key (its KCV must be ${esc(data.kekKcv)}), then unwrap backup/root.wrapped with AES key wrap with padding (RFC 5649): the result is the root key (PKCS#8 DER, or the raw key for AES). If the bundle is lost, the wrapped-key codes above give backup/root.wrapped.</li>
<li>The recovered key must show the fingerprint printed above. Then seal this sheet again.</li>
</ol></section>
<section class="sign">
<div class="line"><span>Custodian: ${esc(data.custodian.name)}, signature</span></div>
<div class="line"><span>Witness${witnesses}, name and signature</span></div>
<div class="line"><span>Date</span></div>
<div class="line"><span>Tamper-evident bag number</span></div>
</section>
<footer><span class="mono">${esc(data.ceremonyId)}</span><span>Share ${esc(pos)} · ${esc(data.custodian.id)}</span><span${data.rehearsal ? ' class="rehearsal">REHEARSAL — NOT A REAL SHARE' : '>Keyrite share sheet'}</span></footer>
</main></body></html>
`;
}
