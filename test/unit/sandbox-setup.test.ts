/**
 * The foreign-token sandboxes fail loudly, naming the Debian package to install, when a tool or
 * module is missing — never a silent skip (the tests that use them must really run in CI).
 */
import { describe, expect, it } from 'vitest';
import { requireFile, requireTools, run, SandboxSetupError } from '../helpers/sandbox-process.ts';

describe('sandbox set-up checks', () => {
  it('a missing tool names itself and the apt package', () => {
    expect(() => requireTools({ sh: 'dash', 'keyrite-no-such-tool': 'keyrite-pkg' }, 'the test sandbox')).toThrow(SandboxSetupError);
    expect(() => requireTools({ 'keyrite-no-such-tool': 'keyrite-pkg' }, 'the test sandbox')).toThrow(
      /the test sandbox cannot be set up: keyrite-no-such-tool not found; install with: apt-get install keyrite-pkg/,
    );
    expect(() => requireTools({ sh: 'dash' }, 'x')).not.toThrow();
  });

  it('a missing module names the paths tried and the package', () => {
    expect(() => requireFile(['/nonexistent/a.so', '/nonexistent/b.so'], 'libfoo0', 'the foo module')).toThrow(
      /the foo module not found \(looked in \/nonexistent\/a\.so, \/nonexistent\/b\.so\); install with: apt-get install libfoo0/,
    );
    expect(requireFile(['/nonexistent/a.so', '/bin/sh'], 'x', 'y')).toBe('/bin/sh');
  });

  it('a failing or hanging set-up step is reported with its command, not waited on forever', () => {
    expect(() => run('sh', ['-c', 'echo boom >&2; exit 3'], { what: 'step one' })).toThrow(/step one failed: sh -c .*exit 3: boom/);
    const t0 = Date.now();
    expect(() => run('sleep', ['30'], { timeoutMs: 300, what: 'slow step' })).toThrow(/slow step failed/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
