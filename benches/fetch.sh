#!/usr/bin/env bash
# Benchmark `vulnmail fetch` against mbsync (isync) on the same private Dovecot.
#
# Usage: benches/fetch.sh            (as root: the mail-server harness needs it)
#
# Builds vulnmail (release profile), starts scripts/mailservers in a temporary directory
# under /var/tmp, generates realistic vulnerability reports (headers + 3-4 KB plain-text
# body, CRLF, unique Message-IDs) and measures, with vulnmail and mbsync against the same
# server in the same run:
#   - a full fetch of SMALL messages into an empty store / empty Maildir (median of FULL_RUNS)
#   - a no-op fetch (nothing new) on SMALL and on LARGE messages (median of NOOP_RUNS)
#   - peak memory (max RSS, GNU time) during the full fetch
#   - once, for information: the incremental fetch of the LARGE - SMALL new messages
# vulnmail is measured as `vulnmail fetch` (which also turns new messages into reports) and,
# when the version has the option, as `vulnmail fetch --no-process` (store only).
# It prints a Markdown report on stdout (progress goes to stderr) and exits 0 whether or
# not the targets are met; it exits non-zero only when it could not measure. This is a
# benchmark, not a test: CI does not run it. Results go in docs/benchmarks.md.
#
# Settings (environment): BENCH_SMALL (2000), BENCH_LARGE (20000), BENCH_FULL_RUNS (5),
# BENCH_NOOP_RUNS (7); BENCH_REV=COMMIT measures that commit (built from `git archive` in
# target/bench-rev) instead of the work tree. Needs python3, mbsync (isync) and GNU time
# (/usr/bin/time): see scripts/setup.sh.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

SMALL=${BENCH_SMALL:-2000}
LARGE=${BENCH_LARGE:-20000}
FULL_RUNS=${BENCH_FULL_RUNS:-5}
NOOP_RUNS=${BENCH_NOOP_RUNS:-7}
REV=${BENCH_REV:-}
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg) # other work on the machine skews timings

prog=benches/fetch.sh
note() { echo "$prog: $*" >&2; }
die() { echo "$prog: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (scripts/mailservers starts Dovecot and Postfix masters)"
[ "$LARGE" -gt "$SMALL" ] || die "BENCH_LARGE ($LARGE) must be above BENCH_SMALL ($SMALL)"
for tool in python3 mbsync cargo git; do
  command -v "$tool" >/dev/null || die "$tool is missing (run scripts/setup.sh)"
done
GNU_TIME=/usr/bin/time
"$GNU_TIME" -f %M -o /dev/null true 2>/dev/null \
  || die "GNU time ($GNU_TIME) is missing: install the Debian package 'time' (scripts/setup.sh)"
# the real interpreter: a pyenv shim would look for its files under $HOME, which changes below
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
PY=$("$PY" -c 'import sys; print(sys.executable)')

# ---------------------------------------------------------------------------------------------
# temporary directory and cleanup

# /tmp may be 0700 here, and the servers' users must traverse the harness directory
base=$(mktemp -d /var/tmp/vmb.XXXXXX)
chmod 711 "$base"
MS=$base/s
VM=$ROOT/target/release/vulnmail
vm_ready=""

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  for n in $vm_ready; do vm "$n" lock >/dev/null 2>&1; done # forget the cached store keys
  if [ -d "$MS" ]; then "$ROOT/scripts/mailservers" stop "$MS" >/dev/null 2>&1; fi
  rm -rf "$base"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# build

if [ -n "$REV" ]; then
  # a snapshot of one commit, built in its own target directory (kept for the next run)
  commit=$(git -C "$ROOT" rev-parse --short "$REV^{commit}") || die "BENCH_REV=$REV is not a commit"
  note "building vulnmail $commit (cargo build --release, from git archive)"
  mkdir "$base/src"
  git -C "$ROOT" archive "$commit" | tar -x -C "$base/src"
  (cd "$base/src" && CARGO_TARGET_DIR=$ROOT/target/bench-rev \
    cargo build --release --quiet --locked --bin vulnmail >&2) || die "cargo build --release failed"
  VM=$ROOT/target/bench-rev/release/vulnmail
else
  commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  if [ -n "$(git -C "$ROOT" status --porcelain -- src Cargo.toml Cargo.lock build.rs 2>/dev/null)" ]; then
    commit="$commit + uncommitted changes in the work tree"
  fi
  note "building vulnmail (cargo build --release)"
  cargo build --release --quiet --bin vulnmail >&2 || die "cargo build --release failed"
fi
[ -x "$VM" ] || die "$VM was not built"

# ---------------------------------------------------------------------------------------------
# helpers

# timeit.py OUT ERR CMD...: run CMD (stdout to OUT, stderr to ERR) and print its wall time in
# seconds (perf_counter, around fork+exec+wait only); fails when CMD fails.
cat >"$base/timeit.py" <<'EOF'
import subprocess, sys, time
out, err, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(out, "wb") as o, open(err, "wb") as e:
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=o, stderr=e, stdin=subprocess.DEVNULL)
    rc = p.wait()
    t1 = time.perf_counter()
