-- 0002: the lifecycle engine: versioned policies, recorded runs, the
-- summary an archived person keeps of their relationships, and the outbox
-- of provisioning events.

-- Every applied policy is kept; the current one is the highest version.
CREATE TABLE lc_policy (
    version    INTEGER PRIMARY KEY,
    body       TEXT NOT NULL,
    applied_at INTEGER NOT NULL,
    actor_id   TEXT NOT NULL
);

-- One row per `lifecycle run` (as_of is the date evaluated; counts a JSON
-- object of transitions).
CREATE TABLE lc_run (
    id             INTEGER PRIMARY KEY,
    run_at         INTEGER NOT NULL,
    as_of          TEXT NOT NULL,
    policy_version INTEGER NOT NULL REFERENCES lc_policy(version),
    counts         TEXT NOT NULL,
    changed        INTEGER NOT NULL,
    actor_id       TEXT NOT NULL
);

-- What archiving keeps of the removed affiliations (kinds, first start,
-- last end), and the dates of the steps still to come, which can no longer
-- be derived once the affiliations are gone. Deleted on erasure.
CREATE TABLE lc_archive (
    person_num  INTEGER PRIMARY KEY REFERENCES person(number),
    kinds       TEXT NOT NULL,
    first_start TEXT,
    last_end    TEXT,
    archived_on TEXT NOT NULL,
    purge_on    TEXT,
    erase_on    TEXT,
    purged_on   TEXT
);

-- Provisioning events written in the same transaction as the change they
-- announce; the provisioning engine consumes them. target '*' = every
-- connected system.
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY,
    target     TEXT NOT NULL,
    person_id  TEXT NOT NULL,
    event      TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX outbox_person ON outbox(person_id);
