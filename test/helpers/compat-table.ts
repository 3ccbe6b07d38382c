/**
 * Renders what the foreign-token integration tests saw (KEYRITE_COMPAT_OBSERVED=DIR) as the
 * Markdown tables of docs/hsm-compat-observed.md:
 *   KEYRITE_COMPAT_OBSERVED=/tmp/compat npx vitest run test/integration/tokens-opencryptoki.test.ts test/integration/tokens-tpm2.test.ts
 *   npx tsx test/helpers/compat-table.ts /tmp/compat
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ListedToken } from './foreign-tokens.ts';

interface Observed {
  module: string;
  hsmList: ListedToken;
  ceremonies: { algorithm: string; outcome: string; message: string }[];
  operations: { what: string; outcome: string; detail: string }[];
}

const dir = process.argv[2];
if (!dir) throw new Error('usage: compat-table.ts DIR (the KEYRITE_COMPAT_OBSERVED folder)');
const tokens = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => ({ name: path.basename(f, '.json'), data: JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Observed }));

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const WORD: Record<string, string> = { native: 'native', FALLBACK: 'fallback', REFUSED: 'refused', usable: 'usable', MISSING: 'refused' };

/** "backup wrap: X; backup unwrap: X" → "backup wrap and unwrap: X"; the ceremony's prefix dropped. */
function reasons(detail: string): string {
  const text = detail.replace(/^.*cannot run this ceremony: /, '');
  const parts = text.split(/; (?=(?:root keygen|root sign|backup wrap|backup unwrap|signer|kcv|random|export[^:]*|seal)[^;]*: )/);
  const byReason = new Map<string, string[]>();
  for (const p of parts) {
    const m = /^([a-z -]+?): (.*)$/.exec(p);
    const [what, why] = m ? [m[1]!, m[2]!] : ['', p];
    byReason.set(why, [...(byReason.get(why) ?? []), what]);
  }
  return [...byReason].map(([why, whats]) => `${whats.filter(Boolean).join(' and ')}${whats.some(Boolean) ? ': ' : ''}${why}`).join('; ');
}

const names = tokens.map((t) => t.name);
const out: string[] = [];
out.push(`| capability | ${names.join(' | ')} |`, `|---|${names.map(() => '---').join('|')}|`);
const caps = [...new Set(tokens.flatMap((t) => t.data.hsmList.capabilities.map((c) => c.capability)))];
for (const cap of caps) {
  const cells = tokens.map((t) => {
    const c = t.data.hsmList.capabilities.find((x) => x.capability === cap);
    return c ? `**${WORD[c.status] ?? c.status}** — ${c.mechanism}: ${c.detail}` : '—';
  });
  out.push(`| ${cell(cap)} | ${cells.map(cell).join(' | ')} |`);
}
const algs = [...new Set(tokens.flatMap((t) => t.data.ceremonies.map((c) => c.algorithm)))];
for (const alg of algs) {
  const cells = tokens.map((t) => {
    const c = t.data.ceremonies.find((x) => x.algorithm === alg);
    if (!c) return '—';
    return c.outcome === 'completed' ? `**completed** (${c.message})` : `**refused** before any object — ${reasons(c.message.replace(/^keyrite: error: /, ''))}`;
  });
  out.push(`| ${alg} ceremony | ${cells.map(cell).join(' | ')} |`);
}
const ops = [...new Set(tokens.flatMap((t) => (t.data.operations ?? []).map((o) => o.what.replace(/ \(.*/, ''))))];
for (const op of ops) {
  const cells = tokens.map((t) => {
    const o = (t.data.operations ?? []).find((x) => x.what.startsWith(op));
    if (!o) return '—';
    const note = o.what.slice(op.length).trim().replace(/^\(|\)$/g, '');
    return `**${o.outcome}**${note ? ` (${note})` : ''} — ${o.detail.replace(/^keyrite: error: /, '')}`;
  });
  out.push(`| ${op} | ${cells.map(cell).join(' | ')} |`);
}
process.stdout.write(out.join('\n') + '\n');