if rc != 0:
    sys.stderr.write(f"timeit: {cmd[0]} exited with {rc}; stderr:\n")
    sys.stderr.write(open(err, errors="replace").read()[-4000:])
    sys.exit(1)
print(f"{t1 - t0:.6f}")
EOF

results=$base/results
: >"$results"
record() { echo "$1 $2" >>"$results"; } # KEY VALUE

# ---------------------------------------------------------------------------------------------
# mail servers and messages

note "starting the mail servers"
"$ROOT/scripts/mailservers" start "$MS" >&2
while IFS='=' read -r k v; do
  case "$k" in MS_*) printf -v "$k" '%s' "$v" ;; esac
done <"$MS/env"
: "${MS_IMAPS_PORT:?}" "${MS_CA:?}" "${MS_SECURITY_USER:?}" "${MS_SECURITY_PASS:?}"

note "generating $LARGE messages"
mkdir -p "$base/msgs/small" "$base/msgs/rest"
"$PY" - "$base/msgs" "$SMALL" "$LARGE" <<'EOF'
# Realistic vulnerability reports: a mail path, DKIM, a plain-text body of 3-4 KB.
# Deterministic (fixed seed): every run measures the same messages.
import os, random, sys, time
out, small, large = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(20250101)
first = ["Alice", "Bao", "Chidi", "Dana", "Emil", "Fatima", "Goran", "Hiro", "Ines", "Jonas",
         "Kavya", "Luis", "Mei", "Nikolai", "Olu", "Priya", "Quentin", "Rosa", "Sven", "Tariq"]
last = ["Nguyen", "Okafor", "Schmidt", "Tanaka", "Garcia", "Ivanov", "Kowalski", "Haddad",
        "Silva", "Larsen", "Moreau", "Kim", "Rossi", "Novak", "Mensah", "Patel"]
domains = ["example.net", "example.com", "research.example.net", "sec.example.com"]
classes = [
    ("heap buffer overflow", "CWE-122", "memory corruption and likely remote code execution"),
    ("use-after-free", "CWE-416", "a crash, and with heap grooming code execution"),
    ("SQL injection", "CWE-89", "reading and modifying arbitrary rows in the database"),
    ("stored cross-site scripting", "CWE-79", "session theft for any user who opens the page"),
    ("path traversal", "CWE-22", "reading arbitrary files readable by the service user"),
    ("server-side request forgery", "CWE-918", "requests to internal services and metadata"),
    ("authentication bypass", "CWE-287", "access to the admin API without credentials"),
    ("integer overflow", "CWE-190", "an undersized allocation followed by an out-of-bounds write"),
    ("regular expression denial of service", "CWE-1333", "100% CPU for minutes per request"),
    ("unsafe deserialization", "CWE-502", "remote code execution as the service user"),
    ("XML external entity expansion", "CWE-611", "file disclosure and denial of service"),
    ("race condition in temporary file handling", "CWE-377", "local privilege escalation"),
]
components = ["the HTTP header parser", "the image thumbnailer", "the CSV importer",
              "the REST API", "the template engine", "the plugin loader", "the session store",
              "the archive extractor", "the markdown renderer", "the LDAP connector",
              "the webhook dispatcher", "the configuration reloader"]
