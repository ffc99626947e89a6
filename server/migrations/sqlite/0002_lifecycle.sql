-- Records can be deleted (DeleteRecords, retention); they are still never updated.
-- Garbage collection of bytes coordinates with uploads through two tables, so that an upload or a
-- registration of the same bytes while the collector runs never ends with a record whose bytes
-- were removed: each side writes its own row, then reads the other's (server/src/lifecycle/gc.rs).
-- A pin: an upload or registration is about to reference the bytes of sha256.
CREATE TABLE blob_pins (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256     TEXT    NOT NULL,
    created_at INTEGER NOT NULL -- microseconds since the Unix epoch
);
CREATE INDEX blob_pins_sha256 ON blob_pins (sha256);
-- A tombstone: a collector is deleting the bytes of sha256. Left by a killed run, it is finished
-- by the next one.
CREATE TABLE blob_tombstones (
    sha256     TEXT    PRIMARY KEY,
    created_at INTEGER NOT NULL -- microseconds since the Unix epoch
);
