-- clinqa knowledge base, PostgreSQL flavour: the same tables as the SQLite one. Text sorts by code point (COLLATE
-- "C"), as in SQLite, so ids order alike and ISO times compare as the times do; times are stored as ISO-8601 text in
-- both. Passage vectors are pgvector columns with an HNSW (cosine) index.
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE meta (
    key   TEXT COLLATE "C" PRIMARY KEY,
    value TEXT COLLATE "C" NOT NULL
);

CREATE TABLE documents (
    id           TEXT COLLATE "C" PRIMARY KEY,
    title        TEXT COLLATE "C" NOT NULL,
    url          TEXT COLLATE "C",
    audience     TEXT COLLATE "C",
    updated      TEXT COLLATE "C",
    source_path  TEXT COLLATE "C" NOT NULL,
    format       TEXT COLLATE "C" NOT NULL,
    content_hash TEXT COLLATE "C" NOT NULL,
    sections     TEXT COLLATE "C" NOT NULL,      -- JSON list of {title, level, path}
    ingested_at  TEXT COLLATE "C" NOT NULL
);

CREATE TABLE passages (
    id           TEXT COLLATE "C" PRIMARY KEY,
    document_id  TEXT COLLATE "C" NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ordinal      INTEGER NOT NULL,
    section_path TEXT COLLATE "C" NOT NULL,      -- JSON list of headings
    kind         TEXT COLLATE "C" NOT NULL,
    text         TEXT COLLATE "C" NOT NULL,
    citations    TEXT COLLATE "C" NOT NULL,      -- JSON list of {offset, numbers, level_of_evidence}
    text_hash    TEXT COLLATE "C" NOT NULL
);
CREATE INDEX passages_by_document ON passages(document_id, ordinal);

CREATE TABLE doc_references (
    document_id TEXT COLLATE "C" NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    number      INTEGER NOT NULL,
    text        TEXT COLLATE "C" NOT NULL,
    pmid        TEXT COLLATE "C",
    PRIMARY KEY (document_id, number)
);
CREATE INDEX references_by_pmid ON doc_references(pmid);

-- Embeddings are keyed by passage text, so an unchanged passage is never embedded twice.
CREATE TABLE embeddings (
    text_hash TEXT COLLATE "C" NOT NULL,
    model     TEXT COLLATE "C" NOT NULL,
    vector    vector(384) NOT NULL,
    PRIMARY KEY (text_hash, model)
);
CREATE INDEX embeddings_by_cosine ON embeddings USING hnsw (vector vector_cosine_ops);

-- Append-only record of document changes (later: flags articles whose sources changed).
CREATE TABLE document_changes (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id      TEXT COLLATE "C" NOT NULL,
    kind             TEXT COLLATE "C" NOT NULL,
    at               TEXT COLLATE "C" NOT NULL,
    old_hash         TEXT COLLATE "C",
    new_hash         TEXT COLLATE "C" NOT NULL,
    passages_added   TEXT COLLATE "C" NOT NULL,
    passages_removed TEXT COLLATE "C" NOT NULL
);
CREATE INDEX changes_by_document ON document_changes(document_id, id);


-- Clinical trial records (registry files, or trials named in guideline text).
CREATE TABLE trials (
    id          TEXT COLLATE "C" PRIMARY KEY,
    source      TEXT COLLATE "C" NOT NULL,
    record      TEXT COLLATE "C" NOT NULL,       -- JSON of clinqa.types.Trial
    ingested_at TEXT COLLATE "C" NOT NULL
);

-- Conversations: the patient context and the questions carry over to follow-ups. A thread is read only by its
-- owner, and deleted once expired (privacy.thread_retention_days after it started).
CREATE TABLE threads (
    id         TEXT COLLATE "C" PRIMARY KEY,     -- 128 random bits
    owner      TEXT COLLATE "C" NOT NULL,        -- 'cli', 'user:<user id>', or 'browser:<SHA-256 of the browser's owner cookie>'
    created_at TEXT COLLATE "C" NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL,        -- UTC, microseconds: compares as text
    audience   TEXT COLLATE "C" NOT NULL,
    patient    TEXT COLLATE "C" NOT NULL         -- JSON of clinqa.types.PatientContext, as of the latest turn
);
CREATE INDEX threads_by_expiry ON threads(expires_at);
CREATE INDEX threads_by_owner ON threads(owner, created_at);

