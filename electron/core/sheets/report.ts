/**
 * The ceremony report (docs/transcript.md report.html, issue 6): a printable account of the ceremony built
 * from the transcript alone, in the spirit of the CA/B Forum BR 6.1.1.1 key generation report.
 * Pure and deterministic: the same events give the same bytes (no clock, no randomness), so an
 * auditor can re-render it with `keyrite report` and compare. Every transcript string is escaped;
 * the transcript holds no secret, and nothing here adds one (the wrapped key is shown by digest only).
 */
import type { TranscriptEvent } from '../transcript/events.ts';
import { GENESIS_PREV } from '../transcript/events.ts';
import { canonicalJson, sha256Hex } from '../transcript/chain.ts';
import { esc, fingerprintLines, isHex } from './html.ts';

export interface ReportOptions {
  /** The parsed plan.json; only used for plan steps that no event acknowledged (and as a fallback for names). */
  plan?: unknown;
  /** The parsed transcript.dsse.json, when re-rendering a signed bundle: lists who signed it. */
  envelope?: unknown;
}

type Obj = Record<string, unknown>;

const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));
const has = (v: unknown): boolean => v !== undefined && v !== null && v !== '';

/** A value or a visible dash, escaped. */
function val(v: unknown): string {
  return has(v) ? esc(str(v)) : '<span class="none">—</span>';
}

function yesNo(v: unknown, yes = 'yes', no = 'no'): string {
  if (v === true) return esc(yes);
  if (v === false) return `<b>${esc(no)}</b>`;
  return val(v);
}

function passFail(ok: unknown): string {
  return ok === true ? '<span class="pass">PASS</span>' : ok === false ? '<span class="fail">FAIL</span>' : val(ok);
}

/** "2026-11-22T14:07:15.123Z" → "2026-11-22 14:07:15 UTC". */
function fmtDateTime(t: unknown): string {
  const s = str(t);
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?Z$/.exec(s);
  return m ? `${m[1]} ${m[2]} UTC` : s;
}

function fmtDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const min = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h} h ${String(min).padStart(2, '0')} min ${String(sec).padStart(2, '0')} s` : `${min} min ${String(sec).padStart(2, '0')} s`;
}

/** A digest in full and in groups of four, for reading aloud. */
function digest(hex: unknown): string {
  const s = str(hex);
  if (!isHex(s) || s.length < 16) return val(hex);
  return `<span class="hex">${esc(s)}</span><br><span class="groups">${fingerprintLines(s).map(esc).join('<br>')}</span>`;
}

function row(label: string, value: string): string {
  return `<tr><th>${esc(label)}</th><td>${value}</td></tr>`;
}

function kv(rows: [string, string][]): string {
  return `<table class="kv">${rows.map(([l, v]) => row(l, v)).join('')}</table>`;
}

function table(head: string[], rows: string[][], cls = ''): string {
  if (rows.length === 0) return '<p class="none">None recorded.</p>';
  return `<table class="grid ${cls}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

/** A string safe inside a CSS "…" literal (used in @page margin boxes). */
function cssString(s: string): string {
  return s.replace(/[^A-Za-z0-9 ._-]/g, (c) => `\\${c.codePointAt(0)!.toString(16)} `);
}

function eventHash(e: TranscriptEvent): string | undefined {
  try {
    return sha256Hex(canonicalJson(e));
  } catch {
    return undefined;
  }
}

interface Signer { role: string; keyid: string; label?: string; signed?: boolean }

function envelopeSigners(envelope: unknown): { signers: Signer[]; error?: string } {
  const env = obj(envelope);
  const sigIds = new Set(arr(env.signatures).map((s) => str(obj(s).keyid)));
  try {
    const statement = obj(JSON.parse(Buffer.from(str(env.payload), 'base64').toString('utf8')));
    const listed = arr(obj(statement.predicate).signers).map((s) => ({
      role: str(obj(s).role), keyid: str(obj(s).keyid), signed: sigIds.has(str(obj(s).keyid)),
    }));
    const extra = [...sigIds].filter((k) => !listed.some((s) => s.keyid === k)).map((k) => ({ role: '(not in statement)', keyid: k, signed: true }));
    return { signers: [...listed, ...extra] };
  } catch {
    return { signers: [...sigIds].map((k) => ({ role: '', keyid: k, signed: true })), error: 'the envelope payload could not be read' };
  }
}

