"""LC-8 handover (seed 002) over a sequence of dates: the manager's
time-limited access to a leaver's resources, a return within the window
(the same account reconnected, the access removed), the account sealed
after it (a returning person gets a new account); and the policy switch
returning_username for a return after archiving."""
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNI002 = ROOT / "examples" / "policies" / "university-002.json"
UNI001 = ROOT / "examples" / "policies" / "university-001.json"


def add(t, given, family, kind, frm, to=None, *extra):
    args = ["person", "add", "--given", given, "--family", family, "--kind", kind,
            "--from", frm, *extra]
    if to:
        args += ["--to", to]
    return t.json(*args)


def run(t, date):
    return t.json("--as-of", date, "lifecycle", "run")


def grants(t, leaver):
    return t.sql("SELECT g.number, h.from_date, h.until_date, h.state, h.ended_on "
                 "FROM lc_handover h JOIN person l ON l.number = h.leaver_num "
                 "LEFT JOIN person g ON g.number = h.grantee_num WHERE l.number = ? "
                 "ORDER BY h.id", leaver)


def outbox(t, person_id, event):
    return [json.loads(r[0]) for r in t.sql(
        "SELECT payload FROM outbox WHERE person_id = ? AND event = ? ORDER BY id",
        person_id, event)]


def accounts(t, number):
    return t.sql("SELECT a.username, a.state, s.account_id IS NOT NULL FROM account a "
                 "LEFT JOIN lc_account_sealed s ON s.account_id = a.id "
                 "WHERE a.person_num = ? ORDER BY a.id", number)


def leaver_and_manager(t, policy=UNI002):
    t.run("policy", "apply", policy)
    m = add(t, "Maija", "Esihenkilö", "staff", "2020-01-01")
    l = add(t, "Leena", "Lähtijä", "staff", "2024-01-01", "2024-06-30",
            "--manager", f"number:{m['identity_number']}")
    run(t, "2024-01-01")
    return m, l


def test_close_grants_the_manager_access_for_the_window(tunnus):
    m, l = leaver_and_manager(tunnus)
    n = l["identity_number"]
    run(tunnus, "2024-07-07")            # last day of the 7-day grace
    assert grants(tunnus, n) == []
    r = run(tunnus, "2024-07-08")        # closed: the window starts
    assert r["counts"]["close"] == 1
    # 2024-06-30 + 7 (close) + 30 (handover) = 2024-08-06, the last day.
    assert grants(tunnus, n) == [(m["identity_number"], "2024-07-08", "2024-08-06", "active", None)]
    ev = outbox(tunnus, l["id"], "handover_grant")
    assert len(ev) == 1 and ev[0]["grantee_id"] == m["id"]
    assert ev[0]["handover_until"] == "2024-08-06"
    # Shown to the leaver's and to the manager's view, and in the forecast.
    shown = tunnus.json("person", "show", f"number:{n}")
    assert [h["state"] for h in shown["handovers"]] == ["active"]
    assert shown["handovers"][0]["grantee_number"] == m["identity_number"]
    mshown = tunnus.json("person", "show", f"number:{m['identity_number']}")
    assert [h["leaver_number"] for h in mshown["handovers"]] == [n]
    fc = tunnus.json("--as-of", "2024-07-10", "lifecycle", "forecast", f"number:{n}")
    steps = {s["step"]: s["date"] for s in fc["steps"]}
    assert steps["handover_until"] == "2024-08-06" and steps["reopen_until"] == "2024-08-06"
    assert fc["handovers"][0]["until"] == "2024-08-06"
    text = tunnus.run("--as-of", "2024-07-10", "lifecycle", "forecast", f"number:{n}").stdout
    assert "has access 2024-07-08 .. 2024-08-06 (active)" in text
    # Idempotent: the same day again grants nothing more.
    again = run(tunnus, "2024-07-08")
    assert again["changes"] == [] and len(grants(tunnus, n)) == 1


def test_return_within_the_window_reconnects_the_same_account(tunnus):
    m, l = leaver_and_manager(tunnus)
    n = l["identity_number"]
    run(tunnus, "2024-07-08")
    tunnus.run("affiliation", "add", f"number:{n}", "--kind", "staff", "--from", "2024-08-01")
    r = run(tunnus, "2024-07-20")        # 12 days before the new start: within the window
    assert r["counts"]["reopen"] == 1
    assert grants(tunnus, n) == [(m["identity_number"], "2024-07-08", "2024-08-06", "returned",
                                  "2024-07-20")]
    assert accounts(tunnus, n) == [("leena.lahtija", "active", 0)]
    ends = outbox(tunnus, l["id"], "handover_end")
    assert len(ends) == 1 and ends[0]["reason"] == "returned"
    assert ends[0]["grantee_id"] == m["id"]
    # Nothing more happens at the old window's end.
    assert run(tunnus, "2024-08-07")["changes"] == []


