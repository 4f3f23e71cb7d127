-- 0010: scoped administrative roles granted to persons (AZ-2..4) and the
-- error reports persons file about their own data (PR-4).
--
-- A grant is in force on day D when valid_from <= D <= valid_to (valid_to
-- NULL = open) and it was not revoked on or before D. Validity is
-- evaluated whenever an actor's roles are loaded, so an expired grant
-- gives nothing without any job. Revoked grants stay as history.
CREATE TABLE role_grant (
    id          INTEGER PRIMARY KEY,
    person_num  INTEGER NOT NULL REFERENCES person(number),
    role        TEXT NOT NULL CHECK (role IN ('admin', 'helpdesk', 'unit_admin',
                                              'hr_integration', 'auditor', 'dpo')),
    unit        TEXT REFERENCES org_unit(code),
    valid_from  TEXT NOT NULL,
    valid_to    TEXT,
    granted_by  TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    revoked_on  TEXT,
    revoked_by  TEXT NOT NULL DEFAULT '',
    CHECK ((role = 'unit_admin') = (unit IS NOT NULL)),
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX role_grant_person ON role_grant(person_num);

CREATE TABLE error_report (
    id          INTEGER PRIMARY KEY,
    person_num  INTEGER NOT NULL REFERENCES person(number),
    attribute   TEXT NOT NULL,
    description TEXT NOT NULL,
    filed_by    TEXT NOT NULL,
    channel     TEXT NOT NULL,
    filed_at    INTEGER NOT NULL,
    state       TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved', 'rejected')),
    resolved_at INTEGER,
    resolved_by TEXT NOT NULL DEFAULT '',
    resolution  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX error_report_person ON error_report(person_num);
CREATE INDEX error_report_state ON error_report(state);
