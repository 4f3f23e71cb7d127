"""tunnus import --mapping: the shipped examples (an HR export, a student
system export, a pupil system export) through the real binary, and precise
errors for malformed mappings. The examples' national IDs are synthetic;
assertions still never print them."""
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EX = ROOT / "examples" / "feeds"
AS_OF = "2026-11-01"
EXAMPLES = (("hr", "staff", "export.csv", 4), ("sis", "student", "export.jsonl", 3),
            ("pupils", "pupil", "export.csv", 3))


def imp(t, source, kind, path, mapping, *extra, check=True):
    return t.run("--as-of", AS_OF, "--json", "import", "--source", source, "--kind", kind,
                 "--mapping", mapping, *extra, path, check=check)


def import_examples(t):
    out = {}
    for source, kind, name, _ in EXAMPLES:
        p = imp(t, source, kind, EX / source / name, EX / source / "mapping.json")
        out[source] = json.loads(p.stdout)
    return out


def aff(t, source, key, cols):
    return t.sql(f"SELECT {cols} FROM affiliation WHERE source = ? AND source_key = ?",
                 source, key)[0]


def test_examples_import(tunnus):
    sums = import_examples(tunnus)
    for source, _, _, rows in EXAMPLES:
        assert sums[source]["rows"] == rows
        assert sums[source]["created"] == rows
        assert sums[source]["rejected"] == 0
    # HR: Finnish dates, code tables for title and end reason, managers
    assert aff(tunnus, "hr", "H1002", "title, valid_from, valid_to, end_reason") == \
        ("Lehtori", "2015-08-01", "2027-05-31", "contract_end")
    assert aff(tunnus, "hr", "H1003", "valid_from") == ("2024-01-15",)
    boss = tunnus.sql("SELECT person_num FROM affiliation WHERE source_key = 'H1001'")[0][0]
    assert aff(tunnus, "hr", "H1002", "manager_num") == (boss,)
    # trim and lower case
    assert tunnus.sql("SELECT count(*) FROM person WHERE given_names = 'Anna Maria' "
                      "AND email = 'anna.virtanen@example.fi'")[0][0] == 1
    # student system: JSON lines, programme codes, a constant unit
    assert aff(tunnus, "sis", "o-20002", "programme, end_reason, org_unit") == \
        ("Kauppatieteiden kandiohjelma", "graduated", "yliopisto/opiskelijat")
    # pupil system: school codes, upper-cased class, quoted groups
    assert aff(tunnus, "pupils", "W-301", "school, class, teaching_groups, valid_from") == \
        ("Keskuskoulu", "7B", "7b-ma;7b-en", "2024-08-15")
    assert aff(tunnus, "pupils", "W-302", "class") == ("6A",)


def test_examples_reimport_unchanged(tunnus):
    import_examples(tunnus)
    events = tunnus.sql("SELECT count(*) FROM audit_event")[0][0]
    sums = import_examples(tunnus)
    for source, _, _, rows in EXAMPLES:
        assert sums[source]["unchanged"] == rows
    assert tunnus.sql("SELECT count(*) FROM audit_event")[0][0] == events


def test_conversion_failure_rejects_row(tunnus, tmp_path):
    f = tmp_path / "hr.csv"
    src = (EX / "hr" / "export.csv").read_text(encoding="utf-8").splitlines()
    src[2] = src[2].replace("1.8.2015", "31.2.2015")
    src[3] = src[3].replace(";SI;", ";ZZ;").replace(";;\n", "")
    src[4] = src[4].replace(";09", ";77")
    f.write_text("\n".join(src) + "\n", encoding="utf-8")
    p = imp(tunnus, "hr", "staff", f, EX / "hr" / "mapping.json", "--report", tmp_path / "r.json")
    s = json.loads(p.stdout)
    assert (s["created"], s["rejected"]) == (2, 2)  # unknown title code is kept
    issues = json.loads((tmp_path / "r.json").read_text())["issues"]
    assert {(i["line"], i["column"]) for i in issues} == {(3, "valid_from"), (5, "end_reason")}
    assert "D.M.YYYY" in p.stderr
    assert aff(tunnus, "hr", "H1003", "title") == ("ZZ",)


def test_malformed_mapping(tunnus, tmp_path):
    m = tmp_path / "m.json"
    m.write_text('{"columns": {"source_key": "Henkilönumero", "valid_from": '
                 '{"from": "Alkupvm", "date": "finnish"}}}')
    p = imp(tunnus, "hr", "staff", EX / "hr" / "export.csv", m, check=False)
    err = json.loads(p.stderr)["error"]
    assert p.returncode != 0 and err["field"] == "mapping"
    assert err["message"].startswith('columns.valid_from.date: must be "fi"')
    m.write_text('{"columns": {"source_key": "Nro"}}')
    p = imp(tunnus, "hr", "staff", EX / "hr" / "export.csv", m, check=False)
    err = json.loads(p.stderr)["error"]
    assert p.returncode != 0 and err["field"] == "header"
    assert err["message"] == "the file has no column nro, which the mapping names"
    p = imp(tunnus, "hr", "staff", EX / "hr" / "export.csv", tmp_path / "missing.json",
            check=False)
    assert p.returncode != 0 and "cannot open" in p.stderr
    assert tunnus.sql("SELECT count(*) FROM person")[0][0] == 0
