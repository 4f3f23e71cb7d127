#!/bin/bash
# LDAP front end against OpenLDAP slapd (issue 6 benchmark), in one run.
#
# Both servers get the same data: ../shared/bench/gen_ldif.py writes USERS
# inetOrgPerson entries (PW_USERS of them with {SSHA} passwords); slapd
# (back-mdb, the peer benchmark's slapd.conf.in) loads it with slapadd,
# tunnus with its LDIF migration import (examples/feeds/ldif/mapping.json
# keeps uids and password hashes). Both are driven by the peer benchmark's
# ldapload with the same settings: equality search on uid returning cn,
# mail and employeeNumber, and simple binds, at each of CONC connections.
# Runs are interleaved per repetition (slapd, tunnus read audit off,
# tunnus read audit on) so that load from elsewhere hits all three alike.
#
#   bench/ldap_peers.sh [BUILD_DIR]
#   env: USERS=100000 PW_USERS=10000 CONC="8 32" DUR=10 WARM=2 REPS=3
#        SLAPD_THREADS=16 WORK=/tmp/tunnus-ldap-peers
#        SHARED=../shared/bench (gen_ldif.py, conf/slapd.conf.in, ldapload.c)
#
# Output: one "RESULT server=... mode=... c=... rep=..." line per run (the
# ldapload fields), "RSS server=... kib=..." lines (VmHWM at the end of each
# server's runs), then a summary table (median over repetitions, ratios).
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
USERS=${USERS:-100000}
PW_USERS=${PW_USERS:-10000}
CONC=${CONC:-"8 32"}
DUR=${DUR:-10}
WARM=${WARM:-2}
REPS=${REPS:-3}
SLAPD_THREADS=${SLAPD_THREADS:-16}
WORK=${WORK:-/tmp/tunnus-ldap-peers}
SHARED=${SHARED:-$ROOT/../shared/bench}
LDAPLOAD=${LDAPLOAD:-$WORK/bin/ldapload}
BIN="$ROOT/$BUILD/tunnus"
[[ -x $BIN ]] || { echo "build first: ninja -C $BUILD" >&2; exit 1; }
[[ -f $SHARED/gen_ldif.py ]] || { echo "needs the peer benchmark in $SHARED" >&2; exit 1; }
command -v slapd >/dev/null || { echo "slapd not installed (apt-get install slapd)" >&2; exit 1; }
SLAPD=$(command -v slapd); SLAPADD=$(command -v slapadd)
mkdir -p "$WORK/bin" "$WORK/slapd"
[[ -x $LDAPLOAD ]] || make -s -C "$SHARED" ldapload LDAPLOAD_OUT="$LDAPLOAD" >&2
RES="$WORK/results.txt"
: > "$RES"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

LDIF="$WORK/people-$USERS-$PW_USERS.ldif"
[[ -s $LDIF ]] || python3 "$SHARED/gen_ldif.py" -n "$USERS" --pw-users "$PW_USERS" -o "$LDIF"

# ---- slapd ------------------------------------------------------------------
SL="$WORK/slapd"
sed -e "s#@RUNDIR@#$SL#g" -e "s#@THREADS@#$SLAPD_THREADS#g" "$SHARED/conf/slapd.conf.in" \
    > "$SL/slapd.conf"
if [[ ! -s $SL/data/data.mdb || $SL/data/.ldif != "$LDIF" ]]; then
    rm -rf "$SL/data"; mkdir -p "$SL/data"
    /usr/bin/time -f "slapadd: %e s, max RSS %M KiB" "$SLAPADD" -q -f "$SL/slapd.conf" -l "$LDIF" >&2
    echo "$LDIF" > "$SL/data/.ldif"
fi

# ---- tunnus -----------------------------------------------------------------
DB="$WORK/registry-$USERS-$PW_USERS.db"
if [[ ! -f $DB ]]; then
    rm -f "$DB" "$DB".*
    "$BIN" --db "$DB" init >/dev/null
    # The base and ou=people records have no employeeNumber: 2 rejected rows.
    /usr/bin/time -f "tunnus import: %e s, max RSS %M KiB" "$BIN" --db "$DB" import \
        --source olddir --kind staff --format ldif \
        --mapping "$ROOT/examples/feeds/ldif/mapping.json" "$LDIF" >&2 || true
fi

SPID=""; TPID=""
cleanup() {
    [[ -n $TPID ]] && kill -TERM "$TPID" 2>/dev/null && wait "$TPID" 2>/dev/null || true
    [[ -n $SPID ]] && kill -TERM "$SPID" 2>/dev/null || true
}
trap cleanup EXIT

SPORT=$(free_port)
rm -f "$SL/slapd.pid"
"$SLAPD" -f "$SL/slapd.conf" -h "ldap://127.0.0.1:$SPORT/"
for _ in $(seq 1 100); do [[ -s $SL/slapd.pid ]] && break; sleep 0.1; done
SPID=$(cat "$SL/slapd.pid")

