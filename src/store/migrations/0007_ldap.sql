-- 0005: the LDAP directory. POSIX uid numbers are allocated once per
-- account and never reused (accounts are never deleted, and neither are
-- these rows); failed simple binds are counted per account for throttling
-- and lockout.

CREATE TABLE dir_posix (
    account_id INTEGER PRIMARY KEY REFERENCES account(id),
    uid_number INTEGER NOT NULL UNIQUE
);
CREATE TRIGGER dir_posix_keep BEFORE DELETE ON dir_posix
BEGIN
    SELECT RAISE(ABORT, 'uid numbers are never released');
END;
CREATE TRIGGER dir_posix_fixed BEFORE UPDATE ON dir_posix
BEGIN
    SELECT RAISE(ABORT, 'a uid number never changes');
END;

-- Every account, present and future, gets the next number on creation.
INSERT INTO dir_posix (account_id, uid_number)
    SELECT id, 10000 + ROW_NUMBER() OVER (ORDER BY id) - 1 FROM account;
CREATE TRIGGER dir_posix_alloc AFTER INSERT ON account
BEGIN
    INSERT INTO dir_posix (account_id, uid_number)
        VALUES (NEW.id, (SELECT COALESCE(MAX(uid_number) + 1, 10000) FROM dir_posix));
END;

CREATE TABLE dir_bind_fail (
    account_id   INTEGER PRIMARY KEY REFERENCES account(id),
    failures     INTEGER NOT NULL,
    last_at      INTEGER NOT NULL,
    locked_until INTEGER NOT NULL DEFAULT 0
);
