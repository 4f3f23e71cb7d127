"""tunnus import: generated populations through the real binary.

National IDs never appear in assertions' messages: tests compare counts
and booleans, and check that no ID reaches the output."""
import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import BIN, hetu

ROOT = Path(__file__).resolve().parents[2]
GEN = ROOT / "tools" / "gen_population.py"
AS_OF = "2026-11-01"
FEEDS = (("hr", "staff"), ("sis", "student"), ("pupils", "pupil"),
         ("officials", "elected_official"))


def generate(out, persons, seed, invalid=0.0):
    p = subprocess.run([sys.executable, str(GEN), "--persons", str(persons), "--seed", str(seed),
                        "--as-of", AS_OF, "--invalid-rate", str(invalid), "--out", str(out),
                        "--summary"], capture_output=True, text=True, check=True)
    return json.loads(p.stderr.strip().splitlines()[-1])


def nids_of(path):
    with open(path, newline="", encoding="utf-8") as f:
        return {r["national_id"] for r in csv.DictReader(f) if r["national_id"]}


def imp(t, source, kind, path, *extra, check=True):
    p = t.run("--as-of", AS_OF, "--json", "import", "--source", source, "--kind", kind,
              *extra, path, check=check)
    return p


def summary(p):
    return json.loads(p.stdout)


def audit_count(t):
    return t.sql("SELECT count(*) FROM audit_event")[0][0]


def snapshot(db):
    """The registry's persons and affiliations, with persons identified by
    their relationships (ids and numbers differ between registries)."""
    import sqlite3
    con = sqlite3.connect(db)
    try:
        affs = con.execute(
            "SELECT person_num, source, source_key, kind, org_unit, title, school, class, "
            "teaching_groups, programme, manager_num, sponsor_num, valid_from, valid_to, "
            "end_reason FROM affiliation").fetchall()
        ident = {}
        for a in affs:
            ident.setdefault(a[0], []).append((a[1], a[2]))
        ident = {k: tuple(sorted(v)) for k, v in ident.items()}
        persons = {}
        for row in con.execute("SELECT number, given_names, family_name, preferred_name, email, "
                               "phone, birth_date, gender, state, nid_hash IS NOT NULL "
                               "FROM person"):
            assert row[0] in ident, "a person without any affiliation"
            persons[ident[row[0]]] = row[1:]
        out_affs = {}
        for a in affs:
            out_affs[(a[1], a[2])] = (ident[a[0]],) + a[3:10] + (
                ident.get(a[10]), ident.get(a[11])) + a[12:]
        units = sorted(r[0] for r in con.execute("SELECT code FROM org_unit"))
        return persons, out_affs, units
    finally:
        con.close()


def import_all(t, pop, *extra):
    sums = {}
    for source, kind in FEEDS:
        sums[source] = summary(imp(t, source, kind, pop / f"{source}.csv", *extra))
    return sums


@pytest.fixture(scope="module")
def pop(tmp_path_factory):
    out = tmp_path_factory.mktemp("pop")
    s = generate(out, 1500, 11, invalid=0.02)
    return out, s


def test_population_import_rejects_bad_rows_and_is_idempotent(tunnus, pop):
    out, s = pop
    sums = import_all(tunnus, out)
    rejected = sum(v["rejected"] for v in sums.values())
    assert rejected == sum(s["invalid"].values())
    for name, v in sums.items():
        assert v["rows"] == s["files"][f"{name}.csv"]
        assert v["created"] + v["rejected"] == v["rows"]
    # one person per national ID, however many relationships
    assert tunnus.sql("SELECT count(*) FROM person")[0][0] == \
        tunnus.sql("SELECT count(DISTINCT nid_hash) FROM person")[0][0]
    nids = set()
    for name, _ in FEEDS:
        nids |= {n for n in nids_of(out / f"{name}.csv")}
    valid_nids = {n for n in nids if n[-1] in "0123456789ABCDEFHJKLMNPRSTUVWXY"}
    assert tunnus.sql("SELECT count(*) FROM person")[0][0] <= len(valid_nids)
    # every audit row of the import is on the import channel
    assert tunnus.sql("SELECT count(*) FROM audit_event WHERE channel <> 'import'")[0][0] == 0

    before = audit_count(tunnus)
    snap = snapshot(tunnus.db)
    again = import_all(tunnus, out)
    for v in again.values():
        assert v["created"] == 0 and v["updated"] == 0 and v["ended"] == 0
        assert v["unchanged"] + v["rejected"] == v["rows"]
    assert audit_count(tunnus) == before
    assert snapshot(tunnus.db) == snap


