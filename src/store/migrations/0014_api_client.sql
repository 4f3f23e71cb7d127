-- 0014: API clients (SEC-2, AN-3): the service identities of the HTTP
-- front end. A client's bearer token is never stored: only its keyed hash
-- (BLAKE2b under the registry's lookup-hash key), which is how a request
-- finds its client. A revoked client keeps its row, so that its name stays
-- in the audit trail's meaning and is never given to another client.
CREATE TABLE api_client (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL,
    scope_unit  TEXT NOT NULL DEFAULT '',
    token_hash  BLOB NOT NULL UNIQUE,
    allow       TEXT NOT NULL DEFAULT '',   -- comma-separated CIDRs; '' = any source
    expires     TEXT,                       -- ISO date, last valid day; NULL = never
    created_at  INTEGER NOT NULL,
    rotated_at  INTEGER NOT NULL,
    revoked_at  INTEGER NOT NULL DEFAULT 0
);

-- The source addresses a client has used: a request from a new one is an
-- audit alert (client.new_source).
CREATE TABLE api_client_source (
    client_id   INTEGER NOT NULL REFERENCES api_client(id),
    source      TEXT NOT NULL,
    first_seen  INTEGER NOT NULL,
    PRIMARY KEY (client_id, source)
) WITHOUT ROWID;
