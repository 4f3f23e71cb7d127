"""Provisioning (issue 8, docs/provisioning.md) against real targets: a
file drop read back, and OpenLDAP slapd on loopback (two of them for two
directories), with the faults: a target down, tunnus killed mid-delivery,
an entry the target rejects. National IDs are never used or printed."""
import csv
import json
import os
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BIN, check_server_stop
from slapd_peer import Slapd, SUFFIX, ROOTDN, ROOTPW

ROOT = Path(__file__).resolve().parents[2]
UNI002 = ROOT / "examples" / "policies" / "university-002.json"
PEOPLE = f"ou=people,{SUFFIX}"


def ldap_target(name, slapd, extra=""):
    return f"""
[target {name}]
type = ldap
url = {slapd.url}
bind_dn = {ROOTDN}
bind_password = {ROOTPW}
base = {PEOPLE}
group_base = ou=groups,{SUFFIX}
object_classes = inetOrgPerson
map.cn = {{display_name}}
map.sn = {{family_name}}
map.givenName = {{first_name}}
map.mail = {{mail}}
map.employeeType = {{kinds}}
map.employeeNumber = {{number}}
map.seeAlso = uid={{handover_uid}},{PEOPLE}
backoff = 1
{extra}
"""


def file_target(name, d, fmt="csv", extra=""):
    return f"""
[target {name}]
type = file
dir = {d}
format = {fmt}
kinds = staff
map.uid = {{uid}}
map.name = {{display_name}}
map.mail = {{mail}}
map.unit = {{unit}}
disable_attr = active
disable_value = false
{extra}
"""


def configure(t, *sections):
    (t.dir / "tunnus.conf").write_text("[naming]\nemail_domain = example.fi\n" + "".join(sections))


def add(t, given, family, kind="staff", frm="2020-01-01", *extra):
    return t.json("person", "add", "--given", given, "--family", family, "--kind", kind,
                  "--from", frm, "--account", *extra)


def run_once(t, *args, check=True):
    return t.run("provision", "run", "--once", *args, check=check)


def status(t):
    return t.json("provision", "status")


def uid_of(t, number):
    return t.sql("SELECT username FROM account a JOIN person p ON p.number = a.person_num "
                 "WHERE p.number = ?", number)[0][0]


@pytest.fixture
def slapd(tmp_path):
    s = Slapd(tmp_path / "slapd").start()
    yield s
    s.stop()


@pytest.fixture
def slapd2(tmp_path):
    s = Slapd(tmp_path / "slapd2").start()
    yield s
    s.stop()


# ---- file target -----------------------------------------------------------

def read_csv(p):
    with open(p, newline="") as f:
        return list(csv.DictReader(f))


def deltas(d, ext="csv"):
    return sorted(p for p in Path(d).glob(f"delta-*.{ext}"))


def test_file_target_full_export_and_deltas(tunnus):
    out = tunnus.dir / "drop"
    out.mkdir()
    configure(tunnus, file_target("cards", out))
    a = add(tunnus, "Aino", "Virtanen")
    b = add(tunnus, "Eero", "Koski")
    add(tunnus, "Sanna", "Student", "student")      # not selected: kinds = staff
    run_once(tunnus)
    full = read_csv(out / "full.csv")
    assert sorted(r["id"] for r in full) == sorted(
        [str(a["identity_number"]), str(b["identity_number"])])
    row = next(r for r in full if r["id"] == str(a["identity_number"]))
    assert row["name"] == "Aino Virtanen" and row["mail"] == "aino.virtanen@example.fi"
    assert row["active"] == ""
    d1 = deltas(out)
    assert len(d1) == 1 and [r["op"] for r in read_csv(d1[0])] == ["add", "add"]
    # A change: one modify row in a new delta, the full export follows.
    tunnus.run("person", "update", f"number:{a['identity_number']}", "--family", "Korhonen")
    run_once(tunnus)
    d2 = deltas(out)
    assert len(d2) == 2
    rows = read_csv(d2[-1])
    assert [(r["op"], r["id"]) for r in rows] == [("modify", str(a["identity_number"]))]
    assert rows[0]["name"] == "Aino Korhonen"
    assert {r["name"] for r in read_csv(out / "full.csv")} == {"Aino Korhonen", "Eero Koski"}
    # Nothing changed: no new delta; no temporary file left behind.
    run_once(tunnus)
    assert len(deltas(out)) == 2
    assert not list(out.glob(".*.tmp"))
    st = status(tunnus)["cards"]
    assert st["pending"] == 0 and st["parked"] == 0 and st["resources"] == 2


def test_file_target_json_format(tunnus):
    out = tunnus.dir / "drop"
    out.mkdir()
    configure(tunnus, file_target("phones", out, "json"))
    a = add(tunnus, "Aino", "Virtanen")
    run_once(tunnus)
    full = json.loads((out / "full.json").read_text())
    assert full == [{"id": str(a["identity_number"]),
                     "attributes": {"uid": "aino.virtanen", "name": "Aino Virtanen",
                                    "mail": "aino.virtanen@example.fi"}}]
    d = json.loads(deltas(out, "json")[0].read_text())
    assert d[0]["op"] == "add"


def test_every_change_writes_an_outbox_row_in_its_transaction(tunnus):
    a = add(tunnus, "Aino", "Virtanen")
    pid = a["id"]
    n0 = tunnus.sql("SELECT COUNT(*) FROM outbox WHERE person_id = ?", pid)[0][0]
    assert n0 >= 1
    tunnus.run("person", "update", f"id:{pid}", "--phone", "+358401234567")
    assert tunnus.sql("SELECT COUNT(*) FROM outbox WHERE person_id = ?", pid)[0][0] == n0 + 1
    # A refused change writes nothing.
    p = tunnus.run("person", "update", f"id:{pid}", "--phone", "not a phone", check=False)
    assert p.returncode == 3
    assert tunnus.sql("SELECT COUNT(*) FROM outbox WHERE person_id = ?", pid)[0][0] == n0 + 1


def test_bad_target_configuration_is_named(tunnus):
    configure(tunnus, "[target x]\ntype = ldap\nmap.cn = {given_name}\nbogus = 1\n")
    p = tunnus.run("provision", "status", check=False)
    assert p.returncode == 3 and "bogus" in p.stderr and "unknown key" in p.stderr
    configure(tunnus, "[target x]\ntype = file\ndir = /tmp\nmap.cn = {nosuch}\n")
    p = tunnus.run("provision", "run", "--once", check=False)
    assert p.returncode == 3 and "nosuch" in p.stderr


# ---- LDAP target -------------------------------------------------------------

