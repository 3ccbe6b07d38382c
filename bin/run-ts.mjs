#!/usr/bin/env node
// Runs a TypeScript entry point (benchmarks, scripts) through tsx.
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
register();
const entry = process.argv[2];
if (!entry) { console.error('usage: run-ts FILE.ts'); process.exit(2); }
process.argv.splice(1, 1);
await import(pathToFileURL(path.resolve(entry)).href);
