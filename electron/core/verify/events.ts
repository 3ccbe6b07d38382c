/**
 * What the ceremony's transcript says happened: the required events with their data, the root key,
 * every share confirmed, a recovery test with a threshold set, a proper ending. Also the facts an
 * auditor must weigh though they break no rule by themselves (ceremonyFacts): rehearsal, a live
 * network interface, participants who never checked in, a root left extractable.
 */
import { GENESIS_PREV_HASH, lineHash, sha256Hex } from '../transcript/chain.ts';
import { isCanonicalBase64, spkiFromPem } from '../transcript/dsse.ts';
import type { TranscriptEvent } from '../transcript/events.ts';
import { fail, firstOf, get, isInt, isObject, isString, oneLine, short, type Checklist } from './checklist.ts';
import { eventsOf, type FolderContext, type RootFacts } from './context.ts';
import { entryAt, NO_LINKS, notAFile, readInside, readPlan } from './folder.ts';

/** Required events (docs/transcript.md) and the data fields each must have; "a|b" means either. */
const REQUIRED_EVENTS: Record<string, string[]> = {
  'ceremony.started': ['ceremonyId', 'planSha256', 'app.name', 'app.version', 'host.platform', 'host.arch', 'host.networkInterfaces'],
  'hsm.selected': [
    'module.path', 'module.sha256', 'module.manufacturer', 'module.library',
    'token.label', 'token.manufacturer', 'token.model', 'token.serialNumber', 'token.firmware', 'mechanisms',
  ],
  'key.generated': ['label', 'id', 'algorithm', 'attributes', 'publicKey.spki|kcv'],
  'backup.split': ['scheme', 'identifier', 'extendable', 'iterationExponent', 'groupThreshold', 'groups', 'kekKcv', 'passphrase', 'shares'],
  'backup.wrapped': ['mechanism', 'wrapped', 'sha256'],
  'share.confirmed': ['group', 'member', 'custodian', 'checkValue'],
  'backup.recovery-tested': ['shares', 'ok'],
  'ceremony.completed': ['chainHead'],
};
/** Fields required whenever an event of the type appears, though the event itself may not. */
const OPTIONAL_EVENTS: Record<string, string[]> = {
  'export.created': ['target', 'kind', 'algorithm', 'wrappingKeySha256', 'files'],
};

function missingFields(ev: TranscriptEvent, fields: string[]): string[] {
  return fields.filter((f) => !f.split('|').some((alt) => get(ev.data, alt) !== undefined));
}

/** ceremony.id: the first event is the one ceremony.started, and its ceremonyId is plan.json's id and the statement's. Returns the id. */
export function checkCeremonyId(ctx: FolderContext, list: Checklist): string | undefined {
  let ceremonyId: string | undefined;
  list.run('ceremony.id', () => {
    const first = ctx.events[0];
    if (!first || first.seq !== 0 || first.type !== 'ceremony.started') fail('the first event is not ceremony.started');
    if (eventsOf(ctx, 'ceremony.started').length !== 1) fail('ceremony.started appears more than once');
    const id = first.data.ceremonyId;
    if (!isString(id)) fail('ceremony.started has no ceremonyId');
    ceremonyId = id as string;
    const plan = readPlan(ctx.dir);
    if (plan.json === undefined) fail(plan.error!);
    if (get(plan.json, 'id') !== id) fail(`plan.json id ${JSON.stringify(get(plan.json, 'id'))} is not the transcript's ceremony ${id}`);
    if (ctx.statement && ctx.statement.predicate.ceremonyId !== id) fail(`the statement names ceremony ${ctx.statement.predicate.ceremonyId}, the transcript ${id}`);
    return `ceremony ${id} in plan.json, ceremony.started${ctx.statement ? ' and the statement' : ''}`;
  });
  return ceremonyId;
}

/** The kinds of ceremony (docs/lifecycle.md); verify dispatches on ceremony.started's, so it must be checked. */
const CEREMONY_KINDS = ['generate', 'rotate', 'reshare', 'destroy'];

