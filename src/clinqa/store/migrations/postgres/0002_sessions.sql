-- Web login sessions and failed logins, in the database: every worker process sees the same ones, and a restart
-- of the server logs no one out.
CREATE TABLE web_sessions (
    token_sha256 TEXT COLLATE "C" PRIMARY KEY,   -- the cookie's token itself is never stored
    username     TEXT COLLATE "C" NOT NULL,
    csrf         TEXT COLLATE "C" NOT NULL,      -- the token every form of the session carries
    expires_at   DOUBLE PRECISION NOT NULL       -- seconds since the epoch
);
CREATE INDEX web_sessions_by_expiry ON web_sessions(expires_at);

CREATE TABLE login_failures (
    username TEXT COLLATE "C" NOT NULL,          -- as typed, normalised (it need not be an account)
    at       DOUBLE PRECISION NOT NULL           -- seconds since the epoch
);
CREATE INDEX login_failures_by_username ON login_failures(username, at);
CREATE INDEX login_failures_by_time ON login_failures(at);
