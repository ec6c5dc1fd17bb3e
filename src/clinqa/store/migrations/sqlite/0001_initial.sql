-- clinqa knowledge base, SQLite flavour: the schema as of the first numbered migration. IF NOT EXISTS throughout:
-- a knowledge base made before migrations is brought to this shape (clinqa.store.legacy) and this file completes it.
-- One transaction per document keeps every document whole.
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS documents (
    id           TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    url          TEXT,
    audience     TEXT,
    updated      TEXT,
    source_path  TEXT NOT NULL,
    format       TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    sections     TEXT NOT NULL,      -- JSON list of {title, level, path}
    ingested_at  TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS passages (
    id           TEXT PRIMARY KEY,
    document_id  TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ordinal      INTEGER NOT NULL,
    section_path TEXT NOT NULL,      -- JSON list of headings
    kind         TEXT NOT NULL,
    text         TEXT NOT NULL,
    citations    TEXT NOT NULL,      -- JSON list of {offset, numbers, level_of_evidence}
    text_hash    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_by_document ON passages(document_id, ordinal);

CREATE TABLE IF NOT EXISTS doc_references (
    document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    number      INTEGER NOT NULL,
    text        TEXT NOT NULL,
    pmid        TEXT,
    PRIMARY KEY (document_id, number)
);
CREATE INDEX IF NOT EXISTS references_by_pmid ON doc_references(pmid);

-- Embeddings are keyed by passage text, so an unchanged passage is never embedded twice.
CREATE TABLE IF NOT EXISTS embeddings (
    text_hash TEXT NOT NULL,
    model     TEXT NOT NULL,
    vector    BLOB NOT NULL,
    PRIMARY KEY (text_hash, model)
);

-- Append-only record of document changes (later: flags articles whose sources changed).
CREATE TABLE IF NOT EXISTS document_changes (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id      TEXT NOT NULL,
    kind             TEXT NOT NULL,
    at               TEXT NOT NULL,
    old_hash         TEXT,
    new_hash         TEXT NOT NULL,
    passages_added   TEXT NOT NULL,
    passages_removed TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS changes_by_document ON document_changes(document_id, id);


-- Clinical trial records (registry files, or trials named in guideline text).
CREATE TABLE IF NOT EXISTS trials (
    id          TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    record      TEXT NOT NULL,       -- JSON of clinqa.types.Trial
    ingested_at TEXT NOT NULL
);

-- Conversations: the patient context and the questions carry over to follow-ups. A thread is read only by its
-- owner, and deleted once expired (privacy.thread_retention_days after it started).
CREATE TABLE IF NOT EXISTS threads (
    id         TEXT PRIMARY KEY,     -- 128 random bits
    owner      TEXT NOT NULL,        -- 'cli', 'user:<user id>', or 'browser:<SHA-256 of the browser's owner cookie>'
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,        -- UTC, microseconds: compares as text
    audience   TEXT NOT NULL,
    patient    TEXT NOT NULL         -- JSON of clinqa.types.PatientContext, as of the latest turn
);
CREATE INDEX IF NOT EXISTS threads_by_expiry ON threads(expires_at);
CREATE INDEX IF NOT EXISTS threads_by_owner ON threads(owner, created_at);

CREATE TABLE IF NOT EXISTS thread_turns (
    thread_id  TEXT NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
    n          INTEGER NOT NULL,
    question   TEXT NOT NULL,        -- as asked
    standalone TEXT NOT NULL,        -- rewritten to stand alone, used for retrieval
    status     TEXT NOT NULL,
    at         TEXT NOT NULL,
    PRIMARY KEY (thread_id, n)
);

-- Editorial review (clinqa/review/): accounts, saved answers as articles with versions, and their audit log.
CREATE TABLE IF NOT EXISTS users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,     -- reader | author | reviewer | admin
    password_hash TEXT NOT NULL,     -- argon2id, never the password
    created_at    TEXT NOT NULL,
    disabled_at   TEXT,              -- NULL while the account is enabled
    sessions_revoked_at TEXT         -- login sessions begun before this are over (disabled, password reset)
);

CREATE TABLE IF NOT EXISTS api_tokens (
    token_sha256 TEXT PRIMARY KEY,   -- the token itself is shown once and never stored
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    id           TEXT,               -- what listings, revocation and the audit log name the token by
    name         TEXT NOT NULL DEFAULT '',
    expires_at   TEXT,               -- refused from then on, like an unknown token
    last_used_at TEXT,
    revoked_at   TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS api_tokens_by_id ON api_tokens(id);
CREATE INDEX IF NOT EXISTS api_tokens_by_user ON api_tokens(user_id, created_at);

CREATE TABLE IF NOT EXISTS articles (
    id               TEXT PRIMARY KEY,   -- URL-safe slug of the question
    title            TEXT NOT NULL,
    state            TEXT NOT NULL,
    current_version  INTEGER NOT NULL,
    current_author   TEXT NOT NULL,
    approved_version INTEGER,            -- the version readers see; NULL until one is approved
    author           TEXT NOT NULL,
    approved_by      TEXT,
    approved_at      TEXT,
    source_changes   TEXT NOT NULL,      -- JSON list of clinqa.review.models.PassageDiff
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_by_state ON articles(state, updated_at);

CREATE TABLE IF NOT EXISTS article_versions (
    article_id TEXT NOT NULL REFERENCES articles(id),
    number     INTEGER NOT NULL,
    answer     TEXT NOT NULL,            -- JSON of clinqa.types.Answer
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (article_id, number)
);

-- Which passages each version cites: finds the articles a re-ingest affects.
CREATE TABLE IF NOT EXISTS article_citations (
    article_id TEXT NOT NULL,
    number     INTEGER NOT NULL,
    passage_id TEXT NOT NULL,
    PRIMARY KEY (article_id, number, passage_id),
    FOREIGN KEY (article_id, number) REFERENCES article_versions(article_id, number)
);
CREATE INDEX IF NOT EXISTS citations_by_passage ON article_citations(passage_id);

-- Append-only: every state change of an article, and every change of an account or API token (subject_kind
-- 'user': article_id holds the username, to_state the action, comment its detail); who made it, when, and why.
-- The triggers refuse edits.
CREATE TABLE IF NOT EXISTS audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id TEXT NOT NULL,
    actor      TEXT NOT NULL,            -- username, 'system' (re-ingest) or 'local-operator' (server shell)
    at         TEXT NOT NULL,
    from_state TEXT,                     -- NULL when the article was created
    to_state   TEXT NOT NULL,
    comment    TEXT,
    subject_kind TEXT NOT NULL DEFAULT 'article'  -- article | user
);
CREATE INDEX IF NOT EXISTS audit_by_article ON audit_log(article_id, id);
CREATE INDEX IF NOT EXISTS audit_by_subject ON audit_log(subject_kind, article_id, id);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

INSERT OR IGNORE INTO meta (key, value) VALUES ('generation', '0');
