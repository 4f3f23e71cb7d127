"""The audit trail: chain verification against tampering, the person's
report, the verifiable export and the retention cut."""
import json
import sqlite3

import pytest

from conftest import hetu


def con(t):
    c = sqlite3.connect(t.db)
    # An attacker with file access removes the guards first.
    c.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
    c.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
    return c


def populate(t, n=3):
    for i in range(n):
        t.run("person", "add", "--given", ["Anna", "Bertta", "Cecilia", "Doris"][i], "--family", "Virtanen",
              "--national-id", "-", "--kind", "staff", "--from", "2024-01-01", "--account",
              input=hetu("010190", "-", 100 + i) + "\n")
    for i in range(n):
        t.run("person", "show", f"number:{i + 1}")
    # Writes stay in the registry's chain; enough of them for the tamper
    # tests below (reads go to the read log).
    for i in range(7):
        t.run("person", "update", "number:1", "--phone", f"+35840123456{i}")
    t.run("person", "list")


def verify(t):
    p = t.run("--json", "audit", "verify", check=False)
    return p.returncode, json.loads(p.stdout)


@pytest.fixture
def log(tunnus):
    populate(tunnus)
    return tunnus


def test_untouched_log_verifies(log):
    rc, v = verify(log)
    assert rc == 0 and v["ok"] is True
    assert v["events"] >= 10
    assert v["last_seq"] == v["events"]
    # The read log: the shows and the list.
    assert v["reads"]["events"] >= 6 and v["reads"]["last_seq"] == v["reads"]["events"]


def test_edit_is_found(log):
    c = con(log)
    c.execute("UPDATE audit_event SET actor_id = 'os:mallory' WHERE seq = 5")
    c.commit()
    rc, v = verify(log)
    assert rc == 1 and v["ok"] is False and v["bad_seq"] == 5


def test_delete_is_found(log):
    c = con(log)
    c.execute("DELETE FROM audit_event WHERE seq = 4")
    c.commit()
    rc, v = verify(log)
    assert rc == 1 and v["bad_seq"] == 4
    assert "missing" in v["reason"]


def test_insert_is_found(log):
    c = con(log)
    n = c.execute("SELECT max(seq) FROM audit_event").fetchone()[0]
    # Make room at seq 3 and forge an event there, copying a real hash.
    for s in range(n, 2, -1):
        c.execute("UPDATE audit_event SET seq = seq + 1 WHERE seq = ?", (s,))
    c.execute("INSERT INTO audit_event (seq, time_us, actor_kind, actor_id, channel, action, "
              "result, hash) SELECT 3, time_us, actor_kind, actor_id, channel, 'person.read', "
              "'allowed', hash FROM audit_event WHERE seq = 2")
    c.commit()
    rc, v = verify(log)
    assert rc == 1 and v["bad_seq"] == 3


def test_reorder_is_found(log):
    c = con(log)
    c.execute("UPDATE audit_event SET seq = -6 WHERE seq = 6")
    c.execute("UPDATE audit_event SET seq = 6 WHERE seq = 7")
    c.execute("UPDATE audit_event SET seq = 7 WHERE seq = -6")
    c.commit()
    rc, v = verify(log)
    assert rc == 1 and v["bad_seq"] == 6


def test_truncation_after_checkpoint_is_found(log):
    log.run("audit", "checkpoint")
    c = con(log)
    n = c.execute("SELECT max(seq) FROM audit_event").fetchone()[0]
    c.execute("DELETE FROM audit_event WHERE seq >= ?", (n - 1,))
    c.commit()
    rc, v = verify(log)
    assert rc == 1 and v["bad_seq"] == n


def test_rewritten_chain_fails_the_signature(log):
    """Recomputing every hash after an edit is caught by the signature."""
    log.run("audit", "checkpoint")
    c = con(log)
    c.execute("UPDATE audit_checkpoint SET hash = zeroblob(32)")
    c.commit()
    rc, v = verify(log)
    assert rc == 1 and "signature" in v["reason"]


