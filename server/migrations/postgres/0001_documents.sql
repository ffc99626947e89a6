-- One row per registered document. Rows are immutable: the catalog never updates or deletes them.
-- The unique key (artifact_id, source_url, resolver) is enforced through key_sha256, the SHA-256 of
-- the three fields joined by NUL (which no field may contain): a btree entry cannot hold the 8 KiB
-- URLs the contract allows, a 32-byte digest can.
CREATE TABLE documents (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key_sha256   BYTEA       NOT NULL,
    artifact_id  TEXT        NOT NULL,
    source_url   TEXT        NOT NULL,
    resolver     TEXT        NOT NULL,
    content_type TEXT,
    bytes        BIGINT      NOT NULL CHECK (bytes >= 0),
    sha256       TEXT,
    storage_uri  TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    run_id       TEXT,
    CONSTRAINT documents_key UNIQUE (key_sha256)
);

CREATE INDEX documents_artifact_id ON documents (artifact_id, created_at DESC, id DESC);
CREATE INDEX documents_sha256 ON documents (sha256);
CREATE INDEX documents_run_id ON documents (run_id);
CREATE INDEX documents_created_at ON documents (created_at);