funcs = ["parse_header", "decode_chunk", "read_entry", "render_block", "load_plugin",
         "resolve_path", "check_token", "inflate_stream", "copy_field", "split_record"]
sentences = [
    "The length field is read from the input and used without checking it against the size of the destination buffer.",
    "I confirmed the issue on the latest release and on the current main branch.",
    "The value is passed to the query builder as a raw string instead of a bound parameter.",
    "An attacker does not need an account; the endpoint is reachable before authentication.",
    "The check happens after the file is opened, so a symlink swapped in between is followed.",
    "Sanitisation is applied to the first occurrence only, and a doubled sequence slips through.",
    "The object is freed on the error path but the caller keeps using the pointer.",
    "With the default configuration the service runs as root inside the container.",
    "The timeout only applies to the connection, not to the time spent matching the pattern.",
    "I have not shared this report with anyone else and will not until a fix is available.",
    "The attached proof of concept only reads /etc/hostname to keep it harmless.",
    "Please let me know if you need more information or a call to walk through it.",
    "I would appreciate credit in the advisory under the name given below.",
    "The same pattern appears in two other call sites, which may be affected as well.",
    "Downgrading to the previous minor version does not help; the code is older than that.",
    "A fuzzing run with AddressSanitizer found it after about forty minutes.",
    "Setting the limit in the configuration mitigates it, but the default is unlimited.",
    "I am following a 90-day disclosure policy, counted from the date of this message.",
]
asan = ["==4121==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x602000000{:03x}",
        "WRITE of size {} at 0x602000000{:03x} thread T0",
        "    #0 0x55d3c1a{:05x} in {} src/{}.c:{}",
        "    #1 0x55d3c1b{:05x} in handle_request src/server.c:{}",
        "    #2 0x55d3c1c{:05x} in worker_main src/worker.c:{}",
        "    #3 0x7f0a2c4{:05x} in start_thread nptl/pthread_create.c:442",
        "SUMMARY: AddressSanitizer: heap-buffer-overflow src/{}.c:{} in {}"]

def wrap(text, width=72):
    words, lines, cur = text.split(), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    if cur:
        lines.append(cur)
    return lines

def rfc2822(t):
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(t))