const CSS = `
*{box-sizing:border-box}
html,body{margin:0;padding:0;background:#fff;color:#000}
body{font-family:"DejaVu Sans","Liberation Sans",Arial,Helvetica,sans-serif;font-size:9pt;line-height:1.35;
 -webkit-print-color-adjust:exact;print-color-adjust:exact}
main{max-width:180mm;margin:0 auto}
h1{font-size:17pt;margin:0 0 1mm}
h2{font-size:12pt;margin:6mm 0 2mm;border-bottom:.4mm solid #000;padding-bottom:.5mm;break-after:avoid}
h3{font-size:10pt;margin:3mm 0 1.5mm;break-after:avoid}
.kind{font-size:8pt;text-transform:uppercase;letter-spacing:.08em}
.status{border:1mm solid #000;padding:2mm 3mm;margin:3mm 0;font-size:10pt}
.status .word{font-size:18pt;font-weight:bold;letter-spacing:.05em;display:block}
.status.incomplete{border-style:double;border-width:2mm}
.rehearsal{border:.8mm dashed #000;text-align:center;font-weight:bold;font-size:13pt;padding:1mm;margin:2mm 0}
table{border-collapse:collapse;width:100%;margin:0 0 2mm}
table.kv th{text-align:left;font-weight:normal;width:42mm;vertical-align:top;padding:.6mm 2mm .6mm 0;color:#000;font-size:8pt;text-transform:uppercase}
table.kv td{vertical-align:top;padding:.6mm 0;overflow-wrap:break-word}
table.grid th{text-align:left;border-bottom:.4mm solid #000;font-size:8pt;padding:.8mm 1.5mm;vertical-align:bottom}
table.grid td{border-bottom:.2mm solid #888;padding:.8mm 1.5mm;vertical-align:top;overflow-wrap:break-word}
.time,.nowrap{white-space:nowrap}
thead{display:table-header-group}
tr{break-inside:avoid}
.hex,.groups,.mono,.log td{font-family:"DejaVu Sans Mono","Liberation Mono","Courier New",monospace}
.hex{font-size:7.5pt;word-break:break-all}
.path{overflow-wrap:anywhere}
.groups{font-size:10pt;font-weight:bold;letter-spacing:.03em}
table.grid .groups{font-size:8pt;letter-spacing:0}
.pass{font-weight:bold}
.fail,.warn{font-weight:bold;text-decoration:underline}
.none{color:#444}
.log{font-size:7pt}
.log td{padding:.3mm 1mm}
.sig{break-inside:avoid;display:grid;grid-template-columns:1fr 1fr;gap:0 10mm;margin-top:3mm}
.sig .who{grid-column:1/3;font-weight:bold;margin-top:3mm}
.line{border-bottom:.3mm solid #000;height:11mm;display:flex;align-items:flex-end;font-size:7.5pt;padding-bottom:.5mm}
.signatures{break-before:auto}
.signoff{break-inside:avoid}
@media screen{body{padding:10mm 6mm}}
.statement{break-inside:avoid}
`;

