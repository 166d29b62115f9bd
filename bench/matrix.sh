#!/usr/bin/env bash
# The load benchmark on SQLite and PostgreSQL with 1 and 2 app processes, then a summary.
# Usage: bash bench/matrix.sh [RATE] [SECONDS]   (figures in bench/results/)
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-500}; seconds=${2:-30}
out=bench/results; mkdir -p "$out"
pgdir=$(mktemp -d /tmp/lotse-bench-pg.XXXXXX)
trap 'scripts/postgres.sh stop "$pgdir"; rm -rf "$pgdir"' EXIT
pg=$(PG_FSYNC=on scripts/postgres.sh start "$pgdir" 55480)
for db in sqlite postgresql; do
  for n in 1 2; do
    url=""; [ "$db" = postgresql ] && url=$pg
    echo "== $db, $n process(es), $rate msg/s offered"
    .venv/bin/lotse bench load --database-url "$url" --processes "$n" --rate "$rate" \
      --duration "$seconds" --warmup 10 --json "$out/load-$db-$n.json" 2>/dev/null
  done
done
