-- 0005: LC-8 handover grants and sealed accounts.

-- When a leaver's account closes and their relationship's kind has
-- handover_days, their manager (the grantee) gets access to the leaver's
-- resources from from_date through until_date. Provisioning acts on the
-- rows (and on the outbox events written with them). state: 'active' while
-- the access is given; 'expired' once the window is over; 'returned' when
-- the leaver came back within the window (their account reconnected, the
-- manager's access removed). ended_on: the day the access was removed.
-- grantee_num is NULL when the relationship named no manager: the window
-- still runs, and the account cannot be reopened after it.
CREATE TABLE lc_handover (
    id          INTEGER PRIMARY KEY,
    leaver_num  INTEGER NOT NULL REFERENCES person(number),
    grantee_num INTEGER REFERENCES person(number),
    from_date   TEXT NOT NULL,
    until_date  TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state = 'active' OR state = 'expired' OR state = 'returned'),
    ended_on    TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    CHECK (until_date >= from_date)
);
CREATE INDEX lc_handover_leaver ON lc_handover(leaver_num, state);
CREATE INDEX lc_handover_grantee ON lc_handover(grantee_num);

-- Accounts that can never be reopened: closed past a handover window
-- (LC-8), or left behind by a return after archiving under
-- returning_username "new". The row keeps its name reserved as before; a
-- returning owner gets a new account.
CREATE TABLE lc_account_sealed (
    account_id INTEGER PRIMARY KEY REFERENCES account(id),
    sealed_on  TEXT NOT NULL,
    reason     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