/**
 * ceremony.kind: ceremony.started's kind (absent: generate) is one Keyrite knows and is plan.json's
 * `ceremony` (absent: generate); every kind but generate records the plan's previous statement
 * digest; and a re-share or destroy bundle holds no export (no export.created, no exports/).
 * Why: verify picks the checks by this kind, and a re-share is signed by its ceremony signer only
 * (the root does not sign it), so a generate bundle recast as a re-share would keep its exports
 * with nothing proving who made them.
 */
export function checkCeremonyKind(ctx: FolderContext, list: Checklist): void {
  list.run('ceremony.kind', () => {
    const started = eventsOf(ctx, 'ceremony.started')[0];
    if (!started) fail('no ceremony.started event');
    const kind = started.data.kind ?? 'generate';
    if (!isString(kind) || !CEREMONY_KINDS.includes(kind)) fail(`ceremony.started records kind ${oneLine(JSON.stringify(kind), 40)}, not one of ${CEREMONY_KINDS.join(', ')}`);
    const plan = readPlan(ctx.dir);
    if (plan.json === undefined) fail(plan.error!);
    const planKind = get(plan.json, 'ceremony') ?? 'generate';
    if (planKind !== kind) fail(`ceremony.started records a ${kind as string} ceremony, but plan.json is a ${oneLine(String(planKind), 40)} plan`);
    if (kind !== 'generate') {
      const want = get(plan.json, 'previous.statementSha256');
      const got = get(started.data, 'previous.statementSha256');
      if (!isString(want) || got !== want.toLowerCase()) fail(`ceremony.started's previous.statementSha256 is not plan.json's previous.statementSha256`);
    }
    if (kind === 'reshare' || kind === 'destroy') {
      const ex = eventsOf(ctx, 'export.created')[0];
      if (ex) fail(`a ${kind} ceremony makes no export, but export.created appears (seq ${ex.seq})`);
      if (entryAt(ctx.dir, 'exports').kind !== 'missing') fail(`a ${kind} ceremony makes no export, but the bundle has exports/`);
    }
    return `a ${kind as string} ceremony, as plan.json says${kind === 'generate' ? '' : ', continuing the statement it names'}`;
  });
}

/** events.required: every event docs/transcript.md requires is there with its data fields, and the root was generated once. */
export function checkRequiredEvents(ctx: FolderContext, list: Checklist): void {
  list.run('events.required', () => {
    const problems: string[] = [];
    for (const [type, fields] of Object.entries(REQUIRED_EVENTS)) {
      const evs = eventsOf(ctx, type);
      if (evs.length === 0) problems.push(`no ${type} event`);
      for (const ev of evs) {
        const miss = missingFields(ev, fields);
        if (miss.length) problems.push(`${type} (seq ${ev.seq}) lacks data.${miss[0].replace('|', ' or data.')}`);
      }
    }
    for (const [type, fields] of Object.entries(OPTIONAL_EVENTS)) {
      for (const ev of eventsOf(ctx, type)) {
        const miss = missingFields(ev, fields);
        if (miss.length) problems.push(`${type} (seq ${ev.seq}) lacks data.${miss[0]}`);
      }
    }
    if (eventsOf(ctx, 'key.generated').length > 1) problems.push('key.generated appears more than once');
    if (problems.length) fail(firstOf(problems));
    return `every required event is present with its required data (${Object.keys(REQUIRED_EVENTS).length} types)`;
  });
}

/**
 * root.key: keys/root.pub.pem, key.generated and the statement's root name the same key (or KCV for
 * AES), and a root that can sign signed the statement itself (role root, proof of possession).
 */