def test_periodic_checkpoints_are_written(tunnus):
    populate(tunnus, 4)
    # Read until past one checkpoint interval (256 events).
    for _ in range(70):
        tunnus.run("person", "list")
    n = tunnus.sql("SELECT count(*) FROM audit_checkpoint WHERE kind = 'periodic'")[0][0]
    assert n >= 1
    rc, v = verify(tunnus)
    assert rc == 0 and v["reads"]["signed_seq"] >= 256


def test_subject_report(log):
    pid = log.sql("SELECT id FROM person WHERE number = 2")[0][0]
    rows = log.json("audit", "subject", "number:2")
    actions = [r["action"] for r in rows]
    assert "person.enrol" in actions and "person.read" in actions
    assert all(r["channel"] == "cli" for r in rows)
    # Only this person's events, and the report itself is recorded.
    n = log.sql("SELECT count(*) FROM audit_event WHERE subject_id = ? AND action != 'audit.subject'", pid)[0][0]
    assert len([a for a in actions if a != "audit.subject"]) == n
    assert log.sql("SELECT count(*) FROM audit_event WHERE subject_id = ? AND action = 'audit.subject'", pid)[0][0] == 1
    # The index was caught up lazily, not by the reads.
    assert log.sql("SELECT count(*) FROM audit_subject WHERE subject_id = ?", pid)[0][0] >= n
    # A date range in the future is empty; one around today is not.
    assert log.json("audit", "subject", "number:2", "--from", "2999-01-01") == []


def test_subject_index_is_not_written_by_reads(tunnus):
    populate(tunnus, 2)
    assert tunnus.sql("SELECT count(*) FROM audit_subject")[0][0] == 0
    tunnus.run("audit", "index")
    wm = int(tunnus.sql("SELECT value FROM meta WHERE key = 'audit_index_seq'")[0][0])
    assert wm == tunnus.sql("SELECT max(seq) FROM main.audit_event")[0][0]
    # The read log has its own index and watermark.
    wm = int(tunnus.sql("SELECT value FROM rl.meta WHERE key = 'audit_index_seq'")[0][0])
    assert wm == tunnus.sql("SELECT max(seq) FROM audit_event WHERE log = 'reads'")[0][0] > 0


def test_export_verifies_and_detects_tampering(log, tmp_path):
    out = tmp_path / "full.jsonl"
    log.run("audit", "export", "--out", out)
    p = log.run("--json", "audit", "verify-export", out, db=False)
    v = json.loads(p.stdout)
    assert v["ok"] is True
    kid = v["key_id"]
    # Trusted key check.
    assert log.run("audit", "verify-export", out, "--key", kid, db=False).returncode == 0
    assert log.run("audit", "verify-export", out, "--key", "00" * 32, db=False,
                   check=False).returncode == 1
    lines = out.read_text().splitlines()
    # Alter one event.
    bad = []
    for ln in lines:
        o = json.loads(ln)
        if o["type"] == "event" and o["seq"] == 3:
            o["actor_id"] = "os:mallory"
        bad.append(json.dumps(o))
    (tmp_path / "bad.jsonl").write_text("\n".join(bad) + "\n")
    p = log.run("--json", "audit", "verify-export", tmp_path / "bad.jsonl", db=False, check=False)
    assert p.returncode == 1 and json.loads(p.stdout)["bad_seq"] == 3
    # Drop one event line.
    (tmp_path / "gap.jsonl").write_text(
        "\n".join(ln for ln in lines if '"seq":4,' not in ln or '"type":"event"' not in ln) + "\n")
    p = log.run("--json", "audit", "verify-export", tmp_path / "gap.jsonl", db=False, check=False)
    assert p.returncode == 1


def test_export_of_one_person_hides_the_others(log, tmp_path):
    out = tmp_path / "one.jsonl"
    log.run("audit", "export", "--person", "number:1", "--out", out)
    pid = log.sql("SELECT id FROM person WHERE number = 1")[0][0]
    others = [r[0] for r in log.sql("SELECT id FROM person WHERE number != 1")]
    text = out.read_text()
    assert all(o not in text for o in others)
    events = [json.loads(l) for l in text.splitlines() if '"type":"event"' in l]
    assert events and all(e["subject_id"] == pid for e in events)
    v = json.loads(log.run("--json", "audit", "verify-export", out, db=False).stdout)
    assert v["ok"] and v["links"] > 0


