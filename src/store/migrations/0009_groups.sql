-- 0009: the LDAP directory's groups (ou=groups). Groups are derived from
-- the registry, never edited by hand: one per org unit, affiliation kind,
-- school, class (school + class) and teaching group (school + group). This
-- table gives each group key its gidNumber and cn once: rows are never
-- deleted or renumbered, so a gidNumber is never reused. Membership is not
-- stored; it is read from the affiliations in force on the day asked for.
--
-- gidNumbers start at 1000000000, far above the per-account numbers of
-- dir_posix (from 10000), so that the two never meet. The cn is the slug of
-- the key (lower case; space, '/', and DN specials as '-'), prefixed by the
-- group type ('unit-', 'school-', 'class-', 'tgroup-'; kinds bare); when two
-- keys make the same slug, the later one gets '-GID' appended.

CREATE TABLE dir_group (
    gid_number INTEGER PRIMARY KEY AUTOINCREMENT,
    gtype      TEXT NOT NULL CHECK (gtype IN ('unit', 'kind', 'school', 'class', 'tgroup')),
    v1         TEXT NOT NULL,
    v2         TEXT NOT NULL,
    slug       TEXT NOT NULL,
    cn         TEXT NOT NULL,
    UNIQUE (gtype, v1, v2)
);
CREATE INDEX dir_group_cn ON dir_group(cn);
-- Character positions, to split the ';'-separated teaching groups without
-- JSON functions or CTEs (neither may be used by triggers here).
CREATE TABLE dir_seq (n INTEGER PRIMARY KEY);
WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 1100)
    INSERT INTO dir_seq (n) SELECT n FROM s;
INSERT INTO sqlite_sequence (name, seq) VALUES ('dir_group', 999999999);
CREATE TRIGGER dir_group_keep BEFORE DELETE ON dir_group
BEGIN
    SELECT RAISE(ABORT, 'group numbers are never released');
END;
CREATE TRIGGER dir_group_fixed BEFORE UPDATE OF gid_number, gtype, v1, v2 ON dir_group
BEGIN
    SELECT RAISE(ABORT, 'a group key and number never change');
END;

-- Members by kind, school and class are found by index.
CREATE INDEX affiliation_kind ON affiliation(kind);
CREATE INDEX affiliation_school ON affiliation(school, class);

-- Existing org units and affiliations, in a fixed order.
INSERT INTO dir_group (gtype, v1, v2, slug, cn)
    SELECT 'unit', code, '', 'unit-' || lower(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(code, ' ', '-'), '/', '-'), ',', '-'), '=', '-'), '+', '-'), '\', '-'), '"', '-'), ';', '-'), '<', '-'), '>', '-'), '#', '-')), 'unit-' || lower(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(code, ' ', '-'), '/', '-'), ',', '-'), '=', '-'), '+', '-'), '\', '-'), '"', '-'), ';', '-'), '<', '-'), '>', '-'), '#', '-'))
    FROM org_unit ORDER BY id;
INSERT OR IGNORE INTO dir_group (gtype, v1, v2, slug, cn)
    SELECT k.gtype, k.v1, k.v2, k.slug, k.slug FROM (
    SELECT 'kind' AS gtype, f.kind AS v1, '' AS v2, lower(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(f.kind, ' ', '-'), '/', '-'), ',', '-'), '=', '-'), '+', '-'), '\', '-'), '"', '-'), ';', '-'), '<', '-'), '>', '-'), '#', '-')) AS slug, f.id AS aid FROM affiliation f WHERE f.kind <> ''
    UNION ALL SELECT 'school', f.school, '', 'school-' || lower(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(f.school, ' ', '-'), '/', '-'), ',', '-'), '=', '-'), '+', '-'), '\', '-'), '"', '-'), ';', '-'), '<', '-'), '>', '-'), '#', '-')), f.id FROM affiliation f WHERE f.school <> ''
    UNION ALL SELECT 'class', f.school, f.class, 'class-' || lower(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(f.school, ' ', '-'), '/', '-'), ',', '-'), '=', '-'), '+', '-'), '\', '-'), '"', '-'), ';', '-'), '<', '-'), '>', '-'), '#', '-')) || '-' || lower(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(f.class, ' ', '-'), '/', '-'), ',', '-'), '=', '-'), '+', '-'), '\', '-'), '"', '-'), ';', '-'), '<', '-'), '>', '-'), '#', '-')), f.id
        FROM affiliation f WHERE f.school <> '' AND f.class <> ''
    UNION ALL SELECT 'tgroup', f.school, substr(f.teaching_groups, j.n, instr(substr(f.teaching_groups, j.n) || ';', ';') - 1), 'tgroup-' || lower(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(f.school, ' ', '-'), '/', '-'), ',', '-'), '=', '-'), '+', '-'), '\', '-'), '"', '-'), ';', '-'), '<', '-'), '>', '-'), '#', '-')) || '-' || lower(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(substr(f.teaching_groups, j.n, instr(substr(f.teaching_groups, j.n) || ';', ';') - 1), ' ', '-'), '/', '-'), ',', '-'), '=', '-'), '+', '-'), '\', '-'), '"', '-'), ';', '-'), '<', '-'), '>', '-'), '#', '-')), f.id
        FROM affiliation f, dir_seq j
        WHERE f.school <> '' AND j.n <= length(f.teaching_groups)
            AND (j.n = 1 OR substr(f.teaching_groups, j.n - 1, 1) = ';') AND trim(substr(f.teaching_groups, j.n, instr(substr(f.teaching_groups, j.n) || ';', ';') - 1)) <> ''
    ) k ORDER BY k.aid;
UPDATE dir_group SET cn = slug || '-' || gid_number
    WHERE gid_number > (SELECT MIN(g2.gid_number) FROM dir_group g2 WHERE g2.cn = dir_group.cn);

CREATE TRIGGER dir_group_unit AFTER INSERT ON org_unit
BEGIN
    INSERT OR IGNORE INTO dir_group (gtype, v1, v2, slug, cn)
        VALUES ('unit', NEW.code, '', 'unit-' || lower(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(NEW.code, ' ', '-'), '/', '-'), ',', '-'), '=', '-'), '+', '-'), '\', '-'), '"', '-'), ';', '-'), '<', '-'), '>', '-'), '#', '-')), 'unit-' || lower(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(NEW.code, ' ', '-'), '/', '-'), ',', '-'), '=', '-'), '+', '-'), '\', '-'), '"', '-'), ';', '-'), '<', '-'), '>', '-'), '#', '-')));
    UPDATE dir_group SET cn = slug || '-' || gid_number
        WHERE cn IN ('unit-' || lower(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(NEW.code, ' ', '-'), '/', '-'), ',', '-'), '=', '-'), '+', '-'), '\', '-'), '"', '-'), ';', '-'), '<', '-'), '>', '-'), '#', '-')))
        AND gid_number > (SELECT MIN(g2.gid_number) FROM dir_group g2 WHERE g2.cn = dir_group.cn);
END;
CREATE TRIGGER dir_group_aff AFTER INSERT ON affiliation
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
END;
CREATE TRIGGER dir_group_aff_upd AFTER UPDATE OF kind, school, class, teaching_groups ON affiliation
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
END;
