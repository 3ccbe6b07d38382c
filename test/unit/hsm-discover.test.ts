import { existsSync, readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverModules, initArgsHint, MODULE_DIRS } from '../../electron/core/hsm/discover.ts';

describe('module discovery for hsm list', () => {
  it("finds every module in the distribution's pkcs11 folders, each real file once, without p11-kit's trust store", () => {
    const found = discoverModules();
    const reals = found.map((p) => realpathSync(p));
    expect(new Set(reals).size).toBe(reals.length);
    for (const dir of MODULE_DIRS.filter((d) => existsSync(d))) {
      for (const n of readdirSync(dir).filter((f) => f.endsWith('.so') && !['p11-kit-trust.so', 'p11-kit-client.so', 'pkcs11-spy.so'].includes(f))) {
        expect(reals, `${dir}/${n}`).toContain(realpathSync(path.join(dir, n)));
      }
    }
    expect(found.some((p) => p.endsWith('/p11-kit-trust.so'))).toBe(false);
  });
  it('says what NSS softoken needs to be opened', () => {
    expect(initArgsHint('/usr/lib/x86_64-linux-gnu/libsoftokn3.so')).toMatch(/--module-args "configdir='sql:DIR'/);
    expect(initArgsHint('/usr/lib/softhsm/libsofthsm2.so')).toBeUndefined();
  });
});