def test_prune_keeps_held_rows_and_still_verifies(log, tmp_path):
    c = sqlite3.connect(log.db)
    c.execute("UPDATE person SET legal_hold_until = '2999-12-31' WHERE number = 2")
    c.commit()
    held = log.sql("SELECT id FROM person WHERE number = 2")[0][0]
    before_held = log.sql("SELECT count(*) FROM main.audit_event WHERE subject_id = ?", held)[0][0]
    total = log.sql("SELECT count(*) FROM main.audit_event")[0][0]
    reads_held = log.sql("SELECT count(*) FROM audit_event WHERE log = 'reads' AND subject_id = ?", held)[0][0]
    reads = log.sql("SELECT count(*) FROM audit_event WHERE log = 'reads'")[0][0]
    assert reads_held >= 1 and reads > reads_held
    r = log.json("audit", "prune", "--before", "2999-01-01", "--as-of", "2999-01-01")
    assert r["cut_seq"] == total and r["deleted"] == total - before_held
    # The read log is cut at the same time, keeping the held person's reads.
    assert r["read_cut_seq"] == reads and r["read_deleted"] == reads - reads_held
    assert log.sql("SELECT count(*) FROM main.audit_event WHERE seq <= ?", total)[0][0] == before_held
    assert log.sql("SELECT count(*) FROM audit_event WHERE log = 'reads'")[0][0] == reads_held
    assert log.sql("SELECT count(*) FROM audit_checkpoint WHERE kind = 'cut'")[0][0] == 2
    rc, v = verify(log)
    assert rc == 0 and v["ok"] and v["kept"] == before_held and v["cut_seq"] == total
    assert v["reads"]["kept"] == reads_held and v["reads"]["cut_seq"] == reads
    # The chain continues after the cut.
    log.run("person", "show", "number:1")
    rc, v = verify(log)
    assert rc == 0 and v["ok"]
    # The held person's report still shows the old events.
    rows = log.json("audit", "subject", "number:2")
    assert any(x["action"] == "person.enrol" for x in rows)
    # Export across the cut verifies offline.
    out = tmp_path / "held.jsonl"
    log.run("audit", "export", "--person", "number:2", "--out", out)
    v = json.loads(log.run("--json", "audit", "verify-export", out, db=False).stdout)
    assert v["ok"], v
    # A second cut keeps the held rows again.
    log.json("audit", "prune", "--before", "2999-01-01", "--as-of", "2999-01-01")
    rc, v = verify(log)
    assert rc == 0 and v["kept"] >= before_held
    # Tampering with a kept row is found.
    c = con(log)
    seq = c.execute("SELECT min(seq) FROM audit_event").fetchone()[0]
    c.execute("UPDATE audit_event SET attrs = 'x' WHERE seq = ?", (seq,))
    c.commit()
    rc, v = verify(log)
    assert rc == 1 and v["bad_seq"] == seq
    # Pruning refuses a broken chain.
    p = log.run("audit", "prune", "--before", "2999-01-01", "--as-of", "2999-01-01", check=False)
    assert p.returncode == 7


