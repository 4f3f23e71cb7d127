-- 0015: client-certificate binding of API clients (SEC-2). A bound
-- client's bearer token is accepted only over HTTPS from a peer that
-- presented a client certificate (verified against [http] client_ca) whose
-- SHA-256 fingerprint is this one (lowercase hex of the DER encoding), in
-- the manner of RFC 8705's certificate-bound tokens. '' = not bound.
ALTER TABLE api_client ADD COLUMN cert_sha256 TEXT NOT NULL DEFAULT '';
