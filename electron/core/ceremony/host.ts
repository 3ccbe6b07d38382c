import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type { NetworkInterfaceRecord } from '../transcript/events.ts';

/** Linux's view of each interface's link state, including interfaces that have no address. */
function linuxOperstate(): Map<string, string> {
  const states = new Map<string, string>();
  if (process.platform !== 'linux') return states;
  try {
    for (const name of readdirSync('/sys/class/net')) {
      try {
        states.set(name, readFileSync(`/sys/class/net/${name}/operstate`, 'utf8').trim());
      } catch {
        /* an interface that vanished while we looked */
      }
    }
  } catch {
    /* no sysfs: fall back to addresses only */
  }
  return states;
}

/**
 * Every network interface, and whether it is up: the air-gap record. An interface counts as up when
 * it has a non-loopback address or (on Linux) its link is up or unknown though it has no address yet,
 * so a plugged-in cable without DHCP still shows.
 */
export function networkInterfaces(
  ifs: ReturnType<typeof os.networkInterfaces> = os.networkInterfaces(),
  oper: Map<string, string> = linuxOperstate(),
): NetworkInterfaceRecord[] {
  const names = new Set([...Object.keys(ifs), ...oper.keys()]);
  return [...names]
    .map((name) => {
      const list = ifs[name] ?? [];
      const state = oper.get(name);
      const loopback = name === 'lo' || (list.length > 0 && list.every((a) => a.internal));
      const up = !loopback && (list.some((a) => !a.internal) || state === 'up' || state === 'unknown');
      const rec: NetworkInterfaceRecord = { name, up, internal: loopback, addresses: list.map((a) => a.cidr ?? `${a.address}/${a.netmask}`) };
      if (state) rec.operstate = state;
      return rec;
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function hostRecord() {
  return { platform: process.platform, arch: process.arch, release: os.release(), hostname: os.hostname(), networkInterfaces: networkInterfaces() };
}
