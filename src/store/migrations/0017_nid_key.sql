-- 0017: one index for the national ID and the namesake search.
--
-- person.nid_hash (unique) now holds the national ID's birth date as eight
-- ASCII digits (YYYYMMDD) followed by the ID's keyed hash, instead of the
-- hash alone. The birth date is the one the ID encodes, which is also the
-- person's birth_date (the service refuses any other). The key is still
-- unique exactly when the ID is: the date is a function of the ID.
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
-- (|| makes text of two blobs: the key must stay a blob to be found.)
UPDATE person SET nid_hash = CAST(replace(birth_date, '-', '') || nid_hash AS BLOB)
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
