#!/usr/bin/env node
// Kept as plain JS outside dist/ so npm can link the bin before the first build.
import { existsSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { dirname, join } from 'node:path';

// Start-up is mostly compiling code (core, zod, the plugins a config imports). Node >= 22.1 can
// keep the compiled code on disk between runs; Node 20 has no such cache and skips this. The
// cache goes in the nearest node_modules/.cache (as jiti's does), never the shared temporary
// directory: a .mjs config's inline values would be in it. No node_modules, no cache.
if (typeof nodeModule.enableCompileCache === 'function') {
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules'))) {
      try {
        nodeModule.enableCompileCache(join(dir, 'node_modules', '.cache', 'agentd-compile'));
      } catch {
        // A cache that cannot be written only costs time.
      }
      break;
    }
    if (dirname(dir) === dir) break;
  }
}

import('../dist/cli/main.js').then(
  (cli) => cli.main(process.argv),
  (error) => {
    console.error(`agentd: cannot load the CLI (${error.message}). Run "npm run build" first.`);
    process.exit(1);
  },
);
