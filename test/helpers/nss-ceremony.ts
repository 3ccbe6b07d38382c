/**
 * Ceremonies on NSS softoken for the nss-* integration tests: the demo plan (all four export kinds)
 * pointed at an NSS database through hsm.initArgs, run headless as `keyrite ceremony run` does.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runHeadlessCeremony } from '../../electron/cli/ceremony-runner.ts';
import { writeDemoPlan } from '../../electron/core/ceremony/demo-plan.ts';
import { openModule } from '../../electron/core/hsm/index.ts';
import type { ObjectInfo, RootAlgorithm } from '../../electron/core/hsm/types.ts';
import { captureIO } from './ceremony-fixture.ts';
import type { NssToken } from './nss.ts';

export interface NssCeremony {
  bundle: string;
  shares: string[];
  planFile: string;
}

/** Writes the demo plan for this token (initArgs in the plan, or left out for --module-args). */
export function writeNssPlan(token: NssToken, dir: string, id: string, algorithm: RootAlgorithm, o: { initArgsInPlan?: boolean; module?: string } = {}): string {
  const planFile = writeDemoPlan(dir, { id, algorithm, module: o.module ?? token.module, tokenLabel: token.label });
  const plan = JSON.parse(readFileSync(planFile, 'utf8'));
  if (o.initArgsInPlan !== false) plan.hsm.initArgs = token.initArgs;
  writeFileSync(planFile, JSON.stringify(plan, null, 2));
  return planFile;
}

export async function runNssCeremony(token: NssToken, work: string, id: string, algorithm: RootAlgorithm, o: { initArgsInPlan?: boolean; module?: string } = {}): Promise<NssCeremony> {
  const dir = path.join(work, id);
  const planFile = writeNssPlan(token, path.join(dir, 'plan'), id, algorithm, o);
  const sharesOut = path.join(dir, 'shares');
  mkdirSync(sharesOut, { recursive: true });
  const r = await runHeadlessCeremony(
    {
      planFile,
      outDir: path.join(dir, 'out'),
      sharesOut,
      confirmFrom: sharesOut,
      ackAll: true,
      rehearsal: true,
      frontEnd: 'cli',
      pin: token.pin,
      moduleArgs: o.initArgsInPlan === false ? token.initArgs : undefined,
      quiet: true,
    },
    captureIO(),
  );
  const shares = readdirSync(sharesOut)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => readFileSync(path.join(sharesOut, f), 'utf8').trim());
  return { bundle: r.bundleDir, shares, planFile };
}

/** Every object on the NSS token, through a session of its own (the module must not be open elsewhere). */
export function nssObjects(token: NssToken, module = token.module): ObjectInfo[] {
  const mod = openModule(module, { initArgs: token.initArgs });
  try {
    const s = mod.login({ label: token.label }, token.pin);
    try {
      return s.listObjects();
    } finally {
      s.logout();
      s.close();
    }
  } finally {
    mod.close();
  }
}

export function transcriptEvents(bundle: string): { type: string; data: Record<string, any> }[] {
  return readFileSync(path.join(bundle, 'transcript.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}