export function checkRootKey(ctx: FolderContext, list: Checklist): void {
  list.run('root.key', () => {
    const generated = eventsOf(ctx, 'key.generated');
    if (generated.length === 0) fail('no key.generated event');
    const d = generated[0].data;
    const root = ctx.statement?.predicate.root;
    const pem = readInside(ctx.dir, 'keys/root.pub.pem');
    const pemLink = notAFile(ctx, ctx.dir, 'keys/root.pub.pem');
    if (pemLink.endsWith(NO_LINKS)) fail(pemLink);
    if (root) {
      if (root.algorithm !== d.algorithm) fail(`predicate root algorithm ${root.algorithm} is not key.generated's ${String(d.algorithm)}`);
      if (root.label !== d.label) fail(`predicate root label is not key.generated's label`);
    }
    if (d.publicKey !== undefined) {
      const spkiB64 = get(d, 'publicKey.spki');
      if (!isCanonicalBase64(spkiB64)) fail('key.generated publicKey.spki is not base64');
      const spkiHash = sha256Hex(Buffer.from(spkiB64 as string, 'base64'));
      if (get(d, 'publicKey.sha256') !== spkiHash) fail('key.generated publicKey.sha256 is not the SHA-256 of its spki');
      if (!pem) fail('keys/root.pub.pem is missing');
      let der: Buffer;
      try {
        der = spkiFromPem(pem!.toString('utf8'));
      } catch {
        fail('keys/root.pub.pem is not a PUBLIC KEY PEM');
      }
      if (sha256Hex(der!) !== spkiHash) fail('keys/root.pub.pem is not the key in key.generated');
      if (root) {
        if (root.publicKeySha256 !== spkiHash) fail('predicate root publicKeySha256 does not match keys/root.pub.pem and key.generated');
        requireRootSignature(ctx, spkiHash, 'the root key');
      }
      return `root ${String(d.algorithm)} key ${short(spkiHash)}: keys/root.pub.pem, key.generated${root ? ' and the statement' : ''} agree`;
    }
    if (d.kcv !== undefined) {
      if (!isString(d.kcv) || !/^[0-9a-f]{6}$/.test(d.kcv)) fail('key.generated kcv is not 6 lowercase hex digits');
      if (root && root.kcv !== d.kcv) fail('predicate root kcv does not match key.generated');
      if (root && ctx.statement!.predicate.signers.some((s) => s.role === 'root')) fail('a symmetric root cannot be a signer');
      if (pem) fail('keys/root.pub.pem exists but the root is a symmetric key');
      return `root ${String(d.algorithm)} KCV ${d.kcv}: key.generated${root ? ' and the statement' : ''} agree`;
    }
    return fail('key.generated has neither publicKey nor kcv');
  });
}

/** The root signer of the statement is `spkiHash` and signed (signatures.verify checks that it verifies). */
export function requireRootSignature(ctx: FolderContext, spkiHash: string, what: string): void {
  const roots = ctx.statement!.predicate.signers.filter((s) => s.role === 'root');
  if (roots.length > 1) fail(`${roots.length} signers have role root; expected one`);
  if (roots[0] && roots[0].keyid !== spkiHash) fail(`the root signer ${short(roots[0].keyid)} is not ${what}`);
  if (!roots[0] || !ctx.envelope?.signatures.some((s) => s.keyid === spkiHash)) fail(`${what} ${short(spkiHash)} did not sign the statement (role root)`);
}

/** The root as key.generated describes it, for recoveries of a bundle that has no readable statement. */
export function rootFromEvents(ev: TranscriptEvent | undefined): RootFacts | undefined {
  if (!ev) return undefined;
  return {
    algorithm: String(ev.data.algorithm),
    label: String(ev.data.label),
    publicKeySha256: get(ev.data, 'publicKey.sha256') as string | undefined,
    kcv: get(ev.data, 'kcv') as string | undefined,
  };
}

