/**
 * The repository stands on its own: README.md and docs/*.md link only to files and headings that
 * exist in it, and nothing a user reads or runs points at a design folder outside the clone.
 */
import { existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The Markdown a reader of the repository sees: README.md and every docs/*.md. */
function markdownFiles(root: string): string[] {
  const docs = path.join(root, 'docs');
  const inDocs = existsSync(docs) ? readdirSync(docs).filter((f) => f.endsWith('.md')).map((f) => path.join(docs, f)) : [];
  return [path.join(root, 'README.md'), ...inDocs.sort()];
}

/** Lines of a Markdown file outside fenced code blocks, with their 1-based numbers. */
function proseLines(text: string): { line: string; n: number }[] {
  const out: { line: string; n: number }[] = [];
  let fence: string | undefined;
  text.split('\n').forEach((line, i) => {
    const m = /^\s*(`{3,}|~{3,})/.exec(line);
    if (m) {
      if (fence === undefined) fence = m[1][0];
      else if (m[1][0] === fence) fence = undefined;
      return;
    }
    if (fence === undefined) out.push({ line, n: i + 1 });
  });
  return out;
}

/** GitHub's anchor for a heading: inline markup dropped, lower case, punctuation removed, spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/`/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a Markdown file offers (duplicates get -1, -2, … as on GitHub). */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const { line } of proseLines(text)) {
    const m = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]);
    const k = seen.get(base) ?? 0;
    out.add(k === 0 ? base : `${base}-${k}`);
    seen.set(base, k + 1);
  }
  return out;
}

/** Link targets of a Markdown file: inline links and images, outside code blocks and code spans. */
export function links(text: string): { target: string; n: number }[] {
  const out: { target: string; n: number }[] = [];
  for (const { line, n } of proseLines(text)) {
    const prose = line.replace(/(`+)[^`]*?\1/g, '');
    for (const m of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ target: m[1], n });
    for (const m of prose.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/g)) out.push({ target: m[1], n });
  }
  return out;
}

/** Every problem with the links of the given Markdown files, as "file:line: message". */
export function linkProblems(root: string, files: string[]): string[] {
  const problems: string[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchorsOf = (file: string) => {
    if (!anchorCache.has(file)) anchorCache.set(file, anchors(readFileSync(file, 'utf8')));
    return anchorCache.get(file)!;
  };
  for (const file of files) {
    const rel = path.relative(root, file);
    const text = readFileSync(file, 'utf8');
    for (const { target, n } of links(text)) {
      const where = `${rel}:${n}`;
      if (/^(https?|mailto):/i.test(target)) continue;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
        problems.push(`${where}: link ${target} uses a scheme a reader of the repository cannot follow`);
        continue;
      }
      const [p, frag] = target.split('#', 2);
      const dest = p === '' ? file : path.resolve(path.dirname(file), decodeURIComponent(p));
      const inside = path.relative(root, dest);
      if (inside.startsWith('..') || path.isAbsolute(inside)) {
        problems.push(`${where}: link ${target} leaves the repository`);
        continue;
      }
      if (!existsSync(dest)) {
        problems.push(`${where}: link ${target}: ${inside} does not exist`);
        continue;
      }
      if (frag !== undefined && frag !== '') {
        if (statSync(dest).isDirectory() || !dest.endsWith('.md')) {
          problems.push(`${where}: link ${target}: #${frag} points into a file that is not Markdown`);
        } else if (!anchorsOf(dest).has(decodeURIComponent(frag).toLowerCase())) {
          problems.push(`${where}: link ${target}: ${inside} has no heading #${frag}`);
        }
      }
    }
  }
  return problems;
}

/** Files under `dir` (recursively, skipping node_modules and dist) whose text matches `re`, as "file:line: text". */
export function mentions(root: string, dir: string, re: RegExp, exts = /\.(ts|tsx|mts|cts|js|mjs|cjs|json|md|html|css|ya?ml)$/): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name === 'dist') continue;
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile() && exts.test(e.name)) {
        readFileSync(full, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            if (re.test(line)) hits.push(`${path.relative(root, full)}:${i + 1}: ${line.trim()}`);
          });
      }
    }
  };
  if (existsSync(dir)) {
    if (statSync(dir).isDirectory()) walk(dir);
    else
      readFileSync(dir, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (re.test(line)) hits.push(`${path.relative(root, dir)}:${i + 1}: ${line.trim()}`);
        });
  }
  return hits;
}

const OUTSIDE_DESIGN = /shared\/design/;
const SPEC_SECTION = /\bSPEC\s*§/;

