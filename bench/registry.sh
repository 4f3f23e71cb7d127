#!/bin/bash
# Registry core benchmark (issue 2): 1,000,000 persons, each with one
# affiliation and one account, inserted through the service layer, then
# 1,000,000 random username lookups; against a bare-SQLite ceiling with the
# same fields and pragmas, in the same run. Beside them, the schema's floor
# (bench/registry_floor.py): what one enrolment writes, put into the
# registry's own schema by plain SQL, which shows how much of the gap to
# the ceiling is the schema's. Modes are interleaved and repeated; medians
# are reported.
#
#   bench/registry.sh [BUILD_DIR]      (env: PERSONS LOOKUPS BATCH REPS WORK)
#
# Writes a Markdown table to stdout and the raw RESULT lines to
# $WORK/registry-raw.txt.
set -euo pipefail
BUILD=${1:-build}
PERSONS=${PERSONS:-1000000}
LOOKUPS=${LOOKUPS:-$PERSONS}
BATCH=${BATCH:-1000}
REPS=${REPS:-3}
MODES=${MODES:-"ceiling floor service service-noaudit service-calls"}
WORK=${WORK:-/tmp/tunnus-bench}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$BUILD/bench/bench_registry"
[[ -x $BIN ]] || { echo "build first: ninja -C $BUILD" >&2; exit 1; }
command -v sqlite3 >/dev/null || "$ROOT/scripts/deps.sh"
mkdir -p "$WORK"
RAW="$WORK/registry-raw.txt"
: > "$RAW"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for rep in $(seq 1 "$REPS"); do
    for mode in $MODES; do
        rm -rf "${WORK:?}/$mode"
        mkdir -p "$WORK/$mode"
        if [[ $mode == floor ]]; then
            "$BUILD/tunnus" --db "$WORK/floor/r.db" init > /dev/null
            /usr/bin/python3 "$ROOT/bench/registry_floor.py" "$PERSONS" "$BATCH" > "$WORK/floor/load.sql"
            t0=$(date +%s.%N)
            /usr/bin/time -f %M -o "$WORK/floor/rss" sqlite3 "$WORK/floor/r.db" < "$WORK/floor/load.sql" > /dev/null
            t1=$(date +%s.%N)
            line="RESULT mode=floor persons=$PERSONS lookups=0 batch=$BATCH"
            line+=" insert_s=$(awk "BEGIN{print $t1 - $t0}") lookup_s=0 maxrss_kb=$(tail -1 "$WORK/floor/rss")"
        else
            line=$("$BIN" "$mode" "$WORK/$mode" "$PERSONS" "$LOOKUPS" "$BATCH")
        fi
        echo "$line load=$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$RAW" >&2
        rm -rf "${WORK:?}/$mode"
    done
done
/usr/bin/python3 - "$RAW" "$PERSONS" "$LOOKUPS" "$BATCH" "$REPS" <<'PY'
import statistics, sys
raw, persons, lookups, batch, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
runs = {}
for line in open(raw):
    f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
    runs.setdefault(f["mode"], []).append(f)
med = lambda m, k: statistics.median(float(r[k]) for r in runs[m])
ceil_i, ceil_l = med("ceiling", "insert_s"), med("ceiling", "lookup_s")
print(f"| mode | inserts/s | × ceiling | lookups/s | × ceiling | peak RSS |")
print(f"|---|---|---|---|---|---|")
for m in runs:
    i, l = med(m, "insert_s"), med(m, "lookup_s")
    rss = max(int(r["maxrss_kb"]) for r in runs[m]) / 1024
    if m == "floor":  # inserts only
        print(f"| floor (plain SQL into the registry's schema) | {persons / i:,.0f} | {ceil_i / i:.2f} "
              f"| – | – | {rss:.0f} MiB |")
        continue
    print(f"| {m} | {persons / i:,.0f} | {ceil_i / i:.2f} | {lookups / l:,.0f} | {ceil_l / l:.2f} | {rss:.0f} MiB |")
print(f"\n{persons:,} persons, {lookups:,} lookups, {batch} operations per transaction, "
      f"median of {reps} interleaved runs.")
PY
