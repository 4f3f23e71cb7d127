"""ou=groups and memberOf (issue 6 item 3) with real clients: groups derived
from org units, affiliation kinds, schools, classes and teaching groups;
members follow the affiliations in force; gidNumbers stay put."""
import base64

import ldap3
import pytest

from test_ldap import ROOT, BASE, Server, audit, dn, registry

GROUPS = "ou=groups," + BASE


def gdn(cn):
    return f"cn={cn},{GROUPS}"


def add_pupil(t):
    t.run("person", "add", "--given", "Pekka", "--family", "Pupu", "--birth-date", "2012-02-02",
          "--kind", "pupil", "--from", "2020-08-01", "--source", "wilma", "--key", "P1",
          "--school", "03022 Ylikylän koulu", "--class", "9B", "--groups", "9B-BI;9B-MA",
          "--username", "pekka")
    t.run("account", "passwd", "pekka", input="Pupu-1234\n")


@pytest.fixture
def gsrv(tunnus):
    registry(tunnus)
    add_pupil(tunnus)
    s = Server(tunnus)
    yield s
    s.stop()


def attrs_of(out):
    """dn -> {attr: [values]} from ldapsearch -LLL -o ldif-wrap=no output."""
    res, cur = {}, None
    for line in out.splitlines():
        if ": " not in line:
            continue
        k, v = line.split(": ", 1)
        if k.endswith(":"):  # base64 (non-ASCII values)
            k, v = k[:-1], base64.b64decode(v).decode()
        if k == "dn":
            cur = res.setdefault(v, {})
        elif cur is not None:
            cur.setdefault(k, []).append(v)
    return res


def gsearch(s, *args, base=GROUPS):
    p = s.search("-o", "ldif-wrap=no", "-b", base, *args)
    assert p.returncode == 0, p.stderr
    return attrs_of(p.stdout)


def test_groups_listed(gsrv, tunnus):
    got = gsearch(gsrv, "-s", "one", "(objectClass=posixGroup)")
    cns = {d.split(",")[0][3:] for d in got}
    # org units, kinds, the school, its class and teaching groups
    assert {"unit-hr", "unit-it", "staff", "student", "pupil", "school-03022-ylikylän-koulu",
            "class-03022-ylikylän-koulu-9b", "tgroup-03022-ylikylän-koulu-9b-bi",
            "tgroup-03022-ylikylän-koulu-9b-ma"} <= cns
    staff = got[gdn("staff")]
    assert set(staff["objectClass"]) == {"top", "groupOfNames", "posixGroup"}
    assert staff["member"] == [dn("maija")] and staff["memberUid"] == ["maija"]
    assert int(staff["gidNumber"][0]) >= 1000000000
    student = got[gdn("student")]
    assert sorted(student["memberUid"]) == ["olli", "teppo"]
    cls = got[gdn("class-03022-ylikylän-koulu-9b")]
    assert cls["memberUid"] == ["pekka"] and "9B" in cls["description"][0]
    # every gidNumber distinct, and none is a person's
    gids = [int(v["gidNumber"][0]) for v in got.values()]
    assert len(set(gids)) == len(gids)
    # each group shown is audited as a read without a subject
    n = tunnus.sql("SELECT count(*) FROM audit_event WHERE action = 'dir.read' "
                   "AND subject_id IS NULL AND detail LIKE 'group %'")[0][0]
    assert n >= len(got)


def test_group_lookup_and_member_filter(gsrv):
    got = gsearch(gsrv, "(cn=STAFF)", "cn")
    assert list(got) == [gdn("staff")]
    got = gsearch(gsrv, f"(member={dn('teppo')})", "cn")
    assert set(got) == {gdn("student"), gdn("unit-it")}
    got = gsearch(gsrv, "(&(memberUid=pekka)(cn=tgroup-*))", "cn")
    assert set(got) == {gdn("tgroup-03022-ylikylän-koulu-9b-bi"),
                        gdn("tgroup-03022-ylikylän-koulu-9b-ma")}
    # base scope on a group, and a group nobody is in does not exist
    got = gsearch(gsrv, "-s", "base", "(objectClass=*)", base=gdn("unit-hr"))
    assert list(got) == [gdn("unit-hr")]
    p = gsrv.search("-b", gdn("nosuch"), "-s", "base", "(objectClass=*)")
    assert p.returncode == 32


