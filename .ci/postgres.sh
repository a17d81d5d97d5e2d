#!/usr/bin/env bash
# Makes sure PostgreSQL answers on 127.0.0.1:5432 for the store-postgres tests: starts the local
# cluster when it is installed but stopped. Machines without PostgreSQL skip those tests (outside CI).
set -euo pipefail
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "PostgreSQL is ready on 127.0.0.1:5432"
  exit 0
fi
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  version=$(ls /etc/postgresql | sort -n | tail -1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && { echo "PostgreSQL $version started"; exit 0; }
    sleep 1
  done
fi
echo "PostgreSQL is not available on 127.0.0.1:5432" >&2
exit 1
