/**
 * How the printing tests learn a printed sheet's words without Keyrite writing them anywhere: `lp`
 * is found through PATH, and a tap in front of the real /usr/bin/lp copies the PDF it is given to a
 * unix socket the test listens on (memory only), then hands the same bytes to the real lp. The words
 * are read out of the PDF with pdftotext (stdin to stdout). `scanForShares` then looks for them on disk.
 * (The same technique as test/integration/printing-cups.test.ts.)
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { allWords } from '../../electron/core/shares/index.ts';

const WORDS = new Set(allWords());

export interface LpTap {
  pathDir: string;
  socket: string;
  pdfs: Buffer[];
  /** PATH and KEYRITE_TEST_LP_TAP for the process that prints. */
  env(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export async function lpTap(dir: string): Promise<LpTap> {
  mkdirSync(dir, { recursive: true });
  const socket = path.join(dir, 'tap.sock');
  const pdfs: Buffer[] = [];
  const server = net.createServer((conn) => {
    const chunks: Buffer[] = [];
    conn.on('data', (c) => chunks.push(c));
    conn.on('end', () => pdfs.push(Buffer.concat(chunks)));
  });
  await new Promise<void>((r) => server.listen(socket, r));
  const lp = path.join(dir, 'lp');
  writeFileSync(
    lp,
    [
      '#!/usr/bin/python3',
      'import os, socket, subprocess, sys',
      'data = sys.stdin.buffer.read()',
      's = socket.socket(socket.AF_UNIX); s.connect(os.environ["KEYRITE_TEST_LP_TAP"]); s.sendall(data); s.close()',
      'sys.exit(subprocess.run(["/usr/bin/lp", *sys.argv[1:]], input=data).returncode)',
      '',
    ].join('\n'),
  );
  chmodSync(lp, 0o755);
  return {
    pathDir: dir,
    socket,
    pdfs,
    env: (base) => ({ ...base, PATH: `${dir}:${base.PATH ?? process.env.PATH}`, KEYRITE_TEST_LP_TAP: socket }),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** The 33 numbered words of a printed sheet, read with pdftotext from memory. */
export function wordsOfSheet(pdf: Buffer): { words: string[]; text: string } {
  const text = execFileSync('pdftotext', ['-layout', '-', '-'], { input: pdf }).toString('utf8');
  const byNumber = new Map<number, string>();
  for (const line of text.split('\n')) {
    const pairs = [...line.matchAll(/\b(\d{1,2})\s+([a-z]+)\b/g)].filter((m) => WORDS.has(m[2]) && Number(m[1]) >= 1 && Number(m[1]) <= 33);
    if (pairs.length >= 2) for (const m of pairs) byNumber.set(Number(m[1]), m[2]);
  }
  return { words: Array.from({ length: 33 }, (_, i) => byNumber.get(i + 1) ?? ''), text };
}

/**
 * Files that hold a share: at least 24 of a mnemonic's distinct words as whole words, in a file that
 * is not a word list (fewer than 400 distinct SLIP-39 words), a PDF's text included (pdftotext); and
 * any PDF written since `since` in a root of the test's own (the bundle, work folders, the spool).
 * In the machine's shared temp folder other test files run alongside and may write PDFs of their
 * own, so there a PDF counts when its text holds a share.
 */
export function scanForShares(roots: string[], mnemonics: string[][], since: number): string[] {
  const shared = path.resolve(os.tmpdir());
  const found: string[] = [];
  const visit = (p: string) => {
    let st;
    try {
      st = lstatSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      let names: string[] = [];
      try {
        names = readdirSync(p);
      } catch {
        return;
      }
      for (const n of names) visit(path.join(p, n));
      return;
    }
    if (!st.isFile() || st.size > 64 << 20) return;
    let buf: Buffer;
    try {
      buf = readFileSync(p);
    } catch {
      return;
    }
    let text = buf.toString('latin1');
    if (buf.subarray(0, 5).toString('latin1') === '%PDF-' && st.mtimeMs >= since - 1000) {
      if (!inShared(p)) found.push(`${p}: a PDF written during the test`);
      try {
        text = execFileSync('pdftotext', [p, '-'], { encoding: 'latin1', stdio: ['ignore', 'pipe', 'ignore'] });
      } catch {
        found.push(`${p}: a PDF written during the test that pdftotext cannot read`);
      }
    }
    const tokens = new Set(text.toLowerCase().match(/[a-z]+/g) ?? []);
    const listed = [...tokens].filter((t) => WORDS.has(t)).length;
    for (const m of mnemonics) {
      const hits = new Set(m.filter((w) => tokens.has(w))).size;
      if (hits >= Math.min(24, new Set(m).size) && listed < 400) found.push(`${p}: ${hits} words of a share`);
    }
  };
  const inShared = (p: string) => {
    const own = roots.filter((r) => path.resolve(r) !== shared).some((r) => (p + path.sep).startsWith(path.resolve(r) + path.sep));
    return !own && (p + path.sep).startsWith(shared + path.sep);
  };
  for (const r of roots) visit(path.resolve(r));
  return found;
}
