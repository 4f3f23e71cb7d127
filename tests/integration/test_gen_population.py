"""tools/gen_population.py: format, determinism, valid national IDs, every
edge case, broken rows.

The output is checked by code written here, independently of the
generator: the HETU check, date checks and the manager graph walk do not
import anything from it. Privacy rule: no assertion message or comparison
shows a national ID; assertions compare counts and booleans only.
"""
import collections
import csv
import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GEN = ROOT / "tools" / "gen_population.py"
AS_OF = dt.date(2026, 11, 1)
COLUMNS = ["source_key", "national_id", "given_names", "family_name", "preferred_name",
           "email", "phone", "org_unit", "title", "manager_key", "school", "class",
           "teaching_groups", "programme", "valid_from", "valid_to", "end_reason"]
FEEDS = ("hr", "sis", "pupils", "officials")
PREFIX = {"hr": "E", "sis": "S", "pupils": "P", "officials": "L", "sponsored": "V"}

# ---- an independent HETU checker ---------------------------------------------

HETU_RE = re.compile(r"^(\d{2})(\d{2})(\d{2})([-+A-FU-Y])(\d{3})([0-9A-Y])$")
CENTURY = {"+": 1800, "-": 1900, "U": 1900, "V": 1900, "W": 1900, "X": 1900, "Y": 1900,
           "A": 2000, "B": 2000, "C": 2000, "D": 2000, "E": 2000, "F": 2000}
CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def hetu_ok(s):
    m = HETU_RE.match(s)
    if not m:
        return False
    dd, mm, yy, sign, num, check = m.groups()
    try:
        dt.date(CENTURY[sign] + int(yy), int(mm), int(dd))
    except ValueError:
        return False
    if int(num) < 2:
        return False
    return CHECK[int(dd + mm + yy + num) % 31] == check


def hetu_shape_ok(s):
    """Right shape and date, whatever the check character."""
    m = HETU_RE.match(s)
    if not m:
        return False
    dd, mm, yy, sign, _, _ = m.groups()
    try:
        dt.date(CENTURY[sign] + int(yy), int(mm), int(dd))
    except ValueError:
        return False
    return True


def hetu_birth(s):
    dd, mm, yy, sign = s[0:2], s[2:4], s[4:6], s[6]
    return dt.date(CENTURY[sign] + int(yy), int(mm), int(dd))


def test_checker_itself():
    # Known-good synthetic examples, including the 2023 signs, and near misses.
    assert hetu_ok("131052-308T")
    assert hetu_ok("010594Y9032")
    assert hetu_ok("020502E902X")
    assert hetu_ok("010101A123N")
    assert not hetu_ok("131052-308U")
    assert not hetu_ok("310252-308T")       # no 31 February
    assert not hetu_ok("131052G308T")       # no such sign
    assert not hetu_ok("131052-001X")       # 001 never issued
    assert not hetu_ok("131052-308t")


def parse_date(s):
    try:
        return dt.date.fromisoformat(s) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s) else None
    except ValueError:
        return None


# ---- running the generator ----------------------------------------------------

