-- 0002: source feed imports: a record of every import run, and the review
-- queue for rows that look like an existing person but carry no national
-- ID to prove it.

CREATE TABLE import_run (
    id          INTEGER PRIMARY KEY,
    source      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    file        TEXT NOT NULL,
    mode        TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    status      TEXT NOT NULL CHECK (status = 'running' OR status = 'done' OR status = 'refused' OR status = 'failed'),
    rows_read   INTEGER NOT NULL DEFAULT 0,
    created     INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    ended       INTEGER NOT NULL DEFAULT 0,
    rejected    INTEGER NOT NULL DEFAULT 0,
    queued      INTEGER NOT NULL DEFAULT 0,
    detail      TEXT NOT NULL DEFAULT ''
);

-- One entry per (source, source_key): a re-import of the same row updates
-- the pending entry instead of queueing it twice. row is the feed row as a
-- JSON object; it never holds a national ID (rows with one are matched by
-- it and never queued).
CREATE TABLE import_review (
    id            INTEGER PRIMARY KEY,
    source        TEXT NOT NULL,
    source_key    TEXT NOT NULL,
    kind          TEXT NOT NULL,
    candidate_num INTEGER NOT NULL REFERENCES person(number),
    candidates    INTEGER NOT NULL,
    row           TEXT NOT NULL,
    line          INTEGER NOT NULL,
    state         TEXT NOT NULL CHECK (state = 'pending' OR state = 'accepted' OR state = 'rejected'),
    created_at    INTEGER NOT NULL,
    decided_at    INTEGER,
    UNIQUE (source, source_key)
);

-- Rows without a national ID are compared with persons of the same names
-- and birth date.
CREATE INDEX person_names_birth ON person(family_name, given_names, birth_date);