def test_ldap_create_modify_and_groups(tunnus, slapd):
    configure(tunnus, ldap_target("dir", slapd))
    a = add(tunnus, "Aino Maria", "Virtanen")
    b = add(tunnus, "Eero", "Koski", "student")
    run_once(tunnus)
    people = slapd.search()
    ua, ub = uid_of(tunnus, a["identity_number"]), uid_of(tunnus, b["identity_number"])
    ea = people[f"uid={ua},{PEOPLE}"]
    assert ea["cn"] == ["Aino Virtanen"] and ea["givenname"] == ["Aino"]
    assert ea["employeetype"] == ["staff"] and "seealso" not in ea
    groups = slapd.search(base=f"ou=groups,{SUFFIX}")
    assert groups[f"cn=staff,ou=groups,{SUFFIX}"]["member"] == [f"uid={ua},{PEOPLE}"]
    assert groups[f"cn=student,ou=groups,{SUFFIX}"]["member"] == [f"uid={ub},{PEOPLE}"]
    csn = people[f"uid={ub},{PEOPLE}"]["entrycsn"]
    # A rectification reaches the directory; the other entry is untouched.
    tunnus.run("person", "update", f"number:{a['identity_number']}", "--family", "Korhonen")
    run_once(tunnus)
    people = slapd.search()
    assert people[f"uid={ua},{PEOPLE}"]["sn"] == ["Korhonen"]
    assert people[f"uid={ub},{PEOPLE}"]["entrycsn"] == csn
    rec = tunnus.sql("SELECT resource_id, state FROM prov_resource WHERE target = 'dir' "
                     "AND person_id = ?", a["id"])
    assert rec == [(f"uid={ua},{PEOPLE}", "present")]
    # Each delivery is audited against the person.
    assert tunnus.sql("SELECT COUNT(*) FROM audit_event WHERE action = 'provision.deliver' "
                      "AND subject_id = ?", a["id"])[0][0] == 2


# ---- groups per org unit (groups = kinds,units) ----------------------------------

# A unit whose code holds DN special characters (',' and '+'), and one
# whose slug is that of Sivistys/Perusopetus (the directory then appends
# its gidNumber to the later one's cn).
ODD_UNIT = "Tekninen, Katu+Puisto"
TWIN_UNIT = "Sivistys Perusopetus"


def units(t):
    for code, parent in (("Sivistys", None), ("Sivistys/Perusopetus", "Sivistys"),
                         (ODD_UNIT, None), (TWIN_UNIT, None)):
        t.run("orgunit", "add", code, "--name", code, *(["--parent", parent] if parent else []))


def unit_cn(t, code):
    """The cn tunnus's own directory gives the unit's group (docs/ldap.md)."""
    return t.sql("SELECT cn FROM dir_group WHERE gtype = 'unit' AND v1 = ?", code)[0][0]


def aff_in(t, person, unit):
    return t.sql("SELECT f.id FROM affiliation f JOIN person p ON p.number = f.person_num "
                 "WHERE p.id = ? AND f.org_unit = ?", person["id"], unit)[0][0]


def groups_by_cn(slapd):
    """cn -> the groupOfNames under ou=groups (the cn as stored: the DNs
    the directory returns are normalised, lower case, hex escapes)."""
    return {e["cn"][0]: e for e in slapd.search(base=f"ou=groups,{SUFFIX}").values()}


def test_ldap_groups_per_org_unit(tunnus, slapd):
    configure(tunnus, ldap_target("dir", slapd, extra="groups = kinds,units\n"))
    units(tunnus)
    a = add(tunnus, "Aino", "Virtanen", "staff", "2020-01-01", "--org-unit", "Sivistys/Perusopetus")
    tunnus.run("affiliation", "add", f"id:{a['id']}", "--kind", "staff", "--from", "2020-01-01",
               "--org-unit", ODD_UNIT)
    b = add(tunnus, "Eero", "Koski", "student", "2020-01-01", "--org-unit", "Sivistys/Perusopetus")
    c = add(tunnus, "Sanna", "Saari", "student", "2020-01-01", "--org-unit", TWIN_UNIT)
    run_once(tunnus)
    ua, ub, uc = (uid_of(tunnus, p["identity_number"]) for p in (a, b, c))
    da, db, dc = (f"uid={u},{PEOPLE}" for u in (ua, ub, uc))
    # The names tunnus's own directory gives the units' groups.
    odd, twin = unit_cn(tunnus, ODD_UNIT), unit_cn(tunnus, TWIN_UNIT)
    assert odd == "unit-tekninen--katu-puisto"
    assert twin.startswith("unit-sivistys-perusopetus-") and twin.rsplit("-", 1)[1].isdigit()
    groups = groups_by_cn(slapd)
    # In both unit groups and the kind group; the unit's own group only,
    # not its parent's (no unit-sivistys).
    assert sorted(groups) == sorted(["staff", "student", "unit-sivistys-perusopetus", odd, twin])
    assert groups["staff"]["member"] == [da]
    assert sorted(groups["student"]["member"]) == sorted([db, dc])
    assert sorted(groups["unit-sivistys-perusopetus"]["member"]) == sorted([da, db])
    assert groups[odd]["member"] == [da] and "groupOfNames" in groups[odd]["objectclass"]
    assert groups[twin]["member"] == [dc]
    assert f"cn={odd},ou=groups,{SUFFIX}" in slapd.search(base=f"ou=groups,{SUFFIX}")
    # Delivering again changes no group.
    csns = {cn: e["entrycsn"] for cn, e in groups.items()}
    tunnus.run("person", "update", f"id:{a['id']}", "--language", "sv")
    run_once(tunnus)
    assert {cn: e["entrycsn"] for cn, e in groups_by_cn(slapd).items()} == csns
    # Aino's affiliation in the odd unit ends: she leaves that unit's
    # group only (she was its last member: a groupOfNames needs one, so it
    # goes) and stays in staff and the other unit's group.
    tunnus.run("affiliation", "end", str(aff_in(tunnus, a, ODD_UNIT)), "--date", "2024-12-31")
    run_once(tunnus)
    groups = groups_by_cn(slapd)
    assert sorted(groups) == sorted(["staff", "student", "unit-sivistys-perusopetus", twin])
    assert groups["staff"]["member"] == [da]
    assert sorted(groups["unit-sivistys-perusopetus"]["member"]) == sorted([da, db])
    assert status(tunnus)["dir"]["parked"] == 0


def test_ldap_groups_units_only_and_kinds_default(tunnus, slapd):
    """groups = units keeps no kind groups (and takes members out of those
    made before); without the key an LDAP target keeps today's kind groups."""
    configure(tunnus, ldap_target("dir", slapd))
    units(tunnus)
    a = add(tunnus, "Aino", "Virtanen", "staff", "2020-01-01", "--org-unit", "Sivistys")
    run_once(tunnus)
    assert sorted(groups_by_cn(slapd)) == ["staff"]
    configure(tunnus, ldap_target("dir", slapd, extra="groups = units\n"))
    tunnus.run("person", "update", f"id:{a['id']}", "--language", "sv")
    run_once(tunnus)
    da = f"uid={uid_of(tunnus, a['identity_number'])},{PEOPLE}"
    groups = groups_by_cn(slapd)
    assert sorted(groups) == ["unit-sivistys"]
    assert groups["unit-sivistys"]["member"] == [da]
    configure(tunnus, ldap_target("dir", slapd, extra="groups = units, teams\n"))
    p = tunnus.run("provision", "run", "--once", check=False)
    assert p.returncode == 3 and "[target dir]" in p.stderr and "groups" in p.stderr \
        and "teams" in p.stderr


