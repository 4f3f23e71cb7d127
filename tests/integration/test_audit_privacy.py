"""PR-1 / SEC-4: no national ID of a generated population appears in any
audit row, export, database byte in the clear, or captured output, except
the stdout of the explicit `person national-id` command."""
import csv
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KINDS = {"hr.csv": "staff", "sis.csv": "student", "pupils.csv": "pupil",
         "officials.csv": "official"}


def test_no_national_id_leaks(tunnus, tmp_path):
    pop = tmp_path / "pop"
    subprocess.run([sys.executable, str(ROOT / "tools" / "gen_population.py"), "--persons", "40",
                    "--seed", "11", "--out", str(pop)], check=True, capture_output=True)
    outputs = []  # every captured stdout and stderr that must be clean

    def run(*args, **kw):
        p = tunnus.run(*args, check=False, **kw)
        outputs.append(p.stdout)
        outputs.append(p.stderr)
        return p

    ids = set()
    added = 0
    for name, kind in KINDS.items():
        with open(pop / name, encoding="utf-8") as f:
            for row in csv.DictReader(f):
                nid = row["national_id"]
                if not nid:
                    continue
                ids.add(nid)
                args = ["person", "add", "--given", row["given_names"], "--family",
                        row["family_name"], "--national-id", "-", "--kind", kind,
                        "--from", row["valid_from"], "--account"]
                if row["valid_to"]:
                    args += ["--to", row["valid_to"]]
                # A second relationship of one person fails as a conflict:
                # a failed command, whose message must not name the ID.
                p = run(*args, input=nid + "\n")
                added += p.returncode == 0
    assert len(ids) >= 30 and added >= 25
    n = tunnus.sql("SELECT max(number) FROM person")[0][0]
    revealed = 0
    for i in range(1, n + 1):
        run("person", "show", f"number:{i}")
        run("--json", "person", "show", f"number:{i}")
        run("person", "update", f"number:{i}", "--phone", "+358 40 1234567")
        run("audit", "subject", f"number:{i}")
        # The one place the ID may appear: excluded from the search.
        p = tunnus.run("person", "national-id", f"number:{i}", check=False)
        outputs.append(p.stderr)
        revealed += p.stdout.strip() in ids
    assert revealed == n
    run("person", "list")
    run("--json", "person", "list")
    # Failures: a bad selector, a malformed ID, a duplicate with --json.
    run("person", "show", "number:99999")
    run("person", "add", "--given", "X", "--family", "Y", "--national-id", "-", input="010190-12\n")
    first = sorted(ids)[0]
    run("--json", "person", "add", "--given", "X", "--family", "Y", "--national-id", "-",
        input=first + "\n")
    run("person", "update", "number:1", "--national-id", "-", input="311399-999X\n")
    exports = []
    for args in (["audit", "export"], ["audit", "export", "--person", "number:1"]):
        out = tmp_path / f"export{len(exports)}.jsonl"
        run(*args, "--out", out)
        exports.append(out)
        run("--json", "audit", "verify-export", out, db=False)
    run("--json", "audit", "verify")
    run("audit", "verify")
    for rep in ("accounts", "rights", "changes"):
        run("report", rep)
        run("report", rep, "--format", "json")

    audit_rows = tunnus.sql("SELECT * FROM audit_event")
    assert len(audit_rows) > 4 * n
    haystacks = ["\n".join(map(str, r)) for r in audit_rows]
    haystacks += [str(r) for r in tunnus.sql("SELECT * FROM audit_subject")]
    haystacks += [p.read_text() for p in exports]
    haystacks += outputs
    # The database file and its sidecars in raw bytes: IDs are sealed.
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("registry.db*"))
    hits = sum(1 for nid in ids for h in haystacks if nid in h)
    raw_hits = sum(1 for nid in ids if nid.encode() in raw)
    assert hits == 0
    assert raw_hits == 0
