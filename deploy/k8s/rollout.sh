#!/usr/bin/env bash
# Deploy a CaseBridge overlay in the order the platform needs:
#   1. the namespace and the ConfigMaps; check that the four Secrets exist (they are never applied from git)
#   2. the migration Jobs and the topics Job, re-created and waited for
#   3. everything else (Deployments, Services, Ingress), then wait for the rollouts
# Usage: deploy/k8s/rollout.sh staging|production     (kubectl pointed at the target cluster)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
case "${1:-}" in
  staging) NS=casebridge-staging ;;
  production) NS=casebridge ;;
  *) echo "usage: $0 staging|production" >&2; exit 2 ;;
esac
OVERLAY="$HERE/overlays/$1"
JOBS='app.kubernetes.io/component in (migrate,topics)'

kubectl apply -k "$OVERLAY" -l 'app.kubernetes.io/component in (namespace,config)'
for svc in case-service referral-service scoring-service notification-service; do
  kubectl -n "$NS" get secret "$svc-secrets" >/dev/null \
    || { echo "rollout: secret $NS/$svc-secrets is missing (see deploy/k8s/secrets/example-secrets.yaml)" >&2; exit 1; }
done

# A Job's pod template is immutable: remove the previous run before applying the new image.
kubectl -n "$NS" delete job -l "$JOBS" --ignore-not-found --wait=true
kubectl apply -k "$OVERLAY" -l "$JOBS"
if ! kubectl -n "$NS" wait --for=condition=complete job -l "$JOBS" --timeout=15m; then
  echo "rollout: a migration or topics Job did not complete; nothing else was changed. Logs:" >&2
  kubectl -n "$NS" logs -l "$JOBS" --all-containers --tail=50 >&2 || true
  exit 1
fi

kubectl apply -k "$OVERLAY"
kubectl -n "$NS" rollout status deployment -l app.kubernetes.io/part-of=casebridge --timeout=10m
