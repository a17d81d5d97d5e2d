#!/usr/bin/env node
// Kept as plain JS outside dist/ so npm can link the bin before the first build.
import('../dist/cli/main.js').then(
  (cli) => cli.main(process.argv),
  (error) => {
    console.error(`agentd: cannot load the CLI (${error.message}). Run "npm run build" first.`);
    process.exit(1);
  },
);