def generate(out, persons, seed, *extra):
    p = subprocess.run([sys.executable, str(GEN), "--persons", str(persons), "--seed", str(seed),
                        "--as-of", AS_OF.isoformat(), "--out", str(out), "--summary", *extra],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, "generator failed (see its stderr above)" if not p.stderr else \
        p.stderr[-2000:]
    lines = [ln for ln in p.stderr.splitlines() if ln.startswith("{")]
    assert len(lines) == 1
    return json.loads(lines[0]), p.stderr


def read(out, name):
    with open(out / f"{name}.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == COLUMNS
    return [dict(zip(COLUMNS, r)) for r in rows[1:]]


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    out = tmp_path_factory.mktemp("clean")
    summary, stderr = generate(out, 3000, 11)
    return out, summary, stderr, {name: read(out, name) for name in FEEDS}


@pytest.fixture(scope="module")
def dirty(tmp_path_factory):
    out = tmp_path_factory.mktemp("dirty")
    summary, _ = generate(out, 3000, 12, "--invalid-rate", "0.05")
    return out, summary, {name: read(out, name) for name in FEEDS}


# ---- format -------------------------------------------------------------------

def test_files_and_exact_header(clean):
    out, _, _, _ = clean
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.csv" for n in FEEDS)
    header = (",".join(COLUMNS) + "\r\n").encode()
    for name in FEEDS:
        data = (out / f"{name}.csv").read_bytes()
        starts_right = data.startswith(header)
        assert starts_right, name
        data.decode("utf-8")  # valid UTF-8 throughout


def test_rows_are_complete_and_well_formed(clean):
    _, _, _, feeds = clean
    bad = collections.Counter()
    for name, rows in feeds.items():
        for r in rows:
            if not r["source_key"].startswith(PREFIX[name]) or not r["source_key"][1:].isdigit():
                bad["key"] += 1
            if not (r["given_names"] and r["family_name"]):
                bad["names"] += 1
            if r["preferred_name"] and r["preferred_name"] not in r["given_names"].split(" "):
                bad["preferred"] += 1
            start, end = parse_date(r["valid_from"]), parse_date(r["valid_to"])
            if start is None or (r["valid_to"] and (end is None or end < start)):
                bad["dates"] += 1
            if r["end_reason"] and not r["valid_to"]:
                bad["reason_without_end"] += 1
            if r["valid_to"] and not re.fullmatch(r"[a-z_]+", r["end_reason"]):
                bad["reason"] += 1
            if r["end_reason"] == "death" and end is not None and end >= AS_OF:
                bad["death_in_future"] += 1
            if not re.fullmatch(r"\+358 \d{2} \d{7}", r["phone"]):
                bad["phone"] += 1
            if start is not None and r["national_id"]:
                if (start - hetu_birth(r["national_id"])).days < 7 * 365:
                    bad["too_young"] += 1
        keys = [r["source_key"] for r in rows]
        bad["duplicate_keys"] += len(keys) - len(set(keys))
    for r in feeds["hr"]:
        if not re.fullmatch(r"[a-z0-9]+\.[a-z0-9]+@example\.fi", r["email"]):
            bad["email"] += 1
    for r in feeds["pupils"]:
        if not (r["school"] and r["class"] and len(r["teaching_groups"].split(";")) == 3):
            bad["pupil"] += 1
    assert sum(bad.values()) == 0, dict(bad)


# ---- determinism --------------------------------------------------------------

def test_same_seed_same_bytes_different_seed_different(tmp_path):
    extra = ("--invalid-rate", "0.05", "--sponsored", "0.05")
    s1, _ = generate(tmp_path / "a", 800, 5, *extra)
    s2, _ = generate(tmp_path / "b", 800, 5, *extra)
    s3, _ = generate(tmp_path / "c", 800, 6, *extra)
    assert s1 == s2
    names = FEEDS + ("sponsored",)
    for name in names:
        a = (tmp_path / "a" / f"{name}.csv").read_bytes()
        b = (tmp_path / "b" / f"{name}.csv").read_bytes()
        same = a == b  # not compared in the assert: a diff would print IDs
        assert same, f"{name}.csv differs between two runs with the same seed"
    differ = sum((tmp_path / "a" / f"{n}.csv").read_bytes()
                 != (tmp_path / "c" / f"{n}.csv").read_bytes() for n in names)
    assert differ == len(names)


# ---- national IDs ---------------------------------------------------------------

def test_every_national_id_valid(clean):
    _, _, _, feeds = clean
    total = sum(len(rows) for rows in feeds.values())
    bad = sum(not hetu_ok(r["national_id"]) for rows in feeds.values() for r in rows)
    assert total > 3000
    assert bad == 0, f"{bad} invalid national IDs"


def test_national_id_means_one_person(clean):
    """Rows sharing a national ID are one person (same given names and birth);
    different people never share one by accident."""
    _, _, _, feeds = clean
    by_nid = collections.defaultdict(set)
    for rows in feeds.values():
        for r in rows:
            by_nid[r["national_id"]].add(r["given_names"])
    clashes = sum(len(v) > 1 for v in by_nid.values())
    assert clashes == 0, f"{clashes} national IDs shared by people with different names"


def test_gender_matches_individual_number(clean):
    # Even individual number = woman; check it through the rows' given names
    # only loosely: a given name never appears with both parities.
    _, _, _, feeds = clean
    parity = collections.defaultdict(set)
    for rows in feeds.values():
        for r in rows:
            parity[r["given_names"].split(" ")[0]].add(int(r["national_id"][7:10]) % 2)
    mixed = sum(len(v) > 1 for v in parity.values())
    assert mixed == 0, f"{mixed} first names used for both genders"


# ---- edge cases -----------------------------------------------------------------

def test_every_edge_case_present(clean):
    _, summary, _, feeds = clean
    hr, sis, officials = feeds["hr"], feeds["sis"], feeds["officials"]
    all_rows = [r for rows in feeds.values() for r in rows]
    found = {}

    nids = {name: {r["national_id"] for r in rows} for name, rows in feeds.items()}
    found["staff_and_student"] = len(nids["hr"] & nids["sis"])
    found["official_and_staff"] = len(nids["officials"] & nids["hr"])

    people = {}
    for r in all_rows:
        people[r["national_id"]] = (r["given_names"], r["family_name"])
    by_name = collections.defaultdict(set)
    for nid, name in people.items():
        by_name[name].add(nid)
    found["namesakes"] = sum(len(v) > 1 for v in by_name.values())
    found["namesakes_same_birth"] = sum(
        len({hetu_birth(n) for n in v}) < len(v) for v in by_name.values() if len(v) > 1)

    digits = collections.defaultdict(set)
    for nid in people:
        digits[nid[:6] + nid[7:]].add(nid[6])
    found["ids_differing_only_in_sign"] = sum(len(v) > 1 for v in digits.values())

    staff_rows = collections.defaultdict(list)
    for r in hr:
        staff_rows[r["national_id"]].append(r)
    rehires = name_changes = 0
    for rows in staff_rows.values():
        if len(rows) < 2:
            continue
        rows.sort(key=lambda r: r["valid_from"])
        for a, b in zip(rows, rows[1:]):
            gap = a["valid_to"] and (parse_date(b["valid_from"]) - parse_date(a["valid_to"])).days
            if gap and gap > 1 and a["source_key"] != b["source_key"]:
                rehires += 1
                name_changes += a["family_name"] != b["family_name"]
    found["rehires_with_gap"] = rehires
    found["rehire_with_new_family_name"] = name_changes

    deaths = [r for r in all_rows if r["end_reason"] == "death"]
    found["deaths"] = len(deaths)
    death_files = collections.Counter(r["national_id"] for r in deaths)
    found["death_ending_two_relationships"] = sum(
        n > 1 and len({r["valid_to"] for r in deaths if r["national_id"] == nid}) == 1
        for nid, n in death_files.items())

    given = " ".join(r["given_names"] + " " + r["family_name"] for r in all_rows)
    found["finnish_swedish_letters"] = sum(given.count(c) for c in "äöåÄÖÅ")
    accented = {"Zoë", "Amélie", "Chloé", "José", "René"}
    found["accented_given_names"] = sum(
        not accented.isdisjoint(r["given_names"].split(" ")) for r in all_rows)
    found["hyphenated_family"] = sum("-" in r["family_name"] for r in all_rows)
    found["two_part_family"] = sum(" " in r["family_name"] for r in all_rows)
    found["apostrophe_family"] = sum("'" in r["family_name"] for r in all_rows)

    signs = collections.Counter(nid[6] for nid in people)
    for s in CENTURY:
        found[f"century_sign {s}"] = signs[s]
    found["temporary_ids"] = sum(int(nid[7:10]) >= 900 for nid in people)
    found["born_1800s"] = sum(nid[6] == "+" for nid in people)

    starts = [parse_date(r["valid_from"]) for r in all_rows]
    ends = [parse_date(r["valid_to"]) if r["valid_to"] else None for r in all_rows]
    found["ended"] = sum(e is not None and e < AS_OF for e in ends)
    found["open"] = sum(e is None for e in ends)
    found["future_end"] = sum(e is not None and e > AS_OF for e in ends)
    found["ends_on_as_of"] = sum(e == AS_OF for e in ends)
    found["future_start"] = sum(s > AS_OF for s in starts)
    found["one_day"] = sum(s == e for s, e in zip(starts, ends))

    staff_keys = [r["source_key"] for r in hr]
    position = {k: i for i, k in enumerate(staff_keys)}
    managed = [(position[r["source_key"]], r["manager_key"]) for r in hr if r["manager_key"]]
    found["manager_earlier"] = sum(m in position and position[m] < i for i, m in managed)
    found["manager_later"] = sum(m in position and position[m] > i for i, m in managed)
    found["no_manager"] = sum(not r["manager_key"] for r in hr)

    missing = sorted(k for k, v in found.items() if v == 0)
    assert missing == []
    # The generator's own summary agrees on what it claims to have made.
    edge = summary["edge_cases"]
    assert edge["historical_1800s"] == found["born_1800s"]
    assert edge["manager_forward"] == found["manager_later"]
    assert edge["death"] == found["deaths"]
    assert summary["century_signs"]["+"] == found["born_1800s"]


def test_managers_exist_and_form_no_cycle(clean):
    _, _, _, feeds = clean
    manager = {r["source_key"]: r["manager_key"] for r in feeds["hr"]}
    dangling = sum(1 for m in manager.values() if m and m not in manager)
    selfref = sum(1 for k, m in manager.items() if k == m)
    cycles = 0
    for start in manager:
        seen = set()
        k = start
        while k:
            if k in seen:
                cycles += 1
                break
            seen.add(k)
            k = manager.get(k, "")
    assert (dangling, selfref, cycles) == (0, 0, 0)


def test_summary_counts_match_files(clean):
    out, summary, stderr, feeds = clean
    for name in FEEDS:
        assert summary["files"][f"{name}.csv"] == len(feeds[name])
        assert summary["valid_rows"][f"{name}.csv"] == len(feeds[name])
        assert f"{name}.csv: {len(feeds[name])} rows" in stderr
    assert summary["persons"] >= 3000
    assert sum(summary["invalid"].values()) == 0
    # Nothing resembling a national ID is printed.
    assert not re.search(r"\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]", stderr)


def test_row_counts_in_expected_ratio(tmp_path):
    summary, _ = generate(tmp_path, 20000, 3)
    n = summary["persons"]
    share = {name: summary["valid_rows"][f"{name}.csv"] / n for name in FEEDS}
    # Main relationships 25/45/27/3 %, plus second relationships (rehires,
    # staff who study, officials who are staff).
    assert 0.24 <= share["hr"] <= 0.29
    assert 0.44 <= share["sis"] <= 0.48
    assert 0.25 <= share["pupils"] <= 0.29
    assert 0.025 <= share["officials"] <= 0.035


# ---- broken rows ------------------------------------------------------------------

def row_valid(r):
    a, b = parse_date(r["valid_from"]), parse_date(r["valid_to"])
    return bool(r["source_key"] and hetu_ok(r["national_id"]) and a
                and (not r["valid_to"] or (b and b >= a)))


def classify_broken(rows):
    kinds = collections.Counter()
    # A duplicate key: two rows with one key, each fine on its own.
    keys = collections.Counter(r["source_key"] for r in rows if row_valid(r))
    kinds["duplicate_key"] = sum(n - 1 for n in keys.values() if n > 1)
    for r in rows:
        nid = r["national_id"]
        if nid and hetu_shape_ok(nid) and not hetu_ok(nid):
            kinds["bad_checksum"] += 1
        if not r["source_key"]:
            kinds["missing_key"] += 1
        for field in ("valid_from", "valid_to"):
            v = r[field]
            if v and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) and parse_date(v) is None:
                kinds["impossible_date"] += 1
        a, b = parse_date(r["valid_from"]), parse_date(r["valid_to"])
        if a and b and b < a:
            kinds["end_before_start"] += 1
    return kinds


def test_invalid_rows_of_every_kind(dirty):
    _, summary, feeds = dirty
    kinds = collections.Counter()
    for rows in feeds.values():
        kinds.update(classify_broken(rows))
    for k in ("bad_checksum", "missing_key", "impossible_date", "end_before_start",
              "duplicate_key"):
        assert kinds[k] > 0, f"no broken rows of kind {k}"
    total = sum(len(rows) for rows in feeds.values())
    broken = sum(summary["invalid"].values())
    assert 0.03 <= broken / total <= 0.07
    assert all(v > 0 for v in summary["invalid"].values())
    for name in FEEDS:
        assert summary["files"][f"{name}.csv"] == len(feeds[name])
    assert kinds["duplicate_key"] == summary["invalid"]["duplicate_key"]


def test_invalid_rate_zero_means_no_broken_rows(clean):
    _, _, _, feeds = clean
    kinds = collections.Counter()
    for rows in feeds.values():
        kinds.update(classify_broken(rows))
    assert sum(kinds.values()) == 0


# ---- sponsored partners and visitors -------------------------------------------------

def test_sponsored(tmp_path):
    summary, _ = generate(tmp_path, 3000, 4, "--sponsored", "0.05")
    rows = read(tmp_path, "sponsored")
    staff = {r["source_key"] for r in read(tmp_path, "hr")}
    assert 0.03 <= len(rows) / summary["persons"] <= 0.07
    assert summary["files"]["sponsored.csv"] == len(rows)
    no_sponsor = sum(r["manager_key"] not in staff for r in rows)
    assert no_sponsor == 0
    without_id = sum(not r["national_id"] for r in rows)
    bad_id = sum(bool(r["national_id"]) and not hetu_ok(r["national_id"]) for r in rows)
    assert without_id > 0 and bad_id == 0
    titles = {r["title"] for r in rows}
    assert titles & {"vierailija", "vieraileva tutkija", "vaihto-opettaja"}
    assert titles & {"konsultti", "yhteistyökumppani", "urakoitsija"}
    assert all(r["org_unit"] and r["source_key"].startswith("V") for r in rows)


def test_bad_arguments_are_refused(tmp_path):
    for args in (["--invalid-rate", "2"], ["--persons", "-1"], ["--as-of", "2025-02-30"],
                 ["--sponsored", "1.5"]):
        p = subprocess.run([sys.executable, str(GEN), "--out", str(tmp_path / "x"), *args],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 2


def test_tiny_populations(tmp_path):
    for n in (0, 1, 2, 30):
        summary, _ = generate(tmp_path / str(n), n, 1, "--invalid-rate", "0.5")
        assert summary["persons"] >= n
        for name in FEEDS:
            read(tmp_path / str(n), name)
