/**
 * The one-page attestation the people in the room sign by hand (docs/transcript.md, "paper anchor"): the
 * ceremony, its root key's fingerprint and, above all, the statement digest — in hex and as PGP
 * words, as it was read aloud at the end — with a signature line for every witness and the
 * administrator. Kept with the share envelopes, it lets anyone later tie the bundle to what the room
 * saw: `keyrite verify BUNDLE --expect-statement <digest>`.
 *
 * Rendered on demand (`keyrite report BUNDLE --attestation`, the app's last screen), never written
 * into the bundle: the bundle's files are fixed by its signed statement (docs/sheets.md).
 * A pure function: data in, HTML out; no scripts, nothing fetched.
 */
import { pgpWordsOfHex } from '../transcript/pgp-words.ts';
import { esc, fingerprintLines } from './html.ts';

export interface AttestationData {
  kind: 'ceremony' | 'recovery';
  ceremonyId: string;
  title: string;
  rehearsal: boolean;
  /** UTC RFC 3339 times of the first and last events. */
  startedAt: string;
  endedAt: string;
  root: { algorithm: string; label: string; publicKeySha256?: string; kcv?: string };
  statementSha256: string;
  chainHead: string;
  eventCount: number;
  /** Every signature in the envelope: transcript signers, then co-signers with their participant. */
  signatures: { keyid: string; role: string; participant?: string }[];
  /** Who signs the paper: the plan's witnesses and administrator. */
  signatories: { id: string; name: string; role: string }[];
  paper?: 'A4' | 'Letter';
}

const CSS = `
body{font:9.5pt/1.3 "DejaVu Sans",Arial,sans-serif;color:#000;margin:0}
h1{font-size:15pt;margin:0 0 2mm}h2{font-size:10.5pt;margin:3mm 0 1.2mm;border-bottom:.3mm solid #000}
.banner{border:.6mm solid #000;padding:1.2mm;text-align:center;font-weight:bold;font-size:13pt;margin-bottom:3mm}
.mono,.hex{font-family:"DejaVu Sans Mono",monospace}.hex{font-size:11pt;letter-spacing:.02em}
.digest{border:.5mm solid #000;padding:2.5mm 3mm;margin:1mm 0}
.words{font-size:10.5pt;line-height:1.5;display:grid;grid-template-columns:repeat(8,auto);justify-content:space-between;margin-top:1mm}
table{border-collapse:collapse;width:100%}td,th{border:.2mm solid #000;padding:.8mm 1.5mm;text-align:left;vertical-align:top}
th{font-size:9pt}td.sig{height:7mm;width:45%}.small{font-size:8.5pt}
dl{display:grid;grid-template-columns:34mm 1fr;gap:.6mm 3mm;margin:0}dt{font-weight:bold}dd{margin:0}
`;

function words(hex: string): string {
  const list = pgpWordsOfHex(hex);
  // A grid of 8 columns; the spaces keep the words apart in copied text.
  return list.map((w) => `<span>${esc(w)}</span>`).join(' ');
}

/** "2026-11-22T09:00:00.000Z" as the report writes times, "2026-11-22 09:00:00" (UTC said once, after both). */
function utcTime(iso: string): string {
  return iso.replace('T', ' ').replace(/(\.\d+)?Z$/, '');
}

export function renderAttestation(d: AttestationData): string {
  const what = d.kind === 'recovery' ? 'recovery' : 'ceremony';
  const banner = d.rehearsal ? `<div class="banner">REHEARSAL — NOT A REAL ${what.toUpperCase()}</div>` : '';
  const fingerprint = d.root.publicKeySha256
    ? fingerprintLines(d.root.publicKeySha256).map((l) => `<span class="hex">${esc(l)}</span>`).join('<br>')
    : `<span class="hex">KCV ${esc(d.root.kcv)}</span>`;
  const sigRows = d.signatures
    .map((s) => `<tr><td>${esc(s.role)}${s.participant ? ` (${esc(s.participant)})` : ''}</td><td class="mono small">${esc(s.keyid)}</td></tr>`)
    .join('');
  const people = [...d.signatories, { id: '', name: '', role: '' }];
  const signRows = people
    .map((p) => `<tr><td>${esc(p.name)}${p.id ? ` <span class="small">(${esc(p.id)})</span>` : ''}</td><td>${esc(p.role)}</td><td class="sig"></td><td></td></tr>`)
    .join('');
  const size = d.paper === 'Letter' ? 'letter' : 'A4';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Attestation · ${esc(d.ceremonyId)}</title>
<style>@page{size:${size};margin:12mm 14mm}${CSS}</style></head>
<body><main data-ceremony="${esc(d.ceremonyId)}" data-statement="${esc(d.statementSha256)}">
${banner}<h1>${d.kind === 'recovery' ? 'Recovery' : 'Ceremony'} attestation</h1>
<dl>
<dt>Ceremony</dt><dd><span class="mono">${esc(d.ceremonyId)}</span> — ${esc(d.title)}</dd>
<dt>Held</dt><dd>${esc(utcTime(d.startedAt))} to ${esc(utcTime(d.endedAt))} UTC</dd>
<dt>Root key</dt><dd>${esc(d.root.label)} (${esc(d.root.algorithm)})</dd>
<dt>Fingerprint</dt><dd>${fingerprint}</dd>
<dt>Transcript</dt><dd>${esc(d.eventCount)} events, chain head <span class="mono small">${esc(d.chainHead)}</span></dd>
</dl>
<h2>Statement digest</h2>
<div class="digest"><div class="hex">${fingerprintLines(d.statementSha256).map(esc).join('<br>')}</div>
<div class="words">${words(d.statementSha256)}</div></div>
<p class="small">SHA-256 of the signed statement (the decoded payload of <span class="mono">transcript.dsse.json</span>), in hex and
in the PGP word list (two-syllable words for the 1st, 3rd, … byte; three-syllable words for the 2nd, 4th, …).
Check a bundle against this page with <span class="mono">keyrite verify BUNDLE --expect-statement ${esc(d.statementSha256)}</span>.</p>
<h2>Signatures in the envelope</h2>
<table><tr><th>Signer</th><th>Key id (SHA-256 of the public key)</th></tr>${sigRows}</table>
<h2>We were present</h2>
<p>We, the undersigned, were present at this ${what}. The statement digest above was shown and read aloud at its end,
and it is the digest we heard.</p>
<table><tr><th>Name</th><th>Role</th><th>Signature</th><th>Date</th></tr>${signRows}</table>
</main></body></html>
`;
}
