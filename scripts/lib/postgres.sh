# shellcheck shell=bash
# Makes sure a PostgreSQL server is reachable for the tests and benchmarks, and exports
# DATABASE_URL. Uses $DATABASE_URL when it answers; otherwise starts (once, then reuses)
# a throwaway cluster from the system's PostgreSQL binaries, installing them with apt
# when they are missing and we are root. PostgreSQL refuses to run as root, so as root
# the cluster runs as the `postgres` user.

ensure_postgres() {
  if [ -n "${DATABASE_URL:-}" ] && command -v pg_isready >/dev/null && pg_isready -q -d "$DATABASE_URL"; then
    return 0
  fi
  local bindir
  bindir=$(find_pg_bindir)
  if [ -z "$bindir" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "installing PostgreSQL (apt-get install postgresql)" >&2
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
      bindir=$(find_pg_bindir)
    fi
    if [ -z "$bindir" ]; then
      echo "PostgreSQL server binaries not found: install them (Debian/Ubuntu: apt-get install postgresql)" >&2
      return 1
    fi
  fi
  local dir=${ANYTRADE_TEST_PGDATA:-/var/tmp/anytrade-test-pg}
  local port=${ANYTRADE_TEST_PGPORT:-55432}
  local run=()
  if [ "$(id -u)" = 0 ]; then
    local user=postgres
    id -u "$user" >/dev/null 2>&1 || user=nobody
    run=(runuser -u "$user" --)
    mkdir -p "$dir" && chown "$user" "$dir" && chmod 700 "$dir"
  else
    mkdir -p "$dir" && chmod 700 "$dir"
  fi
  if [ ! -f "$dir/PG_VERSION" ]; then
    (cd / && "${run[@]}" "$bindir/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 >/dev/null)
  fi
  if ! (cd / && "${run[@]}" "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1); then
    (cd / && "${run[@]}" "$bindir/pg_ctl" -D "$dir" -w -t 60 -l "$dir/server.log" \
      -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c track_commit_timestamp=on -c max_connections=400 -c shared_buffers=256MB" \
      start >/dev/null)
  fi
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

find_pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
  if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then pg_config --bindir; fi
}

# Drops the per-test and per-bench databases earlier runs left behind.
drop_scratch_databases() {
  local psql
  psql=$(command -v psql || echo "$(find_pg_bindir)/psql")
  "$psql" -d "$DATABASE_URL" -Atc \
    "SELECT datname FROM pg_database WHERE datname LIKE 'anytrade\_test\_%' OR datname LIKE 'anytrade\_bench\_%'" |
    while read -r db; do
      "$psql" -d "$DATABASE_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
    done
}
