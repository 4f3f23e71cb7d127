"""Migration 0017: the national ID's stored key leads with the birth date it
encodes, and the namesake search uses that key instead of an index of its
own. A registry written before the migration is converted when opened:
persons are still found by national ID, the import's fingerprints survive
(an unchanged feed stays unchanged, with no audit noise), and a row without
a national ID still finds its namesake. National IDs are synthetic and
never printed."""
import sqlite3

from conftest import hetu
from test_import_facts import feed, imp


def to_version_16(db):
    """Put the registry back into the layout before 0017: hash-only keys
    and the index of names and birth dates (and without 0018's index of
    held persons)."""
    con = sqlite3.connect(db)
    trig = con.execute("SELECT sql FROM sqlite_schema WHERE name = 'import_fp_person'").fetchone()[0]
    con.executescript(
        "DROP TRIGGER import_fp_person;"
        "UPDATE person SET nid_hash = substr(nid_hash, 9) WHERE nid_hash IS NOT NULL;"
        f"{trig};"
        "DROP INDEX person_nonid_birth;"
        "DROP TRIGGER person_nid_key;"
        "DROP INDEX person_held;"
        "CREATE INDEX person_names_birth ON person(family_name, given_names, birth_date);"
        "PRAGMA user_version = 16;")
    con.commit()
    con.close()


def test_keys_lead_with_the_birth_date(tunnus, tmp_path):
    imp(tunnus, feed(tmp_path, "a.csv",
                     f"E1,{hetu('150375', '-', 944)},Anna,Virtanen,,2020-01-01,,",
                     f"E2,{hetu('010203', 'A', 945)},Aino,Virtanen,,2020-01-01,,"))
    rows = tunnus.sql("SELECT substr(CAST(nid_hash AS TEXT), 1, 8), length(nid_hash), birth_date "
                      "FROM person ORDER BY number")
    assert rows == [("19750315", 40, "1975-03-15"), ("20030201", 40, "2003-02-01")]


def test_registry_from_before_is_converted(tunnus, tmp_path):
    nid_a, nid_b, nid_c = hetu("150375", "-", 944), hetu("070655", "-", 941), hetu("111160", "-", 946)
    a = feed(tmp_path, "a.csv", f"E1,{nid_a},Anna,Virtanen,,2020-01-01,,",
             f"E2,{nid_b},Pekka,Nieminen,,2021-01-01,,",
             "E3,,Outi,Laine,1988-08-08,2022-01-01,,")
    s = imp(tunnus, a)
    assert s["created"] == 3
    imp(tunnus, feed(tmp_path, "h.csv", f"H1,{nid_c},Kalle,Korhonen,,2019-01-01,,"), source="old")
    before = tunnus.sql("SELECT number, nid_hash FROM person ORDER BY number")
    kalle = before[3][0]

    to_version_16(tunnus.db)
    assert tunnus.sql("SELECT max(length(nid_hash)) FROM person")[0][0] == 32
    # Kalle was archived under a policy that keeps the ID but deletes the
    # birth date.
    con = sqlite3.connect(tunnus.db)
    con.execute("UPDATE person SET birth_date = NULL WHERE number = ?", (kalle,))
    con.commit()
    con.close()
    fps = tunnus.sql("SELECT count(*) FROM import_fp")[0][0]
    assert fps == 3
    # Any command opens the registry and migrates it.
    st = tunnus.json("status")
    assert st["schema_version"] == st["schema_latest"] >= 17
    after = tunnus.sql("SELECT number, nid_hash FROM person ORDER BY number")
    # The keys are rebuilt exactly as a new registry writes them; where the
    # birth date was deleted, zeros stand for it: the key keeps no date.
    assert after[:3] == before[:3]
    assert after[0][1][:8] == b"19750315" and after[1][1][:8] == b"19550607"
    assert after[2][1] is None
    assert after[3] == (kalle, b"00000000" + before[3][1][8:])
    # The rewrite did not make the import forget what it applied.
    assert tunnus.sql("SELECT count(*) FROM import_fp")[0][0] == fps
    events = tunnus.sql("SELECT count(*) FROM audit_event")[0][0]
    s = imp(tunnus, a)
    assert (s["unchanged"], s["created"], s["updated"]) == (3, 0, 0)
    assert tunnus.sql("SELECT count(*) FROM audit_event")[0][0] == events

    # Correlation by national ID finds the converted persons, Kalle by his
    # undated key: a new source with the same IDs attaches to them instead
    # of creating anyone.
    s = imp(tunnus, feed(tmp_path, "b.csv", f"S1,{nid_a},Anna,Virtanen,,2023-01-01,,",
                         f"S2,{nid_b},Pekka,Nieminen,,2023-01-01,,",
                         f"S3,{nid_c},Kalle,Korhonen,,2023-01-01,,"), source="sis")
    assert s["created"] == 3 and s["rejected"] == 0  # three new affiliations
    assert tunnus.sql("SELECT count(*) FROM person")[0][0] == 4
    assert tunnus.sql("SELECT person_num FROM affiliation WHERE source_key = 'S3'") == [(kalle,)]

    # Namesakes without a national ID are queued for review, whether the
    # existing person has an ID (the key's date range) or not (the partial
    # index); another birth date is someone else.
    s = imp(tunnus, feed(tmp_path, "c.csv", "V1,,Anna,Virtanen,1975-03-15,2024-01-01,,",
                         "V2,,Outi,Laine,1988-08-08,2024-01-01,,",
                         "V3,,Anna,Virtanen,1975-03-16,2024-01-01,,"), source="visitors")
    assert (s["queued"], s["created"]) == (2, 1)
    queued = tunnus.sql("SELECT r.source_key, p.number FROM import_review r "
                        "JOIN person p ON p.number = r.candidate_num ORDER BY r.source_key")
    assert queued == [("V1", before[0][0]), ("V2", before[2][0])]