def message(i):
    fn, ln = rng.choice(first), rng.choice(last)
    dom = rng.choice(domains)
    addr = f"{fn.lower()}.{ln.lower()}{rng.randrange(100)}@{dom}"
    vclass, cwe, impact = rng.choice(classes)
    comp, func = rng.choice(components), rng.choice(funcs)
    ver = f"{rng.randrange(1, 6)}.{rng.randrange(0, 20)}.{rng.randrange(0, 10)}"
    t = 1735689600 - rng.randrange(2 * 365 * 86400)
    date = rfc2822(t)
    qid = "".join(rng.choice("0123456789ABCDEF") for _ in range(10))
    mid = f"<{time.strftime('%Y%m%d%H%M%S', time.gmtime(t))}.{i}.{rng.getrandbits(48):012x}@{dom}>"
    subject = f"[security] {vclass} in {comp} ({func}) in {ver}"
    ip = f"192.0.2.{rng.randrange(1, 255)}"
    b64 = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
                  for _ in range(344))
    bh = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
                 for _ in range(43)) + "="
    headers = [
        f"Return-Path: <{addr}>",
        "Delivered-To: security@example.org",
        f"Received: from mail.{dom} (mail.{dom} [{ip}])",
        f"\tby mx.example.org (Postfix) with ESMTPS id {qid}",
        f"\tfor <security@example.org>; {date}",
        f"Received: by mail.{dom} with SMTP id {qid.lower()}{i}; {date}",
        f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={dom}; s=mail2024;",
        "\th=from:to:subject:date:message-id:mime-version:content-type;",
        f"\tbh={bh};",
    ]
    headers += [f"\tb={b64[:60]}"] + [f"\t{b64[k:k + 70]}" for k in range(60, len(b64), 70)]
    headers += [
        f"From: {fn} {ln} <{addr}>",
        "To: security@example.org",
        f"Subject: {subject}",
        f"Date: {date}",
        f"Message-ID: {mid}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8; format=flowed",
        "Content-Transfer-Encoding: 8bit",
        f"User-Agent: Mozilla/5.0 Thunderbird/{rng.randrange(102, 129)}.{rng.randrange(10)}",
    ]
    target = rng.randrange(3000, 4100)
    body = ["Hello security team,", ""]
    article = "an" if vclass[0] in "aeiouAEIOUX" else "a"
    body += wrap(f"I found {article} {vclass} ({cwe}) in {comp} of version {ver} and earlier. "
                 f"The problem is in {func}(); exploiting it allows {impact}.")
    body += ["", "Affected versions", "-----------------",
             f"{ver} (latest release) and main at commit {rng.getrandbits(160):040x}.", "",
             "Steps to reproduce", "------------------"]
    body += [f"1. Start the service with the default configuration (version {ver}).",
             f"2. Send the request in poc-{i}.txt:",
             "",
             f"   curl -sk -X POST https://localhost:8443/api/v1/{func.replace('_', '/')} \\",
             f"        -H 'Content-Type: application/json' \\",
             f"        --data-binary @poc-{i}.txt",
             "",
             "3. Observe the result below.", ""]
    if "overflow" in vclass or "free" in vclass:
        off = rng.randrange(4096)
        body += [asan[0].format(off), asan[1].format(rng.randrange(1, 64), off),
                 asan[2].format(rng.getrandbits(20), func, func.split("_")[0], rng.randrange(40, 900)),
                 asan[3].format(rng.getrandbits(20), rng.randrange(40, 900)),
                 asan[4].format(rng.getrandbits(20), rng.randrange(40, 900)),
                 asan[5].format(rng.getrandbits(20)),
                 asan[6].format(func.split("_")[0], rng.randrange(40, 900), func), ""]
    body += ["Details", "-------"]
    tail = ["", "Impact", "------"] + wrap(
        f"An unauthenticated remote attacker can cause {impact}. CVSS 3.1 estimate: "
        f"{rng.choice(['7.5', '8.1', '8.8', '9.8', '6.5', '5.3'])} "
        "(AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H).")
    tail += ["", "Suggested fix", "-------------"] + wrap(
        f"Validate the length in {func}() before copying, and reject input that does "
        "not fit; a patch against main is attached inline below if that helps.")
    tail += ["", "Best regards,", f"{fn} {ln}", f"https://{dom}/~{fn.lower()}", ""]
    details = []
    size = lambda: sum(len(l) + 2 for l in body + details + tail)  # the body, CRLF included
    while size() < target:
        para = " ".join(rng.choice(sentences) for _ in range(rng.randrange(2, 5)))
        details += wrap(para) + [""]
    while details and size() > target + 200:
        details.pop()
    return ("\r\n".join(headers + [""] + body + details + tail) + "\r\n").encode()

for i in range(large):
    sub = "small" if i < small else "rest"
    with open(os.path.join(out, sub, f"{i:06d}.eml"), "wb") as f:
        f.write(message(i))