def test_ldap_groups_per_school_and_class(tunnus, slapd):
    configure(tunnus, ldap_target("dir", slapd, extra="groups = schools, classes\n"))
    a = add(tunnus, "Aino", "Virtanen", "student", "2020-01-01", "--school", "Ylikylän koulu",
            "--class", "7A")
    b = add(tunnus, "Eero", "Koski", "student", "2020-01-01", "--school", "Ylikylän koulu",
            "--class", "7B")
    run_once(tunnus)
    da, db = (f"uid={uid_of(tunnus, p['identity_number'])},{PEOPLE}" for p in (a, b))
    cn = {r[0]: r[1] for r in tunnus.sql(
        "SELECT v2, cn FROM dir_group WHERE gtype IN ('school', 'class')")}
    school, c7a, c7b = cn[""], cn["7A"], cn["7B"]
    assert (school, c7a) == ("school-ylikylän-koulu", "class-ylikylän-koulu-7a")
    groups = groups_by_cn(slapd)
    assert sorted(groups) == sorted([school, c7a, c7b])      # no kind groups
    assert sorted(groups[school]["member"]) == sorted([da, db])
    assert groups[c7a]["member"] == [da] and groups[c7b]["member"] == [db]
    # Aino moves to 7B: out of 7A (its last member: the group goes), in 7B.
    f = aff_id(tunnus, a, "student")
    tunnus.run("affiliation", "end", str(f), "--date", "2024-12-31")
    tunnus.run("affiliation", "add", f"id:{a['id']}", "--kind", "student", "--from", "2025-01-01",
               "--school", "Ylikylän koulu", "--class", "7B")
    run_once(tunnus)
    groups = groups_by_cn(slapd)
    assert sorted(groups) == sorted([school, c7b])
    assert sorted(groups[c7b]["member"]) == sorted([da, db])


def lc(t, date):
    return t.json("--as-of", date, "lifecycle", "run")


def test_ldap_lifecycle_close_handover_and_purge(tunnus, slapd):
    configure(tunnus, ldap_target("dir", slapd))
    pol = json.loads(UNI002.read_text())
    pol["kinds"]["staff"].update(archive_after_days=90, purge_after_days=120)
    (tunnus.dir / "policy.json").write_text(json.dumps(pol))
    tunnus.run("policy", "apply", tunnus.dir / "policy.json")
    m = add(tunnus, "Maija", "Esihenkilö", "staff", "2020-01-01")
    l = add(tunnus, "Leena", "Lähtijä", "staff", "2024-01-01", "--to", "2024-06-30",
            "--manager", f"number:{m['identity_number']}")
    lc(tunnus, "2024-01-01")
    run_once(tunnus, "--as-of", "2024-01-01")
    um, ul = uid_of(tunnus, m["identity_number"]), uid_of(tunnus, l["identity_number"])
    dn = f"uid={ul},{PEOPLE}"
    e = slapd.search()[dn]
    assert "pwdaccountlockedtime" not in e
    lc(tunnus, "2024-07-08")                     # closed: the handover window starts
    run_once(tunnus, "--as-of", "2024-07-08")
    e = slapd.search()[dn]
    assert e["pwdaccountlockedtime"] == ["000001010000Z"]
    assert e["seealso"] == [f"uid={um},{PEOPLE}"]   # the manager's access (LC-8)
    staff = slapd.search(base=f"ou=groups,{SUFFIX}")[f"cn=staff,ou=groups,{SUFFIX}"]
    assert staff["member"] == [f"uid={um},{PEOPLE}"]
    assert tunnus.sql("SELECT state FROM prov_resource WHERE person_id = ?", l["id"]) == [
        ("disabled",)]
    # The window ends: the access is taken back, the entry stays disabled
    # (archiving does not change that).
    lc(tunnus, "2024-08-08")
    run_once(tunnus, "--as-of", "2024-08-08")
    e = slapd.search()[dn]
    assert "seealso" not in e and e["pwdaccountlockedtime"] == ["000001010000Z"]
    # The lifecycle purges: the entry is deleted, the record stays (LC-7).
    for d in ("2024-09-08", "2024-10-08", "2024-11-08", "2024-12-08"):
        lc(tunnus, d)
    assert tunnus.sql("SELECT purged_on IS NOT NULL FROM lc_archive a JOIN person p "
                      "ON p.number = a.person_num WHERE p.id = ?", l["id"]) == [(1,)]
    run_once(tunnus, "--as-of", "2024-12-08")
    assert dn not in slapd.search()
    assert tunnus.sql("SELECT resource_id, state FROM prov_resource WHERE person_id = ?",
                      l["id"]) == [(dn, "deleted")]
    assert f"uid={um},{PEOPLE}" in slapd.search()


def test_ldap_return_within_window_reenables(tunnus, slapd):
    configure(tunnus, ldap_target("dir", slapd))
    tunnus.run("policy", "apply", UNI002)
    m = add(tunnus, "Maija", "Esihenkilö", "staff", "2020-01-01")
    l = add(tunnus, "Leena", "Lähtijä", "staff", "2024-01-01", "--to", "2024-06-30",
            "--manager", f"number:{m['identity_number']}")
    lc(tunnus, "2024-01-01")
    run_once(tunnus, "--as-of", "2024-01-01")
    lc(tunnus, "2024-07-08")
    run_once(tunnus, "--as-of", "2024-07-08")
    dn = f"uid={uid_of(tunnus, l['identity_number'])},{PEOPLE}"
    assert "pwdaccountlockedtime" in slapd.search()[dn]
    tunnus.run("affiliation", "add", f"number:{l['identity_number']}", "--kind", "staff",
               "--from", "2024-07-20")
    lc(tunnus, "2024-07-20")
    run_once(tunnus, "--as-of", "2024-07-20")
    e = slapd.search()[dn]
    assert "pwdaccountlockedtime" not in e and "seealso" not in e


# ---- faults -------------------------------------------------------------------

def test_target_down_queue_grows_and_drains(tunnus, slapd, slapd2):
    configure(tunnus, ldap_target("dir1", slapd), ldap_target("dir2", slapd2))
    people = [add(tunnus, f"Henkilö{chr(97 + i)}", "Testi") for i in range(5)]
    slapd2.stop()
    p = run_once(tunnus, check=False)
    assert p.returncode != 0 and "dir2" in p.stdout + p.stderr
    assert len(slapd.search()) == 5                   # the other directory is served
    more = [add(tunnus, f"Lisä{chr(97 + i)}", "Testi") for i in range(3)]
    run_once(tunnus, "--target", "dir2", check=False)
    st = status(tunnus)
    assert st["dir2"]["pending"] + st["dir2"]["unread_changes"] >= 8
    assert st["dir2"]["parked"] == 0 and st["dir2"]["delivered"] == 0
    slapd2.start(load_base=False)
    run_once(tunnus)
    assert len(slapd2.search()) == len(people) + len(more) == 8
    assert len(slapd.search()) == 8
    st = status(tunnus)
    assert st["dir2"]["pending"] == 0 and st["dir2"]["parked"] == 0


