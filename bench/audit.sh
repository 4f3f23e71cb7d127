#!/bin/bash
# Audit trail benchmark (issue 5): the service-layer read path (show a
# person by username, random persons, THREADS concurrent threads, each with
# its own svc handle and SQLite connection) with read auditing on and off,
# and the write path (change a person's phone) with its audit append on and
# skipped (bench-only switch, same update path otherwise); then the audit
# storage per event from dbstat.
#
#   bench/audit.sh [BUILD_DIR]
#     env: PERSONS (100000)   registry size
#          READS (50000)      reads per thread per run
#          WRITES (5000)      updates per thread per run
#          THREADS (4)
#          READ_GROUPS ("1 16")     reads per svc_flush (1: every answer is
#                                   one read and is flushed before it leaves)
#          WRITE_BATCHES ("1 100")  updates per transaction
#          REPS (3)  WORK (/tmp/tunnus-bench-audit)
#
# Modes are interleaved and repeated; medians are reported as a Markdown
# table on stdout; the raw RESULT lines go to $WORK/audit-raw.txt.
set -euo pipefail
BUILD=${1:-build}
PERSONS=${PERSONS:-100000}
READS=${READS:-50000}
WRITES=${WRITES:-5000}
THREADS=${THREADS:-4}
READ_GROUPS=${READ_GROUPS:-"1 16"}
WRITE_BATCHES=${WRITE_BATCHES:-"1 100"}
REPS=${REPS:-3}
WORK=${WORK:-/tmp/tunnus-bench-audit}
BIN="$BUILD/bench/bench_audit"
TUNNUS="$BUILD/tunnus"
[[ -x $BIN && -x $TUNNUS ]] || { echo "build first: ninja -C $BUILD" >&2; exit 1; }
rm -rf "${WORK:?}/db"
mkdir -p "$WORK"
RAW="$WORK/audit-raw.txt"
: > "$RAW"
DB="$WORK/db"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$BIN" setup "$DB" "$PERSONS" >&2
for rep in $(seq 1 "$REPS"); do
    for g in $READ_GROUPS; do
        for a in audit noaudit; do
            line=$("$BIN" read "$DB" "$READS" "$THREADS" "$g" "$a")
            echo "$line load=$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$RAW" >&2
        done
    done
    for b in $WRITE_BATCHES; do
        for a in audit noaudit; do
            line=$("$BIN" write "$DB" "$WRITES" "$THREADS" "$b" "$a")
            echo "$line load=$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$RAW" >&2
        done
    done
done
# The per-person index is part of the audit's storage: bring it up to date.
"$TUNNUS" --db "$DB/audit.db" audit index >&2
/usr/bin/python3 - "$RAW" "$DB/audit.db" "$PERSONS" "$THREADS" "$REPS" <<'PY'
import os, sqlite3, statistics, sys
raw, db, persons, threads, reps = sys.argv[1:6]
runs = {}
for line in open(raw):
    f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
    runs.setdefault((f["mode"].split("-")[0], f["group"], "noaudit" not in f["mode"]), []).append(f)
def ops(kind, g, audit):
    rs = runs[(kind, g, audit)]
    return statistics.median(int(r["ops"]) / float(r["secs"]) for r in rs)
print("| path | per flush / transaction | ops/s audit on | ops/s audit off | ratio | goal |")
print("|---|---|---|---|---|---|")
for (kind, g, audit) in sorted(runs):
    if not audit:
        continue
    on, off = ops(kind, g, True), ops(kind, g, False)
    goal = 0.8 if kind == "read" else 0.9
    what = "reads per flush" if kind == "read" else "updates per tx"
    print(f"| {kind} | {g} {what} | {on:,.0f} | {off:,.0f} | {on / off:.2f} "
          f"| ≥ {goal} {'met' if on / off >= goal else 'NOT met'} |")
# Writes are chained in the registry, reads in the read log (db + ".reads",
# its events in blocks): the audit's storage is the sum of both.
tables = ("audit_event", "audit_block", "audit_subject", "audit_checkpoint",
          "audit_checkpoint_seq", "audit_checkpoint_cut")
events, sizes = 0, {}
for path in (db, db + ".reads"):
    if not os.path.exists(path):  # a build from before the read log
        continue
    con = sqlite3.connect(path)
    # The registry keeps a row per event; the read log (format 2) blocks.
    has = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    events += con.execute("SELECT count(*) FROM audit_event" if "audit_event" in has
                          else "SELECT coalesce(sum(n), 0) FROM audit_block").fetchone()[0]
    for n, s in con.execute(
            "SELECT name, sum(pgsize) FROM dbstat WHERE name IN (%s) GROUP BY name"
            % ",".join("?" * len(tables)), tables):
        sizes[n] = sizes.get(n, 0) + s
    con.close()
total = sum(sizes.values())
print()
print("| audit storage | bytes | bytes per event | per million events |")
print("|---|---|---|---|")
for n in tables:
    if n in sizes:
        print(f"| {n} | {sizes[n]:,} | {sizes[n] / events:.0f} | {sizes[n] / events:.0f} MB |")
print(f"| **total** | {total:,} | {total / events:.0f} | {total / events:.0f} MB |")
print(f"\n{int(persons):,} persons, {threads} threads, {events:,} audit events at the end "
      f"(enrolment events included), median of {reps} interleaved runs.")
PY
