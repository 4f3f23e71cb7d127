#!/usr/bin/python3
"""The schema's floor for bench/registry.sh (issue 2): SQL that writes what
one enrolment (svc_person_enrol) writes - a person, an affiliation, an
account with its username and e-mail address, an audit event of the
enrolment's shape and an outbox row; the schema's triggers add the rest
(lifecycle due row, uid number) - for N persons, BATCH per transaction, by
plain set-based SQL into a registry made by `tunnus init`. Nothing is
validated, generated, sealed or hashed: what SQLite needs to keep these
rows in this schema, the least any enrolment can take.

    registry_floor.py N BATCH | sqlite3 -bail REGISTRY
"""
import sys

n, batch = int(sys.argv[1]), int(sys.argv[2])
print(".bail on")
# The store's pragmas (src/store/store_sqlite.c).
print("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;")
print("PRAGMA wal_autocheckpoint = 16384; PRAGMA foreign_keys = ON;")
print("INSERT OR IGNORE INTO org_unit (code, name, created_at) VALUES ('City/IT', 'City/IT', 0);")
print("CREATE TEMP TABLE b (i INTEGER PRIMARY KEY, g, f, u, pid, pn);")
ID = "printf('%08x-0000-7000-8000-%012d', i, i)"
for o in range(0, n, batch):
    hi = min(n, o + batch)
    # Names spread over the alphabet like generated ones, so that usernames
    # and addresses land at random positions of their unique indexes.
    print(f"""BEGIN;
DELETE FROM b;
WITH RECURSIVE c(i) AS (SELECT {o} UNION ALL SELECT i + 1 FROM c WHERE i + 1 < {hi})
INSERT INTO b SELECT i, 'Given' || (i * 7919 % 5003), 'Family' || (i * 104729 % 20011),
  'given' || (i * 7919 % 5003) || '.family' || (i * 104729 % 20011) || '.' || i, {ID}, NULL FROM c;
INSERT INTO person (id, state, given_names, family_name, phone, birth_date, gender, nid_sealed,
  nid_hash, created_at, updated_at)
  SELECT pid, 'pending', g, f, '+358401234567', '1980-01-01', 'female', randomblob(51),
  CAST(printf('%08d', abs(random()) % 40000) || randomblob(32) AS BLOB), i, i FROM b ORDER BY i;
UPDATE b SET pn = (SELECT number FROM person WHERE id = b.pid);
INSERT INTO affiliation (person_num, kind, source, source_key, org_unit, title, valid_from,
  created_at, updated_at)
  SELECT pn, 'staff', 'hr', 'E' || i, 'City/IT', 'asiantuntija', '2020-01-01', i, i FROM b ORDER BY i;
INSERT INTO account (person_num, owner_id, username, email, state, created_on, created_at, updated_at)
  SELECT pn, pid, u, u || '@example.fi', 'active', '2026-11-21', i, i FROM b ORDER BY i;
INSERT INTO audit_event (seq, time_us, actor_kind, actor_id, channel, action, subject_id, attrs,
  changes, result, request_id, source, detail, hash)
  SELECT (SELECT coalesce(max(seq), 0) FROM audit_event) + i - {o} + 1, i, 'system', 'bench', 'cli',
  'person.enrol', pid,
  'person.given_names,person.family_name,person.phone,person.birth_date,person.gender,'
  || 'person.national_id,affiliation.kind,affiliation.org_unit,account.username,account.email',
  json_object('person.given_names', json_array(NULL, g), 'person.family_name', json_array(NULL, f),
  'person.phone', json_array(NULL, '+358401234567'), 'person.national_id', json_array(NULL, '(set)'),
  'affiliation.kind', json_array(NULL, 'staff'), 'affiliation.org_unit', json_array(NULL, 'City/IT'),
  'account.username', json_array(NULL, u), 'account.email', json_array(NULL, u || '@example.fi')),
  'allowed', lower(hex(randomblob(16))), 'local', '', randomblob(32) FROM b ORDER BY i;
INSERT INTO outbox (target, person_id, event, payload, created_at)
  SELECT '*', pid, 'person.enrol', '{{}}', i FROM b ORDER BY i;
COMMIT;""")
