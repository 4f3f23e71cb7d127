"""The read log's blocks (docs/audit.md, "The read log"), for tests that
read or tamper with read events directly: decode a block into events and
write events back as blocks (each stored compressed with zstd)."""
import struct

import zstandard

TAG = b"tunnus.audit.event.v1\x00"
FIELDS = ("actor_kind", "actor_id", "channel", "action", "subject_id", "attrs", "changes",
          "result", "request_id", "source", "detail")
OPTIONAL = ("subject_id", "changes", "detail")
COLUMNS = ("seq", "time_us") + FIELDS + ("hash",)


def decode(enc):
    """One canonical encoding -> dict of the audit_event columns (no hash)."""
    assert enc.startswith(TAG), "not an event encoding"
    off = len(TAG)
    seq, time_us = struct.unpack_from(">QQ", enc, off)
    off += 16
    ev = {"seq": seq, "time_us": time_us}
    for f in FIELDS:
        (n,) = struct.unpack_from(">I", enc, off)
        off += 4
        ev[f] = enc[off:off + n].decode()
        off += n
        if not ev[f] and f in OPTIONAL:
            ev[f] = None
    assert off == len(enc), "bytes after the last field"
    return ev


def encode(ev):
    out = TAG + struct.pack(">QQ", ev["seq"], ev["time_us"])
    for f in FIELDS:
        v = (ev[f] or "").encode()
        out += struct.pack(">I", len(v)) + v
    return out


def unpack(stored):
    return zstandard.ZstdDecompressor().decompress(stored)


def pack(blob):
    return zstandard.ZstdCompressor(level=1).compress(blob)


def entries(blob):
    """(encoding, hash) of each entry of an unpacked block."""
    off = 0
    while off < len(blob):
        (n,) = struct.unpack_from(">I", blob, off)
        yield blob[off + 4:off + 4 + n], blob[off + 4 + n:off + 4 + n + 32]
        off += 4 + n + 32


def events(con, schema="main"):
    """Every event of the read log open on con, in stored order, each with
    its stored hash."""
    out = []
    for (stored,) in con.execute(f"SELECT events FROM {schema}.audit_block ORDER BY seq"):
        for enc, h in entries(unpack(stored)):
            ev = decode(enc)
            ev["hash"] = h
            out.append(ev)
    return out


def rewrite(con, evs, per_block=4):
    """Replace the read log's blocks by evs, in this order, each encoded as
    it now reads and with the hash it carries (tampering made easy; the
    append-only triggers must be dropped first)."""
    con.execute("DELETE FROM audit_block")
    for i in range(0, len(evs), per_block):
        chunk = evs[i:i + per_block]
        blob = b"".join(struct.pack(">I", len(enc)) + enc + ev["hash"]
                        for ev in chunk for enc in [encode(ev)])
        con.execute("INSERT INTO audit_block (seq, first, n, max_us, hash, events) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (max(ev["seq"] for ev in chunk), chunk[0]["seq"], len(chunk),
                     max(ev["time_us"] for ev in chunk), chunk[-1]["hash"], pack(blob)))
