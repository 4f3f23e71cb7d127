"""The registry core through the CLI, as an administrator uses it."""
import json
import os
import stat

from conftest import hetu

EXIT_USAGE, EXIT_INVALID, EXIT_NOTFOUND, EXIT_CONFLICT, EXIT_STATE = 2, 3, 4, 5, 7


def add_person(t, given, family, nid=None, *extra):
    args = ["person", "add", "--given", given, "--family", family, *extra]
    if nid:
        args += ["--national-id", "-"]
    return t.json(*args, input=(nid + "\n") if nid else None)


def test_init_creates_registry_and_private_key(bare):
    p = bare.run("init")
    assert "created registry" in p.stdout
    key = bare.dir / "registry.db.key"
    assert key.exists()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    again = bare.run("init", check=False)
    assert again.returncode == EXIT_CONFLICT
    assert "already exists" in again.stderr


def test_commands_refuse_missing_registry(bare):
    p = bare.run("person", "list", check=False)
    assert p.returncode != 0
    assert "tunnus init" in p.stderr


def test_key_file_readable_by_others_is_refused(tunnus):
    key = tunnus.dir / "registry.db.key"
    os.chmod(key, 0o644)
    p = tunnus.run("person", "list", check=False)
    assert p.returncode != 0
    assert "chmod 600" in p.stderr


def test_person_add_show_roundtrip(tunnus):
    nid = hetu("150385", "-", 123)
    shown = add_person(tunnus, "Aino  Maria", "Ylä-Outinen", nid, "--phone", "040 123 4567",
                       "--email", "Aino@Example.FI", "--preferred", "Maria")
    assert shown["given_names"] == "Aino Maria"          # spaces normalised
    assert shown["family_name"] == "Ylä-Outinen"
    assert shown["phone"] == "+358401234567"
    assert shown["email"] == "aino@example.fi"
    assert shown["birth_date"] == "1985-03-15"
    assert shown["gender"] == "male"                       # 123 is odd
    assert shown["state"] == "pending"
    assert shown["has_national_id"] is True
    assert shown["identity_number"] >= 1
    assert shown["accounts"] == [] and shown["affiliations"] == []
    for sel in (f"id:{shown['id']}", f"number:{shown['identity_number']}"):
        again = tunnus.json("person", "show", sel)
        assert again["id"] == shown["id"]
    # The national ID is never part of ordinary output.
    text = tunnus.run("person", "show", f"id:{shown['id']}").stdout
    assert nid not in text and nid not in json.dumps(shown)


def test_national_id_is_encrypted_at_rest(tunnus):
    nid = hetu("010203", "A", 456)
    add_person(tunnus, "Emma", "Laine", nid)
    raw = (tunnus.dir / "registry.db").read_bytes()
    for f in tunnus.dir.iterdir():
        assert nid.encode() not in f.read_bytes(), f"national ID in clear in {f.name}"
    assert nid[:6].encode() + nid[6:7].encode() not in raw
    # Revealing it is an explicit, audited command.
    p = tunnus.run("person", "national-id", "number:1")
    assert p.stdout.strip() == nid
    rows = tunnus.sql("SELECT action, attrs FROM audit_event WHERE action='person.read_national_id'")
    assert rows == [("person.read_national_id", "national_id")]


def test_duplicate_national_id_conflicts_without_revealing_it(tunnus):
    nid = hetu("311299", "Y", 902)
    add_person(tunnus, "Matti", "Virtanen", nid)
    p = tunnus.run("person", "add", "--given", "Matti", "--family", "Virtanen",
                   "--national-id", "-", input=nid + "\n", check=False)
    assert p.returncode == EXIT_CONFLICT
    assert "already exists" in p.stderr and "number 1" in p.stderr
    assert nid not in p.stderr and nid not in p.stdout
    assert tunnus.sql("SELECT count(*) FROM person") == [(1,)]


def test_bad_input_is_rejected_precisely_and_writes_nothing(tunnus):
    before = tunnus.sql("SELECT (SELECT count(*) FROM person), (SELECT count(*) FROM audit_event)")
    cases = [
        (["--given", "Aino", "--family", "Laine", "--national-id", "-"], "150385-123X\n",
         "national_id"),
        (["--given", "Aino", "--family", "Laine", "--national-id", "-"], "290201A123A\n",
         "national_id"),
        (["--given", "Aino1", "--family", "Laine"], None, "given_names"),
        (["--given", "Aino", "--family", ""], None, "family_name"),
        (["--given", "Aino", "--family", "Laine", "--email", "not-an-address"], None, "email"),
        (["--given", "Aino", "--family", "Laine", "--phone", "12ab"], None, "phone"),
        (["--given", "Aino", "--family", "Laine", "--birth-date", "2023-02-29"], None,
         "birth_date"),
    ]
    for args, stdin, field in cases:
        p = tunnus.run("person", "add", *args, input=stdin, check=False)
        assert p.returncode == EXIT_INVALID, (args, p.stderr)
        assert p.stderr.startswith(f"tunnus: {field}:"), p.stderr
        if stdin:
            assert stdin.strip() not in p.stderr
    p = tunnus.run("--json", "person", "add", "--given", "Aino", "--family", "L4ine", check=False)
    err = json.loads(p.stderr)["error"]
    assert err["code"] == "invalid" and err["field"] == "family_name"
    after = tunnus.sql("SELECT (SELECT count(*) FROM person), (SELECT count(*) FROM audit_event)")
    assert before == after


