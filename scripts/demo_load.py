#!/usr/bin/env python3
"""Load canonical feed files into a registry through the tunnus CLI.

A stand-in for `tunnus import` (the feeds issue) used by the demo: every
row becomes `person add` (or is correlated by national ID to a person
already loaded), `affiliation add` and, while the relationship is current,
`account create`. Bad rows are reported and skipped. National IDs are passed
on standard input, never on the command line.
"""
import csv
import datetime
import json
import subprocess
import sys
from pathlib import Path

BIN, FEEDS = sys.argv[1], Path(sys.argv[2])
KINDS = {"hr": ("staff", "hr"), "sis": ("student", "sis"), "pupils": ("pupil", "pupils"),
         "officials": ("elected_official", "officials")}
TODAY = datetime.date.today().isoformat()


def tunnus(*args, stdin=None):
    p = subprocess.run([BIN, "--json", *args], input=stdin, capture_output=True, text=True)
    return p.returncode, (json.loads(p.stdout) if p.returncode == 0 and p.stdout else None), p.stderr


def main():
    by_nid = {}
    units = set()
    loaded = rejected = 0
    # Staff first, so that managers exist before their reports.
    for name in ("hr", "officials", "sis", "pupils"):
        path = FEEDS / f"{name}.csv"
        if not path.exists():
            continue
        kind, source = KINDS[name]
        with open(path, newline="", encoding="utf-8") as f:
            for line, row in enumerate(csv.DictReader(f), 2):
                unit = row["org_unit"]
                if unit and unit not in units:
                    parts = unit.split("/")
                    for i in range(1, len(parts) + 1):
                        code = "/".join(parts[:i])
                        if code not in units:
                            tunnus("orgunit", "add", code)
                            units.add(code)
                nid = row["national_id"]
                pid = by_nid.get(nid)
                if pid is None:
                    args = ["person", "add", "--given", row["given_names"],
                            "--family", row["family_name"], "--national-id", "-"]
                    for opt, col in (("--preferred", "preferred_name"), ("--phone", "phone")):
                        if row[col]:
                            args += [opt, row[col]]
                    rc, out, err = tunnus(*args, stdin=nid + "\n")
                    if rc != 0:
                        print(f"{name}.csv line {line}: {err.strip()}", file=sys.stderr)
                        rejected += 1
                        continue
                    pid = out["id"]
                    by_nid[nid] = pid
                args = ["affiliation", "add", f"id:{pid}", "--kind", kind, "--source", source,
                        "--key", row["source_key"], "--from", row["valid_from"]]
                for opt, col in (("--to", "valid_to"), ("--end-reason", "end_reason"),
                                 ("--org-unit", "org_unit"), ("--title", "title"),
                                 ("--school", "school"), ("--class", "class"),
                                 ("--groups", "teaching_groups"), ("--programme", "programme")):
                    if row[col]:
                        args += [opt, row[col]]
                if row["manager_key"]:
                    args += ["--manager", f"key:hr:{row['manager_key']}"]
                rc, out, err = tunnus(*args)
                if rc != 0:
                    print(f"{name}.csv line {line}: {err.strip()}", file=sys.stderr)
                    rejected += 1
                    continue
                current = row["valid_from"] <= TODAY and (not row["valid_to"] or row["valid_to"] >= TODAY)
                if current:
                    tunnus("account", "create", f"id:{pid}")
                loaded += 1
    print(f"loaded {loaded} relationships of {len(by_nid)} persons; {rejected} rows rejected")


if __name__ == "__main__":
    main()
