-- 0010: a cheaper insert path. A trigger runs as a sub-program whose
-- registers and cursors SQLite allocates and clears every time it fires,
-- in proportion to the size of the whole program, and whose IN (subquery)
-- terms build ephemeral tables: the group and fingerprint triggers made an
-- affiliation insert cost ~10 times the insert itself. Each now fires only
-- when it has something to do, by a WHEN clause of index probes, and the
-- large group program lives in a trigger of its own; what they do is
-- unchanged.
--
-- Groups (0009): an affiliation insert or an update of its group columns
-- queues its group values in dir_group_todo only if one of its group keys
-- (kind, school, class, teaching groups) has no dir_group row yet; the
-- queued row runs 0009's program unchanged and removes itself. When all
-- keys exist, that program would insert nothing, and its cn
-- de-duplication already ran when those keys were added.
CREATE TABLE dir_group_todo (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,
    school          TEXT NOT NULL,
    class           TEXT NOT NULL,
    teaching_groups TEXT NOT NULL
);
CREATE TRIGGER dir_group_todo_run AFTER INSERT ON dir_group_todo
BEGIN
    INSERT OR IGNORE INTO dir_group (gtype, v1, v2, slug, cn)
        SELECT k.gtype, k.v1, k.v2, k.slug, k.slug FROM (
    SELECT 'kind' AS gtype, NEW.kind AS v1, '' AS v2, lower(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(NEW.kind, ' ', '-'), '/', '-'), ',', '-'), '=', '-'), '+', '-'), '\', '-'), '"', '-'), ';', '-'), '<', '-'), '>', '-'), '#', '-')) AS slug WHERE NEW.kind <> ''
    UNION ALL SELECT 'school', NEW.school, '', 'school-' || lower(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(NEW.school, ' ', '-'), '/', '-'), ',', '-'), '=', '-'), '+', '-'), '\', '-'), '"', '-'), ';', '-'), '<', '-'), '>', '-'), '#', '-')) WHERE NEW.school <> ''
    UNION ALL SELECT 'class', NEW.school, NEW.class, 'class-' || lower(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(NEW.school, ' ', '-'), '/', '-'), ',', '-'), '=', '-'), '+', '-'), '\', '-'), '"', '-'), ';', '-'), '<', '-'), '>', '-'), '#', '-')) || '-' || lower(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(NEW.class, ' ', '-'), '/', '-'), ',', '-'), '=', '-'), '+', '-'), '\', '-'), '"', '-'), ';', '-'), '<', '-'), '>', '-'), '#', '-'))
        WHERE NEW.school <> '' AND NEW.class <> ''
    UNION ALL SELECT 'tgroup', NEW.school, substr(NEW.teaching_groups, j.n, instr(substr(NEW.teaching_groups, j.n) || ';', ';') - 1), 'tgroup-' || lower(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(NEW.school, ' ', '-'), '/', '-'), ',', '-'), '=', '-'), '+', '-'), '\', '-'), '"', '-'), ';', '-'), '<', '-'), '>', '-'), '#', '-')) || '-' || lower(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(substr(NEW.teaching_groups, j.n, instr(substr(NEW.teaching_groups, j.n) || ';', ';') - 1), ' ', '-'), '/', '-'), ',', '-'), '=', '-'), '+', '-'), '\', '-'), '"', '-'), ';', '-'), '<', '-'), '>', '-'), '#', '-'))
        FROM dir_seq j
        WHERE NEW.school <> '' AND j.n <= length(NEW.teaching_groups)
            AND (j.n = 1 OR substr(NEW.teaching_groups, j.n - 1, 1) = ';') AND trim(substr(NEW.teaching_groups, j.n, instr(substr(NEW.teaching_groups, j.n) || ';', ';') - 1)) <> ''
        ) k;
    UPDATE dir_group SET cn = slug || '-' || gid_number
        WHERE cn IN (SELECT k.slug FROM (
    SELECT 'kind' AS gtype, NEW.kind AS v1, '' AS v2, lower(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(NEW.kind, ' ', '-'), '/', '-'), ',', '-'), '=', '-'), '+', '-'), '\', '-'), '"', '-'), ';', '-'), '<', '-'), '>', '-'), '#', '-')) AS slug WHERE NEW.kind <> ''
    UNION ALL SELECT 'school', NEW.school, '', 'school-' || lower(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(NEW.school, ' ', '-'), '/', '-'), ',', '-'), '=', '-'), '+', '-'), '\', '-'), '"', '-'), ';', '-'), '<', '-'), '>', '-'), '#', '-')) WHERE NEW.school <> ''
    UNION ALL SELECT 'class', NEW.school, NEW.class, 'class-' || lower(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(NEW.school, ' ', '-'), '/', '-'), ',', '-'), '=', '-'), '+', '-'), '\', '-'), '"', '-'), ';', '-'), '<', '-'), '>', '-'), '#', '-')) || '-' || lower(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(NEW.class, ' ', '-'), '/', '-'), ',', '-'), '=', '-'), '+', '-'), '\', '-'), '"', '-'), ';', '-'), '<', '-'), '>', '-'), '#', '-'))
        WHERE NEW.school <> '' AND NEW.class <> ''
    UNION ALL SELECT 'tgroup', NEW.school, substr(NEW.teaching_groups, j.n, instr(substr(NEW.teaching_groups, j.n) || ';', ';') - 1), 'tgroup-' || lower(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(NEW.school, ' ', '-'), '/', '-'), ',', '-'), '=', '-'), '+', '-'), '\', '-'), '"', '-'), ';', '-'), '<', '-'), '>', '-'), '#', '-')) || '-' || lower(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(substr(NEW.teaching_groups, j.n, instr(substr(NEW.teaching_groups, j.n) || ';', ';') - 1), ' ', '-'), '/', '-'), ',', '-'), '=', '-'), '+', '-'), '\', '-'), '"', '-'), ';', '-'), '<', '-'), '>', '-'), '#', '-'))
        FROM dir_seq j
        WHERE NEW.school <> '' AND j.n <= length(NEW.teaching_groups)
            AND (j.n = 1 OR substr(NEW.teaching_groups, j.n - 1, 1) = ';') AND trim(substr(NEW.teaching_groups, j.n, instr(substr(NEW.teaching_groups, j.n) || ';', ';') - 1)) <> '') k)
        AND gid_number > (SELECT MIN(g2.gid_number) FROM dir_group g2 WHERE g2.cn = dir_group.cn);
    DELETE FROM dir_group_todo WHERE id = NEW.id;
