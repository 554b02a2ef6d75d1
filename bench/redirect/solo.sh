#!/bin/bash
# One Tandem redirect server alone, for experiments between full runs of run.sh: seeds a fresh
# embedded database, pins `tandem serve` (and so its PostgreSQL) to core 0, warms it up with wrk on
# core 1, then measures one wrk run and prints requests/s, p50, p99 and the CPU per request of node
# and of PostgreSQL. No nginx baseline: compare solo runs with each other, alternating.
#
#   bash bench/redirect/solo.sh
#   LABEL=x REPO=/path/to/worktree FLAGS="--max-semi-space-size=64" DURATION=10s bash bench/redirect/solo.sh
#   SQL="drop index clicks_partner_idx" bash bench/redirect/solo.sh   # run against the bench database after warm-up
set -u
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
PORT=${PORT:-4100}
WORK=$(mktemp -d /tmp/tandem-solo-XXXX)
chmod 755 "$WORK" # the embedded PostgreSQL runs as `postgres` when we are root
cd "$REPO"
node --import tsx bench/redirect/seed.ts "$WORK/data" > /dev/null || exit 1
DATABASE_URL= TANDEM_DEMO=0 TANDEM_TRUST_PROXY=1 TANDEM_WORKERS=0 LOG_LEVEL=warn NODE_ENV=production \
  taskset -c 0 node ${FLAGS:-} --import tsx apps/server/src/cli.ts serve --port "$PORT" --host 127.0.0.1 --data-dir "$WORK/data" > "$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 150); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.2; done
PIDFILE="$WORK/data/pg/postmaster.pid"
for _ in $(seq 1 20); do [ -s "$PIDFILE" ] && break; sleep 0.3; done
PG_PORT=$(sed -n 4p "$PIDFILE")
POSTMASTER=$(sed -n 1p "$PIDFILE")
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
postgres_ticks() { local t=0 p; for p in $POSTMASTER $(pgrep -P "$POSTMASTER"); do t=$((t + $(cpu_ticks "$p"))); done; echo $t; }
URL="http://127.0.0.1:$PORT/r/bench"
taskset -c 1 wrk -t1 -c64 -d5s -s bench/redirect/visitors.lua "$URL" > /dev/null
if [ -n "${SQL:-}" ]; then
  PGPASSWORD=$(cat "$WORK/data/pg-password") psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qAtc "$SQL"
fi
sleep 0.5
NODE0=$(cpu_ticks $SERVER); PG0=$(postgres_ticks)
# New visitors only (the warm-up's are within their hour and would reuse their click ids).
taskset -c 1 wrk -t1 -c64 -d"${DURATION:-10s}" --latency -s bench/redirect/visitors.lua "$URL" -- 5000000 > "$WORK/wrk.txt"
NODE1=$(cpu_ticks $SERVER); PG1=$(postgres_ticks)
REQUESTS=$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")
TICK_US=$((1000000 / $(getconf CLK_TCK)))
awk -v label="${LABEL:-solo}" -v n="$REQUESTS" -v node=$((NODE1 - NODE0)) -v pg=$((PG1 - PG0)) -v tick=$TICK_US '
  /Requests\/sec/ {rps = $2} / 50%/ {p50 = $2} / 99%/ {p99 = $2}
  END {printf "%s: %s req/s, p50 %s, p99 %s, CPU per request node %.1f µs + PostgreSQL %.1f µs\n", label, rps, p50, p99, node * tick / n, pg * tick / n}' "$WORK/wrk.txt"