/** shares.confirmed: every share of backup.split has a later share.confirmed with its custodian and check value. */
export function checkSharesConfirmed(ctx: FolderContext, list: Checklist): void {
  list.run('shares.confirmed', () => {
    const split = eventsOf(ctx, 'backup.split');
    if (split.length !== 1) fail(split.length ? 'backup.split appears more than once' : 'no backup.split event');
    const shares = split[0].data.shares;
    if (!Array.isArray(shares) || shares.length === 0) fail('backup.split lists no shares');
    const confirmed = eventsOf(ctx, 'share.confirmed');
    for (const s of shares as unknown[]) {
      const g = get(s, 'group');
      const m = get(s, 'member');
      const c = confirmed.find((e) => e.data.group === g && e.data.member === m);
      if (!c) fail(`share group ${g} member ${m} (${String(get(s, 'custodian'))}) has no share.confirmed`);
      if (c!.data.checkValue !== get(s, 'checkValue') || c!.data.custodian !== get(s, 'custodian')) {
        fail(`share group ${g} member ${m}: share.confirmed (seq ${c!.seq}) does not match backup.split's custodian and check value`);
      }
    }
    const early = confirmed.find((e) => e.seq < split[0].seq);
    if (early) fail(`share.confirmed (seq ${early.seq}) comes before backup.split`);
    return `all ${(shares as unknown[]).length} shares of backup.split were confirmed`;
  });
}

/** backup.recovery-tested: a successful recovery test after the last confirmation used a threshold set of backup.split's shares. */
export function checkRecoveryTested(ctx: FolderContext, list: Checklist): void {
  list.run('backup.recovery-tested', () => {
    const oks = eventsOf(ctx, 'backup.recovery-tested').filter((e) => e.data.ok === true);
    if (oks.length === 0) fail('no backup.recovery-tested event with ok true');
    const split = eventsOf(ctx, 'backup.split')[0];
    if (!split) fail('no backup.split to check the recovery test against');
    const lastConfirmed = eventsOf(ctx, 'share.confirmed').at(-1);
    let problem = '';
    for (const ev of oks) {
      const at = `backup.recovery-tested (seq ${ev.seq})`;
      problem = lastConfirmed && ev.seq < lastConfirmed.seq
        ? `${at} comes before the last share.confirmed (seq ${lastConfirmed.seq})`
        : thresholdProblem(at, ev.data.shares, split!);
      if (!problem) {
        const used = (ev.data.shares as unknown[]).length;
        return `recovery tested successfully with a threshold set of ${used} share${used === 1 ? '' : 's'} after every confirmation (seq ${ev.seq})`;
      }
    }
    return fail(problem);
  });
}

/** Why `shares` ([{group, member}]) are not a threshold set of backup.split's shares ("" when they are). */
export function thresholdProblem(at: string, shares: unknown, split: TranscriptEvent): string {
  const groups = split.data.groups;
  const groupThreshold = split.data.groupThreshold;
  const made = split.data.shares;
  if (!Array.isArray(groups) || !isInt(groupThreshold) || !Array.isArray(made)) return 'backup.split has no usable groups, groupThreshold and shares';
  if (!Array.isArray(shares) || shares.some((u) => !isInt(get(u, 'group')) || !isInt(get(u, 'member')))) return `${at} shares is not a list of {group, member}`;
  const byGroup = new Map<number, Set<number>>();
  for (const u of shares as unknown[]) {
    const g = get(u, 'group') as number;
    const m = get(u, 'member') as number;
    if (!(made as unknown[]).some((s) => get(s, 'group') === g && get(s, 'member') === m)) return `${at}: group ${g} member ${m} is not a share of backup.split`;
    const set = byGroup.get(g) ?? new Set<number>();
    if (set.has(m)) return `${at} lists group ${g} member ${m} twice`;
    byGroup.set(g, set.add(m));
  }
  const shortOf: string[] = [];
  let met = 0;
  for (const [g, members] of [...byGroup].sort((a, b) => a[0] - b[0])) {
    const t = get((groups as unknown[])[g - 1], 'threshold');
    if (!isInt(t)) return `backup.split has no threshold for group ${g}`;
    if (members.size >= (t as number)) met++;
    else shortOf.push(`used ${members.size} of group ${g}'s threshold ${t}`);
  }
  if (met >= (groupThreshold as number)) return '';
  return `${at} did not use a threshold set: ${met} group${met === 1 ? '' : 's'} met ${met === 1 ? 'its' : 'their'} threshold; backup.split needs ${groupThreshold}${shortOf.length ? ` (${shortOf.join(', ')})` : ''}`;
}

