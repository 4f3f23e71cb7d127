"""The lifecycle engine through the CLI over a sequence of dates: policy,
plan, run (idempotent), forecast, what-if, legal hold, archive contents."""
import json
from pathlib import Path

from conftest import hetu

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "examples" / "policies"
UNI001 = POLICIES / "university-001.json"
EXIT_FAILURE, EXIT_INVALID, EXIT_STATE = 1, 3, 7


def add(t, given, family, kind, frm, to=None, *extra):
    args = ["person", "add", "--given", given, "--family", family, "--kind", kind,
            "--from", frm, *extra]
    if to:
        args += ["--to", to]
    return t.json(*args)


def run(t, date):
    return t.json("--as-of", date, "lifecycle", "run")


def audit_count(t):
    return t.sql("SELECT count(*) FROM audit_event")[0][0]


def state(t, number):
    return t.sql("SELECT state FROM person WHERE number = ?", number)[0][0]


def account_states(t, number):
    return [r[0] for r in t.sql("SELECT state FROM account WHERE person_num = ? ORDER BY id",
                                number)]


def test_example_policies_apply_and_show(tunnus):
    for name in ("university-001.json", "university-002.json", "city-000.json"):
        p = tunnus.json("policy", "apply", POLICIES / name)
        assert p["policy"]["kinds"]
    shown = tunnus.json("policy", "show")
    assert shown["version"] == 3
    assert shown["policy"]["kinds"]["staff"]["erase_after_days"] == 270
    assert tunnus.sql("SELECT count(*) FROM lc_policy")[0][0] == 3


def test_policy_rejections_keep_previous(tunnus, tmp_path):
    tunnus.run("policy", "apply", UNI001)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"kinds": {"staff": {
        "activate_before_days": 0, "close_after_days": 30,
        "archive_after_days": 10, "purge_after_days": 184}}}))
    p = tunnus.run("policy", "apply", bad, check=False)
    assert p.returncode == EXIT_INVALID
    assert "out of order" in p.stderr
    # A kind in use that the new policy lacks.
    add(tunnus, "Pia", "Partner", "partner", "2024-01-01")
    p = tunnus.run("policy", "apply", POLICIES / "university-002.json", check=False)
    assert p.returncode == EXIT_INVALID
    assert "partner" in p.stderr
    assert tunnus.json("policy", "show")["version"] == 1
    assert tunnus.sql("SELECT count(*) FROM lc_policy")[0][0] == 1


def test_run_needs_a_policy(tunnus):
    p = tunnus.run("lifecycle", "run", "--as-of", "2024-01-01", check=False)
    assert p.returncode == 4
    assert "policy apply" in p.stderr


def test_staff_through_every_step_idempotent(tunnus):
    tunnus.run("policy", "apply", UNI001)
    p = add(tunnus, "Matti", "Virtanen", "staff", "2024-01-01", "2024-06-30",
            "--phone", "+358401234567", "--email", "matti@example.org", "--language", "fi",
            "--nationality", "FI", "--title", "Lecturer")
    n = p["identity_number"]
    expect = [("2023-12-17", "pending", []),
              ("2023-12-18", "active", ["active"]),       # 14 days before the start
              ("2024-06-30", "active", ["active"]),       # valid_to is the last day
              ("2024-07-01", "grace", ["grace"]),
              ("2024-07-14", "grace", ["grace"]),         # valid_to + 14
              ("2024-07-15", "closed", ["closed"]),
              ("2024-12-31", "closed", ["closed"]),       # valid_to + 184
              ("2025-01-01", "archived", ["closed"])]
    for date, st, accts in expect:
        r = run(tunnus, date)
        assert r["as_of"] == date
        assert state(tunnus, n) == st, date
        assert account_states(tunnus, n) == accts, date
        # The same date again: nothing, and no audit rows.
        before = audit_count(tunnus)
        again = run(tunnus, date)
        assert again["changes"] == [] and sum(again["counts"].values()) == 0
        assert audit_count(tunnus) == before
    runs = tunnus.sql("SELECT as_of, policy_version, changed FROM lc_run ORDER BY id")
    assert len(runs) == 16 and all(v == 1 for _, v, _ in runs)
    # Every transition has its audit event and outbox row.
    # (Rows named by a service action, "person.add" …, are the other changes'.)
    events = [r[0] for r in tunnus.sql(
        "SELECT event FROM outbox WHERE event NOT LIKE '%.%' ORDER BY id")]
    assert events == ["activate", "grace", "close", "archive", "purge"]
    actions = [r[0] for r in tunnus.sql(
        "SELECT action FROM audit_event WHERE action LIKE 'lifecycle.%' "
        "AND action != 'lifecycle.run' ORDER BY seq")]
    assert actions == ["lifecycle.activate", "lifecycle.grace", "lifecycle.close",
                       "lifecycle.archive", "lifecycle.purge"]


