import { createHash, createPublicKey, generateKeyPairSync, verify as nodeVerify, constants } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OperationError } from '../../electron/core/errors.ts';
import { canonicalJson, lineHash } from '../../electron/core/transcript/chain.ts';
import {
  buildStatement,
  CEREMONY_PREDICATE_TYPE,
  DSSE_PAYLOAD_TYPE,
  keyidOf,
  pae,
  signatureSchemeOf,
  signEnvelope,
  signerEntry,
  softwareSigner,
  spkiFromPem,
  spkiToPem,
  verifySignature,
  type InTotoStatement,
} from '../../electron/core/transcript/dsse.ts';
import { readTranscript } from '../../electron/core/transcript/read.ts';
import { TranscriptWriter } from '../../electron/core/transcript/writer.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'keyrite-transcript-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const newFile = () => path.join(tmp, `t${n++}.jsonl`);

/** A clock the test moves by hand. */
function clock(start: string) {
  let t = Date.parse(start);
  return { now: () => new Date(t), set: (iso: string) => void (t = Date.parse(iso)), tick: (ms: number) => void (t += ms) };
}

function chainOf(events: object[]): string {
  let prev = '0'.repeat(64);
  return events
    .map((e, i) => {
      const line = canonicalJson({ v: 1, seq: i, time: `2026-01-01T00:00:0${i}.000Z`, type: 'note.added', actor: 'system', data: {}, ...e, prev });
      prev = lineHash(line);
      return line + '\n';
    })
    .join('');
}

describe('TranscriptWriter', () => {
  it('writes each event as one canonical, chained line before append returns', () => {
    const file = newFile();
    const c = clock('2026-11-22T14:07:15.123Z');
    const w = TranscriptWriter.create(file, { now: c.now });
    expect(w.count).toBe(0);
    expect(w.head).toBe('0'.repeat(64));
    const e0 = w.append('note.added', 'ada', { text: 'zürich ☃ 😀', z: 1, a: [true, null] } as never);
    // The line is on disk already, not assembled at close.
    const afterFirst = readFileSync(file, 'utf8');
    expect(afterFirst).toBe(canonicalJson(e0) + '\n');
    expect(afterFirst).toBe(
      '{"actor":"ada","data":{"a":[true,null],"text":"zürich ☃ 😀","z":1},"prev":"' + '0'.repeat(64) + '","seq":0,"time":"2026-11-22T14:07:15.123Z","type":"note.added","v":1}\n',
    );
    expect(w.head).toBe(createHash('sha256').update(afterFirst.slice(0, -1)).digest('hex'));
    c.tick(5);
    const e1 = w.append('note.added', 'wes', { text: 'second' });
    expect(e1.seq).toBe(1);
    expect(e1.prev).toBe(lineHash(afterFirst.slice(0, -1)));
    expect(e1.time).toBe('2026-11-22T14:07:15.128Z');
    expect(w.count).toBe(2);
    w.close();
    expect(w.closed).toBe(true);
    const read = readTranscript(file);
    expect(read.problems).toEqual([]);
    expect(read.events.map((e) => e.seq)).toEqual([0, 1]);
    expect(read.head).toBe(w.head);
  });

  it('never overwrites an existing file', () => {
    const file = newFile();
    writeFileSync(file, 'precious\n');
    expect(() => TranscriptWriter.create(file)).toThrow(/already exists/);
    expect(readFileSync(file, 'utf8')).toBe('precious\n');
  });

  it('keeps time non-decreasing when the clock goes back', () => {
    const c = clock('2026-11-22T14:00:10.500Z');
    const w = TranscriptWriter.create(newFile(), { now: c.now });
    w.append('note.added', 'system', { text: 'a' });
    c.set('2026-11-22T13:59:00.000Z');
    const back = w.append('note.added', 'system', { text: 'b' });
    expect(back.time).toBe('2026-11-22T14:00:10.500Z');
    c.set('2026-11-22T14:00:11.000Z');
    expect(w.append('note.added', 'system', { text: 'c' }).time).toBe('2026-11-22T14:00:11.000Z');
    w.close();
    expect(readTranscript(w.path).problems).toEqual([]);
  });

  it('resumes an intact transcript and continues its chain', () => {
    const file = newFile();
    const w = TranscriptWriter.create(file);
    w.append('note.added', 'system', { text: 'one' });
    w.append('note.added', 'system', { text: 'two' });
    const head = w.head;
    w.close();
    const r = TranscriptWriter.resume(file);
    expect(r.count).toBe(2);
    expect(r.head).toBe(head);
    const e = r.append('ceremony.aborted', 'system', { reason: 'power cut', step: 'backup' });
    expect(e.seq).toBe(2);
    expect(e.prev).toBe(head);
    r.close();
    expect(readTranscript(file).problems).toEqual([]);
  });

  it('refuses to resume a damaged transcript', () => {
    const file = newFile();
    const w = TranscriptWriter.create(file);
    w.append('note.added', 'system', { text: 'one' });
    w.append('note.added', 'system', { text: 'two' });
    w.close();
    writeFileSync(file, readFileSync(file, 'utf8').replace('"one"', '"0ne"'));
    expect(() => TranscriptWriter.resume(file)).toThrow(/cannot resume transcript .*line 2: prev does not match/);
  });

  it('refuses obvious secrets and writes nothing for them', () => {
    const file = newFile();
    const w = TranscriptWriter.create(file);
    const words = 'academic acid acne acquire acrobat activity actress adapt adequate adjust admit adorn adult advance advocate afraid again agency agree aide';
    expect(() => w.append('note.added', 'system', { text: 'ok', pin: '123456' } as never)).toThrow(OperationError);
    expect(() => w.append('note.added', 'system', { text: words })).toThrow(/data\.text looks like a secret/);
    try {
      w.append('note.added', 'system', { text: words.toUpperCase() });
    } catch (err) {
      expect(String((err as Error).message)).not.toContain('ACADEMIC');
    }
    // A boolean "passphrase" (whether one is used) is fine.
    w.append('note.added', 'system', { text: 'fine', passphrase: false } as never);
    w.close();
    expect(readTranscript(file).events.map((e) => e.data.text)).toEqual(['fine']);
  });

  it('runs the caller guard before writing', () => {
    const file = newFile();
    const w = TranscriptWriter.create(file, {
      guard: (e) => {
        if (JSON.stringify(e.data).includes('hunter2')) throw new OperationError('refusing: holds the PIN');
      },
    });
    expect(() => w.append('note.added', 'system', { text: 'pin is hunter2' })).toThrow(/holds the PIN/);
    w.close();
    expect(readFileSync(file, 'utf8')).toBe('');
  });

  it('refuses to append after close', () => {
    const w = TranscriptWriter.create(newFile());
    w.close();
    expect(() => w.append('note.added', 'system', { text: 'late' })).toThrow(/closed/);
  });
});

