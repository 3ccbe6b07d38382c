/**
 * SLIP-39's passphrase encryption of the master secret: a 4-round Feistel network whose round
 * function is PBKDF2-HMAC-SHA256 with (10000 << e) / 4 iterations per round.
 */
import { pbkdf2Sync } from 'node:crypto';

const BASE_ITERATIONS = 10000;
const ROUNDS = 4;

/** Empty for extendable sets (so new shares can be issued later); "shamir" + identifier otherwise. */
function salt(identifier: number, extendable: boolean): Buffer {
  if (extendable) return Buffer.alloc(0);
  return Buffer.concat([Buffer.from('shamir', 'ascii'), Buffer.from([identifier >> 8, identifier & 0xff])]);
}

function roundFunction(i: number, passphrase: Buffer, e: number, salt: Buffer, r: Uint8Array): Buffer {
  const password = Buffer.concat([Buffer.from([i]), passphrase]);
  return pbkdf2Sync(password, Buffer.concat([salt, r]), (BASE_ITERATIONS << e) / ROUNDS, r.length, 'sha256');
}

function xorInto(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let k = 0; k < a.length; k++) out[k] = a[k] ^ b[k];
  return out;
}

function feistel(input: Uint8Array, passphrase: string, e: number, identifier: number, extendable: boolean, order: number[]): Uint8Array {
  const half = input.length / 2;
  // Copies, not views: a Buffer's slice() shares memory, and the rounds wipe l and r.
  let l: Uint8Array = Uint8Array.from(input.subarray(0, half));
  let r: Uint8Array = Uint8Array.from(input.subarray(half));
  const pass = Buffer.from(passphrase, 'ascii');
  const s = salt(identifier, extendable);
  for (const i of order) {
    const f = roundFunction(i, pass, e, s, r);
    const next = xorInto(l, f);
    f.fill(0);
    l.fill(0);
    l = r;
    r = next;
  }
  const out = new Uint8Array(input.length);
  out.set(r, 0);
  out.set(l, half);
  l.fill(0);
  r.fill(0);
  return out;
}

export function encryptMasterSecret(secret: Uint8Array, passphrase: string, e: number, identifier: number, extendable: boolean): Uint8Array {
  return feistel(secret, passphrase, e, identifier, extendable, [0, 1, 2, 3]);
}

export function decryptMasterSecret(ems: Uint8Array, passphrase: string, e: number, identifier: number, extendable: boolean): Uint8Array {
  return feistel(ems, passphrase, e, identifier, extendable, [3, 2, 1, 0]);
}

/** SLIP-39 recommends printable ASCII only, so that every implementation reads the passphrase alike. */
export function isValidPassphrase(p: string): boolean {
  return /^[\x20-\x7e]*$/.test(p);
}
