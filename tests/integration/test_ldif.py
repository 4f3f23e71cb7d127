"""tunnus import --format ldif: an OpenLDAP export (generated here, 50
entries with {SSHA} passwords) through the shipped example mapping, then a
bind with ldapwhoami as a migrated user with the original password; an
unchanged re-import writes no audit; a username clash and a record without
its key are reported with the record's first line."""
import base64
import hashlib
import json
import subprocess
from pathlib import Path

from test_ldap import BASE, Server

ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "examples" / "feeds" / "ldif" / "mapping.json"
GIVEN = ["Aino", "Eero", "Helmi", "Ilmari", "Kerttu", "Lauri", "Mervi", "Olli", "Päivi", "Väinö"]
FAMILY = ["Aalto", "Björklund", "Heikkilä", "Järvinen", "Koskinen", "Lähteenmäki", "Mäkelä",
          "Nyström", "Öhman", "Saarinen"]


def ssha(pw, salt):
    return "{SSHA}" + base64.b64encode(hashlib.sha1(pw.encode() + salt).digest() + salt).decode()


def attr(name, value):
    """An LDIF line: base64 when RFC 2849 requires it, folded at 76."""
    raw = value.encode() if isinstance(value, str) else value
    safe = raw.isascii() and not raw.startswith((b" ", b":", b"<")) and b"\n" not in raw
    line = f"{name}: {raw.decode()}" if safe else f"{name}:: {base64.b64encode(raw).decode()}"
    out = [line[:76]]
    rest = line[76:]
    while rest:
        out.append(" " + rest[:75])
        rest = rest[75:]
    return out


def password(i):
    return f"Vanha-Sala-{i:03d}!"