def test_window_end_seals_the_account_and_a_return_gets_a_new_one(tunnus):
    m, l = leaver_and_manager(tunnus)
    n = l["identity_number"]
    run(tunnus, "2024-07-08")
    assert run(tunnus, "2024-08-06")["changes"] == []    # last day of the window
    r = run(tunnus, "2024-08-07")
    assert r["counts"]["handover_end"] == 1
    assert grants(tunnus, n)[0][3:] == ("expired", "2024-08-07")
    assert accounts(tunnus, n) == [("leena.lahtija", "closed", 1)]
    ends = outbox(tunnus, l["id"], "handover_end")
    assert len(ends) == 1 and ends[0]["reason"] == "expired"
    # The return after the window: the old account stays closed, a new one
    # is made; the old name stays reserved to her.
    tunnus.run("affiliation", "add", f"number:{n}", "--kind", "staff", "--from", "2024-10-01")
    r = run(tunnus, "2024-10-01")
    assert r["counts"]["reopen"] == 1
    assert accounts(tunnus, n) == [("leena.lahtija", "closed", 1),
                                   ("leena.lahtija2", "active", 0)]
    # A namesake never gets either name.
    other = add(tunnus, "Leena", "Lähtijä", "staff", "2024-10-01")
    run(tunnus, "2024-10-02")
    names = [a[0] for a in accounts(tunnus, other["identity_number"])]
    assert names == ["leena.lahtija3"]


def test_a_late_close_past_the_window_seals_at_once(tunnus):
    tunnus.run("policy", "apply", UNI002)
    l = add(tunnus, "Lauri", "Myöhä", "staff", "2024-01-01", "2024-06-30")  # no manager
    run(tunnus, "2024-01-01")
    r = run(tunnus, "2024-08-07")        # the next run: the window is already over
    assert r["changes"][0]["to"] == "archived"
    assert grants(tunnus, l["identity_number"]) == []
    assert accounts(tunnus, l["identity_number"]) == [("lauri.myoha", "closed", 1)]


def test_no_manager_still_has_a_window(tunnus):
    tunnus.run("policy", "apply", UNI002)
    l = add(tunnus, "Niko", "Ilmanesimiestä", "staff", "2024-01-01", "2024-06-30")
    run(tunnus, "2024-01-01")
    run(tunnus, "2024-07-08")
    assert grants(tunnus, l["identity_number"]) == [(None, "2024-07-08", "2024-08-06", "active",
                                                     None)]
    ev = outbox(tunnus, l["id"], "handover_grant")
    assert ev[0]["grantee_id"] is None


def test_returning_username_new_after_archiving(tunnus, tmp_path):
    pol = json.loads(UNI001.read_text())
    pol["returning_username"] = "new"
    f = tmp_path / "new.json"
    f.write_text(json.dumps(pol))
    tunnus.run("policy", "apply", f)
    assert tunnus.json("policy", "show")["policy"]["returning_username"] == "new"
    p = add(tunnus, "Ville", "Palaaja", "staff", "2024-01-01", "2024-03-31")
    n = p["identity_number"]
    run(tunnus, "2024-01-01")
    run(tunnus, "2024-10-10")            # 2024-03-31 + 185: archived
    assert tunnus.sql("SELECT state FROM person WHERE number = ?", n)[0][0] == "archived"
    tunnus.run("affiliation", "add", f"number:{n}", "--kind", "staff", "--from", "2024-11-01")
    r = run(tunnus, "2024-11-01")
    assert r["counts"]["reopen"] == 1
    assert accounts(tunnus, n) == [("ville.palaaja", "closed", 1), ("ville.palaaja2", "active", 0)]
    # The old name is still reserved to him: nobody else gets it.
    q = add(tunnus, "Ville", "Palaaja", "student", "2024-11-01")
    run(tunnus, "2024-11-02")
    assert [a[0] for a in accounts(tunnus, q["identity_number"])] == ["ville.palaaja3"]


def test_returning_username_rejects_other_values(tunnus, tmp_path):
    pol = json.loads(UNI001.read_text())
    pol["returning_username"] = "old"
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(pol))
    p = tunnus.run("policy", "apply", f, check=False)
    assert p.returncode == 3 and "returning_username" in p.stderr


def test_plan_audits_each_listed_person_and_one_summary(tunnus):
    tunnus.run("policy", "apply", UNI001)
    people = [add(tunnus, "Pekka", f"Plan{c}", "staff", "2024-01-01", to)
              for c, to in (("a", "2024-03-31"), ("b", "2024-04-30"), ("c", None))]
    run(tunnus, "2024-01-01")

    def plan_events():
        return tunnus.sql("SELECT subject_id FROM audit_event WHERE action = 'lifecycle.plan' "
                          "ORDER BY seq")

    plan = tunnus.json("--as-of", "2024-05-05", "lifecycle", "plan")
    listed = sorted(c["id"] for c in plan["changes"])
    assert plan["changed"] == 2 and len(listed) == 2
    ev = plan_events()
    # One read event per person shown, one summary (no subject) for the bulk read.
    assert sorted(s for (s,) in ev if s) == listed
    assert [s for (s,) in ev].count(None) == 1
    assert people[2]["id"] not in [s for (s,) in ev]
    # --summary shows counts only and writes only the summary event.
    n = len(ev)
    summ = tunnus.json("--as-of", "2024-05-05", "lifecycle", "plan", "--summary")
    assert summ["changed"] == 2 and summ["changes"] == []
    assert summ["counts"]["close"] == 1 and summ["counts"]["grace"] == 1
    ev = plan_events()
    assert len(ev) == n + 1 and ev[-1][0] is None