def test_usage_errors(tunnus):
    assert tunnus.run("person", "frobnicate", check=False).returncode == EXIT_USAGE
    assert tunnus.run("person", "show", check=False).returncode == EXIT_USAGE
    assert tunnus.run("person", "show", "bogus", check=False).returncode == EXIT_USAGE
    assert tunnus.run("person", "add", "--nope", "x", check=False).returncode == EXIT_USAGE
    p = tunnus.run("person", "show", "number:999", check=False)
    assert p.returncode == EXIT_NOTFOUND and "no person matches number:999" in p.stderr


def test_affiliations_and_selectors(tunnus):
    tunnus.run("orgunit", "add", "Sivistys", "--name", "Sivistystoimiala")
    tunnus.run("orgunit", "add", "Sivistys/Perusopetus")
    boss = add_person(tunnus, "Kaisa", "Korhonen", hetu("020270", "-", 246))
    tunnus.run("affiliation", "add", f"id:{boss['id']}", "--kind", "staff", "--source", "hr",
               "--key", "E100", "--org-unit", "Sivistys", "--title", "rehtori",
               "--from", "2020-01-01")
    pupil = add_person(tunnus, "Väinö", "Öhman", hetu("050512", "A", 377))
    af = tunnus.json("affiliation", "add", f"number:{pupil['identity_number']}", "--kind", "pupil",
                     "--source", "pupils", "--key", "P5000001", "--org-unit",
                     "Sivistys/Perusopetus", "--school", "00123 Kaanaan koulu", "--class", "7A",
                     "--groups", "7A-MA;7A-EN; 7A-MA", "--manager", "key:hr:E100",
                     "--from", "2019-08-01", "--to", "2028-05-31")
    assert af["teaching_groups"] == ["7A-MA", "7A-EN"]
    assert af["manager_id"] == boss["id"]
    shown = tunnus.json("person", "show", "key:pupils:P5000001")
    assert shown["id"] == pupil["id"]
    a = shown["affiliations"][0]
    assert {k: a[k] for k in ("kind", "source", "source_key", "org_unit", "valid_from",
                              "valid_to", "end_reason")} == {
        "kind": "pupil", "source": "pupils", "source_key": "P5000001",
        "org_unit": "Sivistys/Perusopetus", "valid_from": "2019-08-01",
        "valid_to": "2028-05-31", "end_reason": None}
    ended = tunnus.json("affiliation", "end", "key:pupils:P5000001", "--date", "2026-06-30",
                        "--reason", "moved_away")
    assert ended["valid_to"] == "2026-06-30" and ended["end_reason"] == "moved_away"
    # Ending before the start is refused; an unknown unit is not found.
    p = tunnus.run("affiliation", "end", str(af["id"]), "--date", "2018-01-01", check=False)
    assert p.returncode == EXIT_INVALID and "valid_to" in p.stderr
    p = tunnus.run("affiliation", "add", "number:1", "--kind", "staff", "--org-unit", "Nowhere",
                   "--from", "2020-01-01", check=False)
    assert p.returncode == EXIT_NOTFOUND and "Nowhere" in p.stderr
    p = tunnus.run("affiliation", "add", "number:1", "--kind", "staff", "--source", "hr",
                   "--key", "E100", "--from", "2020-01-01", check=False)
    assert p.returncode == EXIT_CONFLICT
    p = tunnus.run("affiliation", "add", "number:1", "--kind", "staff", "--from", "2021-01-01",
                   "--to", "2020-12-31", check=False)
    assert p.returncode == EXIT_INVALID and "valid_to" in p.stderr


def test_orgunit_tree(tunnus):
    tunnus.run("orgunit", "add", "Tekninen")
    tunnus.run("orgunit", "add", "Tekninen/Kiinteistöt")
    p = tunnus.run("orgunit", "add", "Puuttuva/Lapsi", check=False)
    assert p.returncode == EXIT_NOTFOUND
    units = tunnus.json("orgunit", "list")
    assert [u["code"] for u in units] == ["Tekninen", "Tekninen/Kiinteistöt"]
    assert units[1]["parent"] == "Tekninen"
    assert tunnus.run("orgunit", "add", "Tekninen", check=False).returncode == EXIT_CONFLICT


