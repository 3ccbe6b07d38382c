/**
 * What needs what (README): the main install (CLI, tests, renderer build) runs on Node 20.19, so
 * `npm ci` there prints no EBADENGINE warning; Electron 45 and electron-builder, which need Node
 * 22.12, live in desktop/ and are installed only by `npm run desktop:install`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(import.meta.dirname, '../..');
const json = (f: string) => JSON.parse(readFileSync(path.join(repo, f), 'utf8'));

type Version = [number, number, number];
const parse = (v: string): Version => {
  const [a = 0, b = 0, c = 0] = v.replace(/^v/, '').split('.').map((x) => (x === '*' || x === 'x' ? 0 : Number(x)));
  return [a, b, c];
};
const cmp = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** Whether `v` satisfies an npm `engines` range of the forms packages use (>=, >, <, <=, ^, ~, x.*, ||). */
function satisfies(v: string, range: string): boolean {
  const have = parse(v);
  return range.split('||').some((alt) => {
    const parts = alt.trim().replace(/(>=|<=|>|<|\^|~)\s+/g, '$1').split(/\s+/).filter(Boolean);
    return parts.every((p) => {
      const m = /^(>=|<=|>|<|\^|~|=)?(.+)$/.exec(p)!;
      const want = parse(m[2]);
      const c = cmp(have, want);
      switch (m[1]) {
        case '>=': return c >= 0;
        case '>': return c > 0;
        case '<': return c < 0;
        case '<=': return c <= 0;
        case '^': return c >= 0 && have[0] === want[0] && (want[0] !== 0 || have[1] === want[1]);
        case '~': return c >= 0 && have[0] === want[0] && have[1] === want[1];
        default: {
          // "20", "20.x", "6.*": any version with those leading parts.
          const fixed = m[2].split('.').filter((x) => x !== '*' && x !== 'x').length;
          return fixed >= 3 ? c === 0 : have.slice(0, fixed).every((n, i) => n === want[i]);
        }
      }
    });
  });
}

/** Packages in a lockfile whose `engines.node` refuses `version`. */
function refusing(lockfile: string, version: string): string[] {
  const lock = json(lockfile) as { packages: Record<string, { version?: string; engines?: { node?: string } }> };
  return Object.entries(lock.packages)
    .filter(([, p]) => p.engines?.node && !satisfies(version, p.engines.node))
    .map(([name, p]) => `${name.replace(/^.*node_modules\//, '')}@${p.version}`);
}

describe('what needs what', () => {
  it('the range check reads the forms packages use', () => {
    expect(satisfies('20.19.0', '>=20.19')).toBe(true);
    expect(satisfies('20.19.0', '>= 22.12.0')).toBe(false);
    expect(satisfies('20.19.0', '^20.19.0 || >=22.12.0')).toBe(true);
    expect(satisfies('20.18.0', '^20.19.0 || >=22.12.0')).toBe(false);
    expect(satisfies('20.19.0', '6.* || 8.* || >= 10.*')).toBe(true);
    expect(satisfies('21.0.0', '^20.0.0 || ^22.0.0 || >=24.0.0')).toBe(false);
    expect(satisfies('20.19.0', '18 || 20 || >=22')).toBe(true);
    expect(satisfies('21.1.0', '18 || 20 || >=22')).toBe(false);
  });

  it('every package of the main install accepts Node 20.19 (npm ci prints no EBADENGINE), and says so', () => {
    expect(json('package.json').engines.node).toBe('>=20.19');
    expect(refusing('package-lock.json', '20.19.0')).toEqual([]);
    const pkg = json('package.json');
    const all = { ...pkg.dependencies, ...pkg.devDependencies, ...pkg.optionalDependencies };
    expect(Object.keys(all)).not.toContain('electron');
    expect(Object.keys(all)).not.toContain('electron-builder');
  });

  it('desktop/ holds the Node 22.12 tooling, pinned, and electron-builder packages that same Electron', () => {
    const desktop = json('desktop/package.json');
    expect(desktop.engines.node).toBe('>=22.12');
    expect(desktop.devDependencies.electron).toMatch(/^\d+\.\d+\.\d+$/);
    expect(desktop.devDependencies.electron.split('.')[0]).toBe('45');
    // The reason it is apart: its packages refuse Node 20 (each would be an EBADENGINE warning).
    expect(refusing('desktop/package-lock.json', '20.19.0')).toContain('electron@' + desktop.devDependencies.electron);
    expect(refusing('desktop/package-lock.json', '22.12.0')).toEqual([]);
    const yml = readFileSync(path.join(repo, 'electron-builder.yml'), 'utf8');
    expect(/^electronVersion:\s*(\S+)\s*$/m.exec(yml)?.[1]).toBe(desktop.devDependencies.electron);
    expect(json('desktop/package-lock.json').packages['node_modules/electron'].version).toBe(desktop.devDependencies.electron);
  });

  it('scripts/desktop.mjs says what is missing instead of failing obscurely', () => {
    const r = spawnSync(process.execPath, [path.join(repo, 'scripts', 'desktop.mjs'), 'electron', '--version'], { encoding: 'utf8' });
    const [major, minor] = process.versions.node.split('.').map(Number);
    if (major < 22 || (major === 22 && minor < 12)) {
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(`keyrite: error: electron needs Node 22.12 or later (this is Node ${process.versions.node}); the CLI and the tests need only 20.19\n`);
    } else {
      expect(r.status === 0 || /npm run desktop:install/.test(r.stderr)).toBe(true);
    }
    const bad = spawnSync(process.execPath, [path.join(repo, 'scripts', 'desktop.mjs'), 'rm'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
  });

  it("the stand-in for Electron's types names everything the main process imports from 'electron'", () => {
    const stub = readFileSync(path.join(repo, 'desktop', 'electron-types-absent.d.ts'), 'utf8');
    const exported = new Set([...stub.matchAll(/^export (?:declare const|type) (\w+)/gm)].map((m) => m[1]));
    const used = new Set<string>();
    for (const f of readdirSync(path.join(repo, 'electron')).filter((x) => x.endsWith('.ts'))) {
      const text = readFileSync(path.join(repo, 'electron', f), 'utf8');
      for (const m of text.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'electron'/g)) {
        for (const name of m[1].split(',')) if (name.trim()) used.add(name.trim().replace(/^type\s+/, ''));
      }
    }
    expect(used.size).toBeGreaterThan(5);
    expect([...used].filter((n) => !exported.has(n))).toEqual([]);
    const tsconfig = readFileSync(path.join(repo, 'tsconfig.json'), 'utf8');
    expect(tsconfig).toContain('"electron": ["./desktop/node_modules/electron/electron.d.ts", "./desktop/electron-types-absent.d.ts"]');
  });
});
