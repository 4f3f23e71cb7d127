"""The lifecycle due cache (migrations/0012_lc_due.sql): plan and run visit
only the persons whose quiet interval does not hold the date, and that
must never change what they decide. Each check compares a plan answered
from the cache with the same plan after the cache was made stale (a new
policy version makes every row stale, so the plan evaluates everyone)."""
import json
import random
from datetime import date, timedelta

import pytest

from test_lifecycle import UNI001, add, run, state

POLICY = {
    "kinds": {
        "staff": {"activate_before_days": 14, "close_after_days": 7,
                  "archive_after_days": 37, "purge_after_days": 60,
                  "erase_after_days": 90, "handover_days": 30},
        "student": {"activate_before_days": 14, "close_after_days": 61,
                    "archive_after_days": 184, "purge_after_days": 184},
        "visitor": {"activate_before_days": 0, "close_after_days": 0,
                    "archive_after_days": 20, "purge_after_days": 20},
    }
}


def plan(t, d):
    p = t.json("--as-of", d, "lifecycle", "plan")
    return p, sorted((c["identity_number"], c["to"], tuple(c["transitions"]))
                     for c in p["changes"])


def iso(d):
    return d.isoformat()


def test_noop_run_and_plan_evaluate_nobody(tunnus):
    tunnus.run("policy", "apply", UNI001)
    for i in range(12):
        add(tunnus, "Noora", f"Noop{chr(97 + i)}", "staff", "2024-01-01",
            "2024-06-30" if i % 6 == 1 else None)
    first = run(tunnus, "2024-03-01")
    assert first["changed"] == 12 and first["evaluated"] == 12
    again = run(tunnus, "2024-03-01")
    assert again["changed"] == 0 and again["evaluated"] == 0 and again["persons"] == 12
    p, changes = plan(tunnus, "2024-05-01")
    assert p["evaluated"] == 0 and changes == []
    # The day after the last day of the relationship, the two ending ones
    # (and only they) are due.
    p, changes = plan(tunnus, "2024-07-01")
    assert p["evaluated"] == 2 and [c[1] for c in changes] == ["grace"] * 2
    # A date before the run's: the interval reaches back past the day the
    # accounts opened, since no transition takes an active person back to
    # pending.
    p, changes = plan(tunnus, "2023-12-01")
    assert p["evaluated"] == 0 and changes == []


def test_due_date_passes_and_writes_invalidate(tunnus):
    tunnus.run("policy", "apply", UNI001)
    p = add(tunnus, "Iida", "Invalid", "staff", "2024-01-01", "2024-06-30")
    n = p["identity_number"]
    for i in range(8):
        add(tunnus, "Olli", f"Other{chr(97 + i)}", "staff", "2024-01-01")
    run(tunnus, "2024-02-01")
    assert run(tunnus, "2024-06-30")["evaluated"] == 0
    r = run(tunnus, "2024-07-01")   # the first day of grace
    assert r["evaluated"] == 1 and r["counts"]["grace"] == 1
    assert state(tunnus, n) == "grace"
    # An extension is a write the cache must see at once.
    tunnus.run("affiliation", "end", "key:manual:%d-1" % n, "--date", "2024-12-31")
    p2, changes = plan(tunnus, "2024-07-02")
    assert p2["evaluated"] == 1 and changes == [(n, "active", ("extend",))]
    run(tunnus, "2024-07-02")
    # A legal hold moves archiving: the cache follows the hold.
    tunnus.run("--as-of", "2024-07-03", "person", "hold", f"number:{n}", "--days", "400",
               "--reason", "audit")
    p3, changes = plan(tunnus, "2025-07-20")   # past 2024-12-31 + 185, hold in force
    assert [c for c in changes if c[0] == n] == [(n, "closed", ("close",))]
    p4, changes = plan(tunnus, "2025-08-10")   # the day after the hold's last day
    assert [c for c in changes if c[0] == n] == \
        [(n, "archived", ("hold_expire", "close", "archive", "purge"))]


