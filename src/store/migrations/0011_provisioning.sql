-- 0010: provisioning delivery state (docs/provisioning.md).
--
-- The outbox (0003) holds "this person changed" intents, target '*' for
-- every target. Each target reads it past its cursor and keeps one pending
-- row per person: many changes of one person become one delivery, which
-- computes the entry the target should hold from the registry at that
-- time, so delivery is idempotent and in order per person by construction.

CREATE TABLE prov_cursor (
    target          TEXT PRIMARY KEY,
    last_outbox_id  INTEGER NOT NULL,
    last_success_at INTEGER,           -- µs UTC of the last delivered item
    delivered       INTEGER NOT NULL DEFAULT 0
);

-- One person still to be delivered to a target. last_outbox_id is the
-- newest outbox row folded in: a delivery that read the registry before a
-- newer change arrived does not remove the row. parked: failed
-- max_attempts times; kept with the target's error until retried or until
-- a new change for the person arrives.
CREATE TABLE prov_pending (
    id              INTEGER PRIMARY KEY,
    target          TEXT NOT NULL,
    person_id       TEXT NOT NULL,
    first_outbox_id INTEGER NOT NULL,
    last_outbox_id  INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    parked          INTEGER NOT NULL DEFAULT 0,
    UNIQUE (target, person_id)
);
CREATE INDEX prov_pending_due ON prov_pending(target, parked, next_attempt_at);

-- Every resource a target holds for a person (the DN of a directory
-- entry, a file row's key). Keyed by the person's id, not their row, so
-- that it survives archiving and erasure (LC-7): what was created where
-- stays known. state: present, disabled, deleted.
CREATE TABLE prov_resource (
    target      TEXT NOT NULL,
    person_id   TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('present', 'disabled', 'deleted')),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (target, person_id)
);
