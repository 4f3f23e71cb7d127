-- 0002: the tamper-evident audit trail: a hash per event chaining it to its
-- predecessor, signed checkpoints, the lazily filled per-person index and
-- a retention gate for pruning. See docs/audit.md.

-- hash = BLAKE2b-256(prev_hash || BLAKE2b-256(canonical encoding)); NULL only
-- for events written before this migration (verify reports them).
ALTER TABLE audit_event ADD COLUMN hash BLOB;

-- A signed statement "the chain up to seq has head hash". kind 'cut' marks
-- a retention cut: events up to seq were pruned except those listed in
-- kept (seq || prev_hash || hash, 72 bytes each, ascending), which
-- belonged to persons under legal hold. sig is Ed25519 over the message of
-- docs/audit.md.
CREATE TABLE audit_checkpoint (
    id      INTEGER PRIMARY KEY,
    seq     INTEGER NOT NULL,
    hash    BLOB NOT NULL,
    time_us INTEGER NOT NULL,
    kind    TEXT NOT NULL CHECK (kind = 'periodic' OR kind = 'cut'),
    cut_us  INTEGER NOT NULL DEFAULT 0,
    kept    BLOB NOT NULL DEFAULT x'',
    sig     BLOB NOT NULL
);
CREATE INDEX audit_checkpoint_seq ON audit_checkpoint(seq);
-- The chain head after a cut is read on every append: one probe, not a
-- scan of the periodic checkpoints (one per 256 events).
CREATE INDEX audit_checkpoint_cut ON audit_checkpoint(seq DESC, id DESC) WHERE kind = 'cut';

-- The per-person index (AU-2), filled in seq order from the watermark in
-- meta key audit_index_seq by the subject query and `tunnus audit index`,
-- never by the read path: appends stay one sequential insert each.
CREATE TABLE audit_subject (
    subject_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    PRIMARY KEY (subject_id, seq)
) WITHOUT ROWID;

-- Deletion is allowed only to the retention prune, which opens the gate
-- (meta audit_prune = 'open') inside its transaction and closes it again.
DROP TRIGGER audit_event_no_delete;
CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
    WHEN (SELECT value FROM meta WHERE key = 'audit_prune') IS NOT 'open'
BEGIN
    SELECT RAISE(ABORT, 'audit_event is append-only');
END;
