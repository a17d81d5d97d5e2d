#!/usr/bin/env bash
# The dashboard's browser tests drive Debian's Chromium (/usr/bin/chromium) with playwright-core.
# They skip without it on a user's machine and fail in CI, so CI installs it when missing (as
# root, with apt-get) and says what it did.
set -euo pipefail
CHROMIUM="${AGENTD_TEST_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  echo "chromium: present at $CHROMIUM ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium: missing at $CHROMIUM and cannot install it here (needs root and apt-get); the browser tests will fail in CI"
  exit 0
fi
echo "chromium: missing at $CHROMIUM; installing with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
echo "chromium: installed ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