EOF
msg_bytes=$(cat "$base"/msgs/small/*.eml | wc -c)
avg_size=$((msg_bytes / SMALL))
record avg_size "$avg_size"

deliver() { # DIRECTORY EXPECTED_TOTAL
  local t0 n
  t0=$(date +%s%N)
  "$ROOT/scripts/mailservers" deliver "$MS" "$MS_SECURITY_USER" "$1" >&2
  n=$("$ROOT/scripts/mailservers" count "$MS" "$MS_SECURITY_USER" INBOX)
  n=${n##*messages=} # some versions of the helper print doveadm's "INBOX messages=N"
  [ "$n" = "$2" ] || die "INBOX has $n messages after delivering, expected $2"
  note "INBOX holds $n messages (delivered in $(( ($(date +%s%N) - t0) / 1000000 )) ms)"
}
note "delivering $SMALL messages ($msg_bytes bytes, $avg_size bytes each on average)"
deliver "$base/msgs/small" "$SMALL"

# ---------------------------------------------------------------------------------------------
# vulnmail: `vulnmail fetch` as users run it ("vm") and, where this version has the option,
# `vulnmail fetch --no-process` (store only, reports made later: "vmn"), each with its own
# home, store and store key cache entry

vm_env() { # NAME CMD...: run CMD with instance NAME's environment
  local d=$base/$1
  shift
  env HOME="$d/home" XDG_CONFIG_HOME="$d/config" VULNMAIL_HOME="$d/data" \
    VULNMAIL_PASSPHRASE=x VULNMAIL_IMAP_PASSWORD="$MS_SECURITY_PASS" NO_COLOR=1 "$@"
}
vm() { local n=$1; shift; vm_env "$n" "$VM" "$@"; }
vm_setup() { # NAME
  local d=$base/$1
  mkdir -p "$d/home" "$d/config" "$d/data"
  vm "$1" init --batch --address security@example.org --domain example.org >/dev/null \
    || die "vulnmail init failed"
  vm_ready="$vm_ready $1"
  cat >>"$d/config/vulnmail/config.toml" <<EOF

[imap]
host = "127.0.0.1"
port = $MS_IMAPS_PORT
tls = "implicit"
user = "$MS_SECURITY_USER"
password = { env = "VULNMAIL_IMAP_PASSWORD" }
ca_file = "$MS_CA"
mailboxes = ["INBOX"]
EOF
}
vm_empty_store() { rm -f "$base/$1/data/store.db" "$base/$1/data/store.db-wal" "$base/$1/data/store.db-shm"; }
fetch_args() { if [ "$1" = vmn ]; then echo "fetch --no-process"; else echo fetch; fi; }
label() {
  case "$1" in vm) echo "vulnmail fetch" ;; vmn) echo "vulnmail fetch --no-process" ;; mb) echo mbsync ;; esac
}

# vm_fetch NAME EXPECTED_NEW [gnu-time]: print the wall time; check what was fetched
vm_fetch() {
  local t
  # shellcheck disable=SC2046 # fetch_args is meant to split
  if [ "${3:-}" = gnu-time ]; then
    t=$(vm_env "$1" "$PY" "$base/timeit.py" "$base/$1.out" "$base/$1.err" \
      "$GNU_TIME" -f %M -o "$base/$1.rss" "$VM" --json $(fetch_args "$1"))
  else
    t=$(vm_env "$1" "$PY" "$base/timeit.py" "$base/$1.out" "$base/$1.err" "$VM" --json $(fetch_args "$1"))
  fi
  "$PY" - "$base/$1.out" "$2" <<'EOF' || die "vulnmail fetch did not do what was expected"
import json, sys
j, want = json.load(open(sys.argv[1])), int(sys.argv[2])
if j["new"] != want or j["oversize"] != 0:
    sys.exit(f"vulnmail fetch: new={j['new']} oversize={j['oversize']}, expected new={want}")
p = j.get("processed")
if p is not None:
    done = p["reports"] + p["follow_ups"] + p["not_reports"]
    if p["waiting"] or done != want:
        sys.exit(f"vulnmail fetch: processed {p}, expected {want} processed")
EOF
  echo "$t"
}

vm_setup vm
tools="vm"
if "$VM" fetch --help | grep -- '--no-process' >/dev/null; then # not -q: no SIGPIPE
  vm_setup vmn
  tools="vm vmn"
fi

# ---------------------------------------------------------------------------------------------
# mbsync: default settings except what connecting and pulling INBOX into a Maildir need

mbdir=$base/mb
mkdir -p "$mbdir/home"
mbrc=$mbdir/mbsyncrc
(
  umask 077
  # mbsync 1.4 does not match IP addresses in certificates: use the DNS name. 1.4 spells
  # TLSType (1.5) as SSLType.
  cat >"$mbrc" <<EOF
IMAPAccount bench
Host localhost
Port $MS_IMAPS_PORT
User $MS_SECURITY_USER
Pass "$MS_SECURITY_PASS"
SSLType IMAPS
CertificateFile $MS_CA

IMAPStore bench-far
Account bench

MaildirStore bench-near
Path $mbdir/maildir/
Inbox $mbdir/maildir/INBOX

Channel bench
Far :bench-far:
Near :bench-near:
Patterns INBOX
Create Near
SyncState *
EOF
)
mb_empty_maildir() { rm -rf "$mbdir/maildir"; mkdir -p "$mbdir/maildir"; }
mb_count() { find "$mbdir/maildir/INBOX/cur" "$mbdir/maildir/INBOX/new" -type f | wc -l; }

# mb_sync EXPECTED_TOTAL [gnu-time]: print the wall time; check the Maildir
mb_sync() {
  local t n
  if [ "${2:-}" = gnu-time ]; then
    t=$(HOME=$mbdir/home "$PY" "$base/timeit.py" "$base/mb.out" "$base/mb.err" \
      "$GNU_TIME" -f %M -o "$base/mb.rss" mbsync -c "$mbrc" -q bench)
  else
    t=$(HOME=$mbdir/home "$PY" "$base/timeit.py" "$base/mb.out" "$base/mb.err" \
      mbsync -c "$mbrc" -q bench)
  fi
  n=$(mb_count)
  [ "$n" = "$1" ] || die "mbsync: the Maildir holds $n messages, expected $1"
  echo "$t"
}

tools="$tools mb"
# rotate TOOLS... by RUN: which tool goes first changes from run to run
rotated() {
  local i=$1
  shift
  local -a a=("$@")
  local k n=${#a[@]}
  for ((k = 0; k < n; k++)); do echo "${a[$(((i + k) % n))]}"; done
}

# measure TOOL KEY EXPECTED_NEW TOTAL [gnu-time]: one timed fetch (full, incremental or
# no-op), recorded under TOOL_KEY
measure() {
  local t
  if [ "$1" = mb ]; then
    t=$(mb_sync "$4" "${5:-}")
  else
    t=$(vm_fetch "$1" "$3" "${5:-}")
  fi
  record "${1}_$2" "$t"
  if [ "${5:-}" = gnu-time ]; then
    record "${1}_$2_rss" "$(tail -n 1 "$base/$1.rss")"
    note "  $(label "$1"): $t s, $(tail -n 1 "$base/$1.rss") KiB max RSS"
  else
    note "  $(label "$1"): $t s"
  fi
}

# ---------------------------------------------------------------------------------------------
# measurements

# Warm up, untimed: the server's caches for every tool, and the store key cache (the team
# unlocks once per session; later runs take the store key from the kernel keyring).
note "warming up"
for tool in $tools; do
  if [ "$tool" = mb ]; then
    mb_empty_maildir
    HOME=$mbdir/home mbsync -c "$mbrc" -q bench >&2 || die "mbsync failed"
  else
    # shellcheck disable=SC2046
    vm "$tool" -v $(fetch_args "$tool") >/dev/null 2>"$base/$tool.warm" \
      || { cat "$base/$tool.warm" >&2; die "vulnmail fetch failed"; }
  fi
done
if grep -q 'kernel keyring is not available' "$base/vm.warm"; then
  record keycache "not available here: the store key is unwrapped with the team key on every run"
else
  record keycache "kernel keyring, warm (primed by an untimed first fetch)"
fi

note "full fetch of $SMALL messages into an empty store / Maildir, $FULL_RUNS runs per tool"
for ((i = 0; i < FULL_RUNS; i++)); do
  note " run $((i + 1))"
  # shellcheck disable=SC2086
  for tool in $(rotated "$i" $tools); do
    if [ "$tool" = mb ]; then mb_empty_maildir; else vm_empty_store "$tool"; fi
    measure "$tool" full "$SMALL" "$SMALL" gnu-time
  done
done

noops() { # KEY TOTAL
  local i tool
  # One untimed no-op each first: right after a sync that changed its Maildir mbsync sleeps
  # for a second, which a no-op minutes later would not.
  for tool in $tools; do
    if [ "$tool" = mb ]; then mb_sync "$2" >/dev/null; else vm_fetch "$tool" 0 >/dev/null; fi
  done
  for ((i = 0; i < NOOP_RUNS; i++)); do
    note " run $((i + 1))"
    # shellcheck disable=SC2086
    for tool in $(rotated "$i" $tools); do measure "$tool" "$1" 0 "$2"; done
  done
}
note "no-op fetch on $SMALL messages, $NOOP_RUNS runs per tool"
noops noop_small "$SMALL"

note "delivering $((LARGE - SMALL)) more messages"
deliver "$base/msgs/rest" "$LARGE"
note "incremental fetch of $((LARGE - SMALL)) new messages (one run per tool)"
for tool in $tools; do measure "$tool" incr "$((LARGE - SMALL))" "$LARGE"; done

note "no-op fetch on $LARGE messages, $NOOP_RUNS runs per tool"
noops noop_large "$LARGE"

# ---------------------------------------------------------------------------------------------
# report

{
  echo "cpu $(grep -m1 '^model name' /proc/cpuinfo | sed 's/^[^:]*: *//')"
  echo "nproc $(nproc)"
  echo "ram $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "kernel $(uname -r)"
  echo "fs $(df -PT "$base" | awk 'NR == 2 {print $2}') ($(df -P "$base" | awk 'NR == 2 {print $1}'))"
  echo "date $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "load $LOAD_AT_START"
  echo "commit $commit"
  echo "vulnmail $("$VM" --version | head -n 1)"
  echo "mbsync $(mbsync --version | head -n 1)"
  echo "dovecot $(dovecot --version | head -n 1)"
  echo "small $SMALL"
  echo "large $LARGE"
  echo "full_runs $FULL_RUNS"
  echo "noop_runs $NOOP_RUNS"
} >>"$results"

