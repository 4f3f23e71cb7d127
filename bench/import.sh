#!/bin/bash
# Import benchmark (issue 3): the population of
#   tools/gen_population.py --persons $PERSONS --seed 7
# (four feeds: hr -> staff, sis -> student, pupils -> pupil, officials ->
# elected_official) imported into an empty registry, then re-imported
# unchanged; against the ceiling, the sqlite3 shell's .import of the same
# CSV files into plain tables, in the same run.
#
#   bench/import.sh [BUILD_DIR]      (env: PERSONS SEED WORK AS_OF CHUNK)
#
# Goals: first import <= 4x the ceiling's time, unchanged re-import <= 1.5x,
# peak RSS < 512 MiB. Prints a Markdown table on stdout; progress on stderr.
set -euo pipefail
BUILD=${1:-build}
PERSONS=${PERSONS:-1000000}
SEED=${SEED:-7}
WORK=${WORK:-/tmp/tunnus-bench-import}
AS_OF=${AS_OF:-2026-11-01}
CHUNK=${CHUNK:-1000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$BUILD/tunnus"
[[ -x $BIN ]] || { echo "build first: ninja -C $BUILD" >&2; exit 1; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/tunnus
command -v sqlite3 >/dev/null || "$ROOT/scripts/deps.sh"
[[ -x /usr/bin/time ]] || "$ROOT/scripts/deps.sh"
FEEDS="hr:staff sis:student pupils:pupil officials:elected_official"

mkdir -p "$WORK"
POP="$WORK/pop-$PERSONS-$SEED"
if [[ ! -f $POP/.done ]]; then
    echo "generating $PERSONS persons (seed $SEED) in $POP" >&2
    rm -rf "$POP"
    /usr/bin/python3 "$ROOT/tools/gen_population.py" --persons "$PERSONS" --seed "$SEED" \
        --as-of "$AS_OF" --out "$POP" >&2
    touch "$POP/.done"
fi
rows=0
for f in $FEEDS; do
    n=$(($(wc -l < "$POP/${f%%:*}.csv") - 1))
    rows=$((rows + n))
done
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $rows rows" >&2

RAW="$WORK/import-raw.txt"
: > "$RAW"
now() { date +%s.%N; }

# measure NAME CMD...: wall time and peak RSS (KiB) of one command
measure() {
    local name=$1
    shift
    local t0 t1 rss
    t0=$(now)
    /usr/bin/time -f %M -o "$WORK/rss" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" ||
        { echo "$name failed:" >&2; tail -5 "$WORK/$name.err" >&2; exit 1; }
    t1=$(now)
    rss=$(tail -1 "$WORK/rss")
    echo "$name $(awk "BEGIN{print $t1 - $t0}") $rss" | tee -a "$RAW" >&2
}

# The ceiling: .import of the same files into plain tables, one run.
ceiling() {
    local db=$1
    {
        echo ".mode csv"
        for f in $FEEDS; do
            echo ".import '$POP/${f%%:*}.csv' feed_${f%%:*}"
        done
    } > "$WORK/ceiling.sql"
    sqlite3 "$db" < "$WORK/ceiling.sql"
}

# One pass of the four feeds through tunnus import.
tunnus_pass() {
    local db=$1
    for f in $FEEDS; do
        "$BIN" --db "$db" --as-of "$AS_OF" import --source "${f%%:*}" --kind "${f##*:}" \
            --chunk "$CHUNK" "$POP/${f%%:*}.csv" || return 1
    done
}
export -f tunnus_pass ceiling
export BIN AS_OF CHUNK POP FEEDS WORK

rm -f "$WORK/ceiling.db" "$WORK/registry.db"*
measure ceiling bash -c 'ceiling "$0"' "$WORK/ceiling.db"
"$BIN" --db "$WORK/registry.db" init > /dev/null
measure first bash -c 'tunnus_pass "$0"' "$WORK/registry.db"
measure reimport bash -c 'tunnus_pass "$0"' "$WORK/registry.db"
grep -h rows "$WORK/first.out" "$WORK/reimport.out" >&2 || true
rm -f "$WORK/ceiling.db" "$WORK/registry.db"*

/usr/bin/python3 - "$RAW" "$rows" "$PERSONS" <<'PY'
import sys
raw, rows, persons = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = {}
for line in open(raw):
    name, secs, rss = line.split()
    r[name] = (float(secs), int(rss))
ceil = r["ceiling"][0]
goal = {"ceiling": "", "first": "≤ 4", "reimport": "≤ 1.5"}
label = {"ceiling": "ceiling: sqlite3 .import", "first": "first import (empty registry)",
         "reimport": "unchanged re-import"}
print("| run | time | rows/s | × ceiling time | goal | peak RSS |")
print("|---|---|---|---|---|---|")
for k in ("ceiling", "first", "reimport"):
    secs, rss = r[k]
    print(f"| {label[k]} | {secs:.2f} s | {rows / secs:,.0f} | {secs / ceil:.2f} | {goal[k]} "
          f"| {rss / 1024:.0f} MiB |")
print(f"\n{persons:,} persons, {rows:,} rows in four feeds; peak RSS is the largest single "
      f"process (goal < 512 MiB).")
PY
