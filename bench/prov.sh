#!/usr/bin/env bash
# Provisioning benchmark (issue 8): initial provisioning of PERSONS persons
# into an empty OpenLDAP slapd on loopback, against the ceiling — ldapadd
# of the equivalent LDIF (exported from the provisioned directory) into a
# fresh slapd with the same configuration — in the same script, back to
# back; then the delay from a registry change to the directory (p50/p99)
# under a steady RATE changes/s with `tunnus serve` delivering.
#
#   PERSONS=100000 REPS=1 RATE=100 SECONDS=30 bench/prov.sh [BUILD]
#
# Needs a build with -Dbench=true (bench_ldap_load, bench_prov_delay).
# Everything lives under $WORK; only processes this script started are
# stopped (slapd by the helper, by PID; tunnus serve by PID).
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PERSONS=${PERSONS:-100000} REPS=${REPS:-1} RATE=${RATE:-100} SECONDS_=${SECONDS:-30}
export WORK=${WORK:-/tmp/tunnus-prov-bench}
export BIN="$ROOT/$BUILD/tunnus" LOAD="$ROOT/$BUILD/bench/bench_ldap_load"
export DELAY="$ROOT/$BUILD/bench/bench_prov_delay"
[[ -x $BIN && -x $LOAD && -x $DELAY ]] || { echo "build first with -Dbench=true: ninja -C $BUILD" >&2; exit 1; }
mkdir -p "$WORK"
DB="$WORK/registry-$PERSONS.db"
if [[ ! -f $DB ]]; then
    echo "loading $PERSONS persons into $DB" >&2
    "$LOAD" "$DB" "$PERSONS" 0 >&2
fi
export DB
exec /usr/bin/python3 "$ROOT/bench/prov_bench.py"
