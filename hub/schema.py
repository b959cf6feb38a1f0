"""The hub's SQLite schema: registry, feeds, notices, submissions, replies, blobs and pulled status.

Times are unix seconds (REAL) except times that came from an edge, which are kept as the RFC 3339 text it sent.
"""

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS towns (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS villages (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    town_id TEXT NOT NULL REFERENCES towns(id),
    edge_url TEXT,
    edge_key BLOB,                 -- the enrolled node key; NULL until the box enrolls
    enrolled_at REAL,
    enroll_token_hash TEXT,        -- SHA-256 of the current token; the token itself is only on the bundle
    token_expires_at REAL,
    token_used_by BLOB,            -- the key that used the current token, which makes enroll idempotent
    created_at REAL NOT NULL,
    last_sync_at REAL,
    up_epoch INTEGER NOT NULL DEFAULT 0  -- +1 whenever another box (key) enrolls: its up feed starts afresh
);
CREATE INDEX IF NOT EXISTS villages_town ON villages(town_id);

CREATE TABLE IF NOT EXISTS down_entries (
    village_id TEXT NOT NULL REFERENCES villages(id),
    seq INTEGER NOT NULL,
    prev BLOB NOT NULL,
    hash BLOB NOT NULL,
    op BLOB NOT NULL,              -- canonical msgpack of the op
    appended_at REAL NOT NULL,
    PRIMARY KEY (village_id, seq)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS up_heads (
    village_id TEXT PRIMARY KEY REFERENCES villages(id),
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS up_entries (
    village_id TEXT NOT NULL REFERENCES villages(id),
    epoch INTEGER NOT NULL,        -- villages.up_epoch when received: one up feed per enrolled box
    seq INTEGER NOT NULL,
    prev BLOB NOT NULL,
    hash BLOB NOT NULL,
    op BLOB NOT NULL,
    received_at REAL NOT NULL,
    PRIMARY KEY (village_id, epoch, seq)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS submissions (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,       -- the client's UUID: the same submission is stored exactly once
    village_id TEXT NOT NULL REFERENCES villages(id),
    kind TEXT NOT NULL,
    device_id TEXT NOT NULL,
    body TEXT NOT NULL,            -- JSON
    created_at TEXT NOT NULL,
    received_at REAL NOT NULL,
    up_seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS submissions_village ON submissions(village_id, n);

-- Other edge-owned records (device status, recordings, village info): latest put per record.
CREATE TABLE IF NOT EXISTS edge_records (
    village_id TEXT NOT NULL REFERENCES villages(id),
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    blobs TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (village_id, kind, id)
);

CREATE TABLE IF NOT EXISTS replies (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    submission_id TEXT NOT NULL REFERENCES submissions(id),
    village_id TEXT NOT NULL,
    text TEXT NOT NULL,
    by TEXT NOT NULL,
    at REAL NOT NULL,
    down_seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS replies_submission ON replies(submission_id, n);

CREATE TABLE IF NOT EXISTS notices (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    area TEXT NOT NULL,
    priority TEXT NOT NULL,
    scope TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('draft', 'published', 'withdrawn')),
    created_at REAL NOT NULL,
    published_at REAL,
    expires_at REAL,
    withdrawn_at REAL,
    attachments TEXT NOT NULL      -- JSON [{sha256, size, mime}]
);
CREATE INDEX IF NOT EXISTS notices_state ON notices(state, n);

CREATE TABLE IF NOT EXISTS blobs (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mime TEXT NOT NULL,
    created_at REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS status (
    village_id TEXT PRIMARY KEY REFERENCES villages(id),
    last_status_at REAL,           -- last successful pull
    last_attempt_at REAL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    document TEXT                  -- JSON of the last verified status body
);

CREATE TABLE IF NOT EXISTS status_history (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    village_id TEXT NOT NULL,
    at REAL NOT NULL,
    ok INTEGER NOT NULL,
    error TEXT,
    latency_ms INTEGER,
    summary TEXT                   -- JSON: the few fields worth a chart
);
CREATE INDEX IF NOT EXISTS status_history_village ON status_history(village_id, n);

-- Edge keys revoked by an operator (`village-hub edge revoke`): their requests and batches are refused for good.
CREATE TABLE IF NOT EXISTS revoked_edge_keys (
    key BLOB PRIMARY KEY,
    village_id TEXT NOT NULL,
    revoked_at REAL NOT NULL,
    reason TEXT NOT NULL
);

-- Live streams the hub relays to villages in scope (hub/streams.py) and meeting recordings uploaded by edges.
CREATE TABLE IF NOT EXISTS streams (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    area TEXT NOT NULL,
    scope TEXT NOT NULL,
    source_url TEXT NOT NULL,
    created_at REAL NOT NULL,
    ended_at REAL
);
CREATE TABLE IF NOT EXISTS recordings (
    village_id TEXT NOT NULL REFERENCES villages(id),
    id TEXT NOT NULL,              -- the meeting id at the edge
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,          -- declared by the edge; the bytes must hash to it
    started_at REAL NOT NULL,
    completed_at REAL,
    PRIMARY KEY (village_id, id)
);

PRAGMA user_version = 1;
"""
