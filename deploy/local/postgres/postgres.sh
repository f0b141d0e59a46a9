#!/usr/bin/env bash
# Local PostgreSQL 15 for development and tests: initdb/pg_ctl into var/postgres, loopback only.
# Usage: postgres.sh install|start|stop|status|wipe
# Env: PGPORT (55432), VAR_DIR (repo var/). With DATABASE_ADMIN_URL set, an existing server is used instead
# and start/stop do nothing.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VAR_DIR=${VAR_DIR:-$(cd "$HERE/../../.." && pwd)/var}
RUN="$VAR_DIR/postgres"
PGPORT=${PGPORT:-55432}
DATABASES=(case_service referral_service scoring_service notification_service)

pgbin() {
  for dir in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    [ -x "$dir/pg_ctl" ] && { echo "$dir"; return 0; }
  done
  return 1
}

install() {
  if pgbin >/dev/null; then return 0; fi
  echo "postgres: installing PostgreSQL 15 server from Debian packages"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 postgresql-contrib-15 >/dev/null
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

psql_admin() {
  psql -h 127.0.0.1 -p "$PGPORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"
}

running() {
  [ -f "$RUN/data/postmaster.pid" ] && as_postgres "$(pgbin)/pg_ctl" -D "$RUN/data" status >/dev/null 2>&1
}

start() {
  if [ -n "${DATABASE_ADMIN_URL:-}" ]; then echo "postgres: using the server at DATABASE_ADMIN_URL"; return 0; fi
  install
  local bin; bin=$(pgbin)
  mkdir -p "$RUN"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$RUN"; fi
  if [ ! -f "$RUN/data/PG_VERSION" ]; then
    echo "postgres: initdb into $RUN/data"
    as_postgres "$bin/initdb" -D "$RUN/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if running; then echo "postgres: already running on 127.0.0.1:$PGPORT"; else
    as_postgres "$bin/pg_ctl" -D "$RUN/data" -l "$RUN/postgres.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $RUN -c max_connections=300 -c shared_buffers=256MB" start >/dev/null
    echo "postgres: up on 127.0.0.1:$PGPORT"
  fi
  for db in "${DATABASES[@]}"; do
    if [ -z "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
      psql_admin -c "CREATE DATABASE $db"
      echo "postgres: created database $db"
    fi
  done
}

stop() {
  if [ -n "${DATABASE_ADMIN_URL:-}" ] || ! pgbin >/dev/null || [ ! -f "$RUN/data/PG_VERSION" ]; then return 0; fi
  if running; then as_postgres "$(pgbin)/pg_ctl" -D "$RUN/data" -m fast -w stop >/dev/null; echo "postgres: stopped"; fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) running ;;
  wipe) stop; rm -rf "$RUN" ;;
  *) echo "usage: $0 install|start|stop|status|wipe" >&2; exit 2 ;;
esac