describe('readTranscript', () => {
  const good = chainOf([{}, {}, {}]);

  it('accepts a good transcript from text, bytes and a path', () => {
    const file = newFile();
    writeFileSync(file, good);
    for (const src of [good, Buffer.from(good), file]) {
      const r = readTranscript(src);
      expect(r.problems).toEqual([]);
      expect(r.events).toHaveLength(3);
      expect(r.hashes[2]).toBe(r.head);
    }
    expect(readTranscript('').events).toEqual([]);
  });

  const cases: [string, (t: string) => string | Buffer, string, RegExp][] = [
    ['a space after a colon', (t) => t.replace('"actor":"system"', '"actor": "system"'), 'canonical', /line 1: is not in JCS canonical form/],
    ['keys out of order', (t) => t.replace('{"actor":"system","data":{}', '{"data":{},"actor":"system"'), 'canonical', /not in JCS/],
    ['an escaped character JCS writes plainly', (t) => t.replace('"actor":"system"', '"actor":"syst\\u0065m"'), 'canonical', /not in JCS/],
    ['a missing final newline', (t) => t.slice(0, -1), 'canonical', /line 3 does not end with a newline/],
    ['a blank line', (t) => t.replace('\n', '\n\n'), 'canonical', /line 2: is empty/],
    ['a byte-order mark', (t) => '\ufeff' + t, 'canonical', /line 1: is not JSON/],
    ['invalid UTF-8', (t) => Buffer.concat([Buffer.from(t.split('\n')[0].slice(0, -1) + ',"x":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]), 'canonical', /not valid UTF-8/],
    ['v 2', (t) => t.replace('"v":1}', '"v":2}'), 'canonical', /v is 2/],
    ['an unknown field', (t) => t.replace('"v":1}', '"v":1,"w":0}'), 'canonical', /unknown field w/],
    ['a missing field', (t) => t.replace('"actor":"system",', ''), 'canonical', /missing actor/],
    ['data not an object', (t) => t.replace('"data":{}', '"data":[]'), 'canonical', /data is not an object/],
    ['a time without milliseconds', (t) => t.replace('00:00:01.000Z', '00:00:01Z'), 'time', /time is not UTC RFC 3339/],
    ['a time in another zone', (t) => t.replace('00:00:01.000Z', '00:00:01.000+01:00'), 'time', /time is not/],
    ['an impossible date', (t) => t.replace('2026-01-01T00:00:01.000Z', '2026-02-30T00:00:01.000Z'), 'time', /time is not/],
  ];
  for (const [what, edit, kind, msg] of cases) {
    it(`reports ${what}`, () => {
      const r = readTranscript(Buffer.from(edit(good) as string));
      expect(r.problems.length).toBeGreaterThan(0);
      expect(r.problems[0].kind).toBe(kind);
      expect(r.problems[0].detail).toMatch(msg);
    });
  }

  it('reports a broken link, a seq gap and time going back', () => {
    const broken = chainOf([{}, {}, {}]).split('\n');
    broken[1] = broken[1].replace(/"prev":"[0-9a-f]{64}"/, `"prev":"${'1'.repeat(64)}"`);
    const r1 = readTranscript(broken.join('\n'));
    expect(r1.problems.map((p) => p.kind)).toEqual(['chain', 'chain']); // line 2 itself, and line 3 now points at the old line 2
    expect(r1.problems[0].detail).toBe('line 2: prev does not match the hash of line 1');

    const gap = chainOf([{ seq: 0 }, { seq: 2 }, { seq: 3 }]);
    expect(readTranscript(gap).problems.filter((p) => p.kind === 'seq')[0].detail).toBe('line 2: seq is 2, expected 1');

    const back = chainOf([{ time: '2026-01-01T00:00:05.000Z' }, { time: '2026-01-01T00:00:04.999Z' }]);
    expect(readTranscript(back).problems).toEqual([{ line: 2, kind: 'time', detail: 'line 2: time 2026-01-01T00:00:04.999Z is before 2026-01-01T00:00:05.000Z' }]);

    const first = chainOf([{}]).replace('0'.repeat(64), 'a'.repeat(64));
    expect(readTranscript(first).problems[0].detail).toBe('line 1: prev is not 64 zeros');
  });
});

describe('DSSE', () => {
  it('computes PAE as in the DSSE spec', () => {
    expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
    // Lengths are byte counts, not character counts.
    expect(pae('t', Buffer.from('é')).toString()).toBe('DSSEv1 1 t 2 é');
  });

  it('keyid is the SHA-256 of the SPKI DER; PEM round-trips', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const der = publicKey.export({ type: 'spki', format: 'der' });
    expect(keyidOf(der)).toBe(createHash('sha256').update(der).digest('hex'));
    const pem = spkiToPem(der);
    expect(pem).toBe(publicKey.export({ type: 'spki', format: 'pem' }));
    expect(spkiFromPem(pem).equals(der)).toBe(true);
    expect(() => spkiFromPem('-----BEGIN PUBLIC KEY-----\nAA*A\n-----END PUBLIC KEY-----\n')).toThrow();
    expect(() => spkiFromPem('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n')).toThrow();
  });

  it('signs with the SPEC encoding for each key type, verifiable by plain node:crypto', () => {
    const data = pae(DSSE_PAYLOAD_TYPE, Buffer.from('{"x":1}'));
    const keys = {
      'ecdsa-sha384': generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey,
      'ecdsa-sha256': generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
      'rsa-pkcs1-sha256': generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
      ed25519: generateKeyPairSync('ed25519').privateKey,
    };
    for (const [scheme, priv] of Object.entries(keys)) {
      const s = softwareSigner('root', priv);
      expect(signatureSchemeOf(s.spki)).toBe(scheme);
      const sig = s.sign(data);
      const pub = createPublicKey(priv);
      const independent =
        scheme === 'ecdsa-sha384' ? nodeVerify('sha384', data, { key: pub, dsaEncoding: 'der' }, sig)
        : scheme === 'ecdsa-sha256' ? nodeVerify('sha256', data, { key: pub, dsaEncoding: 'der' }, sig)
        : scheme === 'rsa-pkcs1-sha256' ? nodeVerify('sha256', data, { key: pub, padding: constants.RSA_PKCS1_PADDING }, sig)
        : nodeVerify(null, data, pub, sig);
      expect(independent, scheme).toBe(true);
      if (scheme === 'ed25519') expect(sig).toHaveLength(64);
      expect(verifySignature(s.spki, data, sig)).toBe(true);
      expect(verifySignature(s.spki, Buffer.concat([data, Buffer.from('x')]), sig)).toBe(false);
    }
    expect(verifySignature(Buffer.from('garbage'), data, Buffer.alloc(64))).toBe(false);
  });

  it('builds a statement over every file but the envelope and recoveries/, sorted, with posix names', () => {
    const dir = path.join(tmp, 'stmt');
    mkdirSync(path.join(dir, 'keys'), { recursive: true });
    mkdirSync(path.join(dir, 'recoveries', 'x'), { recursive: true });
    mkdirSync(path.join(dir, 'exports', 'b'), { recursive: true });
    writeFileSync(path.join(dir, 'transcript.jsonl'), 'a');
    writeFileSync(path.join(dir, 'transcript.dsse.json'), '{}');
    writeFileSync(path.join(dir, 'keys', 'root.pub.pem'), 'b');
    writeFileSync(path.join(dir, 'exports', 'b', 'README.txt'), 'c');
    writeFileSync(path.join(dir, 'recoveries', 'x', 'transcript.jsonl'), 'd');
    writeFileSync(path.join(dir, 'Z.txt'), 'e');
    const pred = { ceremonyId: 'c', chainHead: '0'.repeat(64), eventCount: 1, root: { algorithm: 'aes-256', label: 'r', kcv: 'abcdef' }, signers: [] };
    const st = buildStatement({ bundleDir: dir, predicateType: CEREMONY_PREDICATE_TYPE, predicate: pred });
    expect(st._type).toBe('https://in-toto.io/Statement/v1');
    expect(st.subject.map((s) => s.name)).toEqual(['Z.txt', 'exports/b/README.txt', 'keys/root.pub.pem', 'transcript.jsonl']);
    expect(st.subject[3].digest.sha256).toBe(createHash('sha256').update('a').digest('hex'));
  });

  it('signs only for listed signers and never overwrites the envelope', () => {
    const dir = path.join(tmp, 'sign');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'transcript.jsonl'), 'x');
    const signer = softwareSigner('ceremony', generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey);
    const other = softwareSigner('root', generateKeyPairSync('ed25519').privateKey);
    const st: InTotoStatement = buildStatement({
      bundleDir: dir,
      predicateType: CEREMONY_PREDICATE_TYPE,
      predicate: { ceremonyId: 'c', chainHead: '0'.repeat(64), eventCount: 1, root: { algorithm: 'aes-256', label: 'r', kcv: 'abcdef' }, signers: [signerEntry('ceremony', signer.spki)] },
    });
    expect(() => signEnvelope(st, [signer, other])).toThrow(/not listed/);
    const out = path.join(dir, 'transcript.dsse.json');
    const env = signEnvelope(st, [signer], out);
    const onDisk = JSON.parse(readFileSync(out, 'utf8'));
    expect(onDisk).toEqual(env);
    expect(Object.keys(onDisk)).toEqual(['payloadType', 'payload', 'signatures']);
    expect(onDisk.payloadType).toBe('application/vnd.in-toto+json');
    expect(JSON.parse(Buffer.from(onDisk.payload, 'base64').toString())).toEqual(st);
    expect(onDisk.signatures[0].keyid).toBe(keyidOf(signer.spki));
    expect(verifySignature(signer.spki, pae(onDisk.payloadType, Buffer.from(onDisk.payload, 'base64')), Buffer.from(onDisk.signatures[0].sig, 'base64'))).toBe(true);
    expect(() => signEnvelope(out, st, [signer])).toThrow(/already exists/);
    expect(readFileSync(out, 'utf8')).toBe(JSON.stringify(env, null, 2) + '\n');
  });
});

describe('canonical check fast path agrees with canonicalize', () => {
  it('accepts canonical lines and refuses every non-canonical variant', async () => {
    const { isCanonicalText, canonicalJson } = await import('../../electron/core/transcript/chain.ts');
    const samples: unknown[] = [
      { a: 1, b: [1, 2, { d: 'x', c: null }], e: 'é\u2028', f: 1e21, g: -0, h: 0.1 },
      { '10': 1, '2': 2, a: { '1': true, b: false } },
      { s: '\ud83d\ude00', t: 'tab\tquote"back\\' },
      [],
      { z: {}, y: [] },
    ];
    for (const v of samples) {
      const text = canonicalJson(v);
      expect(isCanonicalText(JSON.parse(text), text)).toBe(true);
      const pretty = JSON.stringify(v, null, 1);
      if (pretty !== text) expect(isCanonicalText(JSON.parse(pretty), pretty)).toBe(false);
      const unsorted = JSON.stringify(v);
      expect(isCanonicalText(JSON.parse(unsorted), unsorted)).toBe(unsorted === text);
    }
    expect(() => isCanonicalText(JSON.parse('{"a":"\\ud800"}'), '{"a":"\\ud800"}')).toThrow();
    expect(isCanonicalText(JSON.parse('{"a":1.0}'), '{"a":1.0}')).toBe(false);
    expect(isCanonicalText(JSON.parse('{"a":"\\u0041"}'), '{"a":"\\u0041"}')).toBe(false);
  });
});
