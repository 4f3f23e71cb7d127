"""Import gaps closed in the second round: end_reason death records the
person's death date; a national ID arriving for a key recorded without one
is attached. National IDs are synthetic and never printed."""
import json

from conftest import hetu

AS_OF = "2026-11-01"
HEAD = "source_key,national_id,given_names,family_name,birth_date,valid_from,valid_to,end_reason\n"


def feed(tmp, name, *rows):
    p = tmp / name
    p.write_text(HEAD + "".join(r + "\n" for r in rows), encoding="utf-8")
    return p


def imp(t, path, source="hr", check=True):
    p = t.run("--as-of", AS_OF, "--json", "import", "--source", source, "--kind", "staff", path,
              check=check)
    return json.loads(p.stdout) if p.returncode == 0 else p


def events(t, action="person.import"):
    return t.sql("SELECT attrs FROM audit_event WHERE action = ? ORDER BY seq", action)


def test_death_sets_death_date(tunnus, tmp_path):
    nid = hetu("070655", "-", 941)
    imp(tunnus, feed(tmp_path, "a.csv", f"E1,{nid},Pekka,Nieminen,,1990-03-01,,"))
    assert tunnus.sql("SELECT death_date FROM person") == [(None,)]
    s = imp(tunnus, feed(tmp_path, "b.csv", f"E1,{nid},Pekka,Nieminen,,1990-03-01,2026-06-30,death"))
    assert s["updated"] == 1
    assert tunnus.sql("SELECT death_date FROM person") == [("2026-06-30",)]
    assert "person.death_date" in events(tunnus)[-1][0]
    # idempotent: the same row again changes nothing and writes nothing
    n = len(events(tunnus))
    s = imp(tunnus, tmp_path / "b.csv")
    assert s["unchanged"] == 1 and len(events(tunnus)) == n
    # another source cannot move a recorded death date
    imp(tunnus, feed(tmp_path, "c.csv", f"X1,{nid},Pekka,Nieminen,,1990-03-01,2026-07-15,death"),
        source="other")
    assert tunnus.sql("SELECT death_date FROM person") == [("2026-06-30",)]


def test_death_on_first_import_and_without_date(tunnus, tmp_path):
    s = imp(tunnus, feed(tmp_path, "a.csv",
                         f"E1,{hetu('070655', '-', 942)},Pekka,Nieminen,,1990-03-01,2026-06-30,death",
                         f"E2,{hetu('070656', '-', 943)},Liisa,Mäkinen,,1990-03-01,,death"))
    assert (s["created"], s["rejected"]) == (1, 1)
    assert tunnus.sql("SELECT count(*) FROM person WHERE death_date = '2026-06-30'")[0][0] == 1


def test_national_id_attached_to_key_without_one(tunnus, tmp_path):
    nid = hetu("150375", "-", 944)
    imp(tunnus, feed(tmp_path, "a.csv", "E1,,Anna,Virtanen,1975-03-15,2020-01-01,,"))
    assert tunnus.sql("SELECT count(*) FROM person WHERE nid_hash IS NULL")[0][0] == 1
    s = imp(tunnus, feed(tmp_path, "b.csv", f"E1,{nid},Anna,Virtanen,1975-03-15,2020-01-01,,"))
    assert s["updated"] == 1 and s["rejected"] == 0
    assert tunnus.sql("SELECT count(*), count(nid_hash) FROM person") == [(1, 1)]
    assert "person.national_id" in events(tunnus)[-1][0]
    s = imp(tunnus, tmp_path / "b.csv")
    assert s["unchanged"] == 1
    # the ID now correlates: another source's row with it finds the person
    imp(tunnus, feed(tmp_path, "c.csv", f"S1,{nid},Anna,Virtanen,,2021-01-01,,"), source="sis")
    assert tunnus.sql("SELECT count(*) FROM person")[0][0] == 1


def test_national_id_not_attached_when_taken_or_contradicting(tunnus, tmp_path):
    nid = hetu("150375", "-", 945)
    other = hetu("160375", "-", 946)
    imp(tunnus, feed(tmp_path, "a.csv", "E1,,Anna,Virtanen,1975-03-15,2020-01-01,,",
                     f"E2,{nid},Liisa,Laine,,2020-01-01,,"))
    # another person has the ID: the key's person would be a second holder
    s = imp(tunnus, feed(tmp_path, "b.csv", f"E1,{nid},Anna,Virtanen,1975-03-15,2020-01-01,,"))
    assert s["rejected"] == 1
    # the ID's birth date contradicts the recorded one
    s = imp(tunnus, feed(tmp_path, "c.csv", f"E1,{other},Anna,Virtanen,,2020-01-01,,"))
    assert s["rejected"] == 1
    assert tunnus.sql("SELECT count(*) FROM person WHERE nid_hash IS NULL")[0][0] == 1
    # a key whose person has another ID still rejects
    s = imp(tunnus, feed(tmp_path, "d.csv", f"E2,{other},Liisa,Laine,,2020-01-01,,"))
    assert s["rejected"] == 1
