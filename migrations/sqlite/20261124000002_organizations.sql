-- Organizations, the member table (memberships and pending invites in one), teams,
-- audit log, and the mail and event outboxes.
CREATE TABLE organizations (
    id                         INTEGER PRIMARY KEY AUTOINCREMENT,
    slug                       TEXT    NOT NULL,
    name                       TEXT    NOT NULL,
    require_2fa                INTEGER NOT NULL DEFAULT 0,
    require_email_verification INTEGER NOT NULL DEFAULT 0,
    allow_join_requests        INTEGER NOT NULL DEFAULT 0,
    default_role               TEXT    NOT NULL DEFAULT 'member',
    allow_email_mismatch       INTEGER NOT NULL DEFAULT 0,
    member_limit               INTEGER,
    first_invitee_joined_at    INTEGER,
    created_at                 INTEGER NOT NULL,
    CONSTRAINT organizations_default_role CHECK (default_role IN ('member', 'manager', 'owner')),
    CONSTRAINT organizations_member_limit CHECK (member_limit IS NULL OR member_limit > 0)
);
CREATE UNIQUE INDEX organizations_slug_key ON organizations (slug);

CREATE TABLE members (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id  INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id          INTEGER REFERENCES users (id) ON DELETE CASCADE,
    email            TEXT,
    role             TEXT    NOT NULL,
    inviter_id       INTEGER REFERENCES users (id) ON DELETE SET NULL,
    invite_status    TEXT    NOT NULL DEFAULT 'approved',
    token_hash       TEXT,
    token_expires_at INTEGER,
    created_at       INTEGER NOT NULL,
    accepted_at      INTEGER,
    accepted_token_hash TEXT,
    CONSTRAINT members_role CHECK (role IN ('member', 'manager', 'owner')),
    CONSTRAINT members_invite_status CHECK (invite_status IN ('approved', 'requested_to_be_invited', 'requested_to_join')),
    CONSTRAINT members_pending_or_member CHECK (
        (user_id IS NULL AND email IS NOT NULL) OR (user_id IS NOT NULL AND email IS NULL AND token_hash IS NULL)
    ),
    CONSTRAINT members_email_lower CHECK (email IS NULL OR email = lower(email))
);
CREATE UNIQUE INDEX members_org_user_key ON members (organization_id, user_id);
CREATE UNIQUE INDEX members_org_pending_email_key ON members (organization_id, email) WHERE user_id IS NULL;
CREATE INDEX members_user ON members (user_id);

CREATE TABLE teams (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    slug            TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX teams_org_slug_key ON teams (organization_id, slug);

CREATE TABLE team_members (
    team_id   INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, member_id)
);

CREATE TABLE audit_log (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id  INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    actor_id         INTEGER REFERENCES users (id) ON DELETE SET NULL,
    event            TEXT    NOT NULL,
    target_member_id INTEGER,
    target_user_id   INTEGER,
    target_email     TEXT,
    ip               TEXT,
    data             TEXT    NOT NULL,
    created_at       INTEGER NOT NULL
);
CREATE INDEX audit_log_org_time ON audit_log (organization_id, id);

CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    to_addr         TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    member_id       INTEGER,
    status          TEXT    NOT NULL DEFAULT 'queued',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    CONSTRAINT mail_outbox_status CHECK (status IN ('queued', 'sending', 'sent', 'failed'))
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);
CREATE INDEX mail_outbox_member ON mail_outbox (member_id);

CREATE TABLE event_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event           TEXT    NOT NULL,
    organization_id INTEGER NOT NULL,
    payload         TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'queued',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER,
    CONSTRAINT event_outbox_status CHECK (status IN ('queued', 'delivering', 'delivered', 'failed'))
);
CREATE INDEX event_outbox_due ON event_outbox (status, next_attempt_at);