CREATE TABLE thread_turns (
    thread_id  TEXT COLLATE "C" NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
    n          INTEGER NOT NULL,
    question   TEXT COLLATE "C" NOT NULL,        -- as asked
    standalone TEXT COLLATE "C" NOT NULL,        -- rewritten to stand alone, used for retrieval
    status     TEXT COLLATE "C" NOT NULL,
    at         TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (thread_id, n)
);

-- Editorial review (clinqa/review/): accounts, saved answers as articles with versions, and their audit log.
CREATE TABLE users (
    id            TEXT COLLATE "C" PRIMARY KEY,
    username      TEXT COLLATE "C" NOT NULL UNIQUE,
    role          TEXT COLLATE "C" NOT NULL,     -- reader | author | reviewer | admin
    password_hash TEXT COLLATE "C" NOT NULL,     -- argon2id, never the password
    created_at    TEXT COLLATE "C" NOT NULL,
    disabled_at   TEXT COLLATE "C",              -- NULL while the account is enabled
    sessions_revoked_at TEXT COLLATE "C"         -- login sessions begun before this are over (disabled, password reset)
);

CREATE TABLE api_tokens (
    token_sha256 TEXT COLLATE "C" PRIMARY KEY,   -- the token itself is shown once and never stored
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   TEXT COLLATE "C" NOT NULL,
    id           TEXT COLLATE "C",               -- what listings, revocation and the audit log name the token by
    name         TEXT COLLATE "C" NOT NULL DEFAULT '',
    expires_at   TEXT COLLATE "C",               -- refused from then on, like an unknown token
    last_used_at TEXT COLLATE "C",
    revoked_at   TEXT COLLATE "C"
);
CREATE UNIQUE INDEX api_tokens_by_id ON api_tokens(id);
CREATE INDEX api_tokens_by_user ON api_tokens(user_id, created_at);

CREATE TABLE articles (
    id               TEXT COLLATE "C" PRIMARY KEY,   -- URL-safe slug of the question
    title            TEXT COLLATE "C" NOT NULL,
    state            TEXT COLLATE "C" NOT NULL,
    current_version  INTEGER NOT NULL,
    current_author   TEXT COLLATE "C" NOT NULL,
    approved_version INTEGER,            -- the version readers see; NULL until one is approved
    author           TEXT COLLATE "C" NOT NULL,
    approved_by      TEXT COLLATE "C",
    approved_at      TEXT COLLATE "C",
    source_changes   TEXT COLLATE "C" NOT NULL,      -- JSON list of clinqa.review.models.PassageDiff
    created_at       TEXT COLLATE "C" NOT NULL,
    updated_at       TEXT COLLATE "C" NOT NULL
);
CREATE INDEX articles_by_state ON articles(state, updated_at);

CREATE TABLE article_versions (
    article_id TEXT COLLATE "C" NOT NULL REFERENCES articles(id),
    number     INTEGER NOT NULL,
    answer     TEXT COLLATE "C" NOT NULL,            -- JSON of clinqa.types.Answer
    created_by TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (article_id, number)
);

-- Which passages each version cites: finds the articles a re-ingest affects.
CREATE TABLE article_citations (
    article_id TEXT COLLATE "C" NOT NULL,
    number     INTEGER NOT NULL,
    passage_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (article_id, number, passage_id),
    FOREIGN KEY (article_id, number) REFERENCES article_versions(article_id, number)
);
CREATE INDEX citations_by_passage ON article_citations(passage_id);

-- Append-only: every state change of an article, and every change of an account or API token (subject_kind
-- 'user': article_id holds the username, to_state the action, comment its detail); who made it, when, and why.
-- The triggers refuse edits.
CREATE TABLE audit_log (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    article_id TEXT COLLATE "C" NOT NULL,
    actor      TEXT COLLATE "C" NOT NULL,            -- username, 'system' (re-ingest) or 'local-operator' (server shell)
    at         TEXT COLLATE "C" NOT NULL,
    from_state TEXT COLLATE "C",                     -- NULL when the article was created
    to_state   TEXT COLLATE "C" NOT NULL,
    comment    TEXT COLLATE "C",
    subject_kind TEXT COLLATE "C" NOT NULL DEFAULT 'article'  -- article | user
);
CREATE INDEX audit_by_article ON audit_log(article_id, id);
CREATE INDEX audit_by_subject ON audit_log(subject_kind, article_id, id);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

INSERT INTO meta (key, value) VALUES ('generation', '0');