def test_correlation_edge_cases(tunnus, pop):
    out, s = pop
    import_all(tunnus, out)
    # staff and student with the same national ID: one person, two sources
    dual = tunnus.sql("SELECT count(*) FROM (SELECT person_num FROM affiliation "
                      "GROUP BY person_num HAVING count(DISTINCT source) > 1)")[0][0]
    assert dual >= 1
    # rehires: two hr relationships of one person
    rehired = tunnus.sql("SELECT count(*) FROM (SELECT person_num FROM affiliation "
                         "WHERE source = 'hr' GROUP BY person_num HAVING count(*) > 1)")[0][0]
    assert rehired >= 1
    # namesakes with the same birth date and different IDs stay two persons
    same = tunnus.sql("SELECT count(*) FROM (SELECT 1 FROM person GROUP BY given_names, "
                      "family_name, birth_date HAVING count(*) > 1)")[0][0]
    assert same >= s["edge_cases"]["namesake_same_birth"] >= 1
    # managers, also those later in the file, are resolved
    with open(out / "hr.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    keys = {r["source_key"] for r in rows}
    want = {r["source_key"] for r in rows if r["manager_key"] and r["manager_key"] in keys}
    got = {r[0] for r in tunnus.sql("SELECT source_key FROM affiliation "
                                    "WHERE source = 'hr' AND manager_num IS NOT NULL")}
    assert got <= want
    assert len(got) >= len(want) - s["invalid"].get("duplicate_key", 0) - 50 * 0 - \
        sum(s["invalid"].values())
    assert s["edge_cases"]["manager_forward"] >= 1


def test_no_national_id_in_output(tunnus, pop):
    out, _ = pop
    nids = nids_of(out / "hr.csv")
    report = tunnus.dir / "report.json"
    p = imp(tunnus, "hr", "staff", out / "hr.csv", "--report", report)
    text = p.stdout + p.stderr + report.read_text()
    assert not any(n in text for n in nids)
    rep = json.loads(report.read_text())
    assert rep["summary"]["rejected"] == len(rep["issues"]) > 0
    assert all(i["line"] > 1 and i["column"] and i["reason"] for i in rep["issues"])


def write_csv(path, rows, delim=","):
    cols = ("source_key", "national_id", "given_names", "family_name", "email", "org_unit",
            "title", "manager_key", "valid_from", "valid_to", "end_reason", "birth_date")
    extra = [c for c in ("username", "password_hash") if any(c in r for r in rows)]
    cols += tuple(extra)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter=delim)
        w.writerow(cols)
        for r in rows:
            w.writerow([r.get(c, "") for c in cols])


def letters(i):
    s = ""
    while True:
        s = chr(97 + i % 26) + s
        i //= 26
        if not i:
            return s


def staff_rows(n):
    return [{"source_key": f"E{i}", "national_id": hetu(f"0101{70 + i % 20:02d}", "-", 100 + 2 * i),
             "given_names": "Aino", "family_name": f"Test{letters(i)}", "org_unit": "City/IT",
             "valid_from": "2020-01-01"} for i in range(n)]


