#!/usr/bin/env node
/**
 * Runs a tool of the desktop toolchain (Electron, electron-builder) from desktop/node_modules, which
 * `npm run desktop:install` fills. Kept out of the main install: Electron 45 and its build tools
 * need Node 22.12 or later, while the CLI and the tests run on Node 20.19 (README, "What needs what").
 *   node scripts/desktop.mjs electron|electron-builder [ARGS...]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [tool, ...args] = process.argv.slice(2);
const fail = (msg) => {
  process.stderr.write(`keyrite: error: ${msg}\n`);
  process.exit(2);
};
if (tool !== 'electron' && tool !== 'electron-builder') fail('usage: node scripts/desktop.mjs electron|electron-builder [ARGS...]');
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) fail(`${tool} needs Node 22.12 or later (this is Node ${process.versions.node}); the CLI and the tests need only 20.19`);
const bin = path.join(root, 'desktop', 'node_modules', '.bin', process.platform === 'win32' ? `${tool}.cmd` : tool);
if (!existsSync(bin)) fail(`${tool} is not installed: run \`npm run desktop:install\` first (installs desktop/package.json)`);
const r = spawnSync(bin, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
process.exit(r.status ?? 1);