def test_rejected_entry_is_parked_and_the_rest_flow(tunnus, slapd):
    # manager is DN-valued: a personal e-mail address there is a syntax error.
    configure(tunnus, ldap_target("dir", slapd, "map.manager = {email}\nmax_attempts = 2\n"))
    good = [add(tunnus, f"Hyvä{chr(97 + i)}", "Testi") for i in range(3)]
    bad = add(tunnus, "Huono", "Testi", "staff", "2020-01-01", "--email", "huono@example.org")
    run_once(tunnus)
    assert len(slapd.search()) == 3
    st = status(tunnus)["dir"]
    assert st["parked"] == 0 and st["pending"] == 1       # waiting for its retry
    time.sleep(1.2)
    run_once(tunnus)
    st = status(tunnus)["dir"]
    assert st["parked"] == 1 and st["pending"] == 0
    item = st["parked_items"][0]
    assert item["person_id"] == bad["id"] and item["attempts"] == 2
    assert "syntax" in item["error"].lower()
    # Others keep flowing while it is parked.
    more = add(tunnus, "Uusi", "Testi")
    run_once(tunnus)
    assert len(slapd.search()) == 4
    # Released by hand it fails again; corrected at the source it goes through.
    assert tunnus.json("provision", "retry", str(item["id"]))["released"] == 1
    run_once(tunnus)
    tunnus.run("person", "update", f"id:{bad['id']}", "--email", "")
    run_once(tunnus)
    assert len(slapd.search()) == 5
    assert status(tunnus)["dir"]["parked"] == 0
    assert tunnus.sql("SELECT COUNT(*) FROM audit_event WHERE action = 'provision.park'")[0][0] >= 1
    del good, more


def letters(i):
    return "".join(chr(97 + int(c)) for c in f"{i:04d}")


def test_killed_mid_delivery_nothing_lost_nothing_twice(tunnus, slapd):
    configure(tunnus, ldap_target("dir", slapd, "batch = 20\n"))
    n = 400
    lines = ["source_key,given_names,family_name,valid_from,username"]
    lines += [f"S{i:05d},Etu{letters(i)},Suku{letters(i)},2020-01-01,user{i:05d}"
              for i in range(n)]
    (tunnus.dir / "hr.csv").write_text("\n".join(lines) + "\n")
    tunnus.run("import", "--source", "hr", "--kind", "staff", "hr.csv")
    assert tunnus.sql("SELECT COUNT(*) FROM account")[0][0] == n
    proc = subprocess.Popen([BIN, "--db", str(tunnus.db), "provision", "run"], cwd=tunnus.dir,
                            stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and len(slapd.search(attrs=("uid",))) < 60:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = slapd.search(attrs=("entryCSN",))
    assert 0 < len(before) < n, len(before)
    run_once(tunnus)
    after = slapd.search(attrs=("entryCSN",))
    assert len(after) == n
    # What was applied before the kill was not applied again.
    assert all(after[dn]["entrycsn"] == v["entrycsn"] for dn, v in before.items())
    st = status(tunnus)["dir"]
    assert st["pending"] == 0 and st["resources"] == n


# ---- reconciliation ---------------------------------------------------------------

def test_reconcile_reports_and_fixes(tunnus, slapd):
    configure(tunnus, ldap_target("dir", slapd))
    a = add(tunnus, "Aino", "Virtanen")
    b = add(tunnus, "Eero", "Koski")
    run_once(tunnus)
    ua, ub = uid_of(tunnus, a["identity_number"]), uid_of(tunnus, b["identity_number"])
    assert slapd.delete(f"uid={ua},{PEOPLE}")
    assert slapd.modify(f"uid={ub},{PEOPLE}", "sn", ["Väärä"])
    slapd.ldapadd(f"dn: uid=old.leaver,{PEOPLE}\nobjectClass: inetOrgPerson\nuid: old.leaver\n"
                  "cn: Old Leaver\nsn: Leaver\n")
    p = tunnus.run("--json", "provision", "reconcile", "dir")
    found = [json.loads(x) for x in p.stdout.splitlines()]
    kinds = {(f["kind"], f["resource"].split(",")[0]) for f in found}
    assert kinds == {("missing", f"uid={ua}"), ("drift", f"uid={ub}"),
                     ("orphan", "uid=old.leaver")}
    assert next(f for f in found if f["kind"] == "drift")["detail"] == "sn"
    tunnus.run("provision", "reconcile", "dir", "--fix")
    run_once(tunnus)
    people = slapd.search()
    assert people[f"uid={ub},{PEOPLE}"]["sn"] == ["Koski"] and f"uid={ua},{PEOPLE}" in people
    p = tunnus.run("--json", "provision", "reconcile", "dir")
    assert [json.loads(x)["kind"] for x in p.stdout.splitlines()] == ["orphan"]
    assert tunnus.sql("SELECT COUNT(*) FROM audit_event WHERE action = 'provision.enqueue'")[0][0] == 2


# ---- serve --------------------------------------------------------------------------

def test_serve_delivers_a_change_within_a_second(tunnus):
    out = tunnus.dir / "drop"
    out.mkdir()
    configure(tunnus, "[ldap]\nbase = dc=example,dc=fi\n", file_target("cards", out))
    proc = subprocess.Popen([BIN, "--db", str(tunnus.db), "serve", "--port", "0"],
                            cwd=tunnus.dir, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            text=True)
    try:
        ready, _, _ = select.select([proc.stderr], [], [], 10)
        assert ready
        a = add(tunnus, "Aino", "Virtanen")
        t0 = time.time()
        while time.time() - t0 < 5 and not (out / "full.csv").exists():
            time.sleep(0.02)
        assert (out / "full.csv").exists()
        assert time.time() - t0 < 1.0
        assert [r["id"] for r in read_csv(out / "full.csv")] == [str(a["identity_number"])]
    finally:
        proc.terminate()
        rc = proc.wait(timeout=15)
        check_server_stop(proc, rc)


def test_metrics_export_the_counts_of_provision_status(tunnus):
    """/metrics shows, per target, what `provision status` shows: a file
    target's deliveries, and the queue of a directory that is down (kept
    pending, not parked: a target down loses nothing)."""
    import re
    import socket
    import requests
    out = tunnus.dir / "drop"
    out.mkdir()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()  # nothing listens there: the directory is down
    down = ldap_target("dir", type("S", (), {"url": f"ldap://127.0.0.1:{dead}"})())
    configure(tunnus, file_target("cards", out), down)
    people = [add(tunnus, f"Mittari{chr(97 + i)}", "Testi") for i in range(3)]
    proc = subprocess.Popen([BIN, "--db", str(tunnus.db), "serve", "--port", "0"],
                            cwd=tunnus.dir, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            text=True)
    try:
        port = None
        while port is None:
            line = proc.stderr.readline()
            assert line, "the server ended before announcing HTTP"
            m = re.search(r"http listening on [0-9.]+:(\d+)", line)
            port = m and m.group(1)

        def metric(text, name, target):
            m = re.search(rf'^{name}\{{target="{target}"\}} (\d+)$', text, re.M)
            return int(m.group(1)) if m else None

        t0 = time.time()
        while True:
            text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            if (metric(text, "tunnus_provision_delivered_total", "cards") == 3 and
                    metric(text, "tunnus_provision_pending", "dir") == 3) or time.time() - t0 > 10:
                break
            time.sleep(0.1)
        assert "# TYPE tunnus_provision_parked gauge" in text
        assert metric(text, "tunnus_provision_delivered_total", "cards") == 3, text
        assert metric(text, "tunnus_provision_resources", "cards") == 3
        assert metric(text, "tunnus_provision_pending", "cards") == 0
        assert metric(text, "tunnus_provision_last_success_timestamp_seconds", "cards") >= int(t0) - 1
        assert metric(text, "tunnus_provision_pending", "dir") == 3, text
        assert metric(text, "tunnus_provision_parked", "dir") == 0
        assert metric(text, "tunnus_provision_delivered_total", "dir") == 0
        assert metric(text, "tunnus_provision_last_success_timestamp_seconds", "dir") == 0
    finally:
        proc.terminate()
        rc = proc.wait(timeout=15)
        check_server_stop(proc, rc)
    st = status(tunnus)
    assert st["cards"]["delivered"] == 3 and st["dir"]["pending"] == 3
    del people


# ---- SCIM target (a SCIM service on scimmy + scimmy-routers) ------------------------

PEER = ROOT / "tests" / "scim-peer"


@pytest.fixture
def scim(tmp_path):
    import shutil
    import urllib.request
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("node and npm are needed for the SCIM peer (scripts/deps.sh installs them)")
    if not (PEER / "node_modules" / "scimmy").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PEER, check=True,
                       capture_output=True, timeout=300)
    env = dict(os.environ, SCIM_TOKEN="tok-123")
    proc = subprocess.Popen(["node", "server.js", "0"], cwd=PEER, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], 20)
    assert ready, "SCIM peer did not start"
    port = int(proc.stdout.readline().split()[1])

    class Peer:
        url = f"http://127.0.0.1:{port}/scim/v2"

        def users(self):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/debug/users") as r:
                return {u["userName"]: u for u in json.load(r)}

        def refuse(self, user):
            urllib.request.urlopen(urllib.request.Request(
                f"http://127.0.0.1:{port}/debug/fail?userName={user}", method="POST")).read()

        def groups(self):
            """displayName -> the group as the peer holds it."""
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/debug/groups") as r:
                gs = json.load(r)
            names = [g["displayName"] for g in gs]
            assert len(names) == len(set(names)), f"two groups of one name: {names}"
            return {g["displayName"]: g for g in gs}

        def members(self):
            """displayName -> the userNames of its members."""
            by_id = {u["id"]: name for name, u in self.users().items()}
            return {n: sorted(by_id.get(m["value"], m["value"]) for m in g.get("members") or [])
                    for n, g in self.groups().items()}

        def requests(self):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/debug/requests") as r:
                return [(x["method"], x["path"]) for x in json.load(r)]

        def forget_requests(self):
            urllib.request.urlopen(urllib.request.Request(
                f"http://127.0.0.1:{port}/debug/requests", method="DELETE")).read()

        def refuse_member(self, user=None):
            """Groups refuse user as a new member (None: refuse nobody)."""
            urllib.request.urlopen(urllib.request.Request(
                f"http://127.0.0.1:{port}/debug/fail-member" + (f"?userName={user}" if user else ""),
                method="POST" if user else "DELETE")).read()

        def mode(self, strict=False, tidy=False):
            urllib.request.urlopen(urllib.request.Request(
                f"http://127.0.0.1:{port}/debug/mode?strict={int(strict)}&tidy={int(tidy)}",
                method="POST")).read()

        def call(self, method, path, body=None):
            """A request of our own to the SCIM API, as an administrator would."""
            req = urllib.request.Request(
                self.url + path, method=method,
                data=json.dumps(body).encode() if body is not None else None,
                headers={"Authorization": "Bearer tok-123",
                         "Content-Type": "application/scim+json"})
            with urllib.request.urlopen(req) as r:
                text = r.read()
                return json.loads(text) if text else None

    yield Peer()
    proc.terminate()
    proc.wait(timeout=10)


