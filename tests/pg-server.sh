#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests: a new cluster in a temporary
# folder, reachable only on a Unix socket inside that folder (no TCP).
#
#   tests/pg-server.sh start [PID]  prints the folder; the server's URI is
#                                   postgresql:///postgres?host=FOLDER&user=dsbuild;
#                                   with PID, the server is stopped when that
#                                   process ends (a test that crashed)
#   tests/pg-server.sh stop FOLDER  stops the server and removes the folder
#
# Exits 77 (a skip, to meson) when no PostgreSQL server binaries are
# installed.  PostgreSQL refuses to run as root, so as root the cluster
# belongs to the unprivileged user `nobody`.
set -euo pipefail

script=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
bindir=${DS_PG_BINDIR:-}
if [ -z "$bindir" ]; then
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ]; then bindir=$d; break; fi
  done
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ] || [ ! -x "$bindir/pg_ctl" ]; then
  echo "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin: install the postgresql package" >&2
  exit 77
fi

as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  as_owner=(runuser -u nobody --)
fi

case "${1:-}" in
  start)
    dir=$(mktemp -d "${TMPDIR:-/tmp}/ds-pg-XXXXXX")
    chmod 755 "$dir"
    [ ${#as_owner[@]} -eq 0 ] || chown nobody: "$dir"
    cd "$dir"
    # trust: the socket is in a private folder of a throwaway cluster.
    if ! "${as_owner[@]}" "$bindir/initdb" -D "$dir/data" -U dsbuild --auth=trust -E UTF8 --no-sync \
         >"$dir/initdb.log" 2>&1; then
      cat "$dir/initdb.log" >&2
      exit 1
    fi
    # fsync stays on: the tests and the benchmark measure durable commits.
    if ! "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
         -o "-k $dir -c listen_addresses= -p 5432 -c max_connections=200" start >/dev/null; then
      cat "$dir/server.log" >&2
      exit 1
    fi
    if [ -n "${2:-}" ]; then
      setsid bash -c 'while kill -0 "$0" 2>/dev/null; do sleep 1; done; exec "$1" stop "$2"' \
        "$2" "$script" "$dir" </dev/null >/dev/null 2>&1 &
    fi
    echo "$dir"
    ;;
  stop)
    dir=${2:?usage: pg-server.sh stop FOLDER}
    case "$dir" in */ds-pg-*) ;; *) echo "not a test server folder: $dir" >&2; exit 2;; esac
    if [ -f "$dir/data/postmaster.pid" ]; then
      (cd "$dir" && "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1) || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: pg-server.sh start | stop FOLDER" >&2
    exit 2
    ;;
esac
