"""The read log's tail file (<registry>.reads.tail, docs/audit.md): a
server appends each answer's read events there before the answer leaves
and its ingester moves them into the read log's tables. A read that was
answered is on record after the server is killed; an edit in the tail
file is found by verify at its event; a running server empties the file."""
import json
import signal
import struct
import time

from test_ldap import Server, registry

SEARCHES = 12


def read_events(t):
    return t.sql("SELECT count(*) FROM audit_event WHERE action = 'dir.read' AND log = 'reads'")[0][0]


def search_maija(srv):
    p = srv.search("-b", "ou=people,dc=example,dc=fi", "(uid=maija)", "cn")
    assert p.returncode == 0 and "dn: uid=maija" in p.stdout, p.stderr
    return p


def kill_with_tail(tunnus):
    """Answer SEARCHES searches, then kill the server at once. Retried in
    the rare case its ingester emptied the tail file in between, so that
    the file holds the reads the crash left behind."""
    for _ in range(5):
        srv = Server(tunnus)
        for _ in range(SEARCHES):
            search_maija(srv)
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait(timeout=10)
        if tunnus.reads_tail.exists() and tunnus.reads_tail.stat().st_size > 0:
            return
    raise AssertionError("the ingester always emptied the tail file before the kill")


def frames(data):
    """(offset, seq, length) of each frame in the tail file. A killed
    server's file may end in zeros: the room its appends had allocated
    ahead (docs/audit.md, "Leased appends")."""
    out, off = [], 0
    while off + 8 <= len(data) and data[off:].strip(b"\0"):
        assert data[off:off + 4] == b"TNJ1"
        n = struct.unpack(">I", data[off + 4:off + 8])[0]
        seq = struct.unpack(">Q", data[off + 8 + n:off + 16 + n])[0]
        out.append((off, seq, 8 + n + 48))
        off += 8 + n + 48
    assert off == len(data) or not data[off:].strip(b"\0")
    return out


def test_answered_reads_survive_a_crash(tunnus):
    registry(tunnus)
    before = read_events(tunnus)
    kill_with_tail(tunnus)
    # No server: the tail file holds what the crash left; a command moves
    # it (verify checks each link as it moves) and the chain verifies.
    p = tunnus.run("--json", "audit", "verify", check=False)
    v = json.loads(p.stdout)
    assert p.returncode == 0 and v["ok"], v
    assert tunnus.reads_tail.stat().st_size == 0
    # Every answered search left its entry's read event (the retries of
    # kill_with_tail included: each of their searches was answered too).
    got = read_events(tunnus) - before
    assert got >= SEARCHES and got % SEARCHES == 0


def test_edit_in_the_tail_file_is_found(tunnus):
    registry(tunnus)
    kill_with_tail(tunnus)
    data = bytearray(tunnus.reads_tail.read_bytes())
    fr = frames(bytes(data))
    assert fr  # the reads answered after the ingester's last round
    off, seq, length = fr[len(fr) // 2]
    # An attacker moves the read in time: the last byte of its time_us
    # (after the frame head, the 22-byte tag and the 8-byte seq).
    at = off + 8 + 22 + 8 + 7
    data[at] ^= 1
    tunnus.reads_tail.write_bytes(bytes(data))
    p = tunnus.run("--json", "audit", "verify", check=False)
    v = json.loads(p.stdout)
    assert p.returncode == 1 and v["ok"] is False
    assert v["bad_log"] == "reads" and v["bad_seq"] == seq, v
    assert "tail file" in v["reason"]
    # The evidence stays in place, and reports that need the whole log
    # refuse rather than show an incomplete one.
    assert tunnus.reads_tail.stat().st_size == len(data)
    p = tunnus.run("audit", "subject", "username:maija", check=False)
    assert p.returncode != 0 and "tail file" in p.stderr
    # The documented way on (docs/audit.md): the file moves aside as
    # evidence; the next read starts a new one from the read log's head.
    tunnus.reads_tail.rename(tunnus.dir / "evidence.tail")
    tunnus.run("person", "show", "username:maija")
    p = tunnus.run("--json", "audit", "verify", check=False)
    v = json.loads(p.stdout)
    assert p.returncode == 0 and v["ok"], v
    # The chain goes on from the read log's head: the broken event's
    # number and those after it are used again by the new reads.
    assert seq <= v["reads"]["last_seq"] < seq + 5


def test_running_server_empties_the_tail_file(tunnus):
    registry(tunnus)
    srv = Server(tunnus)
    try:
        before = read_events(tunnus)
        for _ in range(SEARCHES):
            search_maija(srv)
        deadline = time.monotonic() + 10
        while tunnus.reads_tail.stat().st_size > 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        # Emptied by the server's ingester, not by a command (none ran).
        assert tunnus.reads_tail.stat().st_size == 0
        assert read_events(tunnus) - before == SEARCHES
    finally:
        srv.stop()