def scim_target(name, url, token="tok-123", extra=""):
    return f"""
[target {name}]
type = scim
url = {url}
bind_password = {token}
map.userName = {{uid}}
map.externalId = {{person_id}}
map.name.givenName = {{first_name}}
map.name.familyName = {{family_name}}
map.displayName = {{display_name}}
map.emails = {{mail}}
backoff = 1
{extra}
"""


def test_scim_create_update_disable_delete(tunnus, scim):
    configure(tunnus, scim_target("cloud", scim.url))
    tunnus.run("policy", "apply", UNI002)
    a = add(tunnus, "Aino", "Virtanen", "staff", "2024-01-01", "--to", "2024-06-30")
    b = add(tunnus, "Eero", "Koski", "staff", "2020-01-01")
    lc(tunnus, "2024-01-01")
    run_once(tunnus, "--as-of", "2024-01-01")
    ua, ub = uid_of(tunnus, a["identity_number"]), uid_of(tunnus, b["identity_number"])
    users = scim.users()
    assert set(users) == {ua, ub}
    u = users[ua]
    assert u["name"] == {"givenName": "Aino", "familyName": "Virtanen"}
    assert u["emails"][0]["value"] == f"{ua}@example.fi" and u["active"] is True
    assert u["externalId"] == a["id"]
    rec = tunnus.sql("SELECT resource_id, state FROM prov_resource WHERE person_id = ?", a["id"])
    assert rec == [(u["id"], "present")]
    modified = users[ub]["meta"]["lastModified"]
    # A change reaches the service; an unchanged resource is not written again.
    tunnus.run("person", "update", f"id:{a['id']}", "--family", "Korhonen")
    run_once(tunnus, "--as-of", "2024-01-01")
    users = scim.users()
    assert users[ua]["name"]["familyName"] == "Korhonen"
    assert users[ub]["meta"]["lastModified"] == modified
    tunnus.run("provision", "reconcile", "cloud", "--fix")
    run_once(tunnus, "--as-of", "2024-01-01")
    assert scim.users()[ub]["meta"]["lastModified"] == modified
    # Closing disables (active = false); purging deletes.
    lc(tunnus, "2024-07-08")
    run_once(tunnus, "--as-of", "2024-07-08")
    assert scim.users()[ua]["active"] is False
    lc(tunnus, "2024-08-08")
    run_once(tunnus, "--as-of", "2024-08-08")
    assert set(scim.users()) == {ub}
    assert tunnus.sql("SELECT state FROM prov_resource WHERE person_id = ?", a["id"]) == [
        ("deleted",)]