start_tunnus() {   # read_audit
    printf '[ldap]\nanonymous_search = true\nread_audit = %s\nmax_connections = 1024\n' "$1" \
        > "$WORK/tunnus.conf"
    "$BIN" --db "$DB" --config "$WORK/tunnus.conf" serve --port 0 2> "$WORK/serve.log" &
    TPID=$!
    for _ in $(seq 1 100); do grep -q "listening on" "$WORK/serve.log" && break; sleep 0.1; done
    TPORT=$(grep -o '127.0.0.1:[0-9]*' "$WORK/serve.log" | head -1 | cut -d: -f2)
}

load() {   # server port pid mode c rep
    local out line
    out=$(timeout $((DUR + WARM + 60)) "$LDAPLOAD" -p "$2" -c "$5" -o 1 -d "$DUR" -w "$WARM" \
        -m "$4" -N "$USERS" -B "$PW_USERS" -S "$3" -L "$1-$4-c$5" 2>&1) || true
    line=$(grep '^RESULT ' <<<"$out" | tail -1)
    [[ -n $line ]] || { echo "no RESULT from $1 $4 c$5: $(tail -2 <<<"$out")" >&2; return; }
    echo "RESULT server=$1 mode=$4 c=$5 rep=$6 ${line#RESULT }" | tee -a "$RES"
}

warm() {   # port: every entry read once, threads started
    # The files into the page cache first: a registry left from an earlier
    # run may have been evicted, and 5 s of searches at disk speed warm
    # only a part of it (both servers' files, so neither starts cold).
    cat "$DB" "$SL"/data/*.mdb > /dev/null 2>&1 || true
    timeout 120 "$LDAPLOAD" -p "$1" -c 8 -d 5 -w 0 -m search -N "$USERS" -B "$PW_USERS" \
        >/dev/null 2>&1 || true
}

rss() {   # server pid phase: peak RSS so far
    grep VmHWM "/proc/$2/status" | awk -v s="$1" -v p="$3" '{print "RSS server=" s " after=" p " kib=" $2}' >> "$RES"
}

# Searches first and the peak RSS after them: a bind at the default
# argon2id cost allocates its memory cost per concurrent bind (freed after,
# but it stays in VmHWM), which is the hashing's price, not the directory's.
warm "$SPORT"
for rep in $(seq 1 "$REPS"); do
    for c in $CONC; do load slapd "$SPORT" "$SPID" search "$c" "$rep"; done
    ((rep == 1)) && rss slapd "$SPID" search
    for c in $CONC; do load slapd "$SPORT" "$SPID" bind "$c" "$rep"; done
    for audit in off on; do
        start_tunnus "$([[ $audit == on ]] && echo true || echo false)"
        warm "$TPORT"
        for c in $CONC; do load "tunnus-audit-$audit" "$TPORT" "$TPID" search "$c" "$rep"; done
        rss "tunnus-audit-$audit" "$TPID" search
        for c in $CONC; do load "tunnus-audit-$audit" "$TPORT" "$TPID" bind "$c" "$rep"; done
        rss "tunnus-audit-$audit" "$TPID" bind
        kill -TERM "$TPID"; wait "$TPID" 2>/dev/null || true; TPID=""
    done
done
rss slapd "$SPID" bind
grep '^RSS' "$RES"

python3 - "$RES" <<'PY'
import statistics, sys
runs, rss = {}, {}
for line in open(sys.argv[1]):
    f = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    if line.startswith("RESULT"):
        k = (f["server"], f["mode"], int(f["c"]))
        runs.setdefault(k, []).append(f)
    elif line.startswith("RSS"):
        k = (f["server"], f["after"])
        rss[k] = max(rss.get(k, 0), int(f["kib"]))
med = lambda k, fld: statistics.median(float(r[fld]) for r in runs[k])
print("\n| server | op | conns | ops/s | p50 µs | p99 µs | errors | × slapd |")
print("|---|---|---|---|---|---|---|---|")
for (srv, mode, c) in sorted(runs, key=lambda k: (k[1], k[2], k[0] != "slapd", k[0])):
    ops = med((srv, mode, c), "ops_s")
    base = med(("slapd", mode, c), "ops_s") if ("slapd", mode, c) in runs else 0
    err = sum(int(r.get("errors", 0)) + int(r.get("wrong", 0)) for r in runs[(srv, mode, c)])
    print(f"| {srv} | {mode} | {c} | {ops:,.0f} | {med((srv, mode, c), 'p50_us'):.0f} | "
          f"{med((srv, mode, c), 'p99_us'):.0f} | {err} | {ops / base if base else 0:.2f} |")
print("\n| server | peak RSS after searches | after binds too |\n|---|---|---|")
for s in sorted({k[0] for k in rss}):
    print(f"| {s} | {rss.get((s, 'search'), 0) / 1024:.0f} MiB | {rss.get((s, 'bind'), 0) / 1024:.0f} MiB |")
PY