def test_usernames_generated_folded_and_unique(tunnus):
    people = [("Väinö Olavi", "Ylä-Outinen"), ("Väinö", "Ylä-Outinen"), ("Åsa", "Von Wright"),
              ("Zoë", "Al-Hakim"), ("Maximiliana Josefiina", "Kärkkäinen-Hämäläinen")]
    names = []
    for i, (g, f) in enumerate(people, 1):
        add_person(tunnus, g, f)
        names.append(tunnus.json("account", "create", f"number:{i}")["username"])
    assert names[:4] == ["vaino.ylaoutinen", "vaino.ylaoutinen2", "asa.vonwright", "zoe.alhakim"]
    assert all(len(n) <= 20 for n in names) and len(set(names)) == len(names)
    assert names[4] == "maximiliana.karkkain"  # cut to the 20-character maximum
    shown = tunnus.json("person", "show", "username:vaino.ylaoutinen2")
    assert shown["identity_number"] == 2
    assert shown["accounts"][0]["state"] == "active"
    zoe = tunnus.json("person", "show", "number:4")
    assert tunnus.json("account", "show", "zoe.alhakim")["person_id"] == zoe["id"]
    # One account per person.
    assert tunnus.run("account", "create", "number:1", check=False).returncode == EXIT_CONFLICT


def test_username_reserved_forever(tunnus):
    add_person(tunnus, "Matti", "Virtanen")
    add_person(tunnus, "Matti", "Virtanen")
    assert tunnus.json("account", "create", "number:1")["username"] == "matti.virtanen"
    # Another person cannot take it by hand, even if the account row went away.
    p = tunnus.run("account", "create", "number:2", "--username", "matti.virtanen", check=False)
    assert p.returncode == EXIT_CONFLICT and "reserved" in p.stderr
    # The registry refuses to release reservations at the SQL level too.
    import sqlite3
    con = sqlite3.connect(tunnus.db)
    try:
        con.execute("DELETE FROM account")
        con.commit()
        raise AssertionError("account (and with it the reservation) deleted")
    except sqlite3.DatabaseError as exc:
        assert "never deleted" in str(exc)
    finally:
        con.close()
    assert tunnus.json("account", "create", "number:2")["username"] == "matti.virtanen2"


def test_email_addresses_generated_when_domain_configured(tmp_path):
    from conftest import Tunnus
    t = Tunnus(tmp_path)
    (tmp_path / "tunnus.conf").write_text(
        "[registry]\ndb = registry.db\n[naming]\nusername_pattern = {given:1}{family}\n"
        "username_max = 8\nemail_domain = Example.FI\n")
    t.run("init", db=False)
    assert (tmp_path / "registry.db.key").exists()
    for _ in range(3):
        t.run("person", "add", "--given", "Pekka Juhani", "--family", "Mäkelä",
              "--preferred", "Juhani", db=False)
    accts = [t.json("account", "create", f"number:{i}", db=False) for i in (1, 2, 3)]
    assert [a["username"] for a in accts] == ["pmakela", "pmakela2", "pmakela3"]
    assert [a["email"] for a in accts] == ["juhani.makela@example.fi",
                                           "juhani.makela2@example.fi",
                                           "juhani.makela3@example.fi"]


def test_config_errors_name_line_and_key(tmp_path):
    from conftest import Tunnus
    t = Tunnus(tmp_path)
    (tmp_path / "tunnus.conf").write_text("[registry]\ndb = r.db\n\n[naming]\nusername_max = 500\n")
    p = t.run("init", db=False, check=False)
    assert p.returncode == EXIT_INVALID
    assert "tunnus.conf line 5" in p.stderr and "username_max" in p.stderr
    assert not (tmp_path / "r.db").exists()