def test_scim_rejection_parks_and_bad_token_is_target_down(tunnus, scim):
    configure(tunnus, scim_target("cloud", scim.url, extra="max_attempts = 1\n"))
    a = add(tunnus, "Aino", "Virtanen")
    b = add(tunnus, "Eero", "Koski")
    scim.refuse(uid_of(tunnus, a["identity_number"]))
    run_once(tunnus)
    st = status(tunnus)["cloud"]
    assert st["parked"] == 1 and st["parked_items"][0]["person_id"] == a["id"]
    assert "400" in st["parked_items"][0]["error"]
    assert set(scim.users()) == {uid_of(tunnus, b["identity_number"])}
    # Wrong credentials: the service is unavailable to us, nothing is parked.
    configure(tunnus, scim_target("cloud", scim.url, token="wrong", extra="max_attempts = 1\n"))
    add(tunnus, "Uusi", "Henkilö")
    p = run_once(tunnus, check=False)
    assert p.returncode != 0 and "401" in p.stdout + p.stderr
    st = status(tunnus)["cloud"]
    assert st["parked"] == 1 and st["pending"] == 1


def test_ldap_close_moves_and_return_moves_back(tunnus, slapd):
    configure(tunnus, ldap_target("dir", slapd, f"on_close = move\nclosed_base = ou=closed,{SUFFIX}\n"))
    tunnus.run("policy", "apply", UNI002)
    m = add(tunnus, "Maija", "Esihenkilö", "staff", "2020-01-01")
    l = add(tunnus, "Leena", "Lähtijä", "staff", "2024-01-01", "--to", "2024-06-30",
            "--manager", f"number:{m['identity_number']}")
    lc(tunnus, "2024-01-01")
    run_once(tunnus, "--as-of", "2024-01-01")
    ul = uid_of(tunnus, l["identity_number"])
    closed = f"ou=closed,{SUFFIX}"
    assert f"uid={ul},{PEOPLE}" in slapd.search()
    lc(tunnus, "2024-07-08")
    run_once(tunnus, "--as-of", "2024-07-08")
    assert f"uid={ul},{PEOPLE}" not in slapd.search()
    moved = slapd.search(base=closed)[f"uid={ul},{closed}"]
    assert moved["sn"] == ["Lähtijä"] and "pwdaccountlockedtime" not in moved
    staff = slapd.search(base=f"ou=groups,{SUFFIX}")[f"cn=staff,ou=groups,{SUFFIX}"]
    assert f"uid={ul},{PEOPLE}" not in staff["member"]
    assert tunnus.sql("SELECT resource_id, state FROM prov_resource WHERE person_id = ?",
                      l["id"]) == [(f"uid={ul},{closed}", "present")]
    # A reconcile sees the moved entry as the registry's, not an orphan.
    p = tunnus.run("--json", "provision", "reconcile", "dir")
    assert p.stdout.strip() == ""
    tunnus.run("affiliation", "add", f"number:{l['identity_number']}", "--kind", "staff",
               "--from", "2024-07-20")
    lc(tunnus, "2024-07-20")
    run_once(tunnus, "--as-of", "2024-07-20")
    assert f"uid={ul},{PEOPLE}" in slapd.search() and slapd.search(base=closed) == {}
    staff = slapd.search(base=f"ou=groups,{SUFFIX}")[f"cn=staff,ou=groups,{SUFFIX}"]
    assert f"uid={ul},{PEOPLE}" in staff["member"]


# ---- SCIM groups (groups = kinds) -----------------------------------------------------

SCIM_GROUPS = "groups = kinds\ngroup_prefix = tn-\n"


def writes(reqs, prefix="/scim/v2/Groups"):
    """The requests that change something, without their query."""
    return [(m, p.split("?")[0]) for m, p in reqs if m != "GET" and p.startswith(prefix)]


def aff_id(t, person, kind):
    return t.sql("SELECT f.id FROM affiliation f JOIN person p ON p.number = f.person_num "
                 "WHERE p.id = ? AND f.kind = ?", person["id"], kind)[0][0]


def test_scim_groups_per_kind_minimal_patches_and_empty_group_kept(tunnus, scim):
    configure(tunnus, scim_target("cloud", scim.url, extra=SCIM_GROUPS))
    a = add(tunnus, "Aino", "Virtanen", "staff")
    b = add(tunnus, "Eero", "Koski", "staff")
    s = add(tunnus, "Sanna", "Opiskelija", "student")
    tunnus.run("affiliation", "add", f"id:{b['id']}", "--kind", "student", "--from", "2020-01-01")
    run_once(tunnus)
    ua, ub, us = (uid_of(tunnus, p["identity_number"]) for p in (a, b, s))
    assert scim.members() == {"tn-staff": sorted([ua, ub]), "tn-student": sorted([ub, us])}
    groups = scim.groups()
    # Each group was created once, with its first members (no PATCH needed).
    reqs = scim.requests()
    assert [r for r in writes(reqs)] == [("POST", "/scim/v2/Groups")] * 2
    # The ids are recorded: a restart (every run is a new process) reuses them.
    assert sorted(tunnus.sql("SELECT name, resource_id FROM prov_group WHERE target = 'cloud'")) == \
        sorted((n, g["id"]) for n, g in groups.items())

    # Delivering everybody again changes nothing: no write at all (a
    # change the target does not map makes each person due again).
    assert tunnus.run("provision", "reconcile", "cloud").stdout.strip() == ""
    scim.forget_requests()
    for p in (a, b, s):
        tunnus.run("person", "update", f"id:{p['id']}", "--language", "sv")
    assert status(tunnus)["cloud"]["unread_changes"] + status(tunnus)["cloud"]["pending"] >= 3
    run_once(tunnus)
    reqs = scim.requests()
    assert writes(reqs, "/scim/v2/") == [], reqs
    assert len([r for r in reqs if r[1].startswith("/scim/v2/Groups?filter=members")]) == 3

    # Eero's student affiliation ends: one PATCH removes him from tn-student
    # only; nobody else is touched.
    scim.forget_requests()
    tunnus.run("affiliation", "end", str(aff_id(tunnus, b, "student")), "--date", "2024-12-31")
    run_once(tunnus)
    assert scim.members() == {"tn-staff": sorted([ua, ub]), "tn-student": [us]}
    assert writes(scim.requests()) == [("PATCH", f"/scim/v2/Groups/{groups['tn-student']['id']}")]

    # The last student leaves: the group is kept, empty, under the same id.
    scim.forget_requests()
    tunnus.run("affiliation", "end", str(aff_id(tunnus, s, "student")), "--date", "2024-12-31")
    run_once(tunnus)
    assert scim.members() == {"tn-staff": sorted([ua, ub]), "tn-student": []}
    assert scim.groups()["tn-student"]["id"] == groups["tn-student"]["id"]
    assert writes(scim.requests()) == [("PATCH", f"/scim/v2/Groups/{groups['tn-student']['id']}")]
    # … and a new student joins it: a PATCH, not a second group.
    scim.forget_requests()
    n = add(tunnus, "Niilo", "Uusi", "student")
    run_once(tunnus)
    un = uid_of(tunnus, n["identity_number"])
    assert scim.members()["tn-student"] == [un]
    assert writes(scim.requests()) == [("PATCH", f"/scim/v2/Groups/{groups['tn-student']['id']}")]
    # The registry's record of what was sent, audited without member ids.
    ev = tunnus.sql("SELECT count(*) FROM audit_event WHERE action = 'provision.group'")[0][0]
    assert ev == 2


