-- Web login sessions and failed logins, in the database: every worker process sees the same ones, and a restart
-- of the server logs no one out.
CREATE TABLE web_sessions (
    token_sha256 TEXT PRIMARY KEY,   -- the cookie's token itself is never stored
    username     TEXT NOT NULL,
    csrf         TEXT NOT NULL,      -- the token every form of the session carries
    expires_at   REAL NOT NULL       -- seconds since the epoch
);
CREATE INDEX web_sessions_by_expiry ON web_sessions(expires_at);

CREATE TABLE login_failures (
    username TEXT NOT NULL,          -- as typed, normalised (it need not be an account)
    at       REAL NOT NULL           -- seconds since the epoch
);
CREATE INDEX login_failures_by_username ON login_failures(username, at);
CREATE INDEX login_failures_by_time ON login_failures(at);
