"""The hub's SQLite schema: registry and org, officials and sessions, audit log, feeds, notices, submissions,
replies, blobs, pulled status, and cases with their routing rules.

Times are unix seconds (REAL) except times that came from an edge, which are kept as the RFC 3339 text it sent.
Every statement is CREATE ... IF NOT EXISTS, so an older hub's database opens as it is; what an older table lacks
is added by hub/schema_migrations.py, which runs right after this script.
"""

SCHEMA_VERSION = 3

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
    id TEXT NOT NULL,              -- the client's UUID: stored once per village (another village may send the same)
    village_id TEXT NOT NULL REFERENCES villages(id),
    kind TEXT NOT NULL,
    device_id TEXT NOT NULL,
    body TEXT NOT NULL,            -- JSON
    created_at TEXT NOT NULL,
    received_at REAL NOT NULL,
    up_seq INTEGER NOT NULL,
    household_id TEXT,             -- the edge's opaque id of the sender's household (paired devices), or NULL
    UNIQUE (village_id, id)
);
CREATE INDEX IF NOT EXISTS submissions_village ON submissions(village_id, n);
CREATE INDEX IF NOT EXISTS submissions_id ON submissions(id);

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
    submission_id TEXT NOT NULL,   -- with village_id, the submission it answers (ids are unique per village only)
    village_id TEXT NOT NULL,
    text TEXT NOT NULL,
    by TEXT NOT NULL,
    at REAL NOT NULL,
    down_seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS replies_village_submission ON replies(village_id, submission_id, n);

CREATE TABLE IF NOT EXISTS notices (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    area TEXT NOT NULL,
    priority TEXT NOT NULL,
    scope TEXT NOT NULL,           -- one target (city, town:ID, village:ID) or several, comma-separated
    state TEXT NOT NULL CHECK (state IN ('draft', 'in_review', 'rejected', 'scheduled', 'published', 'withdrawn')),
    created_at REAL NOT NULL,
    published_at REAL,
    expires_at REAL,
    withdrawn_at REAL,
    attachments TEXT NOT NULL,     -- JSON [{sha256, size, mime}]
    author TEXT,                   -- the official who drafted it; NULL when made with the admin token
    publish_at REAL,               -- scheduled publication; NULL publishes as soon as it is approved
    submitted_at REAL,
    reviewed_by TEXT,
    reviewed_at REAL,
    reject_reason TEXT,
    updated_at REAL
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

-- Organisation (docs/officials.md): towns are above; units (departments) hang under the city or one town.
CREATE TABLE IF NOT EXISTS units (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    parent TEXT NOT NULL,          -- 'city' or 'town:ID'
    created_at REAL NOT NULL
);

-- Which places a notice targets, one row per target, so a scope filter is an index lookup.
CREATE TABLE IF NOT EXISTS notice_targets (
    notice_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    PRIMARY KEY (notice_id, scope)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS notice_targets_scope ON notice_targets(scope);

-- Named officials: roles are a comma list, the scope is one of city, town:ID, village:ID, unit:ID.
CREATE TABLE IF NOT EXISTS officials (
    username TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    roles TEXT NOT NULL,
    scope TEXT NOT NULL,
    pw_hash TEXT NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,  -- attempts reserved since the last success (hub/logins.py)
    locked_until REAL,
    disabled_at REAL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);

-- Login sessions: bearer tokens for scripts, cookies for the page; only the token's SHA-256 is kept.
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES officials(username),
    kind TEXT NOT NULL CHECK (kind IN ('bearer', 'cookie')),
    csrf TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(username);

-- The audit log (hub/audit.py): append-only, each entry's hash covers the previous hash and the entry.
CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    username TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    scope TEXT NOT NULL,           -- the place the action concerns: who may read the entry
    detail TEXT NOT NULL,
    prev BLOB NOT NULL,
    hash BLOB NOT NULL
);
-- The hub itself never changes an entry; these make a stray UPDATE or DELETE fail loudly.
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- Cases (hub/cases.py): one per resident's request (or per Open311 filing), through new, assigned, in_progress,
-- answered and closed. Times are unix seconds; deadlines are the end of a working day in Asia/Shanghai.
CREATE TABLE IF NOT EXISTS cases (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    submission_id TEXT,            -- the resident's submission, one case per village and id; NULL for Open311
    village_id TEXT,               -- NULL for a case filed through Open311 (the city's own)
    town_id TEXT,                  -- the town whose dispatchers own it; NULL: the city's
    source TEXT NOT NULL,          -- 'village' or 'open311'
    kind TEXT NOT NULL,
    category TEXT NOT NULL,
    text TEXT NOT NULL,            -- the resident's words, as sent
    state TEXT NOT NULL CHECK (state IN ('new', 'assigned', 'in_progress', 'answered', 'closed')),
    unit TEXT,                     -- the unit it is assigned to; NULL while with the dispatcher
    handled_by TEXT,               -- who answered: unit:ID, or village:ID for a village's local reply
    time_limit_days INTEGER NOT NULL,
    received_at REAL NOT NULL,
    accept_by REAL,
    due_at REAL,
    calendar_fallback INTEGER NOT NULL DEFAULT 0,
    overdue INTEGER NOT NULL DEFAULT 0,
    escalated_to TEXT,
    reopened INTEGER NOT NULL DEFAULT 0,
    rating INTEGER,
    extension_request TEXT,        -- JSON {working_days, reason, by, at} while a handler's request waits
    accepted_at REAL,
    answered_at REAL,
    closed_at REAL,
    updated_at REAL NOT NULL,
    UNIQUE (village_id, submission_id)
);
CREATE INDEX IF NOT EXISTS cases_state ON cases(state, n);
CREATE INDEX IF NOT EXISTS cases_village ON cases(village_id, n);
CREATE INDEX IF NOT EXISTS cases_unit ON cases(unit, n);

CREATE TABLE IF NOT EXISTS case_history (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id TEXT NOT NULL REFERENCES cases(id),
    at REAL NOT NULL,
    username TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS case_history_case ON case_history(case_id, n);

-- Duplicates (hub/case_merge.py): a case closed as a duplicate of another; its resident follows that case (its
-- state and its replies). One level only: a case that has duplicates is never itself merged without taking them.
CREATE TABLE IF NOT EXISTS case_merges (
    case_id TEXT PRIMARY KEY REFERENCES cases(id),
    into_id TEXT NOT NULL REFERENCES cases(id),
    at REAL NOT NULL,
    username TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS case_merges_into ON case_merges(into_id);

-- Routing rules (hub/case_routing.py): (kind, category) to a unit and a time limit; '' is any category.
CREATE TABLE IF NOT EXISTS case_routes (
    kind TEXT NOT NULL,
    category TEXT NOT NULL,
    unit TEXT NOT NULL REFERENCES units(id),
    days INTEGER NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (kind, category)
);

-- Open311 API keys (hub/open311.py): a city system that may file and read cases; only the SHA-256 is kept.
CREATE TABLE IF NOT EXISTS open311_keys (
    key_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""