def test_scim_group_found_again_after_tunnus_lost_track(tunnus, scim):
    import sqlite3
    configure(tunnus, scim_target("cloud", scim.url, extra=SCIM_GROUPS))
    a = add(tunnus, "Aino", "Virtanen", "staff")
    run_once(tunnus)
    gid = scim.groups()["tn-staff"]["id"]
    # The group was made but its id never recorded (a crash right after
    # the POST): the next delivery finds it by displayName.
    con = sqlite3.connect(tunnus.db)
    con.execute("DELETE FROM prov_group")
    con.commit()
    con.close()
    scim.forget_requests()
    b = add(tunnus, "Eero", "Koski", "staff")
    run_once(tunnus)
    ua, ub = uid_of(tunnus, a["identity_number"]), uid_of(tunnus, b["identity_number"])
    assert scim.members() == {"tn-staff": sorted([ua, ub])}
    assert scim.groups()["tn-staff"]["id"] == gid
    assert ("POST", "/scim/v2/Groups") not in scim.requests()
    assert tunnus.sql("SELECT name, resource_id FROM prov_group") == [("tn-staff", gid)]
    # A group an administrator deleted is made again on the next need.
    scim.call("DELETE", f"/Groups/{gid}")
    c = add(tunnus, "Cecilia", "Kolmas", "staff")
    run_once(tunnus)
    uc = uid_of(tunnus, c["identity_number"])
    assert scim.members() == {"tn-staff": [uc]}
    new = scim.groups()["tn-staff"]["id"]
    assert new != gid and tunnus.sql("SELECT resource_id FROM prov_group") == [(new,)]


def test_scim_groups_close_disables_and_leaves_purge_deletes(tunnus, scim):
    configure(tunnus, scim_target("cloud", scim.url, extra=SCIM_GROUPS))
    tunnus.run("policy", "apply", UNI002)
    a = add(tunnus, "Aino", "Virtanen", "staff", "2024-01-01", "--to", "2024-06-30")
    b = add(tunnus, "Eero", "Koski", "staff", "2020-01-01")
    lc(tunnus, "2024-01-01")
    run_once(tunnus, "--as-of", "2024-01-01")
    ua, ub = uid_of(tunnus, a["identity_number"]), uid_of(tunnus, b["identity_number"])
    assert scim.members() == {"tn-staff": sorted([ua, ub])}
    # Closed: the user stays (active = false) but leaves every group.
    lc(tunnus, "2024-07-08")
    run_once(tunnus, "--as-of", "2024-07-08")
    assert scim.users()[ua]["active"] is False
    assert scim.members() == {"tn-staff": [ub]}
    # Purged: the user is deleted and is in no group (the peer does not
    # tidy up by itself).
    lc(tunnus, "2024-08-08")
    run_once(tunnus, "--as-of", "2024-08-08")
    assert set(scim.users()) == {ub}
    assert [m["value"] for m in scim.groups()["tn-staff"]["members"]] == [scim.users()[ub]["id"]]


def test_scim_groups_deleted_user_leaves_its_groups(tunnus, scim):
    configure(tunnus, scim_target("cloud", scim.url, extra=SCIM_GROUPS + "on_close = delete\n"))
    tunnus.run("policy", "apply", UNI002)
    a = add(tunnus, "Aino", "Virtanen", "staff", "2024-01-01", "--to", "2024-06-30")
    b = add(tunnus, "Eero", "Koski", "staff", "2020-01-01")
    lc(tunnus, "2024-01-01")
    run_once(tunnus, "--as-of", "2024-01-01")
    uid_a = scim.users()[uid_of(tunnus, a["identity_number"])]["id"]
    lc(tunnus, "2024-07-08")
    run_once(tunnus, "--as-of", "2024-07-08")
    ub = uid_of(tunnus, b["identity_number"])
    assert set(scim.users()) == {ub}
    members = [m["value"] for m in scim.groups()["tn-staff"]["members"]]
    assert uid_a not in members and members == [scim.users()[ub]["id"]]


