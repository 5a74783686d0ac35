#!/usr/bin/env bash
# Benchmark: the tool's own overhead per step of `cutover --via listener`,
# how much of it is the wait for the LBC stand-in, and AWS calls per run.
#
# Starts the sandbox with the LBC stand-in at v2.16.0 (the first release
# that honours `actions.*` on Services; it runs in the background every
# 250 ms or more), then cuts web/frontend over and back with --soak 0s (so
# no step waits for anything but the tool, moto and the stand-in), in
# ROUNDS rounds (default 3):
#   one step   --preserve-client-ip=false --weights 100
#   ten steps  --preserve-client-ip=true  --weights 10,20,…,100
# With --finalize each weight is a step twice (to the twins, then back to
# the Service's own groups), so the ten-step run has 18 traffic steps more
# than the one-step run: overhead per extra step = difference / 18.
#
# Every traffic step writes the `actions.TCP-80` annotation and polls
# DescribeListeners until the stand-in has written the weights on its next
# pass, so the figure includes that wait. Each run is traced (the tool's
# KUBECTL_NLB_LOG: the SDK's operation spans and kube's requests, with
# timestamps) to measure it: "confirm" is the time from the Service PATCH to
# the DescribeListeners that shows the weights; the stand-in itself acted
# between the last poll that did not show them and that one ("stand-in").
# BENCH_TRACE=0 runs untraced (no confirm figures).
#
# AWS calls are counted by the sandbox per action (the stand-in's own calls
# are not counted).
#
# Usage: benches/listener-step.sh [ROUNDS]   (build first: cargo build --workspace --locked)
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}/${PROFILE:-debug}
if [ ! -x "$target/kubectl-nlb" ] || [ ! -x "$target/nlb-sandbox" ]; then
  echo "build first: cargo build --workspace --locked" >&2; exit 1
fi
rounds=${1:-3}
trace=${BENCH_TRACE:-1}
extra_steps=18 # 9 weights more × 2 directions

state=$(mktemp -d)
trap 'kill "$sandbox_pid" 2>/dev/null; wait "$sandbox_pid" 2>/dev/null; rm -rf "$state"' EXIT
"$target/nlb-sandbox" up --lbc-version v2.16.0 --state-dir "$state" >"$state/up.out" 2>"$state/up.err" &
sandbox_pid=$!
for _ in $(seq 1 240); do
  grep -q "sandbox ready" "$state/up.err" 2>/dev/null && break
  kill -0 "$sandbox_pid" 2>/dev/null || { cat "$state/up.err" >&2; exit 1; }
  sleep 0.5
done
# shellcheck disable=SC1091
source "$state/env.sh"

reset() { curl -s -X POST "$AWS_ENDPOINT_URL/_sandbox/requests/reset" >/dev/null; }
calls() { # → "total DescribeListeners DescribeTargetHealth DescribeTargetGroups DescribeTargetGroupAttributes CreateTargetGroup ModifyTargetGroupAttributes DeleteTargetGroup"
  curl -s "$AWS_ENDPOINT_URL/_sandbox/requests" | python3 -c '
import json, sys
counts = {}
for i in json.load(sys.stdin):
    counts[i["action"]] = counts.get(i["action"], 0) + int(i["count"])
want = ["DescribeListeners", "DescribeTargetHealth", "DescribeTargetGroups",
        "DescribeTargetGroupAttributes", "CreateTargetGroup",
        "ModifyTargetGroupAttributes", "DeleteTargetGroup"]
print(sum(counts.values()), *[counts.get(a, 0) for a in want])'
}

# The confirmations in a trace:
# "count confirm_sum standin_low_sum standin_high_sum polls histogram(polls:count,…)".
confirms() {
  python3 - "$1" <<'PY'
import datetime, re, sys
events = []  # (seconds, "aws"|"kube", what), at the end of each call
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"(\S+Z) DEBUG (.*)", line)
    if not m:
        continue
    t = datetime.datetime.fromisoformat(m.group(1).replace("Z", "+00:00")).timestamp()
    rest = m.group(2)
    a = re.search(r'rpc\.method="(\w+)".*exiting attempt loop', rest)
    if a:
        events.append((t, "aws", a.group(1)))
        continue
    k = re.search(r"http\.method=(\w+) http\.url=\S+?//[^/]+(\S+?)[? ].*http\.status_code=", rest)
    if k:
        events.append((t, "kube", k.group(1) + " " + k.group(2)))
n = total = low = high = polls = 0
hist = {}
for i, (t, kind, what) in enumerate(events):
    if not (kind == "kube" and what.startswith("PATCH ") and "/services/" in what):
        continue
    ends = []
    for t2, kind2, what2 in events[i + 1:]:
        if (kind2, what2) != ("aws", "DescribeListeners"):
            break
        ends.append(t2 - t)
    if not ends:  # the PATCH of the target-group-attributes annotation
        continue
    n += 1
    total += ends[-1]
    high += ends[-1]
    low += ends[-2] if len(ends) > 1 else 0.0
    polls += len(ends)
    hist[len(ends)] = hist.get(len(ends), 0) + 1
