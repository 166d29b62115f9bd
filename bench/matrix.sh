#!/usr/bin/env bash
# The load benchmark on SQLite and PostgreSQL with 1 and 2 app processes. For each, the
# offered rate rises until p99 exceeds 100 ms or the service falls behind; the last rate that
# kept up is its capacity. Figures: bench/results/load-<db>-<n>-<rate>.json and summary.txt.
# Usage: bash bench/matrix.sh [SECONDS] [RATES...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}; shift || true
rates=${*:-"50 100 150 200 250 300 400 500"}
out=bench/results; mkdir -p "$out"; : > "$out/summary.txt"
pgdir=$(mktemp -d /tmp/lotse-bench-pg.XXXXXX)
trap 'scripts/postgres.sh stop "$pgdir"; rm -rf "$pgdir"' EXIT
pg=$(PG_FSYNC=on scripts/postgres.sh start "$pgdir" 55480)
for db in sqlite postgresql; do
  for n in 1 2; do
    url=""; [ "$db" = postgresql ] && url=$pg
    for rate in $rates; do
      file="$out/load-$db-$n-$rate.json"
      .venv/bin/lotse bench load --database-url "$url" --processes "$n" --rate "$rate" \
        --duration "$seconds" --warmup 8 --users $((rate * 3)) --json "$file" 2>/dev/null | tee -a "$out/summary.txt"
      kept_up=$(.venv/bin/python -c "import json,sys; r=json.load(open('$file')); print(int(r['p99_ms'] <= 100 and r['throughput'] >= 0.97 * r['offered_rate']))")
      [ "$kept_up" = 1 ] || break
    done
  done
done
