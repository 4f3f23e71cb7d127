-- 0016: the groups a provisioning target holds for tunnus
-- (docs/provisioning.md, "Groups on a SCIM target"). A SCIM service names
-- a Group by the id it assigns; tunnus knows its groups by displayName.
-- The id is recorded when tunnus creates a group or finds it again by
-- displayName, so that a restart or a reconciliation uses the same group
-- instead of creating a second one. A group tunnus lost track of (created
-- just before a crash) is found by displayName and recorded then.
CREATE TABLE prov_group (
    target      TEXT NOT NULL,
    name        TEXT NOT NULL,      -- the displayName at the target
    resource_id TEXT NOT NULL,      -- the id the target assigned
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (target, name)
);
