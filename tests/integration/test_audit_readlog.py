"""The read log (<registry>.reads): read events are chained and signed in a
file of their own; verify finds tampering there and names the log, the
person's report merges both logs, and a missing or swapped read log stops
reads instead of losing their events."""
import json
import shutil
import sqlite3

import pytest

import readlog
from conftest import hetu


def rcon(t):
    c = sqlite3.connect(t.reads)
    # An attacker with file access removes the guards first.
    c.execute("DROP TRIGGER IF EXISTS audit_block_no_update")
    c.execute("DROP TRIGGER IF EXISTS audit_block_no_delete")
    return c


def tamper(t, change):
    """Rewrite the read log's events as change(events) returns them (the
    events decoded from their blocks, each with its stored hash)."""
    c = rcon(t)
    evs = readlog.events(c)
    readlog.rewrite(c, change(evs))
    c.commit()
    c.close()


def at(evs, seq):
    return next(i for i, ev in enumerate(evs) if ev["seq"] == seq)


def verify(t):
    p = t.run("--json", "audit", "verify", check=False)
    return p.returncode, json.loads(p.stdout)


@pytest.fixture
def log(tunnus):
    for i, given in enumerate(["Anna", "Bertta"]):
        tunnus.run("person", "add", "--given", given, "--family", "Virtanen", "--national-id", "-",
                   "--kind", "staff", "--from", "2024-01-01", "--account",
                   input=hetu("010190", "-", 100 + i) + "\n")
    for _ in range(5):
        tunnus.run("person", "show", "number:1")
        tunnus.run("person", "show", "number:2")
    return tunnus


def test_reads_are_in_the_read_log_not_the_registry(log):
    assert log.reads.exists()
    reg = log.sql("SELECT count(*) FROM main.audit_event WHERE action = 'person.read'")[0][0]
    rl = log.sql("SELECT count(*) FROM audit_event WHERE log = 'reads' AND action = 'person.read'")[0][0]
    assert reg == 0 and rl >= 10
    # Writes stay with the change they record.
    assert log.sql("SELECT count(*) FROM audit_event WHERE log = 'reads' AND action = 'person.enrol'")[0][0] == 0
    rc, v = verify(log)
    assert rc == 0 and v["ok"] and v["reads"]["events"] >= 10


def test_read_log_edit_is_found(log):
    def edit(evs):
        evs[at(evs, 5)]["actor_id"] = "os:mallory"
        return evs
    tamper(log, edit)
    rc, v = verify(log)
    assert rc == 1 and v["ok"] is False and v["bad_log"] == "reads" and v["bad_seq"] == 5


def test_read_log_delete_is_found(log):
    tamper(log, lambda evs: [ev for ev in evs if ev["seq"] != 4])
    rc, v = verify(log)
    assert rc == 1 and v["bad_log"] == "reads" and v["bad_seq"] == 4
    assert "missing" in v["reason"]


def test_read_log_insert_is_found(log):
    def insert(evs):
        i = at(evs, 2)
        forged = dict(evs[i], action="person.read")
        for ev in evs[i + 1:]:
            ev["seq"] += 1
        forged["seq"] = 3
        return evs[:i + 1] + [forged] + evs[i + 1:]
    tamper(log, insert)
    rc, v = verify(log)
    assert rc == 1 and v["bad_log"] == "reads" and v["bad_seq"] == 3


def test_read_log_reorder_is_found(log):
    def swap(evs):
        i = at(evs, 6)
        evs[i]["seq"], evs[i + 1]["seq"] = 7, 6
        evs[i], evs[i + 1] = evs[i + 1], evs[i]
        return evs
    tamper(log, swap)
    rc, v = verify(log)
    assert rc == 1 and v["bad_log"] == "reads" and v["bad_seq"] == 6


def test_read_log_truncation_after_checkpoint_is_found(log):
    log.run("audit", "checkpoint")
    c = rcon(log)
    n = readlog.events(c)[-1]["seq"]
    c.close()
    tamper(log, lambda evs: [ev for ev in evs if ev["seq"] < n - 1])
    rc, v = verify(log)
    assert rc == 1 and v["bad_log"] == "reads" and v["bad_seq"] == n


