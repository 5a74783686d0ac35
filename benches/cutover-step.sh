#!/usr/bin/env bash
# Benchmark: the tool's own overhead per cutover step, and AWS calls per poll.
#
# Starts the sandbox (moto + emulated cluster + LBC stand-in), then cuts
# web/frontend over twice with --soak 0 (so no step waits for anything but
# the tool, moto and the stand-in): once with one step (--weights 100), once
# back with ten (--weights 10,20,…,100). Overhead per step is the difference
# of the two wall times over the nine extra steps. AWS calls are counted by
# the sandbox per action; a poll reads the new NLB's target groups (one
# DescribeTargetGroups) and each group's health (one DescribeTargetHealth).
#
# Usage: benches/cutover-step.sh        (build first: cargo build --workspace --locked)
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}/${PROFILE:-debug}
if [ ! -x "$target/kubectl-nlb" ] || [ ! -x "$target/nlb-sandbox" ]; then
  echo "build first: cargo build --workspace --locked" >&2; exit 1
fi

state=$(mktemp -d)
trap 'kill "$sandbox_pid" 2>/dev/null; wait "$sandbox_pid" 2>/dev/null; rm -rf "$state"' EXIT
"$target/nlb-sandbox" up --state-dir "$state" >"$state/up.out" 2>"$state/up.err" &
sandbox_pid=$!
for _ in $(seq 1 240); do
  grep -q "sandbox ready" "$state/up.err" 2>/dev/null && break
  kill -0 "$sandbox_pid" 2>/dev/null || { cat "$state/up.err" >&2; exit 1; }
  sleep 0.5
done
# shellcheck disable=SC1091
source "$state/env.sh"

calls() { # action → count since the last reset
  curl -s "$AWS_ENDPOINT_URL/_sandbox/requests" | python3 -c '
import json, sys
want = sys.argv[1]
print(sum(int(i["count"]) for i in json.load(sys.stdin) if want in ("*", i["action"])))' "$1"
}
reset() { curl -s -X POST "$AWS_ENDPOINT_URL/_sandbox/requests/reset" >/dev/null; }

run() { # label, from, to-flag, weights → prints a row, sets $secs
  local label=$1 from=$2 flag=$3 weights=$4
  reset
  local t0 t1
  t0=$(date +%s.%N)
  "$target/kubectl-nlb" cutover "$from" -n web "$flag" --weights "$weights" \
    --soak 0 --interval 1s --drain 0s --timeout 5m --finalize --yes >"$state/out" 2>"$state/err" || {
    cat "$state/out" "$state/err" >&2; exit 1; }
  t1=$(date +%s.%N)
  secs=$(python3 -c "print(round($t1 - $t0, 2))")
  local steps
  steps=$(tr ',' '\n' <<<"$weights" | wc -l)
  printf '%-28s %6s s %4s steps %5s AWS calls (%s ChangeResourceRecordSets, %s GetChange, %s DescribeTargetHealth, %s DescribeTargetGroups)\n' \
    "$label" "$secs" "$steps" "$(calls '*')" "$(calls ChangeResourceRecordSets)" \
    "$(calls GetChange)" "$(calls DescribeTargetHealth)" "$(calls DescribeTargetGroups)"
}

run "one step (100)" frontend --preserve-client-ip=false 100
one=$secs
run "ten steps (10,20,…,100)" frontend-cip-off --preserve-client-ip=true 10,20,30,40,50,60,70,80,90,100
ten=$secs
python3 -c "print('overhead per extra step: %.2f s' % (($ten - $one) / 9))"