def test_person_update_and_audit(tunnus):
    add_person(tunnus, "Aino", "Laine", hetu("150385", "-", 124))
    upd = tunnus.json("person", "update", "number:1", "--phone", "+358 50 765 4321",
                      "--family", "Laine-Virtanen")
    assert upd["phone"] == "+358507654321" and upd["family_name"] == "Laine-Virtanen"
    # Birth date comes from the national ID and cannot be changed on its own.
    p = tunnus.run("person", "update", "number:1", "--birth-date", "1990-01-01", check=False)
    assert p.returncode == EXIT_INVALID and "birth_date" in p.stderr
    n = tunnus.sql("SELECT count(*) FROM audit_event WHERE action='person.update'")[0][0]
    tunnus.run("person", "update", "number:1", "--phone", "0507654321")  # same number: no change
    assert tunnus.sql("SELECT count(*) FROM audit_event WHERE action='person.update'")[0][0] == n
    rows = tunnus.sql("SELECT actor_kind, actor_id, channel, attrs, changes, result FROM audit_event"
                      " WHERE action='person.update'")
    kind, actor, channel, attrs, changes, result = rows[0]
    assert kind == "admin" and actor.startswith("os:") and channel == "cli"
    assert set(attrs.split(",")) == {"family_name", "phone"} and result == "allowed"
    ch = json.loads(changes)
    assert ch["phone"] == [None, "+358507654321"]
    assert ch["family_name"] == ["Laine", "Laine-Virtanen"]
    # Every read is audited too.
    reads = tunnus.sql("SELECT count(*) FROM audit_event WHERE action='person.read'")[0][0]
    assert reads >= 2


def test_audit_never_contains_national_id(tunnus):
    nids = [hetu("150385", "-", 124), hetu("010100", "A", 901), hetu("311299", "U", 350)]
    for i, nid in enumerate(nids, 1):
        add_person(tunnus, "Testi", "Henkilö", nid)
        tunnus.run("person", "update", f"number:{i}", "--national-id", "-", input=nid + "\n")
    new = hetu("150385", "-", 126)
    tunnus.run("person", "update", "number:1", "--national-id", "-", input=new + "\n")
    dump = "\n".join(str(r) for r in tunnus.sql("SELECT * FROM audit_event"))
    # Booleans only: a failing assertion must not print the IDs it looked for.
    leaked = sum(nid in dump for nid in nids + [new])
    assert leaked == 0, f"{leaked} national IDs found in the audit table"
    changed = '"national_id":["(set)","(set)"]' in dump
    assert changed, "national ID change not recorded as (set) -> (set)"


def test_person_list_filters(tunnus):
    tunnus.run("orgunit", "add", "IT")
    tunnus.run("orgunit", "add", "IT/Tuki")
    for i in range(1, 6):
        add_person(tunnus, "Leo", f"Niemi{'' if i % 2 else '-Salo'}")
        if i <= 3:
            tunnus.run("affiliation", "add", f"number:{i}", "--kind",
                       "staff" if i < 3 else "student", "--org-unit", "IT/Tuki",
                       "--from", "2024-01-01")
    all_ = tunnus.json("person", "list")
    assert [p["identity_number"] for p in all_] == [1, 2, 3, 4, 5]
    assert [p["identity_number"] for p in tunnus.json("person", "list", "--kind", "staff")] == [1, 2]
    assert [p["identity_number"] for p in tunnus.json("person", "list", "--org-unit", "IT")] == [1, 2, 3]
    assert [p["identity_number"] for p in tunnus.json("person", "list", "--name", "salo")] == [2, 4]
    page = tunnus.json("person", "list", "--after", "2", "--limit", "2")
    assert [p["identity_number"] for p in page] == [3, 4]
    assert tunnus.run("person", "list", "--state", "bogus", check=False).returncode == EXIT_INVALID


def test_person_add_with_relationship_and_account_is_one_atomic_step(tunnus):
    tunnus.run("orgunit", "add", "Sivistys")
    shown = tunnus.json("person", "add", "--given", "Aino Maria", "--family", "Mäkinen",
                        "--kind", "staff", "--source", "hr", "--key", "E777",
                        "--org-unit", "Sivistys", "--title", "opettaja", "--from", "2025-08-01",
                        "--account")
    assert shown["accounts"][0]["username"] == "aino.makinen"
    assert shown["affiliations"][0]["source_key"] == "E777"
    events = tunnus.sql("SELECT action, attrs FROM audit_event WHERE action LIKE 'person.%'"
                        " AND result='allowed' AND action != 'person.read'")
    assert [e[0] for e in events] == ["person.enrol"]
    attrs = events[0][1].split(",")
    assert "affiliation.source_key" in attrs and "account.username" in attrs
    # A failure in any part leaves nothing behind: the unit does not exist.
    before = tunnus.sql("SELECT count(*) FROM person")[0][0]
    p = tunnus.run("person", "add", "--given", "Eino", "--family", "Mäkinen", "--kind", "staff",
                   "--org-unit", "Nowhere", "--from", "2025-08-01", "--account", check=False)
    assert p.returncode == EXIT_NOTFOUND and "Nowhere" in p.stderr
    assert tunnus.sql("SELECT count(*) FROM person")[0][0] == before
    assert tunnus.sql("SELECT count(*) FROM account")[0][0] == 1
    p = tunnus.run("person", "add", "--given", "Eino", "--family", "Mäkinen", "--title", "x",
                   check=False)
    assert p.returncode == EXIT_USAGE and "--kind" in p.stderr