/** Renders report.html from the transcript's events (see ReportOptions for the optional extras). */
export function renderReport(events: TranscriptEvent[], opts: ReportOptions = {}): string {
  const all = (type: string) => events.filter((e) => e.type === type);
  const first = (type: string) => events.find((e) => e.type === type);
  const dataOf = (type: string) => obj(first(type)?.data);

  const started = first('ceremony.started');
  const sd = obj(started?.data);
  const plan = obj(opts.plan);
  const ceremonyId = str(sd.ceremonyId) || str(plan.id);
  const title = str(sd.title) || str(plan.title);
  const participants = (arr(sd.participants).length ? arr(sd.participants) : arr(plan.participants)).map((p) => ({
    id: str(obj(p).id), name: str(obj(p).name), role: str(obj(p).role),
  }));
  const nameOf = (id: unknown): string => {
    const p = participants.find((x) => x.id === id);
    return p ? `${esc(p.name)} <span class="none">(${esc(p.id)})</span>` : id === 'system' ? 'system' : val(id);
  };
  const startDay = str(events[0]?.time).slice(0, 10);
  const t = (time: unknown) => {
    // Times on the ceremony's first day show as hh:mm:ss; the header says they are UTC.
    const s = fmtDateTime(time);
    return `<span class="time">${esc(str(time).slice(0, 10) === startDay ? s.slice(11, 19) : s)}</span>`;
  };

  const last = events[events.length - 1];
  const completedEv = first('ceremony.completed');
  const complete = !!last && last.type === 'ceremony.completed';
  const aborted = first('ceremony.aborted');
  const rehearsal = sd.rehearsal === true;

  // Hash chain, recomputed: the report states whether the log it was made from links up.
  const hashes = events.map(eventHash);
  let chainStatus = events.length ? `all ${events.length} events link (seq 0 … ${events.length - 1})` : 'no events';
  for (let i = 0; i < events.length; i++) {
    const expectPrev = i === 0 ? GENESIS_PREV : hashes[i - 1];
    if (events[i].seq !== i || events[i].prev !== expectPrev) {
      chainStatus = `<span class="fail">BROKEN at event ${i} (seq ${esc(events[i].seq)})</span>`;
      break;
    }
  }

  const out: string[] = [];

  // ---- Header and status ----
  const startTime = events[0]?.time;
  const endTime = last?.time;
  const duration = startTime && endTime ? fmtDuration(Date.parse(endTime) - Date.parse(startTime)) : '';
  out.push(`<div class="kind">Keyrite · key ceremony report</div><h1>${val(title)}</h1>`);
  if (rehearsal) out.push('<div class="rehearsal">REHEARSAL — NOT A PRODUCTION CEREMONY</div>');
  if (complete) {
    out.push(`<div class="status complete" id="status"><span class="word">COMPLETE</span>The ceremony finished: <i>ceremony.completed</i> recorded at ${esc(fmtDateTime(last.time))}.</div>`);
  } else {
    const acks = all('step.acknowledged');
    const lastAck = acks[acks.length - 1];
    const why = aborted
      ? `Stopped at step <b>${val(obj(aborted.data).step)}</b>: ${val(obj(aborted.data).reason)}${has(obj(aborted.data).error) ? ` (${esc(str(obj(aborted.data).error))})` : ''}.`
      : 'The transcript ends before <i>ceremony.completed</i>.';
    out.push(`<div class="status incomplete" id="status"><span class="word">INCOMPLETE</span>${why}<br>` +
      `Last event reached: ${last ? `#${esc(last.seq)} <b>${esc(last.type)}</b> at ${esc(fmtDateTime(last.time))}` : 'none'}.` +
      (lastAck ? ` Last plan step acknowledged: <b>${val(obj(lastAck.data).step)}</b>.` : '') +
      '<br>Nothing in this report after that point happened.</div>');
  }
  const app = obj(sd.app);
  out.push(kv([
    ['Ceremony id', `<span class="mono">${val(ceremonyId)}</span>`],
    ['Title', val(title)],
    ['Date', val(startTime ? fmtDateTime(startTime).slice(0, 10) : '')],
    ['Started', val(startTime ? fmtDateTime(startTime) : '')],
    ['Ended', val(endTime ? fmtDateTime(endTime) : '')],
    ['Duration', val(duration)],
    ['Times', 'all times in this report are UTC'],
    ['Kind', rehearsal ? '<b>rehearsal</b>' : sd.rehearsal === false ? 'production' : val(undefined)],
    ['Software', `${val(app.name)} ${esc(str(app.version))}${has(sd.frontEnd) ? ` (${esc(str(sd.frontEnd))})` : ''}`],
    // Which program ran (core/code.ts): compare with the release's published digest (docs/desktop.md).
    ['Code SHA-256', has(obj(app.code).sha256) ? `${digest(obj(app.code).sha256)}<br>${val(obj(app.code).what)}` : val(obj(app.code).what)],
    ['Plan SHA-256', digest(sd.planSha256)],
  ]));

  // ---- Participants ----
  out.push('<h2>Participants</h2>');
  const checkIns = all('participant.checked-in');
  out.push(table(['Name', 'Id', 'Role', 'Checked in'], participants.map((p) => {
    const ci = checkIns.find((e) => obj(e.data).participant === p.id);
    return [esc(p.name), `<span class="mono">${esc(p.id)}</span>`, esc(p.role), ci ? t(ci.time) : '<span class="none">—</span>'];
  })));

  // ---- Steps ----
  out.push('<h2>Ceremony script</h2>');
  const ackRows = all('step.acknowledged').map((e) => {
    const d = obj(e.data);
    return [`<span class="mono">${val(d.step)}</span>`, val(d.text), arr(d.by).map(nameOf).join(', ') || val(undefined), t(e.time), `<span class="nowrap">${val(d.method)}</span>`];
  });
  const acked = new Set(all('step.acknowledged').map((e) => str(obj(e.data).step)));
  for (const s of arr(plan.steps)) {
    const st = obj(s);
    if (!acked.has(str(st.id))) {
      ackRows.push([`<span class="mono">${val(st.id)}</span>`, val(st.text), arr(st.ackBy).map(nameOf).join(', '), '<span class="fail">NOT ACKNOWLEDGED</span>', '']);
    }
  }
  out.push(table(['Step', 'Text', 'Acknowledged by', 'Time', 'How'], ackRows));

  // ---- Machine and network ----
  out.push('<h2>Machine and network</h2>');
  const host = obj(sd.host);
  const ifaces = arr(host.networkInterfaces).map(obj);
  const upExternal = ifaces.filter((i) => i.up === true && i.internal !== true);
  out.push(kv([
    ['Platform', `${val(host.platform)} ${esc(str(host.arch))}${has(host.release) ? ` · ${esc(str(host.release))}` : ''}`],
    ['Host name', val(host.hostname)],
    ['Network', !started ? val(undefined) : upExternal.length === 0
      ? '<b>offline</b>: no network interface other than loopback was up'
      : `<span class="warn">NETWORK INTERFACE UP</span>: ${upExternal.map((i) => esc(str(i.name))).join(', ')}`],
  ]));
  out.push(table(['Interface', 'State', 'Loopback', 'Addresses'], ifaces.map((i) => [
    // Loopback never counts as a network (the air-gap check skips it), so it is not called "down" either.
    `<span class="mono">${val(i.name)}</span>`, i.internal === true ? 'loopback' : i.up === true ? '<b>up</b>' : 'down', i.internal === true ? 'yes' : i.internal === false ? 'no' : val(i.internal), arr(i.addresses).map((a) => esc(str(a))).join('<br>'),
  ])));

  // ---- HSM ----
  out.push('<h2>Hardware security module</h2>');
  const hsm = dataOf('hsm.selected');
  const mod = obj(hsm.module);
  const tok = obj(hsm.token);
  const login = first('hsm.logged-in');
  out.push('<h3>Module (PKCS#11 library)</h3>');
  out.push(kv([
    ['Path', `<span class="mono path">${val(mod.path)}</span>`],
    ['Module SHA-256', digest(mod.sha256)],
    ['Manufacturer', val(mod.manufacturer)],
    ['Library', `${val(mod.library)}${has(mod.libraryVersion) ? ` ${esc(str(mod.libraryVersion))}` : ''}`],
    ['Cryptoki version', val(mod.cryptokiVersion)],
  ]));
  out.push('<h3>Token</h3>');
  out.push(kv([
    ['Label', val(tok.label)],
    ['Manufacturer', val(tok.manufacturer)],
    ['Model', val(tok.model)],
    ['Serial number', `<span class="mono">${val(tok.serialNumber)}</span>`],
    ['Firmware', val(tok.firmware)],
    ['Flags', arr(tok.flags).map((f) => esc(str(f))).join(', ') || val(undefined)],
    ['Logged in', login ? `${t(login.time)} by ${nameOf(login.actor)}` : val(undefined)],
  ]));
  out.push('<h3>Mechanisms the ceremony needs</h3>');
  out.push(table(['Mechanism', 'Type', 'Needed for', 'Offered'], arr(hsm.mechanisms).map(obj).map((m) => [
    `<span class="mono">${val(m.name)}</span>`, `<span class="mono">${val(m.type)}</span>`, val(m.needed), yesNo(m.present, 'yes', 'NO'),
  ])));

  // ---- Self-tests and checks ----
  out.push('<h2>Self-tests and checks</h2>');
  const checkRows: string[][] = [];
  for (const e of all('preflight.passed')) for (const c of arr(obj(e.data).checks).map(obj)) checkRows.push(['preflight', val(c.name), passFail(c.ok), val(c.detail), t(e.time)]);
  for (const e of all('selftest.kwp')) {
    const d = obj(e.data);
    checkRows.push(['self-test', `AES key wrap with padding (RFC 5649) known answer, ${esc(str(d.mechanism))}`, passFail(d.ok),
      `token pads input with zeros: ${yesNo(d.zeroPadsInput)}`, t(e.time)]);
  }
  for (const e of all('key.verified')) for (const c of arr(obj(e.data).checks).map(obj)) checkRows.push(['root key', val(c.name), passFail(c.ok), val(c.detail), t(e.time)]);
  for (const e of all('backup.recovery-tested')) {
    const d = obj(e.data);
    const used = arr(d.shares).map(obj).map((s) => `${esc(str(s.group))}-${esc(str(s.member))}`).join(', ');
    checkRows.push(['recovery test', `shares combined: ${used || '—'}`, passFail(d.ok),
      `backup key KCV matches: ${yesNo(d.kekKcvOk)}; same key after unwrap: ${yesNo(d.sameKey)}${has(d.detail) ? `; ${esc(str(d.detail))}` : ''}`, t(e.time)]);
  }
  out.push(table(['Kind', 'Check', 'Result', 'Detail', 'Time'], checkRows));

  // ---- Root key ----
  out.push('<h2>Root key</h2>');
  const keyEv = first('key.generated');
  const key = obj(keyEv?.data);
  const pub = obj(key.publicKey);
  const sealed = first('key.sealed');
  out.push(kv([
    ['Label', `<span class="mono">${val(key.label)}</span>`],
    ['Algorithm', val(key.algorithm)],
    ['Object id (CKA_ID)', `<span class="mono">${val(key.id)}</span>`],
    ['Generated', keyEv ? `${t(keyEv.time)} by ${nameOf(keyEv.actor)}` : val(undefined)],
    has(pub.sha256)
      ? ['Fingerprint (SHA-256 of SPKI)', digest(pub.sha256)]
      : ['Key check value (KCV)', `<span class="groups">${val(key.kcv)}</span>`],
    ['Sealed after export', sealed ? `${t(sealed.time)}: extractable ${yesNo(obj(sealed.data).extractable)}` : val(undefined)],
  ]));
  // docs/plan.md: sealing is the default; a plan that turns it off is written out and shown as a warning.
  if (obj(plan.key).sealAfterExport === false)
    out.push(
      '<p class="warning" id="warning-unsealed"><span class="warn">WARNING: ROOT KEY NOT SEALED</span> — the plan sets ' +
        '<span class="mono">key.sealAfterExport: false</span>, so the root key stays extractable: anyone with the token and its PIN ' +
        'can wrap it out of the HSM again.</p>',
    );
  // Sorted, so that in-memory events and their JCS lines (sorted keys) render the same bytes.
  const attrs = Object.entries(obj(key.attributes)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (attrs.length) {
    out.push('<h3>Attributes read back from the token</h3>');
    out.push(table(['Attribute', 'Value'], attrs.map(([k, v]) => [`<span class="mono">${esc(k)}</span>`, `<span class="mono">${esc(str(v))}</span>`])));
  }

  // ---- Backup ----
  out.push('<h2>Backup (SLIP-39 shares of the backup key)</h2>');
  const split = dataOf('backup.split');
  const wrappedEv = dataOf('backup.wrapped');
  const wiped = first('backup.kek-wiped');
  const groups = arr(split.groups).map(obj);
  out.push(kv([
    ['Scheme', val(split.scheme)],
    ['Set identifier', val(split.identifier)],
    ['Extendable', yesNo(split.extendable)],
    ['Iteration exponent', val(split.iterationExponent)],
    ['Passphrase', yesNo(split.passphrase)],
    ['Layout', groups.length ? `${esc(str(split.groupThreshold))} of ${groups.length} group${groups.length === 1 ? '' : 's'} needed; ` +
      groups.map((g, i) => `group ${i + 1}: ${esc(str(g.threshold))} of ${esc(str(g.count))}`).join('; ') : val(undefined)],
    ['Backup key KCV', `<span class="groups">${val(split.kekKcv)}</span>`],
    ['Wrapped root key', has(wrappedEv.sha256) ? `<span class="mono">${val(wrappedEv.path)}</span>, ${val(wrappedEv.mechanism)}` : val(undefined)],
    ['Wrapped key SHA-256', digest(wrappedEv.sha256)],
    ['Backup key wiped', wiped ? t(wiped.time) : val(undefined)],
  ]));
  // Where the sheets went (docs/sheets.md): the CUPS queue, its device and each check before the first sheet.
  for (const pc of all('printer.checked')) {
    const d = obj(pc.data);
    out.push(`<h3>Printer ${val(d.queue)}</h3>`);
    out.push(kv([['Queue', `<span class="mono">${val(d.queue)}</span>`], ['Device', `<span class="mono">${val(d.deviceUri)}</span>`], ['Checked', t(pc.time)]]));
    out.push(table(['Check', 'Result', 'Detail'], arr(d.checks).map(obj).map((c) => [val(c.name), passFail(c.ok), val(c.detail)])));
  }
  const printed = all('share.printed');
  const confirmed = all('share.confirmed');
  const printedCell = (e: TranscriptEvent): string => {
    const d = obj(e.data);
    if (d.kind === 'printer')
      return `${t(e.time)} on <span class="mono">${val(d.output)}</span>, job ${val(d.jobId)}; spool ${d.spoolClean === true ? 'clean' : '<span class="fail">NOT CLEAN</span>'}${d.rehearsal === true ? ' (rehearsal)' : ''}`;
    if (d.kind === 'file') return `${t(e.time)} <b>written to a file (rehearsal)</b>`;
    // Bundles from before `kind`: the time, and the rehearsal flag.
    return `${t(e.time)}${d.rehearsal === true ? ' (rehearsal file)' : ''}`;
  };
  out.push(table(['Share', 'Custodian', 'Check value', 'Printed', 'Confirmed'], arr(split.shares).map(obj).map((s) => {
    const same = (e: TranscriptEvent) => obj(e.data).group === s.group && obj(e.data).member === s.member;
    const p = printed.find(same);
    const c = confirmed.find(same);
    const cd = obj(c?.data);
    const conf = c
      ? `${t(c.time)} (${val(cd.method)})${cd.checkValue === s.checkValue ? '' : ' <span class="fail">CHECK VALUE DIFFERS</span>'}`
      : '<span class="fail">NOT CONFIRMED</span>';
    return [`${esc(str(s.group))}-${esc(str(s.member))}`, nameOf(s.custodian), `<span class="mono">${val(s.checkValue)}</span>`,
      p ? printedCell(p) : val(undefined), conf];
  })));

  // ---- Exports ----
  out.push('<h2>Exports for online key management</h2>');
  const exportsEv = all('export.created');
  if (exportsEv.length === 0) out.push('<p class="none">None recorded.</p>');
  for (const e of exportsEv) {
    const d = obj(e.data);
    out.push(`<h3>${val(d.target)}</h3>`);
    out.push(kv([
      ['Kind', val(d.kind)],
      ['Algorithm', `<span class="mono">${val(d.algorithm)}</span>`],
      ['Wrap method', val(d.method)],
      ['Wrapping key SHA-256', digest(d.wrappingKeySha256)],
      ['Created', t(e.time)],
    ]));
    out.push(table(['File', 'SHA-256'], arr(d.files).map(obj).map((f) => [`<span class="mono path">${val(f.path)}</span>`, `<span class="hex">${val(f.sha256)}</span>`])));
  }

  // ---- Exceptions and notes ----
  out.push('<h2>Exceptions and notes</h2>');
  out.push(table(['Time', 'By', 'Kind', 'Text'], events
    .filter((e) => e.type === 'exception.recorded' || e.type === 'note.added' || e.type === 'ceremony.aborted')
    .map((e) => {
      const d = obj(e.data);
      const kind = e.type === 'note.added' ? 'note' : e.type === 'exception.recorded' ? '<b>exception</b>' : '<b>aborted</b>';
      const text = e.type === 'ceremony.aborted'
        ? `${val(d.reason)}${has(d.step) ? ` (step ${esc(str(d.step))})` : ''}${has(d.error) ? `: ${esc(str(d.error))}` : ''}`
        : `${val(d.text)}${has(d.step) ? ` (step ${esc(str(d.step))})` : ''}`;
      return [t(e.time), nameOf(e.actor), kind, text];
    })));

  // ---- Transcript and signers ----
  out.push('<h2>Transcript</h2>');
  out.push(kv([
    ['Events', esc(String(events.length))],
    ['Hash chain', chainStatus],
    // The chain head is the hash of the last line: the value the signed statement and `verify` use.
    ['Chain head (hash of the last event, signed)', last && hashes[hashes.length - 1] ? `#${esc(last.seq)}: ${digest(hashes[hashes.length - 1])}` : val(undefined)],
    ['Head before ceremony.completed (recorded in that event)', completedEv ? digest(obj(completedEv.data).chainHead) : '<span class="fail">not recorded: incomplete</span>'],
  ]));
  out.push('<h3>Transcript signers</h3>');
  if (opts.envelope !== undefined) {
    const { signers, error } = envelopeSigners(opts.envelope);
    if (error) out.push(`<p class="fail">${esc(error)}</p>`);
    out.push(table(['Role', 'Key id (SHA-256 of SPKI)', 'Signature present'], signers.map((s) => [val(s.role), digest(s.keyid), yesNo(s.signed)])));
    out.push('<p>Signatures are checked by <span class="mono">keyrite verify</span>, not by this report.</p>');
  } else {
    const signers: Signer[] = all('signer.generated').map((e) => ({ role: str(obj(e.data).role) || 'ceremony', keyid: str(obj(e.data).keyid), label: str(obj(e.data).label) }));
    if (has(pub.sha256)) signers.push({ role: 'root (proof of possession)', keyid: str(pub.sha256), label: str(key.label) });
    out.push(table(['Role', 'Key label', 'Key id (SHA-256 of SPKI)'], signers.map((s) => [esc(s.role), `<span class="mono">${val(s.label)}</span>`, digest(s.keyid)])));
    out.push('<p>These keys sign <span class="mono">transcript.dsse.json</span>; <span class="mono">keyrite verify</span> checks the signatures.</p>');
  }

  // ---- Signatures ----
  // One block, never split across pages: a signature line on a page of its own, away from the
  // statement it signs, is worth little (it moves to the next page whole; it fits on one).
  out.push('<section class="signoff">');
  out.push('<h2 class="signatures">Signatures</h2>');
  out.push(`<p class="statement">By signing, each participant states that they were present, that the ceremony ` +
    `followed the script above except for the exceptions recorded, and that this report is an accurate record of it.</p>`);
  for (const p of participants) {
    out.push(`<div class="sig" data-participant="${esc(p.id)}"><div class="who">${esc(p.name)} — ${esc(p.role)} <span class="none">(${esc(p.id)})</span></div>` +
      '<div class="line">Signature</div><div class="line">Date</div></div>');
  }
  out.push('</section>');

  // ---- Event log ----
  out.push('<h2>Appendix: event log</h2>');
  out.push(table(['#', 'Time (UTC)', 'Type', 'Actor', 'Event hash'], events.map((e, i) => [
    esc(e.seq), `<span class="time">${esc(str(e.time).replace('T', ' ').replace('Z', ''))}</span>`, esc(e.type), esc(e.actor), `<span class="hex">${esc(hashes[i] ?? '(not hashable)')}</span>`,
  ]), 'log'));

  const footer = cssString(`${ceremonyId || 'ceremony'} · ceremony report${complete ? '' : ' · INCOMPLETE'}`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Ceremony report · ${esc(ceremonyId)}</title>
<style>@page{margin:15mm 15mm 16mm;@bottom-left{content:"${footer}";font-size:7.5pt}@bottom-right{content:"Page " counter(page) " of " counter(pages);font-size:7.5pt}}
${CSS}</style></head>
<body><main data-ceremony="${esc(ceremonyId)}" data-status="${complete ? 'complete' : 'incomplete'}">
${out.join('\n')}
<p class="none">All times are UTC. Rendered by Keyrite from transcript.jsonl alone; re-render with <span class="mono">keyrite report BUNDLE</span>.</p>
</main></body></html>
`;
}
