/**
 * The air-gap check shown on the preflight screen and recorded in the transcript: every network
 * interface, whether it is up with a non-loopback address. The app itself never connects
 * (security.ts blocks every request); this tells people whether the machine could.
 */
import os from 'node:os';
import type { NetworkStatus } from './api.ts';
import type { NetworkInterfaceRecord } from './core/transcript/events.ts';

type Interfaces = ReturnType<typeof os.networkInterfaces>;

export function interfaceRecords(ifs: Interfaces = os.networkInterfaces()): NetworkInterfaceRecord[] {
  return Object.entries(ifs)
    .map(([name, addrs]) => {
      const list = addrs ?? [];
      return {
        name,
        internal: list.length > 0 && list.every((a) => a.internal),
        up: list.some((a) => !a.internal),
        addresses: list.map((a) => (a.cidr ?? `${a.address}/${a.netmask}`)),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function airgapStatus(ifs?: Interfaces): NetworkStatus {
  const interfaces = interfaceRecords(ifs);
  return { interfaces, online: interfaces.some((i) => i.up) };
}