"$PY" - "$results" <<'EOF'
import statistics, sys
vals, info = {}, {}
for line in open(sys.argv[1]):
    k, _, v = line.rstrip("\n").partition(" ")
    vals.setdefault(k, []).append(v)
    info[k] = v
num = lambda k: [float(x) for x in vals[k]]
med = lambda k: statistics.median(num(k))
n = lambda x: f"{x:,}"
small, large = int(info["small"]), int(info["large"])
fr, nr = info["full_runs"], info["noop_runs"]
vms = [t for t in ("vm", "vmn") if f"{t}_full" in vals]

def secs(k):
    xs = num(k)
    m = statistics.median(xs)
    if m < 1:
        s, r = f"{m * 1000:.1f} ms", f"{min(xs) * 1000:.1f}–{max(xs) * 1000:.1f} ms"
    else:
        s, r = f"{m:.3f} s", f"{min(xs):.2f}–{max(xs):.2f} s"
    return s if len(xs) == 1 else f"{s} ({r})"

mb = lambda k: max(num(k)) * 1024 / 1e6  # KiB -> MB (10^6 bytes)
verdict = lambda ok, x: f"**{'PASS' if ok else 'FAIL'}** ({x:.2f})"

cols = {"vm": "vulnmail `fetch`", "vmn": "vulnmail `fetch --no-process`"}
head = (["Measurement"] + [cols[t] for t in vms] + ["mbsync", "target"]
        + [f"result, {cols[t].split(' ', 1)[1]}" for t in vms])
