#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 cluster for the tests and prints its URL.
# Usage: scripts/postgres.sh start DIR PORT | scripts/postgres.sh stop DIR
set -euo pipefail
action=$1; dir=$2; port=${3:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
if [ -z "$bin" ]; then
  echo "PostgreSQL server binaries not found (Debian: apt-get install postgresql)" >&2; exit 1
fi
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$action" in
  start)
    rm -rf "$dir"; mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >/dev/null
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=${PG_FSYNC:-off} -c max_connections=200" start >/dev/null
    "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE ROLE lotse LOGIN SUPERUSER PASSWORD 'lotse'" >/dev/null
    "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE lotse OWNER lotse" >/dev/null
    echo "postgresql://lotse:lotse@127.0.0.1:$port/lotse"
    ;;
  stop)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    ;;
esac
