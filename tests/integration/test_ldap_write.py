"""LDAP writes (issue 6 item 2): a modify changes what the bound person may
edit of their own entry (REG-5: telephoneNumber, preferredLanguage),
atomically; everything else is insufficientAccessRights, on record."""
import ldap3
import pytest

from test_ldap import PEOPLE, Server, audit, dn, registry


@pytest.fixture
def srv(tunnus):
    registry(tunnus)
    s = Server(tunnus)
    yield s
    s.stop()


def modify(srv, ldif, bind="maija"):
    return srv.tool("ldapmodify", bind=bind, input=ldif)


def phone_of(srv, uid, bind="maija"):
    out = srv.search("-b", PEOPLE, f"(uid={uid})", "telephoneNumber", "preferredLanguage",
                     bind=bind).stdout
    vals = {}
    for line in out.splitlines():
        if ": " in line and not line.startswith("dn:"):
            k, v = line.split(": ", 1)
            vals[k] = v
    return vals


def test_own_phone_replace_delete_add(srv, tunnus):
    p = modify(srv, f"dn: {dn('maija')}\nchangetype: modify\n"
                    "replace: telephoneNumber\ntelephoneNumber: 050 765 4321\n")
    assert p.returncode == 0, p.stderr
    assert phone_of(srv, "maija")["telephoneNumber"] == "+358507654321"
    # The registry holds the change, with its audit event on the LDAP channel.
    assert tunnus.json("person", "show", "username:maija")["phone"] == "+358507654321"
    n = tunnus.sql("SELECT count(*) FROM audit_event WHERE action = 'person.update' "
                   "AND channel = 'ldap' AND result = 'allowed'")[0][0]
    assert n == 1
    # Delete with the wrong value: noSuchAttribute, nothing changes.
    p = modify(srv, f"dn: {dn('maija')}\nchangetype: modify\n"
                    "delete: telephoneNumber\ntelephoneNumber: +358401111111\n")
    assert p.returncode == 16
    # Delete with the value written in another form matches (phone syntax).
    p = modify(srv, f"dn: {dn('maija')}\nchangetype: modify\n"
                    "delete: telephoneNumber\ntelephoneNumber: +358 50 765 4321\n")
    assert p.returncode == 0, p.stderr
    assert "telephoneNumber" not in phone_of(srv, "maija")
    # Add to an empty single-valued attribute works; a second add does not.
    p = modify(srv, f"dn: {dn('maija')}\nchangetype: modify\n"
                    "add: telephoneNumber\ntelephoneNumber: 0401234567\n")
    assert p.returncode == 0, p.stderr
    p = modify(srv, f"dn: {dn('maija')}\nchangetype: modify\n"
                    "add: telephoneNumber\ntelephoneNumber: 0409999999\n")
    assert p.returncode == 19  # constraintViolation: single-valued
    p = modify(srv, f"dn: {dn('maija')}\nchangetype: modify\n"
                    "add: telephoneNumber\ntelephoneNumber: +358401234567\n")
    assert p.returncode == 20  # attributeOrValueExists
    assert phone_of(srv, "maija")["telephoneNumber"] == "+358401234567"


def test_modify_is_atomic(srv, tunnus):
    before = tunnus.json("person", "show", "username:maija")
    # A valid language change together with an invalid phone: neither applies.
    p = modify(srv, f"dn: {dn('maija')}\nchangetype: modify\n"
                    "replace: preferredLanguage\npreferredLanguage: sv\n-\n"
                    "replace: telephoneNumber\ntelephoneNumber: not a number\n")
    assert p.returncode == 21, p.stderr  # invalidAttributeSyntax
    assert "telephoneNumber" in p.stderr
    after = tunnus.json("person", "show", "username:maija")
    assert after["language"] == before["language"] and after["phone"] == before["phone"]
    # A writable and a non-writable attribute together: refused whole.
    p = modify(srv, f"dn: {dn('maija')}\nchangetype: modify\n"
                    "replace: preferredLanguage\npreferredLanguage: sv\n-\n"
                    "replace: title\ntitle: Johtaja\n")
    assert p.returncode == 50
    assert tunnus.json("person", "show", "username:maija")["language"] == before["language"]
    # Both writable: one event for both.
    p = modify(srv, f"dn: {dn('maija')}\nchangetype: modify\n"
                    "replace: preferredLanguage\npreferredLanguage: sv\n-\n"
                    "replace: telephoneNumber\ntelephoneNumber: 0401112222\n")
    assert p.returncode == 0, p.stderr
    after = tunnus.json("person", "show", "username:maija")
    assert after["language"] == "sv" and after["phone"] == "+358401112222"
    rows = tunnus.sql("SELECT attrs FROM audit_event WHERE action = 'person.update' "
                      "AND channel = 'ldap'")
    assert len(rows) == 1 and "phone" in rows[0][0] and "language" in rows[0][0]


def test_refusals_are_insufficient_access_and_audited(srv, tunnus):
    denied0 = audit(tunnus, "dir.modify", "denied")
    # Another person's phone.
    p = modify(srv, f"dn: {dn('teppo')}\nchangetype: modify\n"
                    "replace: telephoneNumber\ntelephoneNumber: 0401234567\n")
    assert p.returncode == 50
    # Own name: not writable over LDAP.
    p = modify(srv, f"dn: {dn('maija')}\nchangetype: modify\nreplace: sn\nsn: Muu\n")
    assert p.returncode == 50
    assert audit(tunnus, "dir.modify", "denied") == denied0 + 1
    assert tunnus.sql("SELECT count(*) FROM audit_event WHERE action = 'person.update' "
                      "AND result = 'denied'")[0][0] == 1
    # Unknown attribute type.
    p = modify(srv, f"dn: {dn('maija')}\nchangetype: modify\nreplace: fooBar\nfooBar: 1\n")
    assert p.returncode == 17
    # Add, delete and rename: the tree is the registry's.
    p = srv.tool("ldapdelete", dn("teppo"), bind="maija")
    assert p.returncode == 50
    p = modify(srv, f"dn: uid=uusi,{PEOPLE}\nchangetype: add\nobjectClass: inetOrgPerson\n"
                    "uid: uusi\ncn: Uusi\nsn: Uusi\n")
    assert p.returncode == 50
    p = srv.tool("ldapmodrdn", dn("maija"), "uid=maija2", bind="maija")
    assert p.returncode == 50
    for action in ("dir.delete", "dir.add", "dir.moddn"):
        assert audit(tunnus, action, "denied") == 1
    # Anonymous may not write either, and no entry is missing a change.
    p = srv.tool("ldapmodify", input=f"dn: {dn('maija')}\nchangetype: modify\n"
                                     "replace: telephoneNumber\ntelephoneNumber: 0401234567\n")
    assert p.returncode == 50
    assert phone_of(srv, "maija")["telephoneNumber"] == "+358401234567"
    # No such entry.
    p = modify(srv, f"dn: uid=ghost,{PEOPLE}\nchangetype: modify\n"
                    "replace: telephoneNumber\ntelephoneNumber: 0401234567\n")
    assert p.returncode == 32
    assert srv.alive()


def test_ldap3_modify_own_language(srv, tunnus):
    c = srv.conn("teppo")
    assert c.bind()
    assert c.modify(dn("teppo"), {"preferredLanguage": [(ldap3.MODIFY_REPLACE, ["en"])]})
    assert tunnus.json("person", "show", "username:teppo")["language"] == "en"
    assert not c.modify(dn("teppo"), {"preferredLanguage": [(ldap3.MODIFY_INCREMENT, [1])]})
    assert c.result["result"] == 19
    c.unbind()
