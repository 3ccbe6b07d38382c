#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx, so `npm ci && npx keyrite` needs no build step.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../electron/cli/keyrite.ts');
process.exitCode = await main(process.argv.slice(2));
