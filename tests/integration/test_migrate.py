"""Re-import fingerprints and migration from an existing directory: kept
usernames and password hashes ({SSHA}, {CRYPT}), bind with ldapwhoami
through `tunnus serve`, and the rehash to argon2id at that bind."""
import base64
import hashlib
import subprocess

from conftest import hetu
from test_ldap import BASE, Server

HEADER = ("source_key,national_id,given_names,family_name,email,org_unit,valid_from,valid_to,"
          "username,password_hash\n")


def ssha(pw, salt=b"suola123"):
    return "{SSHA}" + base64.b64encode(hashlib.sha1(pw.encode() + salt).digest() + salt).decode()


def crypt6(pw):
    out = subprocess.run(["openssl", "passwd", "-6", "-salt", "abcdefgh", pw],
                         capture_output=True, text=True, check=True).stdout.strip()
    return "{CRYPT}" + out


def audit_count(t):
    return t.sql("SELECT COUNT(*) FROM audit_event")[0][0]


def test_unchanged_reimport_skips_by_fingerprint(tunnus):
    names = ["Aalto", "Berg", "Castren", "Dahl", "Eklund", "Forss", "Grahn", "Hiltunen", "Ilves",
             "Jokela", "Kallio", "Laine", "Mattila", "Nieminen", "Ojala", "Peltonen", "Rinne",
             "Saari", "Toivonen", "Virtanen"]
    rows = "".join(f"k{i},{hetu('010180', '-', 100 + i)},Anna,{n},,kaupunki/hr,2020-01-01,,,\n"
                   for i, n in enumerate(names))
    f = tunnus.dir / "hr.csv"
    f.write_text(HEADER + rows)
    first = tunnus.json("import", "--source", "hr", "--kind", "staff", f)
    assert first["created"] == 20
    assert tunnus.sql("SELECT COUNT(*) FROM import_fp WHERE source = 'hr'")[0][0] == 20
    fps = tunnus.sql("SELECT fp FROM import_fp")
    assert all(len(fp) == 32 for (fp,) in fps)
    before = audit_count(tunnus)
    again = tunnus.json("import", "--source", "hr", "--kind", "staff", f)
    assert again["unchanged"] == 20 and again["updated"] == 0
    assert audit_count(tunnus) == before
    # A change by another path forgets the person's fingerprint, and the
    # next import brings the registry back to what the source says.
    num = tunnus.sql("SELECT number FROM person WHERE family_name = 'Dahl'")[0][0]
    tunnus.run("person", "update", f"number:{num}", "--family", "Muutettu")
    assert tunnus.sql("SELECT COUNT(*) FROM import_fp")[0][0] == 19
    third = tunnus.json("import", "--source", "hr", "--kind", "staff", f)
    assert third["updated"] == 1 and third["unchanged"] == 19
    assert tunnus.sql("SELECT COUNT(*) FROM person WHERE family_name = 'Muutettu'")[0][0] == 0
    # A changed row takes the full path.
    f.write_text(HEADER + rows.replace("Grahn", "Granholm"))
    fourth = tunnus.json("import", "--source", "hr", "--kind", "staff", f)
    assert fourth["updated"] == 1 and fourth["unchanged"] == 19


def test_migrated_passwords_bind_and_rehash(tunnus):
    f = tunnus.dir / "dir.csv"
    f.write_text(HEADER +
                 f"e1,{hetu('020290', '-', 201)},Maija,Mäki,,kaupunki/it,2020-01-01,,mmaki,"
                 f"{ssha('Vanha-Sala1')}\n"
                 f"e2,{hetu('030390', '-', 202)},Teppo,Tuomi,,kaupunki/it,2020-01-01,,ttuomi,"
                 f"{crypt6('Vanha-Sala2')}\n"
                 # ttuomi is Teppo's: reported on the row, never taken over
                 f"e3,{hetu('040490', '-', 203)},Olli,Oja,,kaupunki/it,2020-01-01,,ttuomi,\n"
                 f"e4,{hetu('050590', '-', 204)},Aino,Ahde,,kaupunki/it,2020-01-01,,ahde,"
                 "{MD5}abc\n")
    p = tunnus.run("--json", "import", "--source", "olddir", "--kind", "staff", f)
    import json
    s = json.loads(p.stdout)
    assert s["created"] == 3 and s["rejected"] == 1
    assert "reserved for another person" in p.stderr
    owners = tunnus.sql("SELECT a.username, p.given_names FROM account a "
                        "JOIN person p ON p.number = a.person_num ORDER BY a.username")
    assert owners == [("mmaki", "Maija"), ("ttuomi", "Teppo")]
    hashes = dict(tunnus.sql("SELECT username, password_hash FROM account"))
    assert hashes["mmaki"].startswith("{SSHA}") and hashes["ttuomi"].startswith("{CRYPT}$6$")
    # The clashing row keeps no fingerprint, so it is reported again.
    again = tunnus.run("import", "--source", "olddir", "--kind", "staff", f)
    assert "reserved for another person" in again.stderr

    srv = Server(tunnus)
    try:
        for uid, pw in (("mmaki", "Vanha-Sala1"), ("ttuomi", "Vanha-Sala2")):
            bad = subprocess.run(["ldapwhoami", "-x", "-H", srv.url, "-D",
                                  f"uid={uid},ou=people,{BASE}", "-w", "wrong"],
                                 capture_output=True, text=True, timeout=30)
            assert bad.returncode != 0
            ok = subprocess.run(["ldapwhoami", "-x", "-H", srv.url, "-D",
                                 f"uid={uid},ou=people,{BASE}", "-w", pw],
                                capture_output=True, text=True, timeout=30)
            assert ok.returncode == 0, ok.stderr
            assert f"uid={uid}" in ok.stdout
        hashes = dict(tunnus.sql("SELECT username, password_hash FROM account"))
        assert all(h.startswith("$argon2id$") for h in hashes.values())
        assert tunnus.sql("SELECT COUNT(*) FROM audit_event WHERE action = 'account.rehash'")[0][0] == 2
        # The new hash still binds; a re-import never puts the old one back.
        tunnus.run("import", "--source", "olddir", "--kind", "staff", f)
        assert tunnus.sql("SELECT password_hash FROM account WHERE username = 'mmaki'")[0][0] \
            .startswith("$argon2id$")
        ok = subprocess.run(["ldapwhoami", "-x", "-H", srv.url, "-D",
                             f"uid=mmaki,ou=people,{BASE}", "-w", "Vanha-Sala1"],
                            capture_output=True, text=True, timeout=30)
        assert ok.returncode == 0, ok.stderr
    finally:
        srv.stop()
