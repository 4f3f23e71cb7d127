#!/bin/bash
# LDAP benchmark of `tunnus serve` with the peer benchmark's load generator
# (../shared/bench/ldapload, see its RESULTS.md): equality search on uid
# returning cn, mail and employeeNumber, and simple binds ({SSHA}, as the
# peers' data), at each concurrency, with read auditing on and off.
# Run it back to back with ../shared/bench/run_peers.sh and divide.
#
#   bench/ldap.sh [BUILD_DIR]
#   env: USERS=100000 PW_USERS=10000 CONC="1 8 32" DUR=12 WARM=2
#        AUDIT="off on" MODES="search bind" WORK=/tmp/tunnus-ldap-bench
#        LDAPLOAD=/tmp/idbench/bin/ldapload (built from ../shared/bench if missing)
#
# Prints the RESULT lines of ldapload, labelled "tunnus-audit-{on,off}-MODE-cC".
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
USERS=${USERS:-100000}
PW_USERS=${PW_USERS:-10000}
CONC=${CONC:-"1 8 32"}
DUR=${DUR:-12}
WARM=${WARM:-2}
AUDIT=${AUDIT:-"off on"}
MODES=${MODES:-"search bind"}
WORK=${WORK:-/tmp/tunnus-ldap-bench}
LDAPLOAD=${LDAPLOAD:-/tmp/idbench/bin/ldapload}
BIN="$ROOT/$BUILD/tunnus"
LOAD="$ROOT/$BUILD/bench/bench_ldap_load"
[[ -x $BIN && -x $LOAD ]] || { echo "build first: ninja -C $BUILD" >&2; exit 1; }
if [[ ! -x $LDAPLOAD ]]; then
    make -C "$ROOT/../shared/bench" ldapload LDAPLOAD_OUT="$LDAPLOAD" >&2
fi
mkdir -p "$WORK"
DB="$WORK/registry-$USERS.db"
if [[ ! -f $DB ]]; then
    echo "loading $USERS persons ($PW_USERS with passwords) into $DB" >&2
    /usr/bin/time -f "load: %e s, max RSS %M KiB" "$LOAD" "$DB" "$USERS" "$PW_USERS" >&2
fi
PID=""
stop() { [[ -n $PID ]] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; PID=""; }
trap stop EXIT
for audit in $AUDIT; do
    read_audit=false; [[ $audit == on ]] && read_audit=true
    printf '[ldap]\nanonymous_search = true\nread_audit = %s\nmax_connections = 1024\n' \
        "$read_audit" > "$WORK/tunnus.conf"
    "$BIN" --db "$DB" --config "$WORK/tunnus.conf" serve --port 0 2> "$WORK/serve.log" &
    PID=$!
    for _ in $(seq 1 100); do grep -q "listening on" "$WORK/serve.log" && break; sleep 0.1; done
    PORT=$(grep -o '127.0.0.1:[0-9]*' "$WORK/serve.log" | cut -d: -f2)
    # warm-up over every uid
    "$LDAPLOAD" -p "$PORT" -c 8 -d "$WARM" -w 0 -m search -N "$USERS" -B "$PW_USERS" >/dev/null || true
    for mode in $MODES; do
        for c in $CONC; do
            timeout $((DUR + 30)) "$LDAPLOAD" -p "$PORT" -c "$c" -o 1 -d "$DUR" -w "$WARM" \
                -m "$mode" -N "$USERS" -B "$PW_USERS" -S "$PID" -L "tunnus-audit-$audit-$mode-c$c"
        done
    done
    grep VmHWM /proc/$PID/status >&2 || true
    stop
done
