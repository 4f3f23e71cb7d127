-- 0017: one index for the national ID and the namesake search.
--
-- person.nid_hash (unique) now holds the person's birth date as eight
-- ASCII digits (YYYYMMDD) followed by the national ID's keyed hash,
-- instead of the hash alone. With a national ID, birth_date is the date
-- the ID encodes (the service refuses any other), so the key is unique
-- exactly when the ID is. A person whose birth date was removed (archived
-- under a policy that keeps the ID but not the date) has eight zeros
-- instead: the key must not keep what the policy deleted. A lookup by ID
-- tries the dated key, then the zeros (store_sqlite.c, nid_key), and a new
-- dated key is checked against the zeros one.
--
-- Why: the search for a person with the same names and birth date (a feed
-- row without a national ID, docs/feeds.md) had an index of its own,
-- person_names_birth, written at a random position on every person
-- insert: about a fifth of the pages each enrolment or imported person
-- wrote. With the date leading the national ID's key, the persons born on a
-- date are one range of the unique index the insert writes anyway; those
-- without a national ID (rare: sponsored entries) have a partial index of
-- their own, which an insert with an ID does not touch.
--
-- The fingerprint trigger would take the rewritten keys for changed
-- persons and forget every import fingerprint: it is set aside while the
-- keys are rewritten (nothing about the persons changes).
DROP TRIGGER import_fp_person;
-- (|| makes text of two blobs: the key must stay a blob to be found. OR
-- FAIL: no statement journal, which would hold every page of the table and
-- its index in memory; a failure rolls the whole migration back.)
UPDATE OR FAIL person
   SET nid_hash = CAST(COALESCE(replace(birth_date, '-', ''), '00000000') || nid_hash AS BLOB)
 WHERE nid_hash IS NOT NULL;
CREATE TRIGGER import_fp_person AFTER UPDATE ON person
    WHEN NEW.given_names IS NOT OLD.given_names OR NEW.family_name IS NOT OLD.family_name
      OR NEW.preferred_name IS NOT OLD.preferred_name OR NEW.email IS NOT OLD.email
      OR NEW.phone IS NOT OLD.phone OR NEW.birth_date IS NOT OLD.birth_date
      OR NEW.nid_hash IS NOT OLD.nid_hash OR NEW.death_date IS NOT OLD.death_date
BEGIN
    DELETE FROM import_fp WHERE (source, source_key) IN
        (SELECT source, source_key FROM affiliation WHERE person_num = NEW.number);
END;
DROP INDEX person_names_birth;
CREATE INDEX person_nonid_birth ON person(birth_date) WHERE nid_hash IS NULL;
-- The key's date follows the birth date: removed (archiving), it becomes
-- zeros; given again (a return), the date.
CREATE TRIGGER person_nid_key AFTER UPDATE OF birth_date ON person
    WHEN NEW.nid_hash IS NOT NULL AND NEW.birth_date IS NOT OLD.birth_date
BEGIN
    UPDATE person
       SET nid_hash = CAST(COALESCE(replace(NEW.birth_date, '-', ''), '00000000')
                           || substr(NEW.nid_hash, 9) AS BLOB)
     WHERE number = NEW.number;
END;
