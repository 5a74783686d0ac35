#!/usr/bin/env bash
# Benchmark: `kubectl nlb audit -A -o json` on a large emulated cluster, and
# `kubectl nlb migrate -A --dry-run=client -o json` over its in-tree Services.
#
# Seeds the sandbox with SERVICES LoadBalancer Services and PODS Pods (their
# NLBs in moto), then measures the compiled binary's wall time and peak memory
# with /usr/bin/time, and counts the Kubernetes and AWS requests it made from
# the sandbox's own counters. Where kubectl is installed it also times
# `kubectl get svc,pods -A -o json` against the same API server.
#
# Usage: benches/audit-scale.sh [SERVICES] [PODS]     (default 5000 20000)
# Build first: cargo build --workspace --locked (or --release; PROFILE=release).
# BENCH_KUBECTL=0 skips the kubectl comparison (slow: it lists every pod).
set -euo pipefail
cd "$(dirname "$0")/.."
services=${1:-5000}
pods=${2:-20000}
target=${CARGO_TARGET_DIR:-target}/${PROFILE:-debug}
if [ ! -x "$target/kubectl-nlb" ] || [ ! -x "$target/nlb-sandbox" ]; then
  echo "build first: cargo build --workspace --locked" >&2; exit 1
fi

state=$(mktemp -d)
trap 'kill "$sandbox_pid" 2>/dev/null; wait "$sandbox_pid" 2>/dev/null; rm -rf "$state"' EXIT
seed_start=$(date +%s)
"$target/nlb-sandbox" up --scale "$services,$pods" --state-dir "$state" >"$state/up.out" 2>"$state/up.err" &
sandbox_pid=$!
for _ in $(seq 1 1200); do
  # env.sh appears before scale seeding ends; "sandbox ready" is printed after.
  grep -q "sandbox ready" "$state/up.err" 2>/dev/null && break
  kill -0 "$sandbox_pid" 2>/dev/null || { cat "$state/up.err" >&2; exit 1; }
  sleep 0.5
done
grep -q "sandbox ready" "$state/up.err" || { echo "sandbox did not come up" >&2; exit 1; }
echo "seeded $services Services and $pods Pods in $(( $(date +%s) - seed_start ))s"
# shellcheck disable=SC1091
source "$state/env.sh"
kube_url=$(sed -n 's/^ *server: *//p' "$KUBECONFIG" | head -1)

count() { # total requests the sandbox has counted on URL
  curl -s "$1/_sandbox/requests" | python3 -c '
import json, sys
data = json.load(sys.stdin)
items = data.get("requests", data) if isinstance(data, dict) else data
if isinstance(items, dict):
    print(sum(int(v) for v in items.values()))
else:
    print(sum(int(i.get("count", 0)) for i in items))'
}
measure() { # label, command...
  local label=$1; shift
  local k0 a0 k1 a1
  k0=$(count "$kube_url"); a0=$(count "$AWS_ENDPOINT_URL")
  /usr/bin/time -f "%e %M" -o "$state/time" "$@" >"$state/out.json" 2>"$state/err" || {
    cat "$state/err" >&2; exit 1; }
  k1=$(count "$kube_url"); a1=$(count "$AWS_ENDPOINT_URL")
  read -r secs kb <"$state/time"
  printf '%-40s %8ss %8s MB %8s k8s req %8s AWS req %10s bytes out\n' \
    "$label" "$secs" "$(( kb / 1024 ))" "$(( k1 - k0 ))" "$(( a1 - a0 ))" "$(wc -c <"$state/out.json")"
}

measure "kubectl nlb audit -A -o json" "$target/kubectl-nlb" audit -A -o json
measure "kubectl nlb audit -A -o json (again)" "$target/kubectl-nlb" audit -A -o json
measure "kubectl nlb audit -A --shallow -o json" "$target/kubectl-nlb" audit -A --shallow -o json
# The in-tree Services (3 in 10 of the seeded ones) planned against their
# live NLBs: one NLB, its target groups, their attributes and health each.
measure "kubectl nlb migrate -A --dry-run -o json" "$target/kubectl-nlb" migrate -A --dry-run=client -o json
if [ "${BENCH_KUBECTL:-1}" != 0 ] && command -v kubectl >/dev/null; then
  measure "kubectl get svc,pods -A -o json" kubectl get svc,pods -A -o json
fi
curl -s "$AWS_ENDPOINT_URL/_sandbox/requests" | python3 -c '
import json, sys
data = json.load(sys.stdin)
items = data.get("requests", data) if isinstance(data, dict) else data
if isinstance(items, list):
    for i in sorted(items, key=lambda i: -int(i.get("count", 0)))[:12]:
        print("  AWS %-45s %6s (cumulative over the runs above)" % (i.get("service","") + " " + i.get("action",""), i.get("count")))'
