/**
 * The prompts of `ceremony run` before its steps: the acknowledgement of a live network at
 * preflight and the participants' check-ins (docs/decisions.md, "On the day, at the terminal").
 */
import type { Ceremony } from '../core/ceremony/engine.ts';
import { networkInterfaces } from '../core/ceremony/host.ts';
import { OperationError, UsageError } from '../core/errors.ts';
import type { HeadlessRunOptions } from './ceremony-runner.ts';
import type { CliIO } from './command.ts';

/**
 * A live network interface at preflight: the ceremony goes on only when someone says so, by typing
 * "connected" at the prompt, by --ack-network, or (rehearsals) by --ack-all; the text returned is
 * recorded as an exception once the transcript exists. Without any of them the run stops here,
 * before anything is created.
 */
export async function acknowledgeNetwork(opts: Pick<HeadlessRunOptions, 'ackAll' | 'ackNetwork' | 'networkInterfaces'>, io: CliIO, admin: string, log: (l: string) => void): Promise<string | undefined> {
  const live = (opts.networkInterfaces ?? networkInterfaces)().filter((i) => i.up);
  if (live.length === 0) return undefined;
  const names = live.map((i) => `${i.name}${i.addresses.length ? ` (${i.addresses.join(', ')})` : ''}`).join(', ');
  const what = `network interface${live.length === 1 ? '' : 's'} up at preflight: ${names}; a ceremony machine should be offline`;
  log(`WARNING: ${what}`);
  if (opts.ackAll) return `${what}; acknowledged by rehearsal --ack-all`;
  if (opts.ackNetwork) return `${what}; acknowledged by --ack-network`;
  if (!io.stdinIsTTY) throw new UsageError(`${what}: take it offline, or give --ack-network to go on (recorded as an exception); nothing was created`);
  const answer = (await io.prompt(`  ${admin}: type "connected" to go on with the network up (recorded as an exception), anything else stops: `)).trim().toLowerCase();
  if (answer !== 'connected') throw new UsageError(`stopped at preflight: ${what}, and it was not acknowledged; nothing was created`);
  return `${what}; acknowledged by ${admin} at the prompt`;
}

/**
 * Each participant checks in at the prompt by typing their id or "present", so the report's
 * "checked in" and the signature block's "was present" rest on something typed in the room.
 * "absent" records an exception; "stop" stops the ceremony.
 */
export async function checkIns(ceremony: Pick<Ceremony, 'checkIn' | 'addNote'>, io: CliIO, people: { id: string; name: string; role: string }[]): Promise<void> {
  const admin = people.find((p) => p.role === 'administrator')!.id;
  for (const p of people) {
    for (;;) {
      const said = (await io.prompt(`Check-in: ${p.name} (${p.role}) — type "${p.id}" or "present" (or "absent"): `)).trim().toLowerCase();
      if (said === p.id.toLowerCase() || said === 'present') {
        ceremony.checkIn(p.id);
        break;
      }
      if (said === 'absent') {
        ceremony.addNote(`${p.name} (${p.id}, ${p.role}) did not check in: absent`, admin, 'exception');
        break;
      }
      if (said === 'stop') throw new OperationError(`stopped at the check-in of ${p.id}: "stop" typed at the prompt`);
      io.stderr(`  not checked in: type "${p.id}" or "present" (or "absent", or "stop" to stop the ceremony)\n`);
    }
  }
}
