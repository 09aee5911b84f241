-- More ways in (SPEC §5.9): your invitations and governed join links.

-- "Your invitations" finds the pending invites of one address across organizations.
CREATE INDEX members_pending_email ON members (email) WHERE user_id IS NULL;

-- A shareable link into an organization. Its token is derived from the id under the
-- instance secret (like an invite's) and stored only as a hash; `uses` never passes
-- `max_uses`, whatever races.
CREATE TABLE join_links (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    token_hash      TEXT UNIQUE,
    role            TEXT   NOT NULL,
    email_domain    TEXT,
    max_uses        BIGINT NOT NULL,
    uses            BIGINT NOT NULL DEFAULT 0,
    expires_at      BIGINT NOT NULL,
    created_by      INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at      BIGINT NOT NULL,
    revoked_at      BIGINT,
    revoked_by      INTEGER REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT join_links_role CHECK (role IN ('member', 'manager', 'owner')),
    CONSTRAINT join_links_uses CHECK (uses >= 0 AND uses <= max_uses AND max_uses BETWEEN 1 AND 1000),
    CONSTRAINT join_links_domain_lower CHECK (email_domain IS NULL OR email_domain = lower(email_domain))
);
CREATE INDEX join_links_org ON join_links (organization_id, id);
