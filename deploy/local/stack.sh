#!/usr/bin/env bash
# The local CaseBridge platform without Docker: PostgreSQL, Kafka, the OIDC provider, four services
# (API + worker each), the nginx gateway and demo data. Every process is recorded by pid under var/run.
#
#   stack.sh up        everything, then print where it listens and how to get a token
#   stack.sh infra     only PostgreSQL, Kafka and the OIDC provider (what the test suites need)
#   stack.sh down      stop everything this script started
#   stack.sh status    what is running
#   stack.sh logs [N]  follow the services' logs (N: lines of history, default 20)
#   stack.sh restart SERVICE   restart one service's API and worker (e.g. after a code change)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export VAR_DIR=${VAR_DIR:-$ROOT/var}
RUN="$VAR_DIR/run"; LOGS="$VAR_DIR/log"
mkdir -p "$RUN" "$LOGS"
PY="$ROOT/.venv/bin/python"
PGPORT=${PGPORT:-55432}; KAFKA_PORT=${KAFKA_PORT:-19092}; OIDC_PORT=${OIDC_PORT:-9400}; GATEWAY_PORT=${GATEWAY_PORT:-8080}
export PGPORT KAFKA_PORT OIDC_PORT
PG_ADMIN_URL=${DATABASE_ADMIN_URL:-postgresql://postgres@127.0.0.1:$PGPORT}
KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT
OIDC_ISSUER=http://127.0.0.1:$OIDC_PORT
# service name, package, API port
SERVICES=("case-service case_service 8101" "referral-service referral_service 8102"
          "scoring-service scoring_service 8103" "notification-service notification_service 8104")

say() { echo "stack: $*"; }

alive() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

launch() {  # name, then the command; env comes from the caller
  local name=$1; shift
  if alive "$name"; then return 0; fi
  nohup "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
}

halt() {
  local name=$1 pid
  [ -f "$RUN/$name.pid" ] || return 0
  pid=$(cat "$RUN/$name.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$RUN/$name.pid"
}

SMTP_PORT=${SMTP_PORT:-8025}

service_env() {  # service name, package → environment of its processes
  local db=${2}
  echo "SERVICE_NAME=$1 ENVIRONMENT=local DATABASE_URL=${PG_ADMIN_URL/postgresql:/postgresql+asyncpg:}/$db" \
       "KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP OIDC_ISSUER=$OIDC_ISSUER KAFKA_TOPIC_PREFIX=${KAFKA_TOPIC_PREFIX:-}"
  # notification-service mails through the local SMTP sink (mails land in var/mail as .eml files)
  if [ "$1" = notification-service ]; then echo "SMTP_HOST=127.0.0.1 SMTP_PORT=$SMTP_PORT"; fi
}

infra() {
  "$ROOT/deploy/local/postgres/postgres.sh" start
  "$ROOT/deploy/local/kafka/kafka.sh" start
  "$ROOT/deploy/local/oidc/oidc.sh" start
}

wait_ready() {  # name, url, seconds
  for _ in $(seq 1 $(( $3 * 4 ))); do
    if curl -sf -o /dev/null "$2"; then return 0; fi
    if ! alive "$1"; then say "$1 died; last lines of $LOGS/$1.log:"; tail -n 40 "$LOGS/$1.log" >&2; return 1; fi
    sleep 0.25
  done
  say "$1 not ready after $3 s; last lines of $LOGS/$1.log:"; tail -n 40 "$LOGS/$1.log" >&2; return 1
}

up() {
  infra
  say "creating topics and running migrations"
  "$PY" -m casebridge_common.operations topics --bootstrap "$KAFKA_BOOTSTRAP" --prefix "${KAFKA_TOPIC_PREFIX:-}"
  for entry in "${SERVICES[@]}"; do
    read -r name pkg _ <<<"$entry"
    env $(service_env "$name" "$pkg") "$PY" -m casebridge_common.operations migrate --service-dir "$ROOT/services/$name"
  done
  (cd "$ROOT" && launch smtp-sink env SMTP_SINK_PORT="$SMTP_PORT" SMTP_SINK_DIR="$VAR_DIR/mail" \
      "$PY" -m notification_service.smtp_sink)
  for entry in "${SERVICES[@]}"; do
    read -r name pkg port <<<"$entry"
    (cd "$ROOT" && launch "$name" env $(service_env "$name" "$pkg") "$ROOT/.venv/bin/uvicorn" --factory \
        "$pkg.main:create_app" --host 127.0.0.1 --port "$port" --no-access-log)
    (cd "$ROOT" && launch "$name-worker" env $(service_env "$name" "$pkg") "$PY" -m "$pkg.worker")
  done
  gateway_start
  for entry in "${SERVICES[@]}"; do
    read -r name _ port <<<"$entry"
    wait_ready "$name" "http://127.0.0.1:$port/readyz" 60
  done
  wait_ready gateway "http://127.0.0.1:$GATEWAY_PORT/healthz" 20
  say "loading demo data"
  env $(service_env referral-service referral_service) "$PY" -m referral_service.demo "$ROOT/deploy/demo/directory.json"
  "$PY" "$ROOT/deploy/demo/caseload.py" --gateway "http://127.0.0.1:$GATEWAY_PORT" --issuer "$OIDC_ISSUER"
  cat <<TXT

CaseBridge is up.
  gateway (one base URL)  http://127.0.0.1:$GATEWAY_PORT   (/v1/cases, /v1/beneficiaries, /v1/directory, /v1/surveys, /v1/inbox)
  case-service            http://127.0.0.1:8101/docs
  referral-service        http://127.0.0.1:8102/docs
  scoring-service         http://127.0.0.1:8103/docs
  notification-service    http://127.0.0.1:8104/docs
  OIDC provider           $OIDC_ISSUER/.well-known/openid-configuration
  PostgreSQL              $PG_ADMIN_URL    Kafka  $KAFKA_BOOTSTRAP
  logs                    make logs   (files in $LOGS)
  e-mail (SMTP sink)      127.0.0.1:$SMTP_PORT, every mail kept as .eml in $VAR_DIR/mail

Get a token for the Berlin office and list its cases:
  TOKEN=\$(curl -s -u de-berlin-system:de-berlin-system-localdev-secret $OIDC_ISSUER/token \\
      -d grant_type=client_credentials -d resource=urn:casebridge:case-api -d 'scope=cases:read cases:write' | jq -r .access_token)
  curl -s -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:$GATEWAY_PORT/v1/cases | jq
TXT
}

gateway_start() {
  if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
    say "installing nginx from Debian's packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
  fi
  mkdir -p "$VAR_DIR/gateway/logs" "$VAR_DIR/gateway/tmp"
  sed -e "s#@PORT@#$GATEWAY_PORT#g" -e "s#@VAR@#$VAR_DIR/gateway#g" \
      "$ROOT/deploy/local/gateway/nginx.conf.in" >"$VAR_DIR/gateway/nginx.conf"
  if alive gateway; then /usr/sbin/nginx -p "$VAR_DIR/gateway" -c "$VAR_DIR/gateway/nginx.conf" -s reload; return 0; fi
  /usr/sbin/nginx -p "$VAR_DIR/gateway" -c "$VAR_DIR/gateway/nginx.conf"
  for _ in $(seq 1 20); do [ -f "$VAR_DIR/gateway/nginx.pid" ] && break; sleep 0.1; done
  cp "$VAR_DIR/gateway/nginx.pid" "$RUN/gateway.pid"
}

down() {
  halt gateway
  halt smtp-sink
  for entry in "${SERVICES[@]}"; do read -r name _ _ <<<"$entry"; halt "$name-worker"; halt "$name"; done
  "$ROOT/deploy/local/oidc/oidc.sh" stop
  "$ROOT/deploy/local/kafka/kafka.sh" stop
  "$ROOT/deploy/local/postgres/postgres.sh" stop
}

status() {
  for name in gateway smtp-sink case-service case-service-worker referral-service referral-service-worker scoring-service \
      scoring-service-worker notification-service notification-service-worker; do
    if alive "$name"; then echo "  running  $name (pid $(cat "$RUN/$name.pid"))"; else echo "  stopped  $name"; fi
  done
  "$ROOT/deploy/local/postgres/postgres.sh" status && echo "  running  postgres" || echo "  stopped  postgres"
  "$ROOT/deploy/local/kafka/kafka.sh" status >/dev/null && echo "  running  kafka" || echo "  stopped  kafka"
  "$ROOT/deploy/local/oidc/oidc.sh" status >/dev/null && echo "  running  oidc" || echo "  stopped  oidc"
}

restart() {  # one service's API and worker, with the rest of the stack left running
  local wanted=$1 found=""
  for entry in "${SERVICES[@]}"; do
    read -r name pkg port <<<"$entry"
    [ "$name" = "$wanted" ] || continue
    found=yes
    halt "$name-worker"; halt "$name"
    env $(service_env "$name" "$pkg") "$PY" -m casebridge_common.operations migrate --service-dir "$ROOT/services/$name"
    (cd "$ROOT" && launch "$name" env $(service_env "$name" "$pkg") "$ROOT/.venv/bin/uvicorn" --factory \
        "$pkg.main:create_app" --host 127.0.0.1 --port "$port" --no-access-log)
    (cd "$ROOT" && launch "$name-worker" env $(service_env "$name" "$pkg") "$PY" -m "$pkg.worker")
    wait_ready "$name" "http://127.0.0.1:$port/readyz" 60
    say "$name restarted"
  done
  [ -n "$found" ] || { echo "unknown service: $wanted" >&2; return 2; }
}

case "${1:-}" in
  up) up ;;
  restart) "$ROOT/.venv/bin/python" -m casebridge_common.operations topics --bootstrap "$KAFKA_BOOTSTRAP" \
             --prefix "${KAFKA_TOPIC_PREFIX:-}" && restart "${2:?usage: stack.sh restart SERVICE}" ;;
  infra) infra ;;
  down) down ;;
  status) status ;;
  logs) tail -n "${2:-20}" -F "$LOGS"/*.log ;;
  *) echo "usage: $0 up|infra|down|status|logs|restart SERVICE" >&2; exit 2 ;;
esac