describe('the repository stands on its own', () => {
  it('every link in README.md and docs/*.md resolves to a file, and every #anchor to a heading, inside the repository', () => {
    expect(linkProblems(ROOT, markdownFiles(ROOT))).toEqual([]);
  });

  it('README.md and docs/ never mention the design folder outside the repository, nor cite "SPEC §"', () => {
    const hits = [...mentions(ROOT, path.join(ROOT, 'README.md'), OUTSIDE_DESIGN), ...mentions(ROOT, path.join(ROOT, 'docs'), OUTSIDE_DESIGN)];
    expect(hits).toEqual([]);
    const cites = [...mentions(ROOT, path.join(ROOT, 'README.md'), SPEC_SECTION), ...mentions(ROOT, path.join(ROOT, 'docs'), SPEC_SECTION)];
    expect(cites).toEqual([]);
  });

  it('electron/ never mentions the design folder, and the CLI (help and comments) never cites "SPEC §"', () => {
    expect(mentions(ROOT, path.join(ROOT, 'electron'), OUTSIDE_DESIGN)).toEqual([]);
    expect(mentions(ROOT, path.join(ROOT, 'electron', 'cli'), SPEC_SECTION)).toEqual([]);
  });

  it('every docs/<name>.md named in README.md, docs/, electron/ or renderer/ (help, messages, comments) exists', () => {
    const named = ['README.md', 'docs', 'electron', 'renderer'].flatMap((d) => mentions(ROOT, path.join(ROOT, d), /docs\/[\w.-]+\.md/));
    const missing = named.flatMap((hit) => [...hit.matchAll(/docs\/([\w.-]+\.md)/g)].filter((m) => !existsSync(path.join(ROOT, 'docs', m[1]))).map((m) => `${hit.split(': ')[0]}: docs/${m[1]}`));
    expect(missing).toEqual([]);
  });

  it('the contract files exist', () => {
    for (const f of ['commands.md', 'plan.md', 'bundle.md', 'policy.md', 'exit-codes.md', 'transcript.md']) expect(existsSync(path.join(ROOT, 'docs', f)), f).toBe(true);
    expect(anchors(readFileSync(path.join(ROOT, 'docs', 'transcript.md'), 'utf8')).has('verify-checks')).toBe(true);
  });
});

describe('the link checker itself', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-docs-links-'));
  mkdirSync(path.join(dir, 'docs'));
  writeFileSync(
    path.join(dir, 'README.md'),
    [
      '# Keyrite',
      '## For `auditors` (and others)',
      '## For auditors (and others)',
      'See [plan](docs/plan.md), [a part](docs/plan.md#the-plan-file), [here](#for-auditors-and-others-1),',
      '[web](https://example.org/x) and `[code](docs/nowhere.md)`.',
      '```',
      '[fenced](docs/nowhere.md)',
      '```',
      'Broken: [gone](docs/gone.md), [no anchor](docs/plan.md#nope), [out](../shared/design/SPEC.md), [self](#nope).',
    ].join('\n'),
  );
  writeFileSync(path.join(dir, 'docs', 'plan.md'), '# The plan file\n\n## `hsm.initArgs` — C_Initialize\n');

  it('finds broken files, anchors and links that leave the repository, and nothing else', () => {
    const problems = linkProblems(dir, markdownFiles(dir));
    expect(problems).toEqual([
      'README.md:9: link docs/gone.md: docs/gone.md does not exist',
      'README.md:9: link docs/plan.md#nope: docs/plan.md has no heading #nope',
      'README.md:9: link ../shared/design/SPEC.md leaves the repository',
      'README.md:9: link #nope: README.md has no heading #nope',
    ]);
  });

  it('makes anchors as GitHub does', () => {
    expect(slug('`hsm.initArgs` — C_Initialize')).toBe('hsminitargs--c_initialize');
    expect(slug('`keyrite verify BUNDLE [--policy FILE]`')).toBe('keyrite-verify-bundle---policy-file');
    expect([...anchors('# A\n## A\n```\n# not a heading\n```\n### A b.\n')]).toEqual(['a', 'a-1', 'a-b']);
  });

  it('finds a mention of the design folder and a SPEC citation', () => {
    writeFileSync(path.join(dir, 'docs', 'x.md'), 'see ../shared/design/SPEC.md\nas SPEC §2 says\n');
    expect(mentions(dir, path.join(dir, 'docs'), OUTSIDE_DESIGN)).toEqual(['docs/x.md:1: see ../shared/design/SPEC.md']);
    expect(mentions(dir, path.join(dir, 'docs'), SPEC_SECTION)).toEqual(['docs/x.md:2: as SPEC §2 says']);
  });
});
