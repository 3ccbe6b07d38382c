/**
 * A last line of defence before an event reaches the disk: refuses data that obviously holds a
 * secret (a field named like one, or a string shaped like a SLIP-39 mnemonic). It does not make a
 * careless caller safe; it stops the easy mistakes. Messages name the field, never its value.
 */
import { OperationError } from '../errors.ts';

const SECRET_KEY = /^(pin|so-?pin|user-?pin|password|passphrase|mnemonics?|words|kek|secret|private-?key|plaintext|key-?material|share-?words)$/i;

/** 20 or 33 words of 4-8 lowercase letters, as SLIP-39 mnemonics are; any case. */
function looksLikeMnemonic(s: string): boolean {
  const words = s.trim().split(/\s+/);
  return (words.length === 20 || words.length === 33) && words.every((w) => /^[a-z]{4,8}$/i.test(w));
}

export function refuseObviousSecrets(type: string, data: unknown): void {
  const walk = (value: unknown, path: string, key: string | undefined): void => {
    if (typeof value === 'string') {
      if (key !== undefined && SECRET_KEY.test(key) && value !== '') fail(path);
      if (looksLikeMnemonic(value)) fail(path);
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${path}[${i}]`, key));
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`, k);
    }
  };
  const fail = (path: string): never => {
    throw new OperationError(`refusing to write transcript event ${type}: ${path} looks like a secret`);
  };
  walk(data, 'data', undefined);
}
