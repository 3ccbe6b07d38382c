/**
 * The air-gap check shown on the preflight screen and recorded in the transcript: every network
 * interface, whether it is up with a non-loopback address. The app itself never connects
 * (security.ts blocks every request); this tells people whether the machine could.
 */
import os from 'node:os';
import type { NetworkStatus } from './api.ts';
import { networkInterfaces } from './core/ceremony/host.ts';
import type { NetworkInterfaceRecord } from './core/transcript/events.ts';
import { OperationError } from './core/errors.ts';

type Interfaces = ReturnType<typeof os.networkInterfaces>;

/** The core's record (addresses and, on Linux, link state); tests pass their own interfaces. */
export function interfaceRecords(ifs?: Interfaces): NetworkInterfaceRecord[] {
  return ifs ? networkInterfaces(ifs, new Map()) : networkInterfaces();
}

export function airgapStatus(ifs?: Interfaces): NetworkStatus {
  const interfaces = interfaceRecords(ifs);
  return { interfaces, online: interfaces.some((i) => i.up) };
}

/** Where main reads the interfaces from; tests inject a fixed list. */
export type InterfaceSource = () => NetworkInterfaceRecord[];

export function statusOf(source: InterfaceSource = interfaceRecords): NetworkStatus {
  const interfaces = source();
  return { interfaces, online: interfaces.some((i) => i.up) };
}

/**
 * The app's side of the CLI's "connected" prompt (cli/ceremony-prompts.ts): with a live interface
 * the run goes on only if the checks screen's "we know this machine is connected" was ticked, and
 * the text returned is recorded as an `exception.recorded` at step "network" once the transcript
 * exists. Checked by main at the moment the ceremony begins, not trusted from the page's view.
 */
export function networkAcknowledgement(source: InterfaceSource | undefined, acknowledged: boolean, admin: string): string | undefined {
  const live = statusOf(source).interfaces.filter((i) => i.up);
  if (live.length === 0) return undefined;
  const names = live.map((i) => `${i.name}${i.addresses.length ? ` (${i.addresses.join(', ')})` : ''}`).join(', ');
  const what = `network interface${live.length === 1 ? '' : 's'} up at preflight: ${names}; a ceremony machine should be offline`;
  if (!acknowledged) throw new OperationError(`${what}: take it offline, or tick "we know this machine is connected" on the checks screen (recorded as an exception); nothing was created`);
  return `${what}; acknowledged by ${admin} on the app's checks screen`;
}
