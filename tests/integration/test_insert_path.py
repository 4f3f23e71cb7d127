"""The cheaper insert path (migration 0010): the group and fingerprint
triggers on affiliation writes fire only when a row has something new, and
still do exactly what they did: every group key gets its gidNumber and cn
once (colliding slugs de-duplicated), an update that brings a new key
allocates it, and a person's second affiliation forgets the fingerprints of
the first."""
import csv

from conftest import hetu

COLS = ("source_key", "national_id", "given_names", "family_name", "school", "class",
        "teaching_groups", "valid_from", "org_unit")


def write_feed(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLS)
        for r in rows:
            w.writerow([r.get(c, "") for c in COLS])


def pupil(i, school, cls, groups):
    return {"source_key": f"P{i}", "national_id": hetu("020212", "A", 100 + 2 * i),
            "given_names": "Pekka", "family_name": f"Pupu{chr(97 + i)}", "school": school,
            "class": cls, "teaching_groups": groups, "valid_from": "2020-08-01"}


def groups(t):
    return {(g, v1, v2): (gid, cn) for gid, g, v1, v2, cn in
            t.sql("SELECT gid_number, gtype, v1, v2, cn FROM dir_group WHERE gtype <> 'unit'")}


def test_group_keys_allocated_once_on_insert_and_update(tunnus):
    school = "03022 Ylikylän koulu"
    feed = tunnus.dir / "pupils.csv"
    write_feed(feed, [pupil(0, school, "9B", "9B-BI;9B-MA")])
    assert tunnus.json("import", "--source", "wilma", "--kind", "pupil", feed)["created"] == 1
    first = groups(tunnus)
    assert set(first) == {("kind", "pupil", ""), ("school", school, ""), ("class", school, "9B"),
                          ("tgroup", school, "9B-BI"), ("tgroup", school, "9B-MA")}
    assert first[("school", school, "")][1] == "school-03022-ylikylän-koulu"
    assert tunnus.sql("SELECT COUNT(*) FROM dir_group_todo")[0][0] == 0

    # Known keys add nothing; a new teaching group is added, numbers stay.
    write_feed(feed, [pupil(0, school, "9B", "9B-BI;9B-MA"),
                      pupil(1, school, "9B", "9B-MA;9B-EN")])
    assert tunnus.json("import", "--source", "wilma", "--kind", "pupil", feed)["created"] == 1
    second = groups(tunnus)
    assert set(second) - set(first) == {("tgroup", school, "9B-EN")}
    assert all(second[k] == first[k] for k in first)

    # An update of the relationship's class (same source key) allocates the
    # new class and its teaching group by the update trigger.
    write_feed(feed, [pupil(0, school, "9C", "9C-BI"), pupil(1, school, "9B", "9B-MA;9B-EN")])
    res = tunnus.json("import", "--source", "wilma", "--kind", "pupil", feed)
    assert res["updated"] == 1 and res["created"] == 0
    third = groups(tunnus)
    assert set(third) - set(second) == {("class", school, "9C"), ("tgroup", school, "9C-BI")}
    assert all(third[k] == second[k] for k in second)

    # A school whose slug collides with an existing one gets '-gidNumber'.
    twin = "03022 Ylikylän Koulu"
    write_feed(feed, [pupil(0, school, "9C", "9C-BI"), pupil(1, school, "9B", "9B-MA;9B-EN"),
                      pupil(2, twin, "9B", "")])
    assert tunnus.json("import", "--source", "wilma", "--kind", "pupil", feed)["created"] == 1
    fourth = groups(tunnus)
    gid, cn = fourth[("school", twin, "")]
    assert cn == f"school-03022-ylikylän-koulu-{gid}"
    assert fourth[("school", school, "")] == first[("school", school, "")]
    assert tunnus.sql("SELECT COUNT(*) FROM dir_group_todo")[0][0] == 0
    assert tunnus.sql("SELECT COUNT(*) FROM (SELECT cn FROM dir_group GROUP BY cn "
                      "HAVING COUNT(*) > 1)")[0][0] == 0


def test_second_affiliation_forgets_fingerprints(tunnus):
    nid = hetu("150385", "-", 234)
    hr, sis = tunnus.dir / "hr.csv", tunnus.dir / "sis.csv"
    write_feed(hr, [{"source_key": "E1", "national_id": nid, "given_names": "Aino",
                     "family_name": "Kallio", "valid_from": "2020-01-01", "org_unit": "City/HR"},
                    {"source_key": "E2", "national_id": hetu("150385", "-", 236),
                     "given_names": "Eino", "family_name": "Kallio", "valid_from": "2020-01-01",
                     "org_unit": "City/HR"}])
    write_feed(sis, [{"source_key": "S1", "national_id": nid, "given_names": "Aino",
                      "family_name": "Kallio", "valid_from": "2021-09-01",
                      "org_unit": "Uni/Law"}])
    assert tunnus.json("import", "--source", "hr", "--kind", "staff", hr)["created"] == 2
    # A person's first affiliation forgets nothing.
    assert tunnus.sql("SELECT COUNT(*) FROM import_fp WHERE source = 'hr'")[0][0] == 2
    res = tunnus.json("import", "--source", "sis", "--kind", "student", sis)
    assert res["created"] + res["updated"] == 1
    # Aino's second relationship forgets her HR fingerprint, not Eino's.
    assert tunnus.sql("SELECT source_key FROM import_fp WHERE source = 'hr'") == [("E2",)]
    # The next import takes the full path for E1, finds nothing to change
    # and records its fingerprint again.
    again = tunnus.json("import", "--source", "hr", "--kind", "staff", hr)
    assert again["unchanged"] == 2 and again["updated"] == again["created"] == 0
    assert tunnus.sql("SELECT COUNT(*) FROM import_fp WHERE source = 'hr'")[0][0] == 2
