#!/usr/bin/env bash
# Local DEVELOPMENT OIDC/OAuth2 provider for CaseBridge (node-oidc-provider, see provider.mjs).
# Not for production: in-memory storage, dev login pages, well-known demo client secrets.
#
# Usage: oidc.sh install|start|stop|restart|status
#
# Environment (defaults in brackets):
#   OIDC_PORT                 port on 127.0.0.1; issuer is http://127.0.0.1:$OIDC_PORT   [9400]
#   VAR_DIR                   runtime state root                                         [<repo>/var]
#   OIDC_CLIENT_SECRETS_FILE  JSON {"<client_id>": "<secret>"} overriding the demo secrets []
#   OIDC_START_TIMEOUT        seconds to wait for discovery to answer                    [30]
#   OIDC_STOP_TIMEOUT         seconds to wait after SIGTERM                              [10]
# Layout: $VAR_DIR/oidc/{jwks.json,cookie-keys.json,oidc.pid,oidc.log}; node_modules/ next to this file.
# jwks.json holds the private signing key: created on first start, reused so tokens survive restarts.
# Delete it (provider stopped) to rotate; never commit it.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PORT=${OIDC_PORT:-9400}
ISSUER="http://127.0.0.1:$PORT"
VAR_DIR=${VAR_DIR:-$HERE/../../../var}
mkdir -p "$VAR_DIR"
VAR_DIR=$(cd "$VAR_DIR" && pwd)
ODIR=$VAR_DIR/oidc
PIDFILE=$ODIR/oidc.pid
LOG=$ODIR/oidc.log
START_TIMEOUT=${OIDC_START_TIMEOUT:-30}
STOP_TIMEOUT=${OIDC_STOP_TIMEOUT:-10}
SCRIPT=$HERE/provider.mjs

say() { echo "oidc: $*"; }
die() { echo "oidc: ERROR: $*" >&2; exit 1; }

# The pid is ours only if it is alive AND runs our provider.mjs (a stale pid file's number may
# have been reused by another process).
live_pid() {
  local pid
  [ -f "$PIDFILE" ] || return 1
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$SCRIPT" || return 1
  echo "$pid"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

discovery_ok() {
  curl -fsS --max-time 2 "$ISSUER/.well-known/openid-configuration" 2>/dev/null \
    | grep -qF "\"issuer\":\"$ISSUER\""
}

log_tail() {
  [ -s "$LOG" ] || return 0
  echo "----- last 40 lines of $LOG -----" >&2
  tail -n 40 "$LOG" >&2
}

installed() {
  [ -f "$HERE/node_modules/oidc-provider/package.json" ] &&
    [ -f "$HERE/node_modules/.package-lock.json" ] &&
    [ ! "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]
}

cmd_install() {
  command -v node >/dev/null || die "node not found (Node.js 20+ required)"
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || die "Node.js $(node --version) is too old (20+ required)"
  if installed; then
    say "node_modules up to date ($(node -p 'require("'"$HERE"'/node_modules/oidc-provider/package.json").version' 2>/dev/null || echo '?'))"
    return 0
  fi
  command -v npm >/dev/null || die "npm not found"
  say "installing node_modules with npm ci in $HERE"
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
  say "installed oidc-provider $(node -p 'require("'"$HERE"'/node_modules/oidc-provider/package.json").version')"
}

cmd_start() {
  local pid
  mkdir -p "$ODIR"
  chmod 700 "$ODIR"
  # Serialise concurrent start/stop calls (fd 9 is closed for the provider below).
  exec 9>"$ODIR/.lock"
  if command -v flock >/dev/null; then flock -w "$((START_TIMEOUT + 120))" 9 || die "lock busy"; fi

  if pid=$(live_pid); then
    say "already running (pid $pid) at $ISSUER"
    return 0
  fi
  rm -f "$PIDFILE"
  command -v curl >/dev/null || die "curl not found (used to wait for discovery)"
  port_busy "$PORT" && die "127.0.0.1:$PORT is already in use by another process"

  cmd_install

  local t0 deadline
  say "starting provider at $ISSUER (state $ODIR, log $LOG)"
  echo "----- oidc.sh start $(date -u +%FT%TZ) -----" >>"$LOG"
  t0=$(date +%s.%N)
  OIDC_PORT=$PORT VAR_DIR=$VAR_DIR nohup node "$SCRIPT" >>"$LOG" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$PIDFILE"

  deadline=$((SECONDS + START_TIMEOUT))
  while :; do
    if discovery_ok; then
      say "ready at $ISSUER (pid $pid, $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}') s)"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PIDFILE"
      log_tail
      die "provider process $pid exited during startup"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log_tail
      echo "oidc: ERROR: discovery not answering after ${START_TIMEOUT} s; stopping pid $pid" >&2
      stop_pid "$pid"
      exit 1
    fi
    sleep 0.1
  done
}

stop_pid() {
  local pid=$1 deadline
  kill -TERM "$pid" 2>/dev/null || { rm -f "$PIDFILE"; return 0; }
  deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "pid $pid still alive after ${STOP_TIMEOUT} s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
      break
    fi
    sleep 0.1
  done
  rm -f "$PIDFILE"
}

cmd_stop() {
  local pid
  if ! pid=$(live_pid); then
    rm -f "$PIDFILE"
    say "not running"
    return 0
  fi
  say "stopping pid $pid"
  stop_pid "$pid"
  say "stopped"
}

cmd_status() {
  local pid
  if pid=$(live_pid); then
    if discovery_ok; then
      say "running (pid $pid) at $ISSUER, discovery OK"
      return 0
    fi
    say "running (pid $pid) but discovery at $ISSUER does not answer"
    return 1
  fi
  say "not running"
  return 3
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart) cmd_stop; cmd_start ;;
  status) cmd_status ;;
  *) echo "usage: $0 install|start|stop|restart|status" >&2; exit 2 ;;
esac
