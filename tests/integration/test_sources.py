"""tunnus source add|list: the sources registry, and how the import uses it
(kind, precedence for shared attributes, owned attributes, known units).
National IDs are synthetic and never printed."""
import json

from conftest import hetu

AS_OF = "2026-11-01"
HEAD = ("source_key,national_id,given_names,family_name,email,org_unit,title,programme,"
        "valid_from,valid_to\n")
NID = hetu("150375", "-", 931)


def feed(tmp, name, *rows):
    p = tmp / name
    p.write_text(HEAD + "".join(r + "\n" for r in rows), encoding="utf-8")
    return p


def imp(t, source, path, *extra, check=True):
    return t.run("--as-of", AS_OF, "--json", "import", "--source", source, *extra, path,
                 check=check)


def person(t):
    return t.sql("SELECT given_names, family_name, email FROM person")


def test_add_list_and_audit(tunnus):
    tunnus.run("source", "add", "hr", "--kind", "staff", "--owns", "title, org_unit,given_names",
               "--require-known-units")
    tunnus.run("source", "add", "sis", "--kind", "student", "--precedence", "60")
    rows = [json.loads(l) for l in tunnus.run("--json", "source", "list").stdout.splitlines()]
    assert rows == [
        {"name": "hr", "kind": "staff", "owns": "given_names,org_unit,title", "precedence": 50,
         "require_known_units": True},
        {"name": "sis", "kind": "student", "owns": "", "precedence": 60,
         "require_known_units": False}]
    events = lambda: tunnus.sql("SELECT count(*) FROM audit_event WHERE action = 'source.add'")[0][0]
    assert events() == 2
    tunnus.run("source", "add", "sis", "--kind", "student", "--precedence", "60")
    assert events() == 2  # unchanged: no event
    tunnus.run("source", "add", "sis", "--kind", "student", "--precedence", "61")
    assert events() == 3


def test_add_errors(tunnus):
    p = tunnus.run("--json", "source", "add", "hr", "--kind", "staff", "--owns", "salary",
                   check=False)
    err = json.loads(p.stderr)["error"]
    assert p.returncode != 0 and err["field"] == "owns" and "unknown attribute salary" in err["message"]
    p = tunnus.run("--json", "source", "add", "hr", "--kind", "staff", "--owns", "title,title",
                   check=False)
    assert json.loads(p.stderr)["error"]["message"] == "title is named twice"
    p = tunnus.run("source", "add", "hr", "--kind", "staff", "--precedence", "x", check=False)
    assert p.returncode != 0
    p = tunnus.run("--json", "source", "add", "Bad Name", "--kind", "staff", check=False)
    assert json.loads(p.stderr)["error"]["field"] == "name"
    assert tunnus.sql("SELECT count(*) FROM source")[0][0] == 0


def test_kind_and_known_units_from_registry(tunnus, tmp_path):
    tunnus.run("orgunit", "add", "city", "--name", "City")
    tunnus.run("source", "add", "hr", "--kind", "staff", "--require-known-units")
    f = feed(tmp_path, "hr.csv", f"E1,{NID},Anna,Virtanen,,city,Lehtori,,2020-01-01,",
             "E2,,Pekka,Nieminen,,nowhere,Lehtori,,2020-01-01,")
    s = json.loads(imp(tunnus, "hr", f).stdout)  # no --kind: the registered one
    assert (s["kind"], s["created"], s["rejected"]) == ("staff", 1, 1)
    assert tunnus.sql("SELECT kind FROM affiliation") == [("staff",)]
    p = imp(tunnus, "hr", f, "--kind", "student", check=False)
    assert p.returncode != 0
    assert json.loads(p.stderr)["error"]["message"] == "source hr is registered with kind staff"


def test_precedence(tunnus, tmp_path):
    hr = feed(tmp_path, "hr.csv", f"E1,{NID},Anna,Virtanen,,city,Lehtori,,2020-01-01,")
    sis = feed(tmp_path, "sis.csv", f"S1,{NID},Anna,Laine,,uni,,Math,2021-01-01,")
    imp(tunnus, "hr", hr, "--kind", "staff")
    imp(tunnus, "sis", sis, "--kind", "student")
    assert person(tunnus) == [("Anna", "Virtanen", "")]  # built-in: hr outranks sis
    tunnus.run("source", "add", "sis", "--kind", "student", "--precedence", "60")
    s = json.loads(imp(tunnus, "sis", sis).stdout)
    assert s["updated"] == 1
    assert person(tunnus) == [("Anna", "Laine", "")]
    s = json.loads(imp(tunnus, "hr", hr, "--kind", "staff").stdout)
    assert s["unchanged"] == 1  # hr no longer governs the name
    assert person(tunnus) == [("Anna", "Laine", "")]


def test_owned_attributes(tunnus, tmp_path):
    hr = feed(tmp_path, "hr.csv", f"E1,{NID},Anna,Virtanen,a@example.fi,city,Lehtori,,2020-01-01,")
    imp(tunnus, "hr", hr, "--kind", "staff")
    tunnus.run("source", "add", "hr", "--kind", "staff", "--owns", "email,title")
    hr2 = feed(tmp_path, "hr2.csv",
               f"E1,{NID},Anne,Korhonen,b@example.fi,city/new,Rehtori,,2020-01-01,")
    s = json.loads(imp(tunnus, "hr", hr2).stdout)
    assert s["updated"] == 1
    # names are not hr's any more; the e-mail is
    assert person(tunnus) == [("Anna", "Virtanen", "b@example.fi")]
    # title is owned, org_unit is not: it keeps its recorded value
    assert tunnus.sql("SELECT title, org_unit FROM affiliation") == [("Rehtori", "city")]
    s = json.loads(imp(tunnus, "hr", hr2).stdout)
    assert s["unchanged"] == 1
