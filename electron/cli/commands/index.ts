import type { Command } from '../command.ts';

/**
 * A command as the top-level help and the dispatcher see it. The module that implements it is
 * imported only when it runs (or prints its own --help): `keyrite --help` and `keyrite verify` never
 * load the PKCS#11 code (graphene-pk11 and its native module), which keeps start-up within 2x a bare
 * `node -e 0` (`npm run bench`). In the build each `import()` below becomes a chunk of its own.
 * `summary` must equal the module's own (test/unit/cli-registry.test.ts checks).
 */
export interface CommandEntry {
  /** e.g. "plan check" */
  name: string;
  summary: string;
  load: () => Promise<Command>;
}

/** Every CLI command, in the order --help lists them. */
export const commands: CommandEntry[] = [
  { name: 'demo', summary: 'A full rehearsal on a throwaway SoftHSM token', load: async () => (await import('./demo.ts')).demo },
  { name: 'ceremony run', summary: 'Run a scripted, headless ceremony from a plan', load: async () => (await import('./ceremony-run.ts')).ceremonyRun },
  {
    name: 'ceremony status',
    summary: 'What a ceremony did and did not do, from its transcript (after a crash, a stop, any time)',
    load: async () => (await import('./ceremony-status.ts')).ceremonyStatusCommand,
  },
  {
    name: 'ceremony abort',
    summary: 'End a ceremony that stopped early: record the abort, remove its keys, sign what exists',
    load: async () => (await import('./ceremony-abort.ts')).ceremonyAbortCommand,
  },
  {
    name: 'ceremony sign',
    summary: 'Sign a completed ceremony whose run stopped before it wrote transcript.dsse.json',
    load: async () => (await import('./ceremony-sign.ts')).ceremonySignCommand,
  },
  {
    name: 'ceremony destroy',
    summary: 'Destroy versions of a root key on the token and sign a certificate of destruction',
    load: async () => (await import('./ceremony-destroy.ts')).ceremonyDestroyCommand,
  },
  {
    name: 'ceremony reshare',
    summary: "Re-share a root key's backup to new custodians (ceremony run with a re-share plan)",
    load: async () => (await import('./ceremony-reshare.ts')).ceremonyReshareCommand,
  },
  {
    name: 'ceremony cosign',
    summary: "Add a witness's or the administrator's own signature to a signed bundle (or a recovery)",
    load: async () => (await import('./ceremony-cosign.ts')).ceremonyCosignCommand,
  },
  { name: 'shares split', summary: 'Split a hex secret (stdin) into SLIP-39 mnemonics', load: async () => (await import('./shares.ts')).sharesSplitCommand },
  { name: 'shares combine', summary: 'Recover a secret from SLIP-39 mnemonics (stdin)', load: async () => (await import('./shares.ts')).sharesCombineCommand },
  {
    name: 'shares inspect',
    summary: 'Describe SLIP-39 mnemonics (FILE or stdin) without recovering the secret',
    load: async () => (await import('./shares.ts')).sharesInspectCommand,
  },
  { name: 'plan check', summary: 'Validate a ceremony plan without touching any HSM', load: async () => (await import('./plan-check.ts')).planCheck },
  {
    name: 'verify',
    summary: "The auditor's check of a bundle: transcript chain, signatures, files, completeness",
    load: async () => (await import('./verify.ts')).verifyCommand,
  },
  {
    name: 'history',
    summary: "A key's life from its bundles: ceremonies in order, each verified and each link checked",
    load: async () => (await import('./history.ts')).historyCommand,
  },
  {
    name: 'recover',
    summary: 'Restore the root key into a token from SLIP-39 shares, with a signed recovery record',
    load: async () => (await import('./recover.ts')).recoverCommand,
  },
  {
    name: 'hsm list',
    summary: 'PKCS#11 modules, their tokens and what each can do in a ceremony',
    load: async () => (await import('./hsm-list.ts')).hsmListCommand,
  },
  {
    name: 'report',
    summary: "Re-render a bundle's ceremony report (report.html) from its transcript",
    load: async () => (await import('./report.ts')).reportCommand,
  },
];