def test_new_policy_makes_every_person_due(tunnus, tmp_path):
    tunnus.run("policy", "apply", UNI001)
    for i in range(8):
        add(tunnus, "Paula", f"Policy{chr(97 + i)}", "staff", "2024-01-01", "2024-06-30")
    run(tunnus, "2024-01-01")
    run(tunnus, "2024-07-10")           # grace under 001 (14 days)
    assert run(tunnus, "2024-07-10")["evaluated"] == 0
    f = tmp_path / "short.json"
    f.write_text(json.dumps(POLICY))    # staff close after 7 days
    tunnus.run("policy", "apply", f)
    p, changes = plan(tunnus, "2024-07-10")
    assert p["evaluated"] == 8 and [c[1] for c in changes] == ["closed"] * 8
    r = run(tunnus, "2024-07-10")
    assert r["changed"] == 8
    assert run(tunnus, "2024-07-10")["evaluated"] == 0


@pytest.mark.parametrize("seed", [4711, 1234])
def test_cache_agrees_with_full_evaluation(tunnus, tmp_path, seed):
    """Random persons and writes over two years; at each step plans on dates
    before, on and after the last run, from the cache and in full."""
    rnd = random.Random(seed)
    f = tmp_path / "policy.json"
    f.write_text(json.dumps(POLICY))
    tunnus.run("policy", "apply", f)
    base = date(2024, 1, 1)
    nums, keys = [], []
    for i in range(30):
        kind = rnd.choice(["staff", "student", "visitor"])
        frm = base + timedelta(days=rnd.randrange(0, 200))
        to = None if rnd.random() < 0.2 else frm + timedelta(days=rnd.randrange(0, 250))
        p = add(tunnus, "Rami", "Random" + chr(97 + i % 26) + chr(97 + i // 26), kind, iso(frm), iso(to) if to else None)
        nums.append(p["identity_number"])
        keys.append("key:manual:%d-1" % p["identity_number"])
    cached_small = 0
    d = base
    for step in range(16):
        d += timedelta(days=rnd.randrange(10, 70))
        run(tunnus, iso(d))
        # Writes between runs: extensions, ends (some by death), new
        # relationships, holds.
        for _ in range(3):
            i = rnd.randrange(len(nums))
            what = rnd.random()
            if what < 0.35:
                end = d + timedelta(days=rnd.randrange(-20, 120))
                args = ["affiliation", "end", keys[i], "--date", iso(end)]
                if rnd.random() < 0.15:
                    args += ["--reason", "death"]
                tunnus.run(*args, check=False)
            elif what < 0.7:
                frm = d + timedelta(days=rnd.randrange(-10, 60))
                tunnus.run("affiliation", "add", f"number:{nums[i]}", "--kind",
                           rnd.choice(["staff", "student", "visitor"]), "--from", iso(frm),
                           "--to", iso(frm + timedelta(days=rnd.randrange(0, 150))),
                           check=False)
            else:
                tunnus.run("--as-of", iso(d), "person", "hold", f"number:{nums[i]}",
                           "--days", str(rnd.randrange(1, 200)), "--reason", "test",
                           check=False)
        dates = [d + timedelta(days=k) for k in (-30, -1, 0, 1, 6, 8, 15, 40, 62, 190, 400)]
        cached = {}
        for x in dates:
            p, changes = plan(tunnus, iso(x))
            cached[x] = changes
            if p["evaluated"] < p["persons"] / 4:
                cached_small += 1
        tunnus.run("policy", "apply", f)       # every row stale: full evaluation
        for x in dates:
            p, changes = plan(tunnus, iso(x))
            assert p["evaluated"] == p["persons"]
            assert changes == cached[x], (step, x)
        # A run applies what the writes made due and refills the cache:
        # the next run on the date has nothing to do and nobody to look at.
        run(tunnus, iso(d))
        again = run(tunnus, iso(d))
        assert again["changed"] == 0 and again["evaluated"] == 0, step
    assert cached_small > 50
