"""The edge's SQLite schema: the submissions outbox and up feed, the applied down feed, and blob bookkeeping."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    id          TEXT PRIMARY KEY,          -- the client's UUID
    kind        TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    body        TEXT NOT NULL,             -- JSON
    digest      TEXT NOT NULL,             -- SHA-256 of the canonical request, for idempotent replays
    created_at  TEXT NOT NULL,
    up_seq      INTEGER NOT NULL UNIQUE    -- its entry in the up feed
);
CREATE TABLE IF NOT EXISTS up_entries (
    seq   INTEGER PRIMARY KEY,
    prev  BLOB NOT NULL,
    hash  BLOB NOT NULL,
    op    BLOB NOT NULL,                   -- canonical msgpack
    size  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS feed_positions (
    name  TEXT PRIMARY KEY,                -- 'down' (applied here) or 'up_acked' (held by the hub)
    seq   INTEGER NOT NULL,
    hash  BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS down_hashes (
    seq   INTEGER PRIMARY KEY,
    hash  BLOB NOT NULL                    -- kept to recognise a rolled-back or forked down feed
);
CREATE TABLE IF NOT EXISTS notices (
    id           TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    area         TEXT NOT NULL,
    priority     TEXT NOT NULL,
    scope        TEXT NOT NULL,
    published_at TEXT NOT NULL,
    expires_at   TEXT,
    attachments  TEXT NOT NULL             -- JSON [{sha256, size, mime}]
);
CREATE INDEX IF NOT EXISTS notices_by_time ON notices (published_at DESC);
CREATE TABLE IF NOT EXISTS replies (
    id            TEXT PRIMARY KEY,
    submission_id TEXT NOT NULL,
    text          TEXT NOT NULL,
    by_name       TEXT NOT NULL,
    at            TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS replies_by_submission ON replies (submission_id, at);
CREATE TABLE IF NOT EXISTS case_states (     -- the hub's `case_status` of each submission, the latest only
    submission_id TEXT PRIMARY KEY,
    case_id       TEXT NOT NULL,
    state         TEXT NOT NULL,            -- new, assigned, in_progress, answered, closed (docs/cases.md)
    due_at        TEXT,                     -- RFC 3339 UTC
    due_date      TEXT,                     -- the expected date in Asia/Shanghai while the case is open
    unit_name     TEXT,
    at            TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS blobs (
    sha256    TEXT PRIMARY KEY,
    size      INTEGER NOT NULL,
    mime      TEXT NOT NULL,
    present   INTEGER NOT NULL DEFAULT 0,
    failures  INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE TABLE IF NOT EXISTS sync_health (    -- edge/sync/health.py only
    name  TEXT PRIMARY KEY,
    value TEXT
);
CREATE TABLE IF NOT EXISTS box_village (    -- which village this database belongs to (edge/box/village_move.py)
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    village_id TEXT NOT NULL
);
-- Databases written before box_village existed kept the village in sync_health: moved once, here.
INSERT OR IGNORE INTO box_village (id, village_id)
    SELECT 1, value FROM sync_health WHERE name = 'village_id' AND value IS NOT NULL AND value != '';
DELETE FROM sync_health WHERE name = 'village_id';
CREATE TABLE IF NOT EXISTS alert_log (      -- which device saw and acknowledged which emergency notice
    notice_id  TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    shown_at   TEXT NOT NULL,
    acked_at   TEXT,
    PRIMARY KEY (notice_id, device_id)
);
CREATE TABLE IF NOT EXISTS content_cache (  -- last use of each cached blob, for least-recently-used eviction
    sha256     TEXT PRIMARY KEY,
    size       INTEGER NOT NULL,
    last_used  REAL NOT NULL
);
-- The staff page (edge/staff/): accounts, sessions, local replies, village notices, households and pairing.
CREATE TABLE IF NOT EXISTS staff_accounts (
    username     TEXT PRIMARY KEY,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'technician')),
    pw_hash      TEXT NOT NULL,             -- scrypt$n$r$p$salt$hash
    source       TEXT NOT NULL DEFAULT 'local',
    failures     INTEGER NOT NULL DEFAULT 0,
    locked_until REAL NOT NULL DEFAULT 0,
    created_at   REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS staff_sessions (
    token_hash  TEXT PRIMARY KEY,           -- SHA-256 of the cookie; the cookie itself is never stored
    username    TEXT NOT NULL,
    csrf        TEXT NOT NULL,
    created_at  REAL NOT NULL,
    expires_at  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS local_replies (
    id            TEXT PRIMARY KEY,
    submission_id TEXT NOT NULL,
    text          TEXT NOT NULL,
    by_name       TEXT NOT NULL,
    at            TEXT NOT NULL,
    up_seq        INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS local_replies_by_submission ON local_replies (submission_id, at);
CREATE TABLE IF NOT EXISTS submission_handovers (
    submission_id TEXT PRIMARY KEY,
    by_name       TEXT NOT NULL,
    note          TEXT NOT NULL,
    at            TEXT NOT NULL,
    up_seq        INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS village_notices (
    id           TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    area         TEXT NOT NULL,
    priority     TEXT NOT NULL,
    scope        TEXT NOT NULL,             -- always village:<this village>
    published_at TEXT NOT NULL,
    expires_at   TEXT,
    by_name      TEXT NOT NULL,
    withdrawn    INTEGER NOT NULL DEFAULT 0,
    up_seq       INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS households (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    address       TEXT NOT NULL DEFAULT '',
    elderly_alone INTEGER NOT NULL DEFAULT 0,
    created_at    REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS household_devices (
    device_id    TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households(id),
    paired_at    REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS pairing_codes (
    code        TEXT PRIMARY KEY,
    device_id   TEXT NOT NULL UNIQUE,
    created_at  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS devices (         -- each TV's or phone's identity (edge/residents/devices.py)
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,       -- SHA-256 of its secret token; the token itself is never stored
    model       TEXT NOT NULL DEFAULT '',
    middleware  TEXT NOT NULL DEFAULT '',
    address     TEXT NOT NULL DEFAULT '',   -- where it registered from
    created_at  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS submission_households (
    submission_id TEXT PRIMARY KEY,         -- the household a submission's device was paired with when sent
    household_id  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS submission_households_by_household ON submission_households (household_id);
-- Today's check-ins per household (edge/residents/households.py) and a device's own submissions look up by device.
CREATE INDEX IF NOT EXISTS submissions_by_device ON submissions (device_id, kind, created_at);
CREATE INDEX IF NOT EXISTS submissions_by_time ON submissions (created_at);  -- the village's daily quota
-- Live video and village meetings (edge/streams/): relayed streams, meetings with their recording, votes.
CREATE TABLE IF NOT EXISTS streams (
    id          TEXT PRIMARY KEY,           -- a hub-owned `stream` record from the down feed
    title       TEXT NOT NULL,
    area        TEXT NOT NULL,
    body        TEXT NOT NULL               -- JSON of the record
);
CREATE TABLE IF NOT EXISTS meetings (
    id           TEXT PRIMARY KEY,          -- mtg-..., also the stream id the hall encoder pushes to
    title        TEXT NOT NULL,
    agenda       TEXT NOT NULL,
    ingest_key   TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('scheduled', 'live', 'ended')),
    scheduled_at REAL NOT NULL,
    started_at   REAL,
    ended_at     REAL,
    recording_sha256 TEXT,
    recording_size   INTEGER,
    duration_s   REAL,
    uploaded_at  REAL                       -- the hub holds the whole recording with a matching hash
);
CREATE TABLE IF NOT EXISTS meeting_segments (
    meeting_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,            -- this box's numbering, which an encoder restart cannot reuse
    name       TEXT NOT NULL,               -- the file served to viewers (seg000001.ts)
    source_name TEXT NOT NULL,              -- the name the encoder pushed it under (index0.ts)
    duration   REAL NOT NULL,
    size       INTEGER NOT NULL,
    PRIMARY KEY (meeting_id, seq)
);
CREATE TABLE IF NOT EXISTS release_offers (  -- `release` records and stick releases until decided (edge/updates/)
    id          TEXT PRIMARY KEY,           -- target-version, e.g. edge-0.2.0
    signed      BLOB NOT NULL,              -- the release metadata as the release key signed it
    sha256      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    received_at REAL NOT NULL,
    outcome     TEXT,                       -- NULL while undecided; 'taken' or the refusal's code
    reason      TEXT,
    trust_version INTEGER                   -- the trust document it was judged under
);
CREATE TABLE IF NOT EXISTS vote_questions (
    id         TEXT PRIMARY KEY,
    stream_id  TEXT NOT NULL,
    text       TEXT NOT NULL,
    choices    TEXT NOT NULL,               -- JSON list of the answers shown on the TV
    opened_at  REAL NOT NULL,
    closed_at  REAL,
    cutoff_up_seq INTEGER                   -- votes in the up feed up to here count (set when closed)
);
-- Usage (edge/usage/): what is counted during a day, and which finished days went up as `usage_day` records.
CREATE TABLE IF NOT EXISTS usage_tallies (
    day    TEXT NOT NULL,                   -- Asia/Shanghai date
    metric TEXT NOT NULL,                   -- 'area' (opens of an area screen) or 'notice' (opens of a notice)
    key    TEXT NOT NULL,                   -- the area code or the notice id
    n      INTEGER NOT NULL,
    PRIMARY KEY (day, metric, key)
);
CREATE TABLE IF NOT EXISTS usage_devices (  -- which TVs were active (or opened a notice) that day; never sent
    day       TEXT NOT NULL,
    metric    TEXT NOT NULL,                -- 'tv' or 'notice'
    device_id TEXT NOT NULL,
    PRIMARY KEY (day, metric, device_id)
);
CREATE TABLE IF NOT EXISTS usage_samples (  -- the day's viewers and check-ins, sampled while the box runs
    day               TEXT PRIMARY KEY,
    live_peak         INTEGER NOT NULL DEFAULT 0,
    live_viewer_s     REAL NOT NULL DEFAULT 0,
    recorded_peak     INTEGER NOT NULL DEFAULT 0,
    recorded_viewer_s REAL NOT NULL DEFAULT 0,
    households        INTEGER NOT NULL DEFAULT 0,
    alone_registered  INTEGER NOT NULL DEFAULT 0,
    alone_checked_in  INTEGER NOT NULL DEFAULT 0,
    last_at           REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS usage_sent (     -- a finished day's record, appended to the up feed exactly once
    day     TEXT PRIMARY KEY,
    up_seq  INTEGER NOT NULL,
    sent_at REAL NOT NULL
);
"""