rows = []
def row(label, cells, mbcell, target, results):
    rows.append([label] + cells + [mbcell, target] + results)

ratio = lambda a, b: med(a) / med(b)
row(f"Full fetch of {n(small)} messages into an empty store / Maildir (median of {fr})",
    [secs(f"{t}_full") for t in vms], secs("mb_full"), "vulnmail ≤ 0.50 × mbsync",
    [verdict(ratio(f"{t}_full", "mb_full") <= 0.5, ratio(f"{t}_full", "mb_full")) for t in vms])
for key, cnt in (("noop_small", small), ("noop_large", large)):
    row(f"No-op fetch, {n(cnt)} messages (median of {nr})",
        [secs(f"{t}_{key}") for t in vms], secs(f"mb_{key}"), "vulnmail ≤ mbsync",
        [verdict(ratio(f"{t}_{key}", f"mb_{key}") <= 1.0, ratio(f"{t}_{key}", f"mb_{key}")) for t in vms])
row(f"No-op growth, {n(large)} vs {n(small)} messages (ratio of the medians)",
    [f"× {ratio(f'{t}_noop_large', f'{t}_noop_small'):.2f}" for t in vms],
    f"× {ratio('mb_noop_large', 'mb_noop_small'):.2f}", "vulnmail ≤ × 1.50",
    [verdict(ratio(f"{t}_noop_large", f"{t}_noop_small") <= 1.5, ratio(f"{t}_noop_large", f"{t}_noop_small"))
     for t in vms])
