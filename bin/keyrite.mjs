#!/usr/bin/env node
// Runs the compiled CLI (dist/cli, built by `npm ci` through the `prepare` script): no TypeScript
// compiler and no transpile cache at run time.
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/keyrite.mjs', import.meta.url);
if (!existsSync(built)) {
  process.stderr.write(
    'keyrite: error: the CLI is not built (dist/cli/keyrite.mjs is missing): run `npm run build` in the keyrite folder (npm ci does it)\n',
  );
  process.exit(1);
}
const { main } = await import(built.href);
process.exitCode = await main(process.argv.slice(2));
