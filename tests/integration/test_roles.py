"""tunnus role grant|revoke|list (AZ-2..4) and person report-error|errors|
error-close (PR-4): validity dates evaluated at use, precise errors that
write nothing, and an audit event for each change. National IDs are
synthetic and never printed."""
import json

from conftest import hetu

AS_OF = "2026-03-02"


def prepare(t):
    t.run("orgunit", "add", "city", "--name", "City")
    t.run("orgunit", "add", "city/school", "--name", "School", "--parent", "city")
    t.run("--as-of", AS_OF, "person", "add", "--given", "Aino", "--family", "Laine",
          "--national-id", "-", input=hetu("010180", "-", 941) + "\n")
    t.run("--as-of", AS_OF, "person", "add", "--given", "Eino", "--family", "Laine")


def lines(p):
    return [json.loads(x) for x in p.stdout.splitlines() if x.strip()]


def test_grant_list_revoke_with_validity(tunnus):
    prepare(tunnus)
    g = tunnus.json("--as-of", AS_OF, "role", "grant", "number:1", "unit_admin", "--unit",
                    "city/school", "--to", "2026-03-31", "--reason", "principal")
    assert g["role"] == "unit_admin" and g["unit"] == "city/school"
    assert g["valid_from"] == AS_OF and g["valid_to"] == "2026-03-31"
    assert g["status"] == "active"
    later = tunnus.json("--as-of", AS_OF, "role", "grant", "number:2", "auditor", "--from",
                        "2026-04-01")
    assert later["status"] == "future"

    # The same grants seen on other days: nothing ran in between.
    def statuses(day):
        p = tunnus.run("--as-of", day, "--json", "role", "list")
        return {x["id"]: x["status"] for x in lines(p)}
    assert statuses(AS_OF) == {g["id"]: "active", later["id"]: "future"}
    assert statuses("2026-04-01") == {g["id"]: "expired", later["id"]: "active"}

    one = lines(tunnus.run("--as-of", AS_OF, "--json", "role", "list", "number:2"))
    assert [x["id"] for x in one] == [later["id"]]

    r = tunnus.json("--as-of", AS_OF, "role", "revoke", str(g["id"]))
    assert r["status"] == "revoked" and r["revoked_on"] == AS_OF
    again = tunnus.run("--as-of", AS_OF, "role", "revoke", str(g["id"]), check=False)
    assert again.returncode == 7
    assert tunnus.run("role", "revoke", "999", check=False).returncode == 4

    events = tunnus.sql("SELECT action, result FROM audit_event WHERE action LIKE 'role.%'")
    assert ("role.grant", "allowed") in events and ("role.revoke", "allowed") in events
    assert sum(1 for a, _ in events if a == "role.grant") == 2


def test_bad_grants_write_nothing(tunnus):
    prepare(tunnus)
    cases = [
        (["number:1", "root"], 3, "role"),
        (["number:1", "unit_admin"], 3, "unit"),
        (["number:1", "helpdesk", "--unit", "city"], 3, "unit"),
        (["number:1", "unit_admin", "--unit", "nowhere"], 4, "unit"),
        (["number:1", "dpo", "--from", "2026-04-02", "--to", "2026-04-01"], 3, "valid_to"),
        (["number:1", "dpo", "--to", "2025-01-01"], 3, "valid_to"),
        (["number:9", "dpo"], 4, None),
    ]
    for args, code, field in cases:
        p = tunnus.run("--as-of", AS_OF, "--json", "role", "grant", *args, check=False)
        assert p.returncode == code, args
        if field:
            assert json.loads(p.stderr)["error"]["field"] == field
    assert tunnus.sql("SELECT count(*) FROM role_grant") == [(0,)]
    assert tunnus.run("role", "grant", "number:1", check=False).returncode == 2


def test_error_reports(tunnus):
    prepare(tunnus)
    r = tunnus.json("person", "report-error", "number:1", "--attribute", "phone",
                    "--description", "the number is my old one")
    assert r["state"] == "open" and r["attribute"] == "phone"
    bad = tunnus.run("--json", "person", "report-error", "number:1", "--attribute", "phone",
                     "--description", "my id is " + hetu("010180", "-", 941), check=False)
    assert bad.returncode == 3 and json.loads(bad.stderr)["error"]["field"] == "description"
    assert hetu("010180", "-", 941) not in bad.stderr + bad.stdout
    assert tunnus.run("person", "report-error", "number:1", "--attribute", "shoe",
                      "--description", "x", check=False).returncode == 3
    assert tunnus.sql("SELECT count(*) FROM error_report") == [(1,)]

    open_ = lines(tunnus.run("--json", "person", "errors", "--state", "open"))
    assert [x["id"] for x in open_] == [r["id"]]
    c = tunnus.json("person", "error-close", str(r["id"]), "--resolved", "--resolution",
                    "phone corrected")
    assert c["state"] == "resolved"
    assert lines(tunnus.run("--json", "person", "errors", "--state", "open")) == []
    assert tunnus.run("person", "error-close", str(r["id"]), "--rejected", "--resolution",
                      "x", check=False).returncode == 7
    # The audit event says a description exists, never its text.
    rows = tunnus.sql("SELECT changes FROM audit_event WHERE action = 'person.error_report'")
    assert len(rows) == 1 and "old one" not in rows[0][0]