def test_scim_group_drift_reconciled(tunnus, scim):
    configure(tunnus, scim_target("cloud", scim.url, extra=SCIM_GROUPS))
    a = add(tunnus, "Aino", "Virtanen", "staff")
    b = add(tunnus, "Eero", "Koski", "staff")
    s = add(tunnus, "Sanna", "Opiskelija", "student")
    run_once(tunnus)
    ua, ub, us = (uid_of(tunnus, p["identity_number"]) for p in (a, b, s))
    users = scim.users()
    groups = scim.groups()
    assert tunnus.run("provision", "reconcile", "cloud").stdout.strip() == ""
    # By hand at the service: Aino out of tn-staff, Sanna (a student) and
    # an account tunnus never made into it.
    stranger = scim.call("POST", "/Users", {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "stranger"})
    scim.call("PATCH", f"/Groups/{groups['tn-staff']['id']}", {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "remove", "path": f'members[value eq "{users[ua]["id"]}"]'},
            {"op": "add", "path": "members",
             "value": [{"value": users[us]["id"]}, {"value": stranger["id"]}]}]})
    # … and Aino into tn-student.
    scim.call("PATCH", f"/Groups/{groups['tn-student']['id']}", {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": users[ua]["id"]}]}]})
    p = tunnus.run("--json", "provision", "reconcile", "cloud")
    found = sorted((f["kind"], f["resource"], f["person_id"], f["detail"])
                   for f in map(json.loads, p.stdout.splitlines()))
    assert found == sorted([
        ("member-missing", "tn-staff", a["id"], users[ua]["id"]),
        ("member-extra", "tn-student", a["id"], users[ua]["id"]),
        ("member-extra", "tn-staff", s["id"], users[us]["id"]),
        ("member-extra", "tn-staff", "", stranger["id"]),
        ("orphan", "stranger", "", "no registry record"),
    ]), found
    tunnus.run("provision", "reconcile", "cloud", "--fix")
    # Aino's two findings are one delivery.
    assert tunnus.sql("SELECT COUNT(*) FROM audit_event WHERE action = 'provision.enqueue'")[0][0] == 2
    run_once(tunnus)
    # tunnus's own users are back where they belong; the stranger, whom
    # tunnus never made, is only reported.
    assert scim.members() == {"tn-staff": sorted([ua, ub, "stranger"]), "tn-student": [us]}
    p = tunnus.run("--json", "provision", "reconcile", "cloud")
    assert sorted(json.loads(x)["kind"] for x in p.stdout.splitlines()) == [
        "member-extra", "orphan"]


def test_scim_groups_killed_mid_delivery_one_group_every_member_once(tunnus, scim):
    configure(tunnus, scim_target("cloud", scim.url, extra=SCIM_GROUPS + "batch = 20\n"))
    n = 300
    lines = ["source_key,given_names,family_name,valid_from,username"]
    lines += [f"S{i:05d},Etu{letters(i)},Suku{letters(i)},2020-01-01,user{i:05d}"
              for i in range(n)]
    (tunnus.dir / "hr.csv").write_text("\n".join(lines) + "\n")
    tunnus.run("import", "--source", "hr", "--kind", "staff", "hr.csv")
    proc = subprocess.Popen([BIN, "--db", str(tunnus.db), "provision", "run"], cwd=tunnus.dir,
                            stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and len(scim.members().get("tn-staff", [])) < 60:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < len(scim.members()["tn-staff"]) < n
    run_once(tunnus)
    users = scim.users()
    assert len(users) == n
    # One group (groups() refuses two of a name), every user in it, and
    # nothing made twice: a user and the group were each POSTed once.
    assert scim.members() == {"tn-staff": sorted(users)}
    reqs = scim.requests()
    assert len([r for r in reqs if r == ("POST", "/scim/v2/Users")]) == n
    assert len([r for r in reqs if r == ("POST", "/scim/v2/Groups")]) == 1
    assert tunnus.sql("SELECT name FROM prov_group") == [("tn-staff",)]
    st = status(tunnus)["cloud"]
    assert st["pending"] == 0 and st["resources"] == n


def test_scim_groups_strict_service_that_tidies_up_itself(tunnus, scim):
    """A service that drops a deleted user's memberships by itself and
    refuses (400 noTarget) a PATCH removing a member who is not there:
    tunnus's leave for the deleted user is refused, sent alone, counted as
    done, and the join in the same request still happens."""
    scim.mode(strict=True, tidy=True)
    configure(tunnus, scim_target("cloud", scim.url, extra=SCIM_GROUPS + "on_close = delete\n"))
    tunnus.run("policy", "apply", UNI002)
    a = add(tunnus, "Aino", "Virtanen", "staff", "2024-01-01", "--to", "2024-06-30")
    b = add(tunnus, "Eero", "Koski", "staff", "2020-01-01")
    lc(tunnus, "2024-01-01")
    run_once(tunnus, "--as-of", "2024-01-01")
    ua, ub = uid_of(tunnus, a["identity_number"]), uid_of(tunnus, b["identity_number"])
    assert scim.members() == {"tn-staff": sorted([ua, ub])}
    gid = scim.groups()["tn-staff"]["id"]
    c = add(tunnus, "Cecilia", "Kolmas", "staff", "2024-07-01")
    lc(tunnus, "2024-07-08")
    scim.forget_requests()
    run_once(tunnus, "--as-of", "2024-07-08")
    uc = uid_of(tunnus, c["identity_number"])
    assert set(scim.users()) == {ub, uc}
    assert scim.members() == {"tn-staff": sorted([ub, uc])}
    # The joint PATCH (refused), the leave alone (refused: done), the join.
    assert writes(scim.requests()) == [("PATCH", f"/scim/v2/Groups/{gid}")] * 3
    st = status(tunnus)["cloud"]
    assert st["pending"] == 0 and st["parked"] == 0


def test_scim_group_refusing_one_member_parks_that_person_only(tunnus, scim):
    configure(tunnus, scim_target("cloud", scim.url, extra=SCIM_GROUPS + "max_attempts = 2\n"))
    a = add(tunnus, "Aino", "Virtanen", "staff")
    run_once(tunnus)
    ua = uid_of(tunnus, a["identity_number"])
    # Among three new staff, the service will not have Eero in any group:
    # the joint PATCH is refused, the others join one by one.
    b = add(tunnus, "Eero", "Koski", "staff")
    c = add(tunnus, "Cecilia", "Kolmas", "staff")
    d = add(tunnus, "Daniel", "Neljäs", "staff")
    ub, uc, ud = (uid_of(tunnus, p["identity_number"]) for p in (b, c, d))
    scim.refuse_member(ub)
    run_once(tunnus)
    assert scim.members() == {"tn-staff": sorted([ua, uc, ud])}
    assert ub in scim.users()           # the user itself was delivered
    st = status(tunnus)["cloud"]
    assert st["pending"] == 1 and st["parked"] == 0
    # Its retry is refused too: parked, with the service's reason.
    time.sleep(1.1)
    run_once(tunnus)
    st = status(tunnus)["cloud"]
    assert st["parked"] == 1 and st["parked_items"][0]["person_id"] == b["id"]
    assert "tn-staff" in st["parked_items"][0]["error"]
    assert "may not join" in st["parked_items"][0]["error"]
    # Forgiven and released: it joins.
    scim.refuse_member(None)
    tunnus.run("provision", "retry", "--all-parked")
    run_once(tunnus)
    assert scim.members() == {"tn-staff": sorted([ua, ub, uc, ud])}
    st = status(tunnus)["cloud"]
    assert st["pending"] == 0 and st["parked"] == 0


def test_scim_groups_per_org_unit(tunnus, scim):
    configure(tunnus, scim_target("cloud", scim.url, extra="groups = kinds, units\n"
                                  "group_prefix = tn-\n"))
    units(tunnus)
    a = add(tunnus, "Aino", "Virtanen", "staff", "2020-01-01", "--org-unit", "Sivistys/Perusopetus")
    tunnus.run("affiliation", "add", f"id:{a['id']}", "--kind", "staff", "--from", "2020-01-01",
               "--org-unit", ODD_UNIT)
    b = add(tunnus, "Eero", "Koski", "student", "2020-01-01", "--org-unit", "Sivistys/Perusopetus")
    run_once(tunnus)
    ua, ub = uid_of(tunnus, a["identity_number"]), uid_of(tunnus, b["identity_number"])
    odd = unit_cn(tunnus, ODD_UNIT)
    assert scim.members() == {"tn-staff": [ua], "tn-student": [ub],
                              "tn-unit-sivistys-perusopetus": sorted([ua, ub]),
                              f"tn-{odd}": [ua]}
    tunnus.run("affiliation", "end", str(aff_in(tunnus, a, ODD_UNIT)), "--date", "2024-12-31")
    run_once(tunnus)
    # Out of that unit's group only; the SCIM Group is kept, empty.
    assert scim.members() == {"tn-staff": [ua], "tn-student": [ub],
                              "tn-unit-sivistys-perusopetus": sorted([ua, ub]),
                              f"tn-{odd}": []}
    assert tunnus.run("provision", "reconcile", "cloud").stdout.strip() == ""
    # groups = units alone: the kind groups are tunnus's (recorded), so
    # reconciliation reports their members as extra and --fix takes them
    # out; the Groups are kept, empty.
    configure(tunnus, scim_target("cloud", scim.url, extra="groups = units\n"
                                  "group_prefix = tn-\n"))
    out = tunnus.run("provision", "reconcile", "cloud").stdout
    assert "member-extra" in out and "tn-staff" in out and "tn-student" in out
    tunnus.run("provision", "reconcile", "cloud", "--fix")
    run_once(tunnus)
    assert scim.members() == {"tn-staff": [], "tn-student": [],
                              "tn-unit-sivistys-perusopetus": sorted([ua, ub]),
                              f"tn-{odd}": []}
    assert tunnus.run("provision", "reconcile", "cloud").stdout.strip() == ""
