#!/bin/bash
# Lifecycle benchmark (issue 4): `lifecycle plan` and a no-op `lifecycle run`
# over the population of tools/gen_population.py, against a ceiling in the
# same run: one sqlite3 query scanning the affiliation table for the latest
# valid_to per person.
#
#   bench/lifecycle.sh [BUILD_DIR]     (env: PERSONS SEED AS_OF REPS WORK KEEP)
#
# The registry is built by `tunnus import` of each feed file (hr -> staff,
# sis -> student, pupils -> pupil, officials -> elected_official), the policy
# examples/policies/university-001.json is applied (plus timers for
# elected_official, which the university example has no use for but the
# population holds: a policy must cover every kind in use), and one real
# `lifecycle run` on AS_OF brings every person to their state, so that the
# timed run on the same date is a no-op.
#
# Writes a Markdown table to stdout. Goals: plan <= 3x the ceiling, peak
# RSS < 512 MiB. With KEEP=1 the registry in $WORK is left for profiling.
set -euo pipefail
BUILD=${1:-build}
PERSONS=${PERSONS:-1000000}
SEED=${SEED:-7}
AS_OF=${AS_OF:-2026-11-01}
REPS=${REPS:-3}
WORK=${WORK:-/tmp/tunnus-bench-lc}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "$BUILD" && pwd)/tunnus
[[ -x $BIN ]] || { echo "build first: ninja -C $BUILD" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "sqlite3 (the CLI) is needed for the ceiling" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time is needed for peak RSS" >&2; exit 1; }

rm -rf "${WORK:?}"
mkdir -p "$WORK/pop"
DB="$WORK/registry.db"
T() { "$BIN" --db "$DB" "$@"; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "generating $PERSONS persons (seed $SEED)" >&2
/usr/bin/python3 "$ROOT/tools/gen_population.py" --persons "$PERSONS" --seed "$SEED" \
    --as-of "$AS_OF" --out "$WORK/pop"

T init >/dev/null
for pair in hr:staff sis:student pupils:pupil officials:elected_official; do
    src=${pair%%:*} kind=${pair#*:}
    f="$WORK/pop/$src.csv"
    [[ -f $f ]] || continue
    echo "import $src.csv as $kind" >&2
    # Exit 1 reports rejected rows; the benchmark only needs the rest.
    T --as-of "$AS_OF" import --source "$src" --kind "$kind" "$f" >/dev/null || [[ $? -eq 1 ]]
done

/usr/bin/python3 - "$ROOT/examples/policies/university-001.json" "$WORK/policy.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["kinds"].setdefault("elected_official", dict(p["kinds"]["staff"]))
json.dump(p, open(sys.argv[2], "w"), indent=1)
PY
T policy apply "$WORK/policy.json" >/dev/null
echo "first (real) run on $AS_OF" >&2
/usr/bin/time -f "%e %M" -o "$WORK/first.time" \
    "$BIN" --db "$DB" --json lifecycle run --as-of "$AS_OF" >"$WORK/first.json" || [[ $? -eq 1 ]]
echo "first run: $(cat "$WORK/first.time") (s, KiB)" >&2

PERSONS_IN=$(sqlite3 "$DB" "SELECT count(*) FROM person")
AFFS_IN=$(sqlite3 "$DB" "SELECT count(*) FROM affiliation")
AUDIT0=$(sqlite3 "$DB" "SELECT count(*) FROM audit_event")
OUTBOX0=$(sqlite3 "$DB" "SELECT count(*) FROM outbox")

# One timed command: appends "name seconds maxrss_kb" to $RAW.
RAW="$WORK/lifecycle-raw.txt"
: >"$RAW"
timed() {
    local name=$1
    shift
    local t0 t1
    t0=$(date +%s%N)
    /usr/bin/time -f "%M" -o "$WORK/t" "$@" >"$WORK/$name.out" || [[ $? -eq 1 ]]
    t1=$(date +%s%N)
    echo "$name $(awk "BEGIN { printf \"%.3f\", ($t1 - $t0) / 1e9 }") $(cat "$WORK/t")" |
        tee -a "$RAW" >&2
}
CEILING_SQL="SELECT count(*), max(last) FROM (SELECT person_num, max(coalesce(valid_to, '9999-12-31')) AS last FROM affiliation GROUP BY person_num);"
for rep in $(seq 1 "$REPS"); do
    timed ceiling sqlite3 "$DB" "$CEILING_SQL"
    timed plan "$BIN" --db "$DB" --json lifecycle plan --as-of "$AS_OF"
    timed run "$BIN" --db "$DB" --json lifecycle run --as-of "$AS_OF"
done

# The timed runs must have been no-ops: nothing changed, no per-person audit
# event or outbox row written.
CHANGED=$(/usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(len(r.get("changes", [])))' "$WORK/run.out")
OUTBOX1=$(sqlite3 "$DB" "SELECT count(*) FROM outbox")
AUDIT1=$(sqlite3 "$DB" "SELECT count(*) FROM audit_event")

/usr/bin/python3 - "$RAW" "$PERSONS" "$PERSONS_IN" "$AFFS_IN" "$REPS" "$AS_OF" \
    "$CHANGED" "$((AUDIT1 - AUDIT0))" "$((OUTBOX1 - OUTBOX0))" <<'PY'
import statistics, sys
raw, persons, pin, ain, reps, as_of, changed, audit, outbox = sys.argv[1:]
runs = {}
for line in open(raw):
    name, sec, rss = line.split()
    runs.setdefault(name, []).append((float(sec), int(rss)))
med = lambda n: statistics.median(s for s, _ in runs[n])
peak = lambda n: max(r for _, r in runs[n]) / 1024
c = med("ceiling")
print("| step | seconds | × ceiling | peak RSS |")
print("|---|---|---|---|")
for n in ("ceiling", "plan", "run"):
    print(f"| {n} | {med(n):.3f} | {med(n) / c:.2f} | {peak(n):.0f} MiB |")
print(f"\n--persons {int(persons):,} (seed 7): {int(pin):,} persons and {int(ain):,} "
      f"affiliations in the registry; --as-of {as_of}; median of {reps} interleaved runs. "
      f"Goals: plan ≤ 3× ceiling, peak RSS < 512 MiB. The timed runs changed {changed} persons "
      f"and added {audit} audit events and {outbox} outbox rows in all.")
PY
[[ ${KEEP:-0} == 1 ]] || rm -rf "${WORK:?}"