def test_archive_keeps_exactly_the_archive_set(tunnus):
    tunnus.run("policy", "apply", UNI001)
    nid = hetu("010190", "-", 124)
    p = tunnus.json("person", "add", "--given", "Liisa Maria", "--family", "Laine",
                    "--preferred", "Maria", "--phone", "+358401234567",
                    "--email", "liisa@example.org", "--language", "fi", "--nationality", "FI",
                    "--national-id", "-", "--kind", "student", "--from", "2020-09-01",
                    "--to", "2024-05-31", "--programme", "Physics", input=nid + "\n")
    n = p["identity_number"]
    tunnus.run("affiliation", "add", f"number:{n}", "--kind", "staff", "--from", "2021-01-01",
               "--to", "2023-12-31", "--title", "Assistant")
    run(tunnus, "2024-01-01")
    run(tunnus, "2024-12-02")   # 2024-05-31 + 185
    shown = tunnus.json("person", "show", f"number:{n}")
    assert shown["state"] == "archived"
    assert shown["affiliations"] == []
    assert shown["given_names"] == "Liisa Maria" and shown["family_name"] == "Laine"
    assert shown["has_national_id"] is True
    assert shown["gender"] == "female" and shown["nationality"] == "FI"
    for gone in ("preferred_name", "email", "phone", "language", "birth_date"):
        assert shown[gone] is None, gone
    assert [a["username"] for a in shown["accounts"]] == ["liisa.laine"]
    # Deleted, not hidden.
    assert tunnus.sql("SELECT count(*) FROM affiliation WHERE person_num = ?", n)[0][0] == 0
    row = tunnus.sql("SELECT phone, email, preferred_name, language, birth_date "
                     "FROM person WHERE number = ?", n)[0]
    assert row == ("", "", "", "", None)
    # The national ID's key kept the birth date in front (migration 0017):
    # with the date deleted, zeros stand there instead.
    key = tunnus.sql("SELECT nid_hash FROM person WHERE number = ?", n)[0][0]
    assert key[:8] == b"00000000" and len(key) == 40
    # Still the ID's only holder, and still found by it: a feed row with the
    # ID joins this person instead of creating another.
    p2 = tunnus.run("person", "add", "--given", "Liisa", "--family", "Laine", "--national-id", "-",
                    "--kind", "student", "--from", "2025-01-01", input=nid + "\n", check=False)
    assert p2.returncode != 0 and "already exists (number" in p2.stderr
    feed = tunnus.dir / "back.csv"
    feed.write_text("source_key,national_id,given_names,family_name,valid_from\n"
                    f"S9,{nid},Liisa Maria,Laine,2025-01-01\n", encoding="utf-8")
    tunnus.run("--as-of", "2025-01-01", "import", "--source", "sis", "--kind", "student", feed)
    assert tunnus.sql("SELECT count(*) FROM person")[0][0] == 1
    assert tunnus.sql("SELECT person_num FROM affiliation WHERE source_key = 'S9'") == [(n,)]
    # The row had no birth date to give back: the key stays without one.
    assert tunnus.sql("SELECT birth_date, substr(CAST(nid_hash AS TEXT), 1, 8) FROM person "
                      "WHERE number = ?", n) == [(None, "00000000")]
    summary = tunnus.sql("SELECT kinds, first_start, last_end, archived_on, purged_on "
                         "FROM lc_archive WHERE person_num = ?", n)[0]
    assert set(summary[0].split(",")) == {"student", "staff"}
    assert summary[1:] == ("2020-09-01", "2024-05-31", "2024-12-02", "2024-12-02")
    # The audit trail does not keep what archiving deleted.
    changes = tunnus.sql("SELECT changes FROM audit_event WHERE action = 'lifecycle.archive'")
    assert "+358401234567" not in changes[0][0] and "liisa@example.org" not in changes[0][0]