def test_prune_in_chunks_keeps_held_rows(tunnus):
    # The retention cut deletes events and subject-index entries in chunks
    # of 8,192 (its statement journals stay small); with 9,000 imported
    # persons both walks take more than one chunk, and held persons at the
    # start, middle and end keep their events and index entries.
    n = 9000
    f = tunnus.dir / "hr.csv"
    with open(f, "w", encoding="utf-8") as out:
        out.write("source_key,given_names,family_name,org_unit,valid_from\n")
        for i in range(n):
            family = "".join(chr(97 + i // 26 ** k % 26) for k in range(3))
            out.write(f"E{i},Aino,Test{family},City/IT,2020-01-01\n")
    s = tunnus.json("--as-of", "2026-11-01", "import", "--source", "hr", "--kind", "staff", f)
    assert s["created"] == n
    c = sqlite3.connect(tunnus.db)
    c.execute("UPDATE person SET legal_hold_until = '2999-12-31' WHERE number IN (1, 4500, ?)", (n,))
    c.commit()
    held = {r[0] for r in c.execute("SELECT id FROM person WHERE legal_hold_until IS NOT NULL")}
    assert len(held) == 3
    tunnus.run("audit", "index")
    total = tunnus.sql("SELECT count(*) FROM main.audit_event")[0][0]
    # Index entries written by hand with BLOB keys, after the cut: the walk
    # keeps its cursor as the stored value, so it passes them and ends.
    c.executemany("INSERT INTO audit_subject (subject_id, seq) VALUES (?, ?)",
                  [(b"abc", total + 10 + i) for i in range(9000)])
    c.commit()
    held_events = tunnus.sql("SELECT count(*) FROM main.audit_event WHERE subject_id IN "
                             "(SELECT id FROM person WHERE legal_hold_until IS NOT NULL)")[0][0]
    assert total >= n and held_events >= 3
    assert tunnus.sql("SELECT count(*) FROM audit_subject")[0][0] >= n
    r = tunnus.json("audit", "prune", "--before", "2999-01-01", "--as-of", "2999-01-01")
    assert r["cut_seq"] == total and r["deleted"] == total - held_events
    assert tunnus.sql("SELECT count(*) FROM main.audit_event WHERE seq <= ?", total)[0][0] == held_events
    # The index keeps exactly the held events' entries.
    kept = tunnus.sql("SELECT subject_id, seq FROM audit_subject WHERE seq <= ?", total)
    assert {x[0] for x in kept} == held and len(kept) == held_events
    assert tunnus.sql("SELECT count(*) FROM audit_subject WHERE seq > ?", total)[0][0] == 9000
    c.execute("DELETE FROM audit_subject WHERE seq > ?", (total,))
    c.commit()
    assert tunnus.sql("SELECT count(*) FROM audit_subject s WHERE NOT EXISTS "
                      "(SELECT 1 FROM main.audit_event e WHERE e.seq = s.seq)")[0][0] == 0
    rc, v = verify(tunnus)
    assert rc == 0 and v["ok"] and v["kept"] == held_events and v["cut_seq"] == total
    for number in (1, 4500, n):
        rows = tunnus.json("audit", "subject", f"number:{number}", "--as-of", "2999-01-01")
        assert any(x["action"] == "person.import" for x in rows)


def test_prune_refuses_the_future_and_delete_stays_guarded(log):
    assert log.run("audit", "prune", "--before", "2999-01-01", check=False).returncode == 3
    c = sqlite3.connect(log.db)
    with pytest.raises(sqlite3.DatabaseError):
        c.execute("DELETE FROM audit_event WHERE seq = 1")


def test_unpruned_row_before_cut_is_found(log):
    c = sqlite3.connect(log.db)
    c.execute("UPDATE person SET legal_hold_until = '2999-12-31' WHERE number = 2")
    c.commit()
    log.run("audit", "prune", "--before", "2999-01-01", "--as-of", "2999-01-01")
    c = con(log)
    # Re-insert a pruned event (any content) below the cut.
    seq = c.execute("SELECT seq FROM audit_checkpoint WHERE kind='cut'").fetchone()[0]
    kept = {r[0] for r in c.execute("SELECT seq FROM audit_event")}
    victim = next(s for s in range(1, seq + 1) if s not in kept)
    c.execute("INSERT INTO audit_event (seq, time_us, actor_kind, actor_id, channel, action, "
              "result, hash) VALUES (?, 1, 'admin', 'x', 'cli', 'person.read', 'allowed', "
              "zeroblob(32))", (victim,))
    c.commit()
    rc, v = verify(log)
    assert rc == 1 and v["bad_seq"] == victim
