#!/usr/bin/env bash
# Benchmark `vulnmail list` and `vulnmail due` on a store with many reports.
#
# Usage: benches/triage.sh
#
# Builds vulnmail (release profile), creates a throwaway vulnmail home under /var/tmp,
# imports BENCH_REPORTS generated vulnerability reports (one mbox; received times spread
# over two years, a fifth claiming a severity), moves some of them through triage, then
# measures each command BENCH_RUNS times after one warm-up run (which caches the store key
# in the kernel keyring, as in normal use: "store unlock included once the key is cached"):
#   list (text, to /dev/null), list --overdue, list --state open --severity high,
#   due (text), due --json
# and reports the median and the slowest run, plus peak memory (GNU time). Target: under
# 100 ms each for 50,000 reports. It prints a Markdown report on stdout (progress goes to
# stderr); it is a benchmark, not a test: CI does not run it. Results go in
# docs/benchmarks.md. Settings: BENCH_REPORTS (50000), BENCH_RUNS (15), BENCH_TRIAGED (300).
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
N=${BENCH_REPORTS:-50000}
RUNS=${BENCH_RUNS:-15}
TRIAGED=${BENCH_TRIAGED:-300}
prog=benches/triage.sh
note() { echo "$prog: $*" >&2; }

note "building (release)"
cargo build --release --locked --bin vulnmail >&2
VM=$ROOT/target/release/vulnmail
W=$(mktemp -d /var/tmp/vm-bench-triage.XXXXXX)
# BENCH_KEEP=DIR keeps the generated home there (and reuses it on the next run).
if [ -n "${BENCH_KEEP:-}" ]; then rm -rf "$W"; W=$BENCH_KEEP; mkdir -p "$W"; else trap 'rm -rf "$W"' EXIT; fi
export HOME=$W/home XDG_CONFIG_HOME=$W/config XDG_DATA_HOME=$W/xdg VULNMAIL_HOME=$W/data
export VULNMAIL_PASSPHRASE=bench-passphrase-1 VULNMAIL_TIME=2026-12-01T12:00:00Z COLUMNS=160
mkdir -p "$HOME"
import_s="store reused from BENCH_KEEP"
if [ -f "$W/ids" ]; then
  note "reusing the store in $W"
else
# A store key still cached for this path (an earlier run) must not be taken for the new store's.
"$VM" lock >/dev/null 2>&1 || true
"$VM" init --batch --address security@example.org --domain example.org --name "Bench Team" >/dev/null

note "generating $N reports"
python3 - "$N" "$W/reports.mbox" <<'PY'
import sys, random, email.utils, datetime
n, path = int(sys.argv[1]), sys.argv[2]
random.seed(7)
kinds = ["SQL injection", "stored XSS", "path traversal", "SSRF", "open redirect", "RCE", "CSRF", "IDOR"]
parts = ["/api/search", "the admin panel", "the upload handler", "/login", "the webhook endpoint", "the CLI"]
start = datetime.datetime(2024, 12, 1, tzinfo=datetime.timezone.utc)
with open(path, "w", newline="\n") as f:
    for i in range(n):
        t = start + datetime.timedelta(seconds=int(i * (730 * 86400 / n)) + random.randint(0, 3600))
        k, p = random.choice(kinds), random.choice(parts)
        sev = random.choice(["", "", "", "", "Severity: high\n", "Severity: critical\n", "Severity: low\n"])
        f.write(f"From reporter{i % 997}@example.net {t.strftime('%a %b %d %H:%M:%S %Y')}\n")
        f.write(f"From: Reporter {i % 997} <reporter{i % 997}@example.net>\nTo: security@example.org\n")
        f.write(f"Subject: {k} in {p} ({i})\nMessage-ID: <bench-{i}@example.net>\n")
        f.write(f"Date: {email.utils.format_datetime(t)}\n\n")
        f.write(f"Summary: {k} in {p}.\n{sev}\nSteps to reproduce:\n1. open {p}\n2. send the payload\n\n")
        f.write("Impact: an attacker can read other users' data.\n" + ("Details. " * 40) + "\n\n")
PY
note "importing (this takes a while)"
import_start=$(date +%s)
"$VM" import "$W/reports.mbox" >/dev/null
import_s="$(( $(date +%s) - import_start )) s"
note "triaging $TRIAGED reports"
i=0
"$VM" list --json --sort received \
  | python3 -c 'import json,sys; [print(r["id"]) for r in json.load(sys.stdin)[:int(sys.argv[1])]]' "$TRIAGED" > "$W/ids"
while read -r id; do
  i=$((i + 1))
  case $((i % 3)) in
    0) "$VM" triage "$id" --state acknowledged >/dev/null ;;
    1) "$VM" triage "$id" --state triaged --severity high >/dev/null ;;
    2) "$VM" triage "$id" --state invalid >/dev/null ;;
  esac
done < "$W/ids"
fi
count=$("$VM" list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')

measure() { # label, args...
  local label=$1; shift
  "$VM" "$@" >/dev/null 2>&1 || true # warm-up: caches the store key
  local times=() rss s e
  # Timed runs are bare (no wrapper process, no fork for the clock: bash's
  # EPOCHREALTIME); peak memory comes from one more run under GNU time.
  for _ in $(seq 1 "$RUNS"); do
    s=${EPOCHREALTIME/./}
    "$VM" "$@" >/dev/null 2>&1 || true
    e=${EPOCHREALTIME/./}
    times+=($(( (e - s) / 1000 )))
  done
  /usr/bin/time -f '%M' -o "$W/rss" "$VM" "$@" >/dev/null 2>&1 || true
  rss=$(tail -1 "$W/rss")
  local sorted
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  local median max
  median=$(echo "$sorted" | sed -n "$(( (RUNS + 1) / 2 ))p")
  max=$(echo "$sorted" | tail -1)
  local verdict=PASS
  [ "$median" -lt 100 ] || verdict=FAIL
  printf '| `vulnmail %s` | %s ms | %s ms | %s MB | %s |\n' "$label" "$median" "$max" "$((rss / 1024))" "$verdict"
}

echo "## list and due on $count reports"
echo
echo "$(date -u +%Y-%m-%d), $(nproc) cores, load at start $(cut -d' ' -f1-3 /proc/loadavg); import of $N reports: ${import_s}; $RUNS runs each after a warm-up; times include process start and store unlock with the key cached."
echo
echo "| command | median | slowest | peak RSS | < 100 ms |"
echo "|---|---|---|---|---|"
measure "list" list
measure "list --overdue" list --overdue
measure "list --state open --severity high" list --state open --severity high
measure "due" due
measure "due --json" due --json