def test_rehire_reopens_the_same_account(tunnus):
    tunnus.run("policy", "apply", UNI001)
    p = add(tunnus, "Olli", "Opettaja", "staff", "2024-01-01", "2024-03-31")
    n = p["identity_number"]
    run(tunnus, "2024-01-01")
    run(tunnus, "2024-04-20")
    assert state(tunnus, n) == "closed"
    tunnus.run("affiliation", "add", f"number:{n}", "--kind", "staff", "--from", "2024-06-01",
               "--to", "2024-08-31")
    r = run(tunnus, "2024-05-20")   # 12 days before the new start
    assert r["counts"]["reopen"] == 1
    assert state(tunnus, n) == "active"
    assert account_states(tunnus, n) == ["active"]
    assert tunnus.sql("SELECT count(*) FROM account WHERE person_num = ?", n)[0][0] == 1
    # Within grace an extension only extends.
    tunnus.run("affiliation", "end", "key:manual:%d-2" % n, "--date", "2024-09-30")
    run(tunnus, "2024-09-05")
    assert state(tunnus, n) == "active"
    # After archiving the same identity returns with the same account.
    run(tunnus, "2025-04-10")      # 2024-09-30 + 185 = 2025-04-03
    assert state(tunnus, n) == "archived"
    tunnus.run("affiliation", "add", f"number:{n}", "--kind", "staff", "--from", "2025-05-01")
    r = run(tunnus, "2025-05-01")
    assert r["counts"]["reopen"] == 1
    shown = tunnus.json("person", "show", f"number:{n}")
    assert shown["state"] == "active"
    assert [a["username"] for a in shown["accounts"]] == ["olli.opettaja"]
    assert shown["accounts"][0]["state"] == "active"


def test_concurrent_relationships_and_death(tunnus):
    tunnus.run("policy", "apply", UNI001)
    p = add(tunnus, "Sanna", "Kaksoinen", "staff", "2023-01-01", "2024-06-30")
    n = p["identity_number"]
    tunnus.run("affiliation", "add", f"number:{n}", "--kind", "student", "--from", "2022-09-01",
               "--to", "2024-12-31")
    run(tunnus, "2024-01-01")
    run(tunnus, "2024-07-20")
    assert state(tunnus, n) == "active"     # still a student
    run(tunnus, "2025-03-02")               # 2024-12-31 + 61: last day of grace
    assert state(tunnus, n) == "grace"
    run(tunnus, "2025-03-03")
    assert state(tunnus, n) == "closed"
    # Death follows the normal timers (staff 14 days).
    d = add(tunnus, "Kalle", "Kuollut", "staff", "2020-01-01")
    m = d["identity_number"]
    run(tunnus, "2024-01-02")
    key = "key:manual:%d-1" % m
    tunnus.run("affiliation", "end", key, "--date", "2024-02-10", "--reason", "death")
    run(tunnus, "2024-02-24")
    assert state(tunnus, m) == "grace"
    run(tunnus, "2024-02-25")
    assert state(tunnus, m) == "closed"
    fc = tunnus.json("--as-of", "2024-02-25", "lifecycle", "forecast", f"number:{m}")
    assert fc["death_date"] == "2024-02-10"
    steps = {s["step"]: s["date"] for s in fc["steps"]}
    assert steps["close"] == "2024-02-25" and steps["purge"] == "2024-08-13"


