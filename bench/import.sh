#!/bin/bash
# Import benchmark (issue 3): the population of
#   tools/gen_population.py --persons $PERSONS --seed 7
# (four feeds: hr -> staff, sis -> student, pupils -> pupil, officials ->
# elected_official) imported into an empty registry, then re-imported
# unchanged; against the ceiling, the sqlite3 shell's .import of the same
# CSV files into plain tables, in the same run. Beside them, the schema's
# floor: the same rows put into the registry's schema by plain SQL (see
# floor_sql), which shows how much of the gap is the schema's and how much
# the import's.
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

# The schema's floor: the same rows written into the registry's own schema
# (its tables, indexes, triggers and foreign keys, the store's pragmas) by
# set-based SQL from the ceiling's tables, CHUNK rows per transaction, with
# an audit event and an outbox row of the import's shape per row. Nothing is
# parsed, validated, correlated, sealed or hashed: what SQLite needs to keep
# these rows, the least any import into this schema can take.
floor_sql() {
    local feeds=$1 f n o
    echo ".bail on"
    echo "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;"
    echo "PRAGMA wal_autocheckpoint = 16384; PRAGMA foreign_keys = ON;"
    echo "ATTACH '$feeds' AS f;"
    echo "CREATE TEMP TABLE b (rid INTEGER PRIMARY KEY, k, g, fa, pr, em, ph, ou, ti, sc, cl, tg, pg, vf, vt, er, pn);"
    for f in $FEEDS; do
        f=${f%%:*}
        n=$(sqlite3 "$feeds" "SELECT count(*) FROM feed_$f")
        echo "INSERT OR IGNORE INTO org_unit (code, name, created_at)"
        echo "  SELECT DISTINCT org_unit, org_unit, 0 FROM f.feed_$f WHERE org_unit <> '';"
        for ((o = 0; o < n; o += CHUNK)); do
            cat <<SQL
BEGIN;
DELETE FROM b;
INSERT INTO b SELECT rowid, source_key, given_names, family_name, preferred_name, email, phone,
  nullif(org_unit, ''), title, school, class, teaching_groups, programme, valid_from,
  nullif(valid_to, ''), end_reason, NULL FROM f.feed_$f WHERE rowid > $o AND rowid <= $o + $CHUNK;
INSERT INTO person (id, state, given_names, family_name, preferred_name, email, phone, birth_date,
  nid_sealed, nid_hash, created_at, updated_at)
  SELECT printf('$f-%012d', rid), 'pending', g, fa, pr, em, ph, '2001-01-01', randomblob(72),
  CAST(printf('%08d', abs(random()) % 40000) || randomblob(32) AS BLOB), 0, 0 FROM b ORDER BY rid;
UPDATE b SET pn = (SELECT number FROM person WHERE id = printf('$f-%012d', rid));
INSERT INTO affiliation (person_num, kind, source, source_key, org_unit, title, school, class,
  teaching_groups, programme, valid_from, valid_to, end_reason, created_at, updated_at)
  SELECT pn, '$f', '$f', k, ou, ti, sc, cl, tg, pg, vf, vt, er, 0, 0 FROM b ORDER BY rid;
INSERT INTO audit_event (seq, time_us, actor_kind, actor_id, channel, action, subject_id, attrs,
  changes, result, request_id, source, detail, hash)
  SELECT (SELECT coalesce(max(seq), 0) FROM audit_event) + rid - $o, 0, 'admin', 'os:root',
  'import', 'person.import', printf('$f-%012d', rid),
  'person.given_names,person.family_name,person.preferred_name,person.email,person.phone,'
  || 'person.birth_date,person.gender,person.national_id,person.state,affiliation.affiliation_id,'
  || 'affiliation.kind,affiliation.source,affiliation.source_key,affiliation.org_unit,'
  || 'affiliation.title,affiliation.end_reason,affiliation.valid_from,affiliation.valid_to',
  json_object('person.given_names', json_array(NULL, g), 'person.family_name', json_array(NULL, fa),
  'person.preferred_name', json_array(NULL, pr), 'person.email', json_array(NULL, em),
  'person.phone', json_array(NULL, ph), 'person.birth_date', json_array(NULL, '2001-01-01'),
  'person.gender', json_array(NULL, 'male'), 'person.national_id', json_array(NULL, '(set)'),
  'person.state', json_array(NULL, 'pending'), 'affiliation.affiliation_id', json_array(NULL, rid),
  'affiliation.kind', json_array(NULL, '$f'), 'affiliation.source', json_array(NULL, '$f'),
  'affiliation.source_key', json_array(NULL, k), 'affiliation.org_unit', json_array(NULL, ou),
  'affiliation.title', json_array(NULL, ti), 'affiliation.end_reason', json_array(NULL, er),
  'affiliation.valid_from', json_array(NULL, vf), 'affiliation.valid_to', json_array(NULL, vt)),
  'allowed', lower(hex(randomblob(16))), 'local', '', randomblob(32) FROM b ORDER BY rid;
INSERT INTO outbox (target, person_id, event, payload, created_at)
  SELECT '*', printf('$f-%012d', rid), 'person.import', '{}', 0 FROM b ORDER BY rid;
INSERT INTO import_fp (source, source_key, fp) SELECT '$f', k, randomblob(32) FROM b ORDER BY rid;
COMMIT;
SQL
        done
    done
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

rm -f "$WORK/ceiling.db" "$WORK/registry.db"* "$WORK/floor.db"*
measure ceiling bash -c 'ceiling "$0"' "$WORK/ceiling.db"
"$BIN" --db "$WORK/floor.db" init > /dev/null
floor_sql "$WORK/ceiling.db" > "$WORK/floor.sql"
measure floor sqlite3 "$WORK/floor.db" < "$WORK/floor.sql"
rm -f "$WORK/floor.db"* "$WORK/floor.sql"
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
floor = r["floor"][0]
goal = {"ceiling": "", "floor": "", "first": "≤ 4", "reimport": "≤ 1.5"}
label = {"ceiling": "ceiling: sqlite3 .import", "floor": "floor: the schema's rows by plain SQL",
         "first": "first import (empty registry)", "reimport": "unchanged re-import"}
print("| run | time | rows/s | × ceiling time | × floor time | goal | peak RSS |")
print("|---|---|---|---|---|---|---|")
for k in ("ceiling", "floor", "first", "reimport"):
    secs, rss = r[k]
    print(f"| {label[k]} | {secs:.2f} s | {rows / secs:,.0f} | {secs / ceil:.2f} | "
          f"{secs / floor:.2f} | {goal[k]} | {rss / 1024:.0f} MiB |")
print(f"\n{persons:,} persons, {rows:,} rows in four feeds; peak RSS is the largest single "
      f"process (goal < 512 MiB).")
PY