def test_full_snapshot_refused_then_applied(tunnus):
    rows = staff_rows(100)
    f = tunnus.dir / "hr.csv"
    write_csv(f, rows)
    assert summary(imp(tunnus, "hr", "staff", f, "--full"))["created"] == 100
    before = audit_count(tunnus)
    snap = snapshot(tunnus.db)
    # a truncated file: half the staff missing
    write_csv(f, rows[:50])
    p = imp(tunnus, "hr", "staff", f, "--full", check=False)
    assert p.returncode == 7
    assert "max-ended" in p.stderr and "nothing was applied" in p.stderr
    assert audit_count(tunnus) == before and snapshot(tunnus.db) == snap
    runs = [json.loads(l) for l in tunnus.run("--json", "import", "runs").stdout.splitlines()]
    assert runs[0]["status"] == "refused" and runs[1]["status"] == "done"
    # the dry run says what would happen and changes nothing
    write_csv(f, rows[:97] + [dict(rows[97], title="lehtori")])
    d = summary(imp(tunnus, "hr", "staff", f, "--full", "--dry-run"))
    assert d["ended"] == 2 and d["updated"] == 1 and d["unchanged"] == 97
    assert audit_count(tunnus) == before
    # 2 % absent is within the default 5 %
    s = summary(imp(tunnus, "hr", "staff", f, "--full"))
    assert s["ended"] == 2 and s["updated"] == 1
    ended = tunnus.sql("SELECT source_key, valid_to, end_reason FROM affiliation "
                       "WHERE end_reason = 'absent_from_source' ORDER BY source_key")
    assert ended == [("E98", AS_OF, "absent_from_source"), ("E99", AS_OF, "absent_from_source")]
    # a larger limit lets a bigger cut through; re-running changes nothing
    write_csv(f, rows[:90])
    assert summary(imp(tunnus, "hr", "staff", f, "--full", "--max-ended", "20"))["ended"] == 8
    n = audit_count(tunnus)
    assert summary(imp(tunnus, "hr", "staff", f, "--full", "--max-ended", "20"))["ended"] == 0
    assert audit_count(tunnus) == n
    # back in the file: the relationship is open again
    write_csv(f, rows)
    s = summary(imp(tunnus, "hr", "staff", f, "--full"))
    assert s["updated"] == 10 and s["ended"] == 0
    assert tunnus.sql("SELECT count(*) FROM affiliation WHERE valid_to IS NULL")[0][0] == 100


def test_many_long_keys_full_snapshot(tunnus):
    # Enough rows for several of the reader thread's batches and keys long
    # enough to fill several of the key set's blocks; keys too long to
    # accept (the prescan of --full still holds them) and a duplicate key
    # are rejected with their lines, in file order, and a re-run of the same
    # file changes nothing.
    rows = [{"source_key": f"E{i:0120d}", "given_names": "Aino",
             "family_name": f"Test{letters(i)}", "org_unit": "City/IT",
             "valid_from": "2020-01-01"} for i in range(1500)]
    rows.insert(700, dict(rows[3], family_name="Dup"))
    rows.insert(300, dict(rows[0], source_key="L" * 20000))
    rows.append(dict(rows[0], source_key="M" * 20000))
    f = tunnus.dir / "hr.csv"
    write_csv(f, rows)
    p = imp(tunnus, "hr", "staff", f, "--full")
    s = summary(p)
    assert (s["rows"], s["created"], s["rejected"]) == (1503, 1500, 3)
    issues = [json.loads(l) for l in p.stderr.splitlines() if l.startswith("{")]
    assert [(i["line"], i["column"], i["reason"]) for i in issues] == [
        (302, "source_key", "is longer than 128 bytes"),
        (703, "source_key", "duplicate key (first on line 5)"),
        (1504, "source_key", "is longer than 128 bytes")]
    assert tunnus.sql("SELECT count(*) FROM affiliation")[0][0] == 1500
    n = audit_count(tunnus)
    s = summary(imp(tunnus, "hr", "staff", f, "--full"))
    assert (s["unchanged"], s["rejected"], s["ended"], s["created"]) == (1500, 3, 0, 0)
    assert audit_count(tunnus) == n


