/**
 * A real SoftHSM token that behaves as NSS does on unwrap, and worse: every key it unwraps gets
 * CKA_UNWRAP true whatever the template asked, and it refuses to change CKA_UNWRAP afterwards
 * (CKR_ATTRIBUTE_READ_ONLY). Done underneath graphene, on the pkcs11js calls, so Keyrite's layer
 * sees exactly what such a token would show it.
 */
import pkcs11js from 'pkcs11js';
import { openModule } from '../../electron/core/hsm/index.ts';
import type { HsmModule, ModuleOptions } from '../../electron/core/hsm/types.ts';

const CKA_UNWRAP = 0x107;
const CKR_ATTRIBUTE_READ_ONLY = 0x10;
type Attr = { type: number; value?: unknown };
type Lib = Record<string, unknown>;

export function templateIgnoringOpenModule(): (path: string, opts?: ModuleOptions) => HsmModule {
  return (path, opts) => {
    const real = openModule(path, opts);
    const lib = (real as unknown as { mod?: { lib?: Lib } }).mod?.lib;
    if (!lib) throw new Error('needs a module opened by core/hsm openModule');
    const unwrap = lib.C_UnwrapKey as (...a: unknown[]) => Buffer;
    const set = lib.C_SetAttributeValue as (session: Buffer, obj: Buffer, t: Attr[]) => void;
    lib.C_UnwrapKey = (...a: unknown[]) => {
      const handle = unwrap.apply(lib, a);
      set.call(lib, a[0] as Buffer, handle, [{ type: CKA_UNWRAP, value: true }]);
      return handle;
    };
    lib.C_SetAttributeValue = (session: Buffer, obj: Buffer, t: Attr[]) => {
      if (t.some((x) => x.type === CKA_UNWRAP)) throw new pkcs11js.Pkcs11Error(`CKR_ATTRIBUTE_READ_ONLY:${CKR_ATTRIBUTE_READ_ONLY}`, CKR_ATTRIBUTE_READ_ONLY, 'C_SetAttributeValue');
      return set.call(lib, session, obj, t);
    };
    const close = real.close.bind(real);
    real.close = () => {
      delete lib.C_UnwrapKey;
      delete lib.C_SetAttributeValue;
      close();
    };
    return real;
  };
}
