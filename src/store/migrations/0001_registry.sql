-- 0001: the identity registry core: persons, org units, affiliations,
-- accounts, reserved names, an append-only audit table and settings.
-- CHECKs list allowed values as OR chains, not IN lists: SQLite builds an
-- ephemeral index for an IN list on every row it checks, which tripled the
-- cost of an audit insert.
-- Dates are ISO 'YYYY-MM-DD' text (comparable as text, readable in any SQL
-- shell, and mapped to DATE on PostgreSQL); instants are microseconds UTC.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- number is the human identity number. Person rows are never deleted:
-- erasure wipes a person's data and leaves a tombstone (the id, the number
-- and state 'erased'), which the reservations of their names point at. As
-- the highest row always stays, a plain INTEGER PRIMARY KEY never hands a
-- number out twice, without AUTOINCREMENT's extra write per insert.
CREATE TABLE person (
    number           INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    state            TEXT NOT NULL CHECK (state = 'pending' OR state = 'active' OR state = 'grace' OR state = 'closed' OR state = 'archived' OR state = 'erased'),
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
CREATE TRIGGER person_keep BEFORE DELETE ON person
BEGIN
    SELECT RAISE(ABORT, 'persons are never deleted: erasure leaves a tombstone');
END;

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
    org_unit        TEXT REFERENCES org_unit(code),
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
CREATE INDEX affiliation_unit ON affiliation(org_unit);

-- An account row is the permanent record of the username and address it
-- was given (LC-6): rows are never deleted, their owner never changes, and
-- a username or address replaced by another is moved to reserved_name by
-- trigger. So the unique indexes here are the reservation for every name
-- in use, and creating an account writes no separate reservation.
-- owner_id is the person's id and outlives the person row: person_num
-- becomes NULL when a person is erased, the reservation stays.
CREATE TABLE account (
    id            INTEGER PRIMARY KEY,
    person_num    INTEGER REFERENCES person(number),
    owner_id      TEXT NOT NULL,
    username      TEXT NOT NULL UNIQUE,
    email         TEXT UNIQUE,
    state         TEXT NOT NULL CHECK (state = 'active' OR state = 'grace' OR state = 'closed' OR state = 'locked' OR state = 'pending'),
    created_on    TEXT NOT NULL,
    closed_on     TEXT,
    password_hash TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX account_person ON account(person_num);
CREATE TRIGGER account_keep BEFORE DELETE ON account
BEGIN
    SELECT RAISE(ABORT, 'accounts are never deleted: their names stay reserved');
END;
CREATE TRIGGER account_owner BEFORE UPDATE OF owner_id ON account
    WHEN NEW.owner_id IS NOT OLD.owner_id
BEGIN
    SELECT RAISE(ABORT, 'an account never changes owner');
END;
CREATE TRIGGER account_rename AFTER UPDATE OF username ON account
    WHEN NEW.username IS NOT OLD.username
BEGIN
    INSERT INTO reserved_name (ns, value, person_id, reserved_at)
    VALUES (0, OLD.username, OLD.owner_id, NEW.updated_at) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER account_readdress AFTER UPDATE OF email ON account
    WHEN OLD.email IS NOT NULL AND NEW.email IS NOT OLD.email
BEGIN
    INSERT INTO reserved_name (ns, value, person_id, reserved_at)
    VALUES (1, OLD.email, OLD.owner_id, NEW.updated_at) ON CONFLICT DO NOTHING;
END;

-- Names reserved without an account row: usernames and addresses an account
-- gave up (by the triggers above), and names brought over from an older
-- directory. ns 0 = username, 1 = e-mail address. person_id is not a
-- foreign key: the reservation outlives the person row.
CREATE TABLE reserved_name (
    ns          INTEGER NOT NULL CHECK (ns = 0 OR ns = 1),
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
    result     TEXT NOT NULL CHECK (result = 'allowed' OR result = 'denied' OR result = 'failed'),
    request_id TEXT NOT NULL DEFAULT '',
    source     TEXT NOT NULL DEFAULT '',
    detail     TEXT
);
-- No index on subject_id here: every audited read would insert into it at a
-- random position and dirty a page per event. The per-person report (AU-2)
-- gets its own index structure with the audit trail's issue.
CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
BEGIN
    SELECT RAISE(ABORT, 'audit_event is append-only');
END;
CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
BEGIN
    SELECT RAISE(ABORT, 'audit_event is append-only');
END;