def test_strict_stop_does_not_wait_for_a_pipe(tunnus):
    # A file is read ahead on a second thread; standard input from a pipe
    # is read row by row, so a --strict stop on a bad row returns while the
    # program writing to the pipe is still there.
    rows = staff_rows(3)
    rows[1]["source_key"] = ""
    f = tunnus.dir / "hr.csv"
    write_csv(f, rows)
    p = subprocess.Popen([BIN, "--db", str(tunnus.db), "--as-of", AS_OF, "import", "--source",
                          "hr", "--kind", "staff", "--strict", "-"], cwd=tunnus.dir,
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    try:
        p.stdin.write(f.read_bytes())
        p.stdin.flush()
        rc = p.wait(timeout=30)  # the pipe is still open
        err = p.stderr.read().decode()
    finally:
        p.stdin.close()
        p.kill()
        p.wait()
    assert rc == 3, err
    assert "line 3" in err
    assert tunnus.sql("SELECT count(*) FROM person")[0][0] == 0


def test_strict_applies_nothing(tunnus):
    rows = staff_rows(5)
    rows[3]["valid_from"] = "2025-02-30"
    f = tunnus.dir / "hr.csv"
    write_csv(f, rows, delim=";")
    p = imp(tunnus, "hr", "staff", f, "--strict", check=False)
    assert p.returncode == 3
    assert "line 5" in p.stderr
    assert tunnus.sql("SELECT count(*) FROM person")[0][0] == 0
    s = summary(imp(tunnus, "hr", "staff", f))
    assert s["created"] == 4 and s["rejected"] == 1


def test_known_units_and_updates(tunnus):
    tunnus.run("orgunit", "add", "City")
    tunnus.run("orgunit", "add", "City/IT")
    rows = staff_rows(3)
    rows[2]["org_unit"] = "Nowhere/Else"
    f = tunnus.dir / "hr.csv"
    write_csv(f, rows)
    s = summary(imp(tunnus, "hr", "staff", f, "--known-units"))
    assert s["created"] == 2 and s["rejected"] == 1
    # a changed name and title update the person and the affiliation, one event per row
    rows[0]["family_name"] = "Uusinimi"
    rows[1]["title"] = "suunnittelija"
    write_csv(f, rows)
    before = audit_count(tunnus)
    s = summary(imp(tunnus, "hr", "staff", f, "--known-units"))
    assert s["updated"] == 2 and s["rejected"] == 1
    assert audit_count(tunnus) == before + 2
    assert tunnus.sql("SELECT count(*) FROM person WHERE family_name = 'Uusinimi'")[0][0] == 1


def test_review_queue(tunnus):
    f = tunnus.dir / "hr.csv"
    write_csv(f, [{"source_key": "E1", "national_id": hetu("150390", "-", 124),
                   "given_names": "Liisa", "family_name": "Virtanen",
                   "valid_from": "2020-01-01"}])
    imp(tunnus, "hr", "staff", f)
    g = tunnus.dir / "visitors.csv"
    visitors = [{"source_key": "V1", "given_names": "Liisa", "family_name": "Virtanen",
                 "birth_date": "1990-03-15", "valid_from": "2026-01-01"},
                {"source_key": "V2", "given_names": "Liisa", "family_name": "Virtanen",
                 "birth_date": "1990-03-15", "valid_from": "2026-02-01"},
                {"source_key": "V3", "given_names": "Liisa", "family_name": "Virtanen",
                 "birth_date": "1991-03-15", "valid_from": "2026-02-01"}]
    write_csv(g, visitors)
    s = summary(imp(tunnus, "sponsored", "visitor", g))
    assert s["queued"] == 2 and s["created"] == 1
    assert tunnus.sql("SELECT count(*) FROM person")[0][0] == 2
    n = audit_count(tunnus)
    s = summary(imp(tunnus, "sponsored", "visitor", g))
    assert s["queued"] == 2 and audit_count(tunnus) == n
    q = [json.loads(l) for l in tunnus.run("--json", "import", "review", "list").stdout.splitlines()]
    assert [e["source_key"] for e in q] == ["V1", "V2"]
    assert all(e["state"] == "pending" and e["candidates"] == 1 for e in q)
    tunnus.run("import", "review", "accept", q[0]["id"])
    tunnus.run("import", "review", "reject", q[1]["id"])
    p = tunnus.run("import", "review", "accept", q[1]["id"], check=False)
    assert p.returncode == 7
    owner = dict(tunnus.sql("SELECT a.source_key, p.nid_hash IS NOT NULL FROM affiliation a "
                            "JOIN person p ON p.number = a.person_num"))
    assert owner["V1"] == 1 and owner["V2"] == 0 and owner["E1"] == 1
    assert tunnus.sql("SELECT count(*) FROM person")[0][0] == 3
    s = summary(imp(tunnus, "sponsored", "visitor", g))
    assert s["queued"] == 0 and s["unchanged"] == 3


def test_review_queue_keeps_no_password_hash(tunnus):
    """A queued row is an uncertain match: its password hash is not stored
    in the review queue, and accepting it gives the candidate's account
    no credential from the source."""
    import base64
    import hashlib
    pw_hash = "{SSHA}" + base64.b64encode(hashlib.sha1(b"salasana" + b"suola").digest()
                                          + b"suola").decode()
    f = tunnus.dir / "hr.csv"
    write_csv(f, [{"source_key": "E1", "national_id": hetu("150390", "-", 124),
                   "given_names": "Liisa", "family_name": "Virtanen",
                   "valid_from": "2020-01-01"}])
    imp(tunnus, "hr", "staff", f)
    g = tunnus.dir / "old.csv"
    write_csv(g, [{"source_key": "L1", "given_names": "Liisa", "family_name": "Virtanen",
                   "birth_date": "1990-03-15", "valid_from": "2026-01-01",
                   "username": "liisa.v", "password_hash": pw_hash}])
    s = summary(imp(tunnus, "olddir", "staff", g))
    assert s["queued"] == 1
    rows = [r[0] for r in tunnus.sql("SELECT row FROM import_review")]
    assert len(rows) == 1 and "password_hash" not in rows[0] and "SSHA" not in rows[0]
    assert json.loads(rows[0])["username"] == "liisa.v"
    q = [json.loads(l) for l in tunnus.run("--json", "import", "review", "list").stdout.splitlines()]
    tunnus.run("import", "review", "accept", q[0]["id"])
    hashes = tunnus.sql("SELECT password_hash FROM account")
    assert all(not h or "SSHA" not in h for (h,) in hashes)
    # The next import of the row, now a confirmed match, carries it.
    imp(tunnus, "olddir", "staff", g)
    assert tunnus.sql("SELECT password_hash FROM account WHERE username = 'liisa.v'") == [(pw_hash,)]


def test_json_feed_matches_csv(tmp_path):
    from conftest import Tunnus
    pop = tmp_path / "p"
    generate(pop, 300, 4)
    a = Tunnus(tmp_path / "a"); a.dir.mkdir(); a.run("init")
    b = Tunnus(tmp_path / "b"); b.dir.mkdir(); b.run("init")
    for i, (source, kind) in enumerate(FEEDS):
        imp(a, source, kind, pop / f"{source}.csv")
        with open(pop / f"{source}.csv", newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        j = tmp_path / f"{source}.json"
        with open(j, "w", encoding="utf-8") as f:
            if i % 2:
                json.dump(rows, f, ensure_ascii=False, indent=1)
            else:
                for r in rows:
                    f.write(json.dumps(r, ensure_ascii=False) + "\n")
        imp(b, source, kind, j)
    assert snapshot(a.db) == snapshot(b.db)


def test_kill_and_rerun_reaches_the_clean_state(tmp_path):
    from conftest import Tunnus
    pop = tmp_path / "p"
    generate(pop, 3000, 23, invalid=0.01)
    clean = Tunnus(tmp_path / "clean"); clean.dir.mkdir(); clean.run("init")
    for source, kind in FEEDS:
        imp(clean, source, kind, pop / f"{source}.csv", "--full", "--chunk", "100")
    killed = Tunnus(tmp_path / "killed"); killed.dir.mkdir(); killed.run("init")
    rnd = random.Random(5)
    kills = 0
    for source, kind in FEEDS:
        cmd = [BIN, "--db", str(killed.db), "--as-of", AS_OF, "import", "--source", source,
               "--kind", kind, "--full", "--chunk", "100", str(pop / f"{source}.csv")]
        for _ in range(6):
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rnd.uniform(0.002, 0.05))
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                kills += 1
            p.wait()
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert r.returncode == 0
    assert kills >= 6
    # some of the kills hit an import after it had started writing
    assert killed.sql("SELECT count(*) FROM import_run WHERE status = 'running'")[0][0] >= 1
    assert snapshot(killed.db) == snapshot(clean.db)