def test_legal_hold(tunnus):
    tunnus.run("policy", "apply", UNI001)
    p = add(tunnus, "Hanna", "Hold", "staff", "2024-01-01", "2024-06-30")
    n = p["identity_number"]
    run(tunnus, "2024-01-01")
    nohold = tunnus.run("--as-of", "2024-06-01", "person", "hold", f"number:{n}", "--days", "10",
                        check=False)
    assert nohold.returncode == EXIT_INVALID and "justification" in nohold.stderr
    h = tunnus.json("--as-of", "2024-06-01", "person", "hold", f"number:{n}",
                    "--reason", "police request")
    assert h["legal_hold_until"] == "2024-12-01"     # 183 days by default
    tunnus.json("--as-of", "2024-07-10", "person", "hold", f"number:{n}", "--days", "300",
                "--reason", "extended by the DPO")
    assert tunnus.json("person", "show", f"number:{n}")["legal_hold_until"] == "2025-05-06"
    run(tunnus, "2024-07-15")
    assert state(tunnus, n) == "closed"
    late = tunnus.run("--as-of", "2024-07-16", "person", "hold", f"number:{n}",
                      "--reason", "too late", check=False)
    assert late.returncode == EXIT_STATE
    assert "only be set while the account is valid" in late.stderr
    # The hold blocks archive and purge while in force.
    run(tunnus, "2025-01-01")
    assert state(tunnus, n) == "closed"
    run(tunnus, "2025-05-06")
    assert state(tunnus, n) == "closed"
    r = run(tunnus, "2025-05-07")
    assert r["counts"]["hold_expire"] == 1 and r["counts"]["archive"] == 1
    assert state(tunnus, n) == "archived"
    actions = [a for (a,) in tunnus.sql("SELECT action FROM audit_event WHERE subject_id = "
                                        "(SELECT id FROM person WHERE number = ?)", n)]
    assert actions.count("person.hold") == 2 and "lifecycle.hold_expire" in actions


def test_plan_changes_nothing_and_whatif(tunnus, tmp_path):
    tunnus.run("policy", "apply", UNI001)
    for i, to in enumerate(["2024-03-31", "2024-04-30", "2024-05-31"]):
        add(tunnus, "Pekka", f"Plan{chr(97 + i)}", "staff", "2024-01-01", to)
    run(tunnus, "2024-01-01")
    before = tunnus.sql("SELECT number, state FROM person ORDER BY number")
    plan = tunnus.json("--as-of", "2024-05-05", "lifecycle", "plan")
    assert plan["counts"]["close"] == 1 and plan["counts"]["grace"] == 1
    assert sorted(c["to"] for c in plan["changes"]) == ["closed", "grace"]
    assert tunnus.sql("SELECT number, state FROM person ORDER BY number") == before
    assert tunnus.sql("SELECT count(*) FROM outbox WHERE event NOT LIKE '%.%'")[0][0] == 3  # the activations only
    w = tunnus.json("--as-of", "2024-05-05", "lifecycle", "whatif", "--policy",
                    POLICIES / "university-002.json")
    # 002 closes staff after 7 days instead of 14: earlier for those still open.
    assert w["steps"]["close"]["earlier"] == 2
    assert w["steps"]["archive"]["earlier"] == 3
    assert w["steps"]["close"]["later"] == 0


