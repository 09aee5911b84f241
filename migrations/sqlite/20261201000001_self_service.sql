-- Account self-service (SPEC §4.5–§4.7, §6).

-- A session knows its account, so that a user can list their sessions and sign out the
-- others, and a password change can end them. Filled by the session store from the
-- session's data on every write; sessions written before it are filled here.
ALTER TABLE sessions ADD COLUMN user_id INTEGER;
UPDATE sessions SET user_id = json_extract(data, '$.uid') WHERE json_valid(data);
CREATE INDEX sessions_user ON sessions (user_id);

-- Password reset links (§4.5): the token only as a hash; `password_stamp` is a hash of the
-- password hash the link was issued under, so that the link dies when the password changes.
CREATE TABLE password_resets (
    token_hash     TEXT    PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_stamp TEXT    NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER,
    created_at     INTEGER NOT NULL
);
CREATE INDEX password_resets_user ON password_resets (user_id);

-- An email link either verifies the account's address or, for an address change (§4.7),
-- moves the account to the address it was sent to.
ALTER TABLE email_verifications ADD COLUMN purpose TEXT NOT NULL DEFAULT 'verify';

-- Mail has a plain-text and an HTML part; the HTML is cleared after sending, like the text.
ALTER TABLE mail_outbox ADD COLUMN html TEXT;

-- Audit entries outlive their actor's account: its address is kept as text (§4.7).
ALTER TABLE audit_log ADD COLUMN actor_email TEXT;
