-- 0001: the identity registry core: persons, org units, affiliations,
-- accounts, reserved names, an append-only audit table and settings.
-- Dates are ISO 'YYYY-MM-DD' text (comparable as text, readable in any SQL
-- shell, and mapped to DATE on PostgreSQL); instants are microseconds UTC.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- number is the human identity number; AUTOINCREMENT guarantees a number
-- is never handed out twice, even after the person with the highest one
-- is erased.
CREATE TABLE person (
    number           INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT NOT NULL UNIQUE,
    state            TEXT NOT NULL CHECK (state IN
                       ('pending','active','grace','closed','archived','erased')),
    given_names      TEXT NOT NULL,
    family_name      TEXT NOT NULL,
    preferred_name   TEXT NOT NULL DEFAULT '',
    email            TEXT NOT NULL DEFAULT '',
    phone            TEXT NOT NULL DEFAULT '',
    birth_date       TEXT,
    gender           TEXT NOT NULL DEFAULT '',
    nationality      TEXT NOT NULL DEFAULT '',
    language         TEXT NOT NULL DEFAULT '',
    nid_sealed       BLOB,
    nid_hash         BLOB UNIQUE,
    legal_hold_until TEXT,
    death_date       TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    CHECK ((nid_sealed IS NULL) = (nid_hash IS NULL))
);

CREATE TABLE org_unit (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    parent_id  INTEGER REFERENCES org_unit(id),
    created_at INTEGER NOT NULL
);

CREATE TABLE affiliation (
    id              INTEGER PRIMARY KEY,
    person_num      INTEGER NOT NULL REFERENCES person(number),
    kind            TEXT NOT NULL,
    source          TEXT NOT NULL,
    source_key      TEXT NOT NULL,
    org_unit_id     INTEGER REFERENCES org_unit(id),
    title           TEXT NOT NULL DEFAULT '',
    school          TEXT NOT NULL DEFAULT '',
    class           TEXT NOT NULL DEFAULT '',
    teaching_groups TEXT NOT NULL DEFAULT '',
    programme       TEXT NOT NULL DEFAULT '',
    manager_num     INTEGER REFERENCES person(number),
    sponsor_num     INTEGER REFERENCES person(number),
    valid_from      TEXT NOT NULL,
    valid_to        TEXT,
    end_reason      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (source, source_key),
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
-- (person_num, valid_from) serves both the foreign key and the listing of
-- a person's affiliations in date order without a sort.
CREATE INDEX affiliation_person ON affiliation(person_num, valid_from);
CREATE INDEX affiliation_unit ON affiliation(org_unit_id);

CREATE TABLE account (
    id            INTEGER PRIMARY KEY,
    person_num    INTEGER NOT NULL REFERENCES person(number),
    username      TEXT NOT NULL UNIQUE,
    email         TEXT NOT NULL DEFAULT '',
    state         TEXT NOT NULL CHECK (state IN
                    ('active','grace','closed','locked','pending')),
    created_on    TEXT NOT NULL,
    closed_on     TEXT,
    password_hash TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX account_person ON account(person_num);

-- Usernames (ns 0) and e-mail addresses (ns 1) once given stay reserved
-- for their person forever (LC-6). person_id is deliberately not a foreign
-- key: the reservation outlives the person row when it is erased.
CREATE TABLE reserved_name (
    ns          INTEGER NOT NULL CHECK (ns IN (0, 1)),
    value       TEXT NOT NULL,
    person_id   TEXT NOT NULL,
    reserved_at INTEGER NOT NULL,
    PRIMARY KEY (ns, value)
) WITHOUT ROWID;
CREATE TRIGGER reserved_name_keep BEFORE DELETE ON reserved_name
BEGIN
    SELECT RAISE(ABORT, 'reserved names are never released');
END;
CREATE TRIGGER reserved_name_owner BEFORE UPDATE OF person_id, value, ns ON reserved_name
BEGIN
    SELECT RAISE(ABORT, 'reserved names never change owner');
END;

CREATE TABLE audit_event (
    seq        INTEGER PRIMARY KEY,
    time_us    INTEGER NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id   TEXT NOT NULL,
    channel    TEXT NOT NULL,
    action     TEXT NOT NULL,
    subject_id TEXT,
    attrs      TEXT NOT NULL DEFAULT '',
    changes    TEXT,
    result     TEXT NOT NULL CHECK (result IN ('allowed','denied','failed')),
    request_id TEXT NOT NULL DEFAULT '',
    source     TEXT NOT NULL DEFAULT '',
    detail     TEXT
);
CREATE INDEX audit_subject ON audit_event(subject_id, seq) WHERE subject_id IS NOT NULL;
CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
BEGIN
    SELECT RAISE(ABORT, 'audit_event is append-only');
END;
CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
BEGIN
    SELECT RAISE(ABORT, 'audit_event is append-only');
END;
