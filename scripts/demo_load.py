#!/usr/bin/env python3
"""Load canonical feed files into a registry through the tunnus CLI.

A stand-in for `tunnus import` (the feeds issue) used by the demo: a row of
a person not seen before becomes one `person add` with the relationship
(and the account while the relationship is current); a person's further
rows (matched by national ID) become `affiliation add`. Bad rows are reported and skipped. National IDs are passed
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


def end_reason(row):
    return row["valid_to"] and row["end_reason"]


def main():
    by_nid = {}
    managers = set()  # staff keys loaded so far; a later manager is left out
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
                rel = ["--kind", kind, "--source", source, "--key", row["source_key"],
                       "--from", row["valid_from"]]
                for opt, col in (("--to", "valid_to"), ("--org-unit", "org_unit"),
                                 ("--title", "title"), ("--school", "school"),
                                 ("--class", "class"), ("--groups", "teaching_groups"),
                                 ("--programme", "programme")):
                    if row[col]:
                        rel += [opt, row[col]]
                if row["manager_key"] and row["manager_key"] in managers:
                    rel += ["--manager", f"key:hr:{row['manager_key']}"]
                current = row["valid_from"] <= TODAY and (not row["valid_to"] or row["valid_to"] >= TODAY)
                pid = by_nid.get(nid)
                if pid is None:
                    args = ["person", "add", "--given", row["given_names"],
                            "--family", row["family_name"], "--national-id", "-", *rel]
                    for opt, col in (("--preferred", "preferred_name"), ("--phone", "phone")):
                        if row[col]:
                            args += [opt, row[col]]
                    if current:
                        args.append("--account")
                    rc, out, err = tunnus(*args, stdin=nid + "\n")
                    if rc == 0:
                        by_nid[nid] = out["id"]
                else:
                    rc, out, err = tunnus("affiliation", "add", f"id:{pid}", *rel)
                if rc != 0:
                    print(f"{name}.csv line {line}: {err.strip()}", file=sys.stderr)
                    rejected += 1
                    continue
                if end_reason(row):
                    tunnus("affiliation", "end", f"key:{source}:{row['source_key']}",
                           "--date", row["valid_to"], "--reason", row["end_reason"])
                if name == "hr":
                    managers.add(row["source_key"])
                loaded += 1
    print(f"loaded {loaded} relationships of {len(by_nid)} persons; {rejected} rows rejected")


if __name__ == "__main__":
    main()
