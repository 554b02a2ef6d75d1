#!/usr/bin/env bash
# Redirect benchmark: Tandem's GET /r/:key (with click recording, embedded PostgreSQL) against
# nginx's `return 302` on the same machine, alternating rounds. Never part of `npm test`.
#   bash bench/redirect/run.sh            (ROUNDS=3 DURATION=10s CONNECTIONS=64 by default)
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
  echo "installing nginx and wrk…"
  apt-get install -y nginx wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y nginx wrk >/dev/null; }
fi
command -v taskset >/dev/null || { echo "taskset (util-linux) is required" >&2; exit 1; }

exec node --import tsx bench/redirect/run.ts