def test_scopes_across_branches(gsrv):
    one = gsearch(gsrv, "-s", "one", "(objectClass=*)", "1.1", base=BASE)
    assert set(one) == {"ou=people," + BASE, GROUPS}
    sub = gsearch(gsrv, "-s", "sub", "(objectClass=*)", "1.1", base=BASE)
    assert GROUPS in sub and gdn("staff") in sub and dn("maija") in sub
    people = gsearch(gsrv, "-s", "sub", "(objectClass=*)", "1.1", base="ou=people," + BASE)
    assert not any(d.endswith(GROUPS) for d in people)
    groups = gsearch(gsrv, "-s", "sub", "(uid=*)", "1.1")
    assert groups == {}
    # paged over everything: the same entries, each once
    p = gsrv.search("-o", "ldif-wrap=no", "-E", "pr=3/noprompt", "-b", BASE, "(objectClass=*)",
                    "1.1")
    assert p.returncode == 0, p.stderr
    paged = [line for line in p.stdout.splitlines() if line.startswith("dn:")]
    assert len(paged) == len(set(paged)) and len(set(paged)) == len(sub)
    assert set(attrs_of(p.stdout)) == set(sub)


def test_member_of(gsrv):
    # operational: not with *, with + or by name
    got = gsearch(gsrv, "(uid=pekka)", base="ou=people," + BASE)
    assert "memberOf" not in got[dn("pekka")]
    got = gsearch(gsrv, "(uid=pekka)", "memberOf", base="ou=people," + BASE)
    assert set(got[dn("pekka")]["memberOf"]) == {
        gdn("pupil"), gdn("school-03022-ylikylän-koulu"), gdn("class-03022-ylikylän-koulu-9b"),
        gdn("tgroup-03022-ylikylän-koulu-9b-bi"), gdn("tgroup-03022-ylikylän-koulu-9b-ma")}
    got = gsearch(gsrv, "-s", "base", "(objectClass=*)", "+", base=dn("maija"))
    assert set(got[dn("maija")]["memberOf"]) == {gdn("staff"), gdn("unit-hr")}
    # filter on memberOf (a scan)
    got = gsearch(gsrv, f"(memberOf={gdn('student')})", "1.1", base="ou=people," + BASE)
    assert set(got) == {dn("teppo"), dn("olli")}
    # python3-ldap3
    c = gsrv.conn()
    assert c.bind()
    c.search(GROUPS, "(cn=unit-hr)", attributes=["member", "gidNumber", "description"])
    assert len(c.entries) == 1 and c.entries[0].member.values == [dn("maija")]
    assert c.compare(gdn("staff"), "memberUid", "maija") is True
    assert c.compare(gdn("staff"), "memberUid", "teppo") is False
    c.search(dn("teppo"), "(objectClass=*)", search_scope=ldap3.BASE, attributes=["memberOf"])
    assert set(c.entries[0].memberOf.values) == {gdn("student"), gdn("unit-it")}
    c.unbind()


def test_membership_follows_registry(tunnus):
    registry(tunnus)
    add_pupil(tunnus)
    s = Server(tunnus)
    try:
        before = gsearch(s, "(cn=*)", "gidNumber")
        gids = {d: v["gidNumber"][0] for d, v in before.items()}
        assert sorted(gsearch(s, "(cn=student)", "memberUid")[gdn("student")]["memberUid"]) == \
            ["olli", "teppo"]
        # olli's relationship ends yesterday; a lifecycle step runs
        aff = tunnus.sql("SELECT f.id FROM affiliation f JOIN account a ON "
                         "a.person_num = f.person_num WHERE a.username = 'olli'")[0][0]
        tunnus.run("affiliation", "end", str(aff), "--date", "2024-01-01", "--reason", "graduated")
        tunnus.run("policy", "apply", str(ROOT / "examples" / "policies" / "demo.json"))
        tunnus.run("lifecycle", "run")
    finally:
        s.stop()
    s = Server(tunnus)
    try:
        after = gsearch(s, "(cn=student)", "memberUid", "gidNumber")
        assert after[gdn("student")]["memberUid"] == ["teppo"]
        # gidNumbers stable across the restart and the change
        again = gsearch(s, "(cn=*)", "gidNumber")
        for d, v in again.items():
            assert gids[d] == v["gidNumber"][0]
        got = gsearch(s, "(uid=olli)", "memberOf", base="ou=people," + BASE)
        assert "memberOf" not in got.get(dn("olli"), {})
        # a new relationship makes a new group with a new number
        tunnus.run("affiliation", "add", "username:teppo", "--kind", "pupil", "--from",
                   "2020-01-01", "--school", "Uusi koulu", "--class", "1A")
        new = gsearch(s, "(cn=class-uusi-koulu-1a)", "gidNumber")
        assert int(new[gdn("class-uusi-koulu-1a")]["gidNumber"][0]) > max(
            int(g) for g in gids.values())
    finally:
        s.stop()
    assert audit(tunnus, "dir.read") > 0
