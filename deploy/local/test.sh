#!/usr/bin/env bash
# The test runner behind `make test` (and so .ci/run). Starts the real servers it needs, or reuses a running
# stack, and stops only what it started. Any failure fails the run.
#   test.sh all | unit | e2e | package NAME
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
export VAR_DIR=${VAR_DIR:-$ROOT/var}
export TEST_POSTGRES_URL=${TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:${PGPORT:-55432}}
export TEST_KAFKA_BOOTSTRAP=${TEST_KAFKA_BOOTSTRAP:-127.0.0.1:${KAFKA_PORT:-19092}}
export TEST_OIDC_ISSUER=${TEST_OIDC_ISSUER:-http://127.0.0.1:${OIDC_PORT:-9400}}
export TEST_GATEWAY_URL=${TEST_GATEWAY_URL:-http://127.0.0.1:${GATEWAY_PORT:-8080}}
PYTEST=("$ROOT/.venv/bin/python" -m pytest -q -ra)
PACKAGES=(shared services/case-service services/referral-service services/scoring-service services/notification-service)
STARTED=""
SUMMARY=$(mktemp)

cleanup() {
  local status=$?
  if [ -n "$STARTED" ]; then echo "test: stopping the stack this run started"; deploy/local/stack.sh down; fi
  # One closing line over every pytest run: "N passed, N failed" (plus skipped/errors when there are any).
  if [ -s "$SUMMARY" ]; then
    awk '{for (i = 1; i < NF; i++) if ($(i+1) ~ /^(passed|failed|skipped|errors?|deselected)/) {
           k = $(i+1); gsub(/[^a-z]/, "", k); if (k == "error") k = "errors"; n[k] += $i } }
         END { line = sprintf("%d passed, %d failed", n["passed"], n["failed"] + n["errors"]);
               if (n["skipped"]) line = line sprintf(", %d skipped", n["skipped"]); print line }' "$SUMMARY"
  fi
  rm -f "$SUMMARY"
  exit $status
}
trap cleanup EXIT

pytest_run() {  # pytest with its closing line kept for the total
  local log; log=$(mktemp)
  set +e; "${PYTEST[@]}" "$@" | tee "$log"; local status=${PIPESTATUS[0]}; set -e
  grep -E "^(=+ )?[0-9]+ (passed|failed|skipped|errors?|deselected)" "$log" | tail -n 1 >>"$SUMMARY" || true
  rm -f "$log"
  return "$status"
}

stack_running() { curl -sf -o /dev/null "$TEST_GATEWAY_URL/healthz" && curl -sf -o /dev/null http://127.0.0.1:8101/readyz; }

need_infra() {
  if deploy/local/postgres/postgres.sh status && deploy/local/kafka/kafka.sh status >/dev/null \
      && deploy/local/oidc/oidc.sh status >/dev/null; then return 0; fi
  STARTED=yes
  deploy/local/stack.sh infra
}

need_stack() {
  if stack_running; then echo "test: reusing the running stack"; return 0; fi
  STARTED=yes
  deploy/local/stack.sh up
}

# pytest runs once per package: SQLModel's metadata is process-global, so one process holds one service's tables.
run_package() {  # folder, then the tests folder below it (default: all of tests/)
  local dir=$1 suite=${2:-}
  echo "== $dir ${suite}"
  pytest_run "$dir/tests${suite:+/$suite}"
}

static_checks() {
  echo "== static checks"
  .venv/bin/ruff check .
  .venv/bin/ruff format --check .
  .venv/bin/lint-imports
  .venv/bin/mypy shared/src services/*/src
}

e2e() {
  need_stack
  echo "== end-to-end"
  pytest_run tests/e2e -m "not disruptive"
  echo "== end-to-end, disruptive (stops and restarts Kafka)"
  pytest_run tests/e2e -m disruptive
}

case "${1:-all}" in
  unit)
    for p in "${PACKAGES[@]}"; do run_package "$p" unit; done ;;
  package)
    need_infra
    if [ "${2:-}" = shared ]; then run_package shared; else run_package "services/${2:?package name}"; fi ;;
  e2e) e2e ;;
  all)
    static_checks
    need_infra
    for p in "${PACKAGES[@]}"; do run_package "$p"; done
    e2e ;;
  *) echo "usage: $0 all|unit|e2e|package NAME" >&2; exit 2 ;;
esac
