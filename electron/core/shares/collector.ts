/**
 * Collects shares one at a time, as a recovery team enters them, and refuses each bad one at once
 * with a message that says which share and why. Stops using shares once the thresholds are met.
 */
import { UsageError } from '../errors.ts';
import { decryptMasterSecret, isValidPassphrase } from './cipher.ts';
import { decodeMnemonic, type ShareInfo } from './codec.ts';
import { Slip39Error, sharePrefix } from './errors.ts';
import { shamirRecover } from './shamir.ts';

export interface CollectorOptions {
  /** Only shares of this set identifier are accepted. */
  identifier?: number;
  /** Only shares whose check value (docs/transcript.md) is listed are accepted, e.g. those in a ceremony transcript. */
  allowedCheckValues?: Set<string>;
}

export interface AddResult {
  accepted: ShareInfo;
  /** False when the share is valid but not needed (its group, or the whole set, already has enough). */
  used: boolean;
  complete: boolean;
  /** What is still missing, e.g. "group 1 needs 1 more share; 1 more group needed"; "" when complete. */
  needs: string;
}

interface Entry {
  info: ShareInfo;
  position: number;
}

interface GroupState {
  memberThreshold: number;
  members: Entry[];
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export class ShareCollector {
  private readonly opts: CollectorOptions;
  private first: Entry | undefined;
  private readonly seen: Entry[] = [];
  private readonly groups = new Map<number, GroupState>();
  /** Group indices in the order they became complete; the first groupThreshold of them are used. */
  private readonly completed: number[] = [];

  constructor(opts: CollectorOptions = {}) {
    this.opts = opts;
  }

  /** Number of shares accepted so far (used or not). */
  get count(): number {
    return this.seen.length;
  }

  get complete(): boolean {
    return this.first !== undefined && this.completed.length >= this.first.info.groupThreshold;
  }

  /**
   * Checks and adds one mnemonic. `position` (1-based) names it in messages; by default it is
   * the number of shares accepted so far plus one. Throws Slip39Error when the share is refused.
   */
  add(mnemonic: string, position: number = this.seen.length + 1): AddResult {
    const at = sharePrefix(position);
    const info = decodeMnemonic(mnemonic, position);
    try {
      this.check(info, at);
    } catch (err) {
      info.value.fill(0);
      throw err;
    }
    const entry = { info, position };
    this.seen.push(entry);
    this.first ??= entry;

    let used = false;
    if (!this.complete) {
      const g = this.groups.get(info.groupIndex) ?? { memberThreshold: info.memberThreshold, members: [] };
      this.groups.set(info.groupIndex, g);
      if (g.members.length < g.memberThreshold) {
        g.members.push(entry);
        used = true;
        if (g.members.length === g.memberThreshold) this.completed.push(info.groupIndex);
      }
    }
    return { accepted: info, used, complete: this.complete, needs: this.needs() };
  }

  private check(info: ShareInfo, at: string): void {
    const expectedId = this.first?.info.identifier ?? this.opts.identifier;
    if (expectedId !== undefined && info.identifier !== expectedId) {
      throw new Slip39Error(`${at}belongs to a different share set (identifier ${info.identifier}, expected ${expectedId})`);
    }
    const ref = this.first?.info;
    if (ref) {
      const differs = (what: string, got: string | number, want: string | number) =>
        new Slip39Error(`${at}belongs to a different share set (${what} ${got}, expected ${want} as in share ${this.first!.position})`);
      if (info.extendable !== ref.extendable) throw differs('extendable flag', onOff(info.extendable), onOff(ref.extendable));
      if (info.iterationExponent !== ref.iterationExponent) throw differs('iteration exponent', info.iterationExponent, ref.iterationExponent);
      if (info.groupThreshold !== ref.groupThreshold) throw differs('group threshold', info.groupThreshold, ref.groupThreshold);
      if (info.groupCount !== ref.groupCount) throw differs('group count', info.groupCount, ref.groupCount);
      if (info.wordCount !== ref.wordCount) throw differs('length', `${info.wordCount} words`, `${ref.wordCount}`);
    }
    if (this.opts.allowedCheckValues && !this.opts.allowedCheckValues.has(info.checkValue)) {
      throw new Slip39Error(`${at}not one of the expected shares (check value ${info.checkValue} is not in the transcript)`);
    }
    for (const e of this.seen) {
      if (e.info.groupIndex !== info.groupIndex) continue;
      if (e.info.memberThreshold !== info.memberThreshold) {
        throw new Slip39Error(
          `${at}member threshold ${info.memberThreshold} differs from share ${e.position} of the same group (${e.info.memberThreshold})`,
        );
      }
      if (e.info.memberIndex === info.memberIndex) {
        if (e.info.checkValue === info.checkValue) throw new Slip39Error(`${at}duplicate of share ${e.position}`);
        throw new Slip39Error(
          `${at}same group and member number as share ${e.position} (group ${info.group}, member ${info.member}) but different words`,
        );
      }
    }
  }

  /** What is still missing, in words; "" when enough shares are in. */
  needs(): string {
    if (!this.first) return 'no shares yet';
    const gt = this.first.info.groupThreshold;
    if (this.completed.length >= gt) return '';
    const parts: string[] = [];
    let started = 0;
    for (const [gi, g] of [...this.groups].sort((a, b) => a[0] - b[0])) {
      if (g.members.length >= g.memberThreshold) continue;
      started++;
      parts.push(`group ${gi + 1} needs ${plural(g.memberThreshold - g.members.length, 'more share', 'more shares')}`);
    }
    const moreGroups = gt - this.completed.length - started;
    if (moreGroups > 0) parts.push(`${plural(moreGroups, 'more group', 'more groups')} needed`);
    return parts.join('; ');
  }

  /** Recovers the master secret; throws Slip39Error when shares are missing or do not fit together. */
  secret(passphrase = ''): Uint8Array {
    if (!isValidPassphrase(passphrase)) throw new UsageError('the passphrase must be printable ASCII (SLIP-39)');
    if (!this.first || !this.complete) throw new Slip39Error(`not enough shares: ${this.needs()}`);
    const ref = this.first.info;
    const groupSecrets = this.completed.slice(0, ref.groupThreshold).map((gi) => {
      const g = this.groups.get(gi)!;
      const value = shamirRecover(g.memberThreshold, g.members.map((e) => ({ x: e.info.memberIndex, value: e.info.value })));
      if (!value) {
        throw new Slip39Error(
          `shares ${listPositions(g.members)} (group ${gi + 1}) do not fit together: the digest check failed, so one of them is altered or from another split`,
        );
      }
      return { x: gi, value };
    });
    const ems = shamirRecover(ref.groupThreshold, groupSecrets);
    for (const g of groupSecrets) g.value.fill(0);
    if (!ems) {
      const used = this.completed.slice(0, ref.groupThreshold).map((gi) => gi + 1);
      throw new Slip39Error(
        `groups ${used.join(', ')} do not fit together: the digest check failed, so a share is altered or from another split`,
      );
    }
    try {
      return decryptMasterSecret(ems, passphrase, ref.iterationExponent, ref.identifier, ref.extendable);
    } finally {
      ems.fill(0);
    }
  }

  /** Overwrites the share values held. */
  wipe(): void {
    for (const e of this.seen) e.info.value.fill(0);
  }
}

function onOff(b: boolean): string {
  return b ? 'on' : 'off';
}

function listPositions(entries: Entry[]): string {
  const p = entries.map((e) => String(e.position));
  return p.length <= 2 ? p.join(' and ') : `${p.slice(0, -1).join(', ')} and ${p[p.length - 1]}`;
}
