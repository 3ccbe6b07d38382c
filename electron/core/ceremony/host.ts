import os from 'node:os';
import type { NetworkInterfaceRecord } from '../transcript/events.ts';

/** Every network interface with whether it is up with a non-loopback address: the air-gap record. */
export function networkInterfaces(): NetworkInterfaceRecord[] {
  const ifs = os.networkInterfaces();
  return Object.entries(ifs)
    .map(([name, addrs]) => {
      const list = addrs ?? [];
      const internal = list.length > 0 && list.every((a) => a.internal);
      return { name, internal, up: list.some((a) => !a.internal), addresses: list.map((a) => `${a.address}/${a.netmask}`) };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function hostRecord() {
  return { platform: process.platform, arch: process.arch, release: os.release(), hostname: os.hostname(), networkInterfaces: networkInterfaces() };
}