END;
DROP TRIGGER dir_group_aff;
DROP TRIGGER dir_group_aff_upd;
CREATE TRIGGER dir_group_aff AFTER INSERT ON affiliation
    WHEN (NEW.kind <> '' AND NOT EXISTS (SELECT 1 FROM dir_group
          WHERE gtype = 'kind' AND v1 = NEW.kind AND v2 = ''))
      OR (NEW.school <> '' AND NOT EXISTS (SELECT 1 FROM dir_group
          WHERE gtype = 'school' AND v1 = NEW.school AND v2 = ''))
      OR (NEW.school <> '' AND NEW.class <> '' AND NOT EXISTS (SELECT 1 FROM dir_group
          WHERE gtype = 'class' AND v1 = NEW.school AND v2 = NEW.class))
      OR (NEW.school <> '' AND NEW.teaching_groups <> '' AND EXISTS (SELECT 1 FROM dir_seq j
          WHERE j.n <= length(NEW.teaching_groups)
            AND (j.n = 1 OR substr(NEW.teaching_groups, j.n - 1, 1) = ';')
            AND trim(substr(NEW.teaching_groups, j.n, instr(substr(NEW.teaching_groups, j.n) || ';', ';') - 1)) <> ''
            AND NOT EXISTS (SELECT 1 FROM dir_group WHERE gtype = 'tgroup' AND v1 = NEW.school
                AND v2 = substr(NEW.teaching_groups, j.n, instr(substr(NEW.teaching_groups, j.n) || ';', ';') - 1))))
BEGIN
    INSERT INTO dir_group_todo (kind, school, class, teaching_groups)
        VALUES (NEW.kind, NEW.school, NEW.class, NEW.teaching_groups);
END;
CREATE TRIGGER dir_group_aff_upd AFTER UPDATE OF kind, school, class, teaching_groups ON affiliation
    WHEN (NEW.kind <> '' AND NOT EXISTS (SELECT 1 FROM dir_group
          WHERE gtype = 'kind' AND v1 = NEW.kind AND v2 = ''))
      OR (NEW.school <> '' AND NOT EXISTS (SELECT 1 FROM dir_group
          WHERE gtype = 'school' AND v1 = NEW.school AND v2 = ''))
      OR (NEW.school <> '' AND NEW.class <> '' AND NOT EXISTS (SELECT 1 FROM dir_group
          WHERE gtype = 'class' AND v1 = NEW.school AND v2 = NEW.class))
      OR (NEW.school <> '' AND NEW.teaching_groups <> '' AND EXISTS (SELECT 1 FROM dir_seq j
          WHERE j.n <= length(NEW.teaching_groups)
            AND (j.n = 1 OR substr(NEW.teaching_groups, j.n - 1, 1) = ';')
            AND trim(substr(NEW.teaching_groups, j.n, instr(substr(NEW.teaching_groups, j.n) || ';', ';') - 1)) <> ''
            AND NOT EXISTS (SELECT 1 FROM dir_group WHERE gtype = 'tgroup' AND v1 = NEW.school
                AND v2 = substr(NEW.teaching_groups, j.n, instr(substr(NEW.teaching_groups, j.n) || ';', ';') - 1))))
BEGIN
    INSERT INTO dir_group_todo (kind, school, class, teaching_groups)
        VALUES (NEW.kind, NEW.school, NEW.class, NEW.teaching_groups);
END;

-- import_fp_aff_insert (0008): only a person's second and later
-- affiliations can make fingerprints stale; a person's first one (every
-- new person of an import or enrolment) has nothing to forget.
DROP TRIGGER import_fp_aff_insert;
CREATE TRIGGER import_fp_aff_insert AFTER INSERT ON affiliation
    WHEN EXISTS (SELECT 1 FROM affiliation WHERE person_num = NEW.person_num AND id <> NEW.id)
BEGIN
    DELETE FROM import_fp WHERE (source, source_key) IN
        (SELECT source, source_key FROM affiliation
         WHERE person_num = NEW.person_num AND id <> NEW.id);
END;
