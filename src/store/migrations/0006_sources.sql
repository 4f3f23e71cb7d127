-- 0005: the sources registry: which person and affiliation attributes a
-- source system is authoritative for, and its precedence when two sources
-- disagree on a shared attribute. An unregistered source keeps the built-in
-- defaults (docs/feeds.md).

CREATE TABLE source (
    name                TEXT PRIMARY KEY,
    kind                TEXT NOT NULL,
    owns                TEXT NOT NULL DEFAULT '',
    precedence          INTEGER NOT NULL,
    require_known_units INTEGER NOT NULL DEFAULT 0 CHECK (require_known_units IN (0, 1)),
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