/** <kind>.completed: no <kind>.aborted; one completion event, the last line, whose chainHead (and eventCount) describe the lines before it. */
export function checkCompleted(ctx: FolderContext, list: Checklist, kind: 'ceremony' | 'recovery'): void {
  const completed = `${kind}.completed`;
  list.run(completed, () => {
    const t = ctx.transcript;
    const aborted = eventsOf(ctx, `${kind}.aborted`)[0];
    if (aborted) fail(`${kind}.aborted at seq ${aborted.seq}: ${oneLine(String(aborted.data.reason ?? ''), 160)}`);
    const done = eventsOf(ctx, completed);
    if (done.length === 0) fail(`no ${completed}; stopped after ${ctx.events.at(-1)?.type ?? 'nothing'}`);
    if (done.length > 1) fail(`${completed} appears more than once`);
    const last = ctx.events.at(-1)!;
    if (last.type !== completed || !t || last.seq !== t.lines.length - 1) fail(`${completed} (seq ${done[0].seq}) is not the last event`);
    const before = last.seq === 0 ? GENESIS_PREV_HASH : lineHash(t!.lines[last.seq - 1]);
    if (last.data.chainHead !== before) fail(`${completed} chainHead is not the hash of the event before it`);
    if (last.data.eventCount !== undefined && last.data.eventCount !== last.seq) fail(`${completed} eventCount ${String(last.data.eventCount)} but ${last.seq} events precede it`);
    return `${completed} is last (seq ${last.seq}) and its chainHead is the head before it`;
  });
}

/** What an auditor must weigh about how the ceremony ran; each fact is read from signed data only. */
export interface CeremonyFacts {
  rehearsal: boolean;
  /** Non-loopback interfaces recorded up at the start, and network exceptions acknowledged. */
  networkUp: string[];
  /** Plan participants with no participant.checked-in event. */
  notCheckedIn: string[];
  /** Why the root is not known to be sealed ("" when it is). */
  unsealed: string;
}

export function ceremonyFacts(ctx: FolderContext, plan: unknown): CeremonyFacts {
  const started = eventsOf(ctx, 'ceremony.started')[0];
  const rehearsal = started?.data.rehearsal === true;
  const ifs = get(started?.data, 'host.networkInterfaces');
  const networkUp = (Array.isArray(ifs) ? ifs : [])
    .filter((i) => isObject(i) && i.up === true && i.internal !== true)
    .map((i) => String(get(i, 'name')));
  for (const e of eventsOf(ctx, 'exception.recorded')) if (e.data.step === 'network' && !networkUp.length) networkUp.push(`acknowledged at seq ${e.seq}`);
  const checkedIn = new Set(eventsOf(ctx, 'participant.checked-in').map((e) => e.data.participant));
  const participants = Array.isArray(get(plan, 'participants')) ? (get(plan, 'participants') as unknown[]) : [];
  const notCheckedIn = participants.map((p) => get(p, 'id')).filter((id): id is string => isString(id) && !checkedIn.has(id));
  return { rehearsal, networkUp, notCheckedIn, unsealed: unsealedReason(ctx, plan) };
}

/** "" when the root ended non-extractable as read back from the HSM; else why not. */
function unsealedReason(ctx: FolderContext, plan: unknown): string {
  if (get(plan, 'key.sealAfterExport') === false) return 'the plan sets key.sealAfterExport to false';
  const sealed = eventsOf(ctx, 'key.sealed').at(-1);
  if (sealed) return sealed.data.extractable === false ? '' : `key.sealed (seq ${sealed.seq}) does not read back extractable false`;
  const gen = eventsOf(ctx, 'key.generated')[0];
  if (gen && get(gen.data, 'attributes.extractable') === false) return '';
  return 'the root was left extractable (no key.sealed event reads back extractable false)';
}