def write_export(path, n=50, extra=()):
    """n entries, uid user000.., employeeNumber 5000..; returns the first
    line of each record by employee number."""
    lines = ["# OpenLDAP export, ou=people,dc=example,dc=fi", "version: 1", ""]
    starts = {}
    for i in range(n):
        g, f = GIVEN[i % 10], FAMILY[(i // 10) % 10]
        uid = f"user{i:03d}"
        starts[str(5000 + i)] = len(lines) + 1
        lines += attr("dn", f"uid={uid},ou=people,dc=example,dc=fi")
        lines += ["objectClass: top", "objectClass: inetOrgPerson"]
        lines += attr("uid", uid)
        lines += attr("cn", f"{g} {f}")
        lines += attr("givenName", g)
        lines += attr("sn", f)
        lines += attr("mail", f"{uid}@Example.FI")
        if i % 7 == 0:  # several values: the first is kept
            lines += attr("mail", f"{uid}.alias@example.fi")
        if i % 5 == 0:  # binary and unmapped: skipped unchecked
            lines += attr("jpegPhoto", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\xff")
        lines += attr("telephoneNumber", f"+35840{i:07d}")
        lines += attr("employeeNumber", str(5000 + i))
        # userPassword is always base64 in OpenLDAP's exports
        lines.append("userPassword:: " + base64.b64encode(
            ssha(password(i), b"salt%04d" % i).encode()).decode())
        lines.append("")
    for rec in extra:
        lines += rec + [""]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return starts


def ldif_import(t, f, *more):
    p = t.run("--json", "import", "--source", "olddir", "--kind", "staff", "--format", "ldif",
              "--mapping", MAPPING, *more, f, check=False)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout), p.stderr


def audit_count(t):
    return t.sql("SELECT COUNT(*) FROM audit_event")[0][0]


def whoami(srv, uid, pw):
    return subprocess.run(["ldapwhoami", "-x", "-H", srv.url, "-D",
                           f"uid={uid},ou=people,{BASE}", "-w", pw],
                          capture_output=True, text=True, timeout=30)


def test_ldif_migration_bind(tunnus):
    f = tunnus.dir / "export.ldif"
    write_export(f)
    s, err = ldif_import(tunnus, f)
    assert (s["rows"], s["created"], s["rejected"], s["warnings"]) == (50, 50, 0, 0), err
    assert tunnus.sql("SELECT COUNT(*) FROM account WHERE password_hash LIKE '{SSHA}%'")[0][0] == 50
    row = tunnus.sql("SELECT p.given_names, p.family_name, p.email FROM person p "
                     "JOIN account a ON a.person_num = p.number WHERE a.username = 'user038'")
    assert row == [("Päivi", "Järvinen", "user038@example.fi")]
    # the first of several mail values
    assert tunnus.sql("SELECT p.email FROM person p JOIN account a ON a.person_num = p.number "
                      "WHERE a.username = 'user007'") == [("user007@example.fi",)]

    before = audit_count(tunnus)
    again, _ = ldif_import(tunnus, f)
    assert again["unchanged"] == 50 and again["created"] == 0 and again["updated"] == 0
    assert audit_count(tunnus) == before
    full, _ = ldif_import(tunnus, f, "--full")
    assert full["unchanged"] == 50 and full["ended"] == 0
    assert audit_count(tunnus) == before

    srv = Server(tunnus)
    try:
        assert whoami(srv, "user012", "wrong").returncode != 0
        ok = whoami(srv, "user012", password(12))
        assert ok.returncode == 0, ok.stderr
        assert "uid=user012" in ok.stdout
        h = tunnus.sql("SELECT password_hash FROM account WHERE username = 'user012'")[0][0]
        assert h.startswith("$argon2id$")
        ok = whoami(srv, "user049", password(49))
        assert ok.returncode == 0, ok.stderr
    finally:
        srv.stop()


def test_ldif_clash_and_bad_records(tunnus):
    f = tunnus.dir / "export.ldif"
    clash = ["dn: uid=user003,ou=staff,dc=example,dc=fi", "uid: user003", "givenName: Toinen",
             "sn: Henkilö", "employeeNumber: 7001"]
    nokey = ["dn: uid=nokey,ou=people,dc=example,dc=fi", "uid: nokey", "givenName: Ei",
             "sn: Avainta"]
    badutf = ["dn: uid=bad,ou=people,dc=example,dc=fi", "uid: bad",
              "givenName:: " + base64.b64encode(b"Ma\xe4tti").decode(), "sn: X",
              "employeeNumber: 7002"]
    write_export(f, n=10, extra=[clash, nokey, badutf])
    text = f.read_text(encoding="utf-8").split("\n")
    clash_line = text.index(clash[0]) + 1
    nokey_line = text.index(nokey[0]) + 1
    bad_line = text.index(badutf[0]) + 1
    report = tunnus.dir / "report.json"
    s, err = ldif_import(tunnus, f, "--report", report)
    assert s["created"] == 11 and s["rejected"] == 2 and s["warnings"] == 1, err
    issues = json.loads(report.read_text())["issues"]
    where = {(i["what"], i["line"], i["column"]) for i in issues}
    assert ("warning", clash_line, "username") in where
    assert ("rejected", nokey_line, "source_key") in where
    assert ("rejected", bad_line, "givenname") in where
    assert f"line {bad_line + 2}: the value is not valid UTF-8" in err
    # user003 stays with its first owner
    owner = tunnus.sql("SELECT p.given_names FROM person p JOIN account a "
                       "ON a.person_num = p.number WHERE a.username = 'user003'")
    assert owner == [(GIVEN[3],)]
    # Re-import: nothing changes, the clash is reported again
    before = audit_count(tunnus)
    again, err = ldif_import(tunnus, f)
    assert again["created"] == 0 and again["updated"] == 0 and again["rejected"] == 2
    assert "reserved for another person" in err
    assert audit_count(tunnus) == before


def test_ldif_example(tunnus):
    ex = ROOT / "examples" / "feeds" / "ldif" / "export.ldif"
    s, err = ldif_import(tunnus, ex)
    assert s["created"] == 3 and s["rejected"] == 0, err
    assert tunnus.sql("SELECT family_name FROM person ORDER BY family_name") == [
        ("Korhonen",), ("Virtanen",), ("Äholä",)]
    srv = Server(tunnus)
    try:
        ok = whoami(srv, "mvirtanen", "Kesäkuu2026!")
        assert ok.returncode == 0, ok.stderr
    finally:
        srv.stop()


def test_ldif_needs_format_and_refuses_bad_version(tunnus):
    f = tunnus.dir / "v2.ldif"
    f.write_text("version: 2\n\ndn: uid=a\nemployeeNumber: 1\n")
    p = tunnus.run("import", "--source", "olddir", "--kind", "staff", "--format", "ldif",
                   "--mapping", MAPPING, f, check=False)
    assert p.returncode != 0 and "line 1: only LDIF version 1" in p.stderr
    p = tunnus.run("import", "--source", "olddir", "--kind", "staff", "--format", "xml", f,
                   check=False)
    assert p.returncode != 0 and "csv, json or ldif" in p.stderr
    assert tunnus.sql("SELECT COUNT(*) FROM person")[0][0] == 0