def test_erase_leaves_a_tombstone(tunnus):
    tunnus.run("policy", "apply", POLICIES / "city-000.json")
    nid = hetu("020280", "-", 456)
    p = tunnus.json("person", "add", "--given", "Erkki", "--family", "Esimerkki",
                    "--national-id", "-", "--kind", "visitor", "--from", "2024-01-01",
                    "--to", "2024-01-31", input=nid + "\n")
    n = p["identity_number"]
    run(tunnus, "2024-01-01")
    run(tunnus, "2024-10-28")  # 2024-01-31 + 271
    row = tunnus.sql("SELECT state, given_names, family_name, nid_hash FROM person "
                     "WHERE number = ?", n)[0]
    assert row == ("erased", "", "", None)
    acct = tunnus.sql("SELECT username, person_num FROM account WHERE owner_id = ?", p["id"])
    assert acct == [("erkki.esimerkki", None)]
    assert tunnus.sql("SELECT count(*) FROM lc_archive")[0][0] == 0
    # The name stays reserved: a namesake gets another.
    q = tunnus.json("person", "add", "--given", "Erkki", "--family", "Esimerkki", "--account")
    assert q["accounts"][0]["username"] != "erkki.esimerkki"
    events = [e for (e,) in tunnus.sql("SELECT event FROM outbox WHERE person_id = ? "
                                       "AND event NOT LIKE '%.%'", p["id"])]
    assert events[-3:] == ["archive", "purge", "erase"]


def test_run_prunes_audit_events_past_the_retention_except_held(tunnus):
    """AU-6 / issue 5 item 7: the lifecycle run removes audit events older
    than the policy's audit_retention_days (real time), keeps those of a
    person under legal hold, and the chain still verifies. The old events
    are written with the clock set back by faketime."""
    import os
    import shutil
    import subprocess
    from conftest import BIN
    assert shutil.which("faketime"), "faketime is installed by scripts/deps.sh"
    # libfaketime is preloaded ahead of the ASan runtime in the sanitizer
    # build; ASan must be told that this order is intended.
    asan = os.environ.get("ASAN_OPTIONS", "")
    past = dict(os.environ, ASAN_OPTIONS=(asan + ":" if asan else "") + "verify_asan_link_order=0")

    def old(*args):
        p = subprocess.run(["faketime", "-f", "-300d", BIN, "--db", str(tunnus.db), *args],
                           env=past, capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr

    old("person", "add", "--given", "Vanha", "--family", "Tapahtuma", "--kind", "staff",
        "--from", "2020-01-01")
    old("person", "add", "--given", "Pidetty", "--family", "Henkilö", "--kind", "staff",
        "--from", "2020-01-01")
    old("person", "show", "number:1")
    old("person", "show", "number:2")
    tunnus.run("policy", "apply", str(UNI001))
    tunnus.run("person", "hold", "number:2", "--days", "30", "--reason", "investigation")
    before = tunnus.sql("SELECT subject_id IS NOT NULL, count(*) FROM audit_event"
                        " WHERE time_us < (strftime('%s','now') - 200*86400) * 1000000")
    assert before[0][1] >= 4, before
    report = run(tunnus, tunnus.sql("SELECT date('now')")[0][0])
    assert report["audit_pruned"] >= 2
    ids = dict(tunnus.sql("SELECT number, id FROM person"))
    old_left = dict(tunnus.sql(
        "SELECT subject_id, count(*) FROM audit_event"
        " WHERE time_us < (strftime('%s','now') - 200*86400) * 1000000 GROUP BY subject_id"))
    assert ids[1] not in old_left, "old events of an ordinary person are pruned"
    assert old_left.get(ids[2], 0) >= 2, "events of a person under legal hold are kept"
    assert tunnus.json("audit", "verify")["ok"] is True
    # A second run on the same day prunes nothing and writes nothing.
    n = audit_count(tunnus)
    again = run(tunnus, tunnus.sql("SELECT date('now')")[0][0])
    assert again["audit_pruned"] == 0 and audit_count(tunnus) == n


def test_plan_summary_event_keeps_its_counts(tunnus):
    """A queued read event keeps its detail: the plan's summary records the
    counts it showed."""
    tunnus.run("policy", "apply", str(UNI001))
    add(tunnus, "Aino", "Laine", "staff", "2020-01-01")
    tunnus.run("--as-of", "2026-11-21", "lifecycle", "plan")
    rows = tunnus.sql("SELECT detail FROM audit_event WHERE action = 'lifecycle.plan'")
    assert rows and rows[-1][0] and '"activate":1' in rows[-1][0], rows
