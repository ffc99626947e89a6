-- One row per registered document. Rows are immutable: the catalog never updates or deletes them.
-- Timestamps are microseconds since the Unix epoch, UTC (the precision of PostgreSQL TIMESTAMPTZ).
CREATE TABLE documents (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    artifact_id  TEXT    NOT NULL,
    source_url   TEXT    NOT NULL,
    resolver     TEXT    NOT NULL,
    content_type TEXT,
    bytes        INTEGER NOT NULL CHECK (bytes >= 0),
    sha256       TEXT,
    storage_uri  TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    run_id       TEXT,
    CONSTRAINT documents_key UNIQUE (artifact_id, source_url, resolver)
);

CREATE INDEX documents_sha256 ON documents (sha256);
CREATE INDEX documents_run_id ON documents (run_id);
CREATE INDEX documents_created_at ON documents (created_at);