row(f"Peak memory (max RSS) in the full fetch of {n(small)} (highest of {fr})",
    [f"{mb(f'{t}_full_rss'):.1f} MB" for t in vms], f"{mb('mb_full_rss'):.1f} MB", "vulnmail < 100 MB",
    [f"**{'PASS' if mb(f'{t}_full_rss') < 100 else 'FAIL'}**" for t in vms])
row(f"Incremental fetch of {n(large - small)} new onto {n(small)} (1 run, for information)",
    [secs(f"{t}_incr") for t in vms], secs("mb_incr"), "—",
    [f"({ratio(f'{t}_incr', 'mb_incr'):.2f})" for t in vms])

print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
for r in rows:
    print("| " + " | ".join(r) + " |")
print()
print("Times are the wall-clock time of the whole command, process start to exit: the median, "
      "with the range over all runs in brackets. In the result columns the bracket is "
      f"vulnmail ÷ mbsync (for the growth row, {n(large)} ÷ {n(small)}). MB = 10⁶ bytes. "
      f"Messages average {n(int(info['avg_size']))} bytes. "
      f"vulnmail's store key cache: {info['keycache']}.")
print()
print("Machine:")
print()
print(f"- CPU: {info['cpu']}, {info['nproc']} CPUs (nproc); RAM {info['ram']}")
print(f"- Linux {info['kernel']}; store, Maildirs and Dovecot's mail on {info['fs']}")
print(f"- {info['vulnmail']} at commit {info['commit']}; {info['mbsync']}; Dovecot {info['dovecot']}")
print(f"- Run {info['date']}; load average (1, 5, 15 min) when the script started: {info['load']}")
print()
print("All runs (seconds):")
print()
names = {"vm": "vulnmail fetch", "vmn": "vulnmail fetch --no-process", "mb": "mbsync"}
for key, what in (("full", f"full {n(small)}"), ("noop_small", f"no-op {n(small)}"),
                  ("noop_large", f"no-op {n(large)}")):
    for t in vms + ["mb"]:
        print(f"- {names[t]}, {what}: " + ", ".join(f"{x:.4f}" for x in num(f"{t}_{key}")))
EOF
note "done"
