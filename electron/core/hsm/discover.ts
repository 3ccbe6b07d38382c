import { existsSync, readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { SOFTHSM_MODULE_CANDIDATES } from './softhsm.ts';

/** Debian/Ubuntu multiarch triplets Keyrite looks under (/usr/lib/<triplet>/...). */
const MULTIARCH = ['x86_64-linux-gnu', 'aarch64-linux-gnu', 'arm-linux-gnueabihf', 'i386-linux-gnu', 'powerpc64le-linux-gnu', 's390x-linux-gnu'];

/** Folders where distributions put PKCS#11 modules (p11-kit's module dir and Fedora's lib64). */
export const MODULE_DIRS = [...MULTIARCH.map((a) => `/usr/lib/${a}/pkcs11`), '/usr/lib64/pkcs11', '/usr/lib/pkcs11', '/usr/local/lib/pkcs11'];

/** Named files: distributions' own paths and the vendors' default install paths. */
export const COMMON_MODULE_PATHS = [
  ...SOFTHSM_MODULE_CANDIDATES,
  '/usr/lib64/pkcs11/libsofthsm2.so', // Fedora
  ...MULTIARCH.flatMap((a) => [
    `/usr/lib/${a}/opensc-pkcs11.so`,
    `/usr/lib/${a}/opencryptoki/libopencryptoki.so`,
    `/usr/lib/${a}/libtpm2_pkcs11.so.1`,
    `/usr/lib/${a}/p11-kit-proxy.so`,
    `/usr/lib/${a}/libsoftokn3.so`, // NSS softoken: needs --module-args configdir=...
  ]),
  '/usr/lib64/opencryptoki/libopencryptoki.so',
  '/usr/lib64/libtpm2_pkcs11.so.1',
  '/usr/lib64/p11-kit-proxy.so',
  '/usr/lib64/libsoftokn3.so',
  '/usr/lib/libCryptoki2_64.so', // Thales Luna
  '/usr/safenet/lunaclient/lib/libCryptoki2_64.so',
  '/opt/nfast/toolkits/pkcs11/libcknfast.so', // Entrust nShield
  '/opt/cloudhsm/lib/libcloudhsm_pkcs11.so', // AWS CloudHSM
  '/opt/utimaco/lib/libcs_pkcs11_R3.so', // Utimaco
  '/usr/lib/libcs_pkcs11_R3.so',
  '/usr/lib/x86_64-linux-gnu/pkcs11/yubihsm_pkcs11.so', // YubiHSM 2 (Yubico's packages)
  '/usr/lib64/pkcs11/yubihsm_pkcs11.so',
  '/usr/local/lib/pkcs11/yubihsm_pkcs11.so',
];

/** Modules in these folders that hold no keys of their own: p11-kit's CA trust store, its remoting client, OpenSC's call logger. */
const NOT_KEY_STORES = new Set(['p11-kit-trust.so', 'p11-kit-client.so', 'pkcs11-spy.so']);

/** Modules that need C_Initialize parameters to open at all, with what to give. */
export const NEEDS_INIT_ARGS: { match: RegExp; hint: string }[] = [
  { match: /libsoftokn3\.so$/, hint: "NSS softoken: give --module-args \"configdir='sql:DIR' certPrefix='' keyPrefix='' secmod='secmod.db' flags=\"" },
];

/** Every module file found in the usual places, each real file once (distributions link one file under several names). */
export function discoverModules(): string[] {
  const found: string[] = [];
  for (const p of COMMON_MODULE_PATHS) if (existsSync(p)) found.push(p);
  for (const dir of MODULE_DIRS) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names.sort()) if (n.endsWith('.so') && !NOT_KEY_STORES.has(n)) found.push(path.join(dir, n));
  }
  const seen = new Set<string>();
  return found.filter((p) => {
    let real: string;
    try {
      real = realpathSync(p);
    } catch {
      return false;
    }
    if (seen.has(real)) return false;
    seen.add(real);
    return true;
  });
}

export function initArgsHint(modulePath: string): string | undefined {
  return NEEDS_INIT_ARGS.find((n) => n.match.test(modulePath))?.hint;
}
