-- 0008: import fingerprints. Per (source, source_key), a keyed BLAKE2b of
-- the canonical cells of the last feed row applied for it (never the
-- national ID in the clear), so that an unchanged row of a re-import is
-- skipped after one probe of this table. until: the last day the
-- fingerprint may be trusted (the result of a row depends on which of the
-- person's relationships are in force; NULL = no such dependence).
--
-- Any change to the person's shared attributes or to any of their
-- affiliations, by an import or by any other path, forgets the
-- fingerprints of all that person's affiliations: the next import of
-- their rows takes the full path again and brings the registry back to
-- what the sources say.

CREATE TABLE import_fp (
    source     TEXT NOT NULL,
    source_key TEXT NOT NULL,
    fp         BLOB NOT NULL,
    until      TEXT,
    PRIMARY KEY (source, source_key)
) WITHOUT ROWID;

CREATE TRIGGER import_fp_person AFTER UPDATE ON person
    WHEN NEW.given_names IS NOT OLD.given_names OR NEW.family_name IS NOT OLD.family_name
      OR NEW.preferred_name IS NOT OLD.preferred_name OR NEW.email IS NOT OLD.email
      OR NEW.phone IS NOT OLD.phone OR NEW.birth_date IS NOT OLD.birth_date
      OR NEW.nid_hash IS NOT OLD.nid_hash OR NEW.death_date IS NOT OLD.death_date
BEGIN
    DELETE FROM import_fp WHERE (source, source_key) IN
        (SELECT source, source_key FROM affiliation WHERE person_num = NEW.number);
END;

CREATE TRIGGER import_fp_aff_update AFTER UPDATE ON affiliation
BEGIN
    DELETE FROM import_fp WHERE (source, source_key) IN
        (SELECT source, source_key FROM affiliation
         WHERE person_num = NEW.person_num OR person_num = OLD.person_num);
END;

CREATE TRIGGER import_fp_aff_insert AFTER INSERT ON affiliation
BEGIN
    DELETE FROM import_fp WHERE (source, source_key) IN
        (SELECT source, source_key FROM affiliation
         WHERE person_num = NEW.person_num AND id <> NEW.id);
END;