print(n, round(total, 3), round(low, 3), round(high, 3), polls,
      ",".join("%d:%d" % kv for kv in sorted(hist.items())) or "-")
PY
}

run() { # label, value, weights → prints a row; sets secs, counts, conf
  local label=$1 value=$2 weights=$3
  reset
  local t0 t1 log=/dev/null
  [ "$trace" = 0 ] || log="$state/trace"
  t0=$(date +%s.%N)
  KUBECTL_NLB_LOG="aws_sdk_elasticloadbalancingv2=debug,aws_smithy_runtime::client::orchestrator=debug,kube_client=debug" \
    "$target/kubectl-nlb" cutover frontend -n web --preserve-client-ip="$value" --via listener \
    --weights "$weights" --soak 0s --interval 1s --timeout 5m --finalize --yes \
    >"$state/out" 2>"$log" || { cat "$state/out" >&2; tail -50 "$log" >&2; exit 1; }
  t1=$(date +%s.%N)
  secs=$(python3 -c "print(round($t1 - $t0, 2))")
  counts=$(calls)
  conf="0 0 0 0 0 -"
  [ "$trace" = 0 ] || conf=$(confirms "$state/trace")
  python3 - "$label" "$secs" "$counts" "$conf" <<'PY'
import sys
label, secs, counts, conf = sys.argv[1:]
total, dl, dth, dtg, dtga, ctg, mtga, dltg = counts.split()
n, wait, low, high, polls, hist = conf.split()
line = ("%-22s %6s s  %4s AWS calls: %3s DescribeListeners, %3s DescribeTargetHealth, "
        "%3s DescribeTargetGroups, %3s DescribeTargetGroupAttributes, %s CreateTargetGroup, "
        "%s ModifyTargetGroupAttributes, %s DeleteTargetGroup"
        % (label, secs, total, dl, dth, dtg, dtga, ctg, mtga, dltg))
if int(n):
    n = int(n)
    line += ("\n%-22s confirm %.2f s in %d confirmations (avg %.2f s; stand-in acted after"
             " %.2f–%.2f s; DescribeListeners per confirmation: %s)"
             % ("", float(wait), n, float(wait) / n, float(low) / n, float(high) / n,
                ", ".join("%s polls ×%s" % tuple(h.split(":")) for h in hist.split(","))))
print(line)
PY
}

per_step=() confirm_step=() ones=() tens=()
for r in $(seq 1 "$rounds"); do
  read -r load _ </proc/loadavg
  echo "round $r (load average $load before it)"
  run "  one step (100)" false 100
  one=$secs one_counts=$counts one_conf=$conf
  run "  ten steps (10,…,100)" true 10,20,30,40,50,60,70,80,90,100
  ten=$secs ten_counts=$counts ten_conf=$conf
  ones+=("$one") tens+=("$ten")
  per_step+=("$(python3 -c "print(round(($ten - $one) / $extra_steps, 3))")")
  read -r _ one_wait _ <<<"$one_conf"
  read -r _ ten_wait _ <<<"$ten_conf"
  confirm_step+=("$(python3 -c "print(round(($ten_wait - $one_wait) / $extra_steps, 3))")")
  python3 - "$one_counts" "$ten_counts" "$one_conf" "$ten_conf" "${per_step[-1]}" "${confirm_step[-1]}" "$trace" <<PY
import sys
one, ten, oc, tc, step, conf, trace = sys.argv[1:]
names = ["AWS calls", "DescribeListeners", "DescribeTargetHealth", "DescribeTargetGroups",
         "DescribeTargetGroupAttributes", "CreateTargetGroup", "ModifyTargetGroupAttributes",
         "DeleteTargetGroup"]
d = [(int(b) - int(a)) / $extra_steps for a, b in zip(one.split(), ten.split())]
print("  per extra step: %.2f s overhead" % float(step)
      + ("" if trace == "0" else ", of which %.2f s waiting for DescribeListeners to show the weights" % float(conf)))
print("  per extra step: " + ", ".join("%.1f %s" % (v, n) for v, n in zip(d, names) if v))
PY
done

python3 - "${ones[*]}" "${tens[*]}" "${per_step[*]}" "${confirm_step[*]}" "$trace" <<'PY'
import statistics, sys
ones, tens, steps, confs = ([float(x) for x in a.split()] for a in sys.argv[1:5])
def mm(xs):
    return "min %.2f / median %.2f" % (min(xs), statistics.median(xs))
print("summary over %d round(s)" % len(ones))
print("  one step:                %s s" % mm(ones))
print("  ten steps:               %s s" % mm(tens))
print("  overhead per extra step: %s s" % mm(steps))
if sys.argv[5] != "0":
    print("  of which confirm wait:   %s s" % mm(confs))
PY
