/**
 * The air-gap check shown on the preflight screen and recorded in the transcript: every network
 * interface, whether it is up with a non-loopback address. The app itself never connects
 * (security.ts blocks every request); this tells people whether the machine could.
 */
import os from 'node:os';
import type { NetworkStatus } from './api.ts';
import { networkInterfaces } from './core/ceremony/host.ts';
import type { NetworkInterfaceRecord } from './core/transcript/events.ts';

type Interfaces = ReturnType<typeof os.networkInterfaces>;

/** The core's record (addresses and, on Linux, link state); tests pass their own interfaces. */
export function interfaceRecords(ifs?: Interfaces): NetworkInterfaceRecord[] {
  return ifs ? networkInterfaces(ifs, new Map()) : networkInterfaces();
}

export function airgapStatus(ifs?: Interfaces): NetworkStatus {
  const interfaces = interfaceRecords(ifs);
  return { interfaces, online: interfaces.some((i) => i.up) };
}
