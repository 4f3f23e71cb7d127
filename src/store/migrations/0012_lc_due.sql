-- 0010: when a person's lifecycle next needs a look. Per person, the
-- interval of dates [lo, hi] around the day of the last run on which the
-- evaluation under policy version ver gives no transition (NULL lo: no
-- lower bound; NULL hi: no upper bound), so that plan and run visit only
-- the persons whose interval does not hold their date, instead of
-- evaluating a million persons to find none.
--
-- The row is only a cache of what the evaluation would say: every change
-- to what the evaluation reads (the person's state, death date and legal
-- hold; their affiliations; whether they have an account; their archive
-- summary; their handover windows), by any path, marks it stale here
-- (ver = 0), and a new policy makes every row stale (its version differs).
-- gen counts those changes, so a run that evaluated a person outside a
-- transaction stores its interval only if nothing changed meanwhile.

CREATE TABLE lc_due (
    person_num INTEGER PRIMARY KEY REFERENCES person(number),
    gen        INTEGER NOT NULL DEFAULT 0,
    ver        INTEGER NOT NULL DEFAULT 0,
    lo         INTEGER,
    hi         INTEGER
);
CREATE INDEX lc_due_ver ON lc_due(ver);
CREATE INDEX lc_due_lo ON lc_due(lo) WHERE lo IS NOT NULL;
CREATE INDEX lc_due_hi ON lc_due(hi) WHERE hi IS NOT NULL;

INSERT INTO lc_due (person_num) SELECT number FROM person;

CREATE TRIGGER lc_due_person_add AFTER INSERT ON person
BEGIN
    INSERT INTO lc_due (person_num) VALUES (NEW.number);
END;

CREATE TRIGGER lc_due_person AFTER UPDATE ON person
    WHEN NEW.state IS NOT OLD.state OR NEW.death_date IS NOT OLD.death_date
      OR NEW.legal_hold_until IS NOT OLD.legal_hold_until
BEGIN
    UPDATE lc_due SET ver = 0, gen = gen + 1 WHERE person_num = NEW.number;
END;

CREATE TRIGGER lc_due_aff_add AFTER INSERT ON affiliation
BEGIN
    UPDATE lc_due SET ver = 0, gen = gen + 1 WHERE person_num = NEW.person_num;
END;

CREATE TRIGGER lc_due_aff_update AFTER UPDATE ON affiliation
    WHEN NEW.person_num IS NOT OLD.person_num OR NEW.kind IS NOT OLD.kind
      OR NEW.valid_from IS NOT OLD.valid_from OR NEW.valid_to IS NOT OLD.valid_to
      OR NEW.end_reason IS NOT OLD.end_reason OR NEW.manager_num IS NOT OLD.manager_num
BEGIN
    UPDATE lc_due SET ver = 0, gen = gen + 1
    WHERE person_num = NEW.person_num OR person_num = OLD.person_num;
END;

CREATE TRIGGER lc_due_aff_delete AFTER DELETE ON affiliation
BEGIN
    UPDATE lc_due SET ver = 0, gen = gen + 1 WHERE person_num = OLD.person_num;
END;

CREATE TRIGGER lc_due_account_add AFTER INSERT ON account
BEGIN
    UPDATE lc_due SET ver = 0, gen = gen + 1 WHERE person_num = NEW.person_num;
END;

CREATE TRIGGER lc_due_account_move AFTER UPDATE OF person_num ON account
    WHEN NEW.person_num IS NOT OLD.person_num
BEGIN
    UPDATE lc_due SET ver = 0, gen = gen + 1
    WHERE person_num = NEW.person_num OR person_num = OLD.person_num;
END;

CREATE TRIGGER lc_due_account_delete AFTER DELETE ON account
BEGIN
    UPDATE lc_due SET ver = 0, gen = gen + 1 WHERE person_num = OLD.person_num;
END;

CREATE TRIGGER lc_due_archive_add AFTER INSERT ON lc_archive
BEGIN
    UPDATE lc_due SET ver = 0, gen = gen + 1 WHERE person_num = NEW.person_num;
END;

CREATE TRIGGER lc_due_archive_update AFTER UPDATE ON lc_archive
BEGIN
    UPDATE lc_due SET ver = 0, gen = gen + 1
    WHERE person_num = NEW.person_num OR person_num = OLD.person_num;
END;

CREATE TRIGGER lc_due_archive_delete AFTER DELETE ON lc_archive
BEGIN
    UPDATE lc_due SET ver = 0, gen = gen + 1 WHERE person_num = OLD.person_num;
END;

CREATE TRIGGER lc_due_handover_add AFTER INSERT ON lc_handover
BEGIN
    UPDATE lc_due SET ver = 0, gen = gen + 1 WHERE person_num = NEW.leaver_num;
END;

CREATE TRIGGER lc_due_handover_update AFTER UPDATE ON lc_handover
BEGIN
    UPDATE lc_due SET ver = 0, gen = gen + 1
    WHERE person_num = NEW.leaver_num OR person_num = OLD.leaver_num;
END;

CREATE TRIGGER lc_due_handover_delete AFTER DELETE ON lc_handover
BEGIN
    UPDATE lc_due SET ver = 0, gen = gen + 1 WHERE person_num = OLD.leaver_num;
END;