def test_damaged_block_is_found_at_its_event(log):
    """Bytes of a block that are no longer an event (a length overwritten)
    are reported at the event they held, and the export refuses to run."""
    # Each command's read came in a block of its own: four to a block.
    tamper(log, lambda evs: evs)
    assert verify(log)[0] == 0
    c = rcon(log)
    seq, first, stored = c.execute("SELECT seq, first, events FROM audit_block "
                                   "ORDER BY seq LIMIT 1").fetchone()
    blob = readlog.unpack(stored)
    ents = list(readlog.entries(blob))
    assert len(ents) >= 3
    # The third entry's length now runs past the block.
    off = sum(4 + len(enc) + 32 for enc, _ in ents[:2])
    bad = blob[:off] + b"\xff\xff\xff\x00" + blob[off + 4:]
    c.execute("UPDATE audit_block SET events = ? WHERE seq = ?", (readlog.pack(bad), seq))
    c.commit()
    c.close()
    rc, v = verify(log)
    assert rc == 1 and v["bad_log"] == "reads" and v["bad_seq"] == first + 2
    assert "damaged" in v["reason"]
    p = log.run("audit", "export", "--out", log.dir / "x.jsonl", check=False)
    assert p.returncode != 0 and "damaged" in p.stderr


def test_block_that_does_not_unpack_is_found_at_its_first_event(log):
    tamper(log, lambda evs: evs)  # four events to a block
    c = rcon(log)
    seq, first, stored = c.execute("SELECT seq, first, events FROM audit_block "
                                   "ORDER BY seq LIMIT 1 OFFSET 1").fetchone()
    c.execute("UPDATE audit_block SET events = ? WHERE seq = ?",
              (stored[:len(stored) // 2], seq))
    c.commit()
    c.close()
    rc, v = verify(log)
    assert rc == 1 and v["bad_log"] == "reads" and v["bad_seq"] == first
    assert "damaged" in v["reason"]


def test_read_log_checkpoint_forgery_fails_the_signature(log):
    log.run("audit", "checkpoint")
    c = rcon(log)
    assert c.execute("SELECT count(*) FROM audit_checkpoint").fetchone()[0] >= 1
    c.execute("UPDATE audit_checkpoint SET hash = zeroblob(32)")
    c.commit()
    rc, v = verify(log)
    assert rc == 1 and v["bad_log"] == "reads" and "signature" in v["reason"]


def test_registry_break_is_named_first(log):
    """With both logs broken, verify names the registry's break and still
    counts the read log."""
    c = sqlite3.connect(log.db)
    c.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
    c.execute("UPDATE audit_event SET actor_id = 'os:mallory' WHERE seq = 2")
    c.commit()

    def edit(evs):
        evs[at(evs, 3)]["actor_id"] = "os:mallory"
        return evs
    tamper(log, edit)
    rc, v = verify(log)
    assert rc == 1 and v["bad_log"] == "registry" and v["bad_seq"] == 2


def test_missing_read_log_stops_reads_and_fails_verify(log):
    for suffix in ("", "-wal", "-shm"):
        p = log.reads.parent / (log.reads.name + suffix)
        if p.exists():
            p.unlink()
    p = log.run("person", "show", "number:1", check=False)
    assert p.returncode != 0 and "read log" in p.stderr
    assert not log.reads.exists()
    rc, v = verify(log)
    assert rc == 1 and v["bad_log"] == "reads" and "missing" in v["reason"]


def test_read_log_of_another_registry_is_refused(log):
    other = log.dir / "other"
    other.mkdir()
    # A fresh registry in another directory: its read log has another id.
    log.run("--db", other / "r.db", "init", db=False)
    log.run("--db", other / "r.db", "person", "list", db=False)
    shutil.copy(other / "r.db.reads", log.reads)
    for suffix in ("-wal", "-shm"):
        p = log.reads.parent / (log.reads.name + suffix)
        if p.exists():
            p.unlink()
    p = log.run("person", "show", "number:1", check=False)
    assert p.returncode != 0 and "another registry" in p.stderr
    rc, v = verify(log)
    assert rc == 1 and v["bad_log"] == "reads"


def test_subject_report_merges_both_logs_in_time_order(log):
    pid = log.sql("SELECT id FROM person WHERE number = 2")[0][0]
    log.run("person", "update", "number:2", "--phone", "+358402222222")
    log.run("person", "show", "number:2")
    rows = log.json("audit", "subject", "number:2")
    logs = {r["log"] for r in rows}
    assert logs == {"registry", "reads"}
    # Every event of this person in either log, and nothing else.
    n = log.sql("SELECT count(*) FROM audit_event WHERE subject_id = ?", pid)[0][0]
    assert len(rows) == n - 1  # the report's own read is recorded after it
    assert all(r["channel"] == "cli" for r in rows)
    times = [r["time"] for r in rows]
    assert times == sorted(times)
    actions = [r["action"] for r in rows]
    # Enrolment (registry), five shows, the update (registry), one more show.
    assert actions[0] == "person.enrol"
    assert actions.count("person.read") >= 6
    i = actions.index("person.update")
    assert "person.read" in actions[1:i] and "person.read" in actions[i + 1:]
    # The report itself went to the read log.
    assert log.sql("SELECT count(*) FROM audit_event WHERE log = 'reads' AND subject_id = ? "
                   "AND action = 'audit.subject'", pid)[0][0] == 1


def test_export_carries_both_logs_and_verifies(log, tmp_path):
    out = tmp_path / "all.jsonl"
    log.run("audit", "export", "--person", "number:2", "--out", out)
    lines = [json.loads(ln) for ln in out.read_text().splitlines()]
    assert lines[0]["type"] == "header" and lines[0]["logs"] == ["registry", "reads"]
    sections = [o["log"] for o in lines if o["type"] == "log"]
    assert sections == ["registry", "reads"]
    cut = [i for i, o in enumerate(lines) if o["type"] == "log"][1]
    reads = [o for o in lines[cut:] if o["type"] == "event"]
    assert len([o for o in reads if o["action"] == "person.read"]) >= 5
    v = json.loads(log.run("--json", "audit", "verify-export", out, db=False).stdout)
    assert v["ok"] is True and v["reads"]["events"] == len(reads)
    assert v["reads"]["signed_seq"] >= 10

    def check(name, objs):
        p = tmp_path / name
        p.write_text("\n".join(json.dumps(o) for o in objs) + "\n")
        r = log.run("--json", "audit", "verify-export", p, db=False, check=False)
        return r.returncode, json.loads(r.stdout)

    # An altered read event.
    bad = [dict(o) for o in lines]
    i = next(i for i in range(cut, len(bad)) if bad[i]["type"] == "event")
    bad[i]["actor_id"] = "os:mallory"
    rc, v = check("bad.jsonl", bad)
    assert rc == 1 and v["bad_log"] == "reads" and v["bad_seq"] == bad[i]["seq"]
    # A dropped read event.
    rc, v = check("gap.jsonl", lines[:i] + lines[i + 1:])
    assert rc == 1 and v["bad_log"] == "reads"
    # The whole read section dropped.
    rc, v = check("noreads.jsonl", lines[:cut])
    assert rc == 1 and "reads section is missing" in v["reason"]


def test_export_format_1_still_verifies(log, tmp_path):
    """An export of format 1 (one chain, no sections) from before the read
    log is still verified: the registry section of a new export, as v1."""
    out = tmp_path / "all.jsonl"
    log.run("audit", "export", "--out", out)
    lines = [json.loads(ln) for ln in out.read_text().splitlines()]
    cut = [i for i, o in enumerate(lines) if o["type"] == "log"][1]
    head = dict(lines[0], format="tunnus-audit-export-1")
    del head["logs"]
    v1 = [head] + [o for o in lines[1:cut] if o["type"] != "log"]
    p = tmp_path / "v1.jsonl"
    p.write_text("\n".join(json.dumps(o) for o in v1) + "\n")
    v = json.loads(log.run("--json", "audit", "verify-export", p, db=False).stdout)
    assert v["ok"] is True and v["events"] >= 1 and "reads" not in v
    # A section line has no place in format 1.
    p.write_text("\n".join(json.dumps(o) for o in [head] + lines[1:cut]) + "\n")
    r = log.run("--json", "audit", "verify-export", p, db=False, check=False)
    assert r.returncode == 1
