-- 0018: the persons under legal hold, indexed. The retention cut deletes
-- events in chunks (store_sqlite_audit.c, sq_audit_prune), and each chunk
-- asks which persons are held; without an index that was a scan of every
-- person per chunk. Few persons are ever held, so the partial index is
-- tiny and an insert of a person without a hold never touches it.
CREATE INDEX person_held ON person(legal_hold_until) WHERE legal_hold_until IS NOT NULL;
