-- Single sign-on: an organization's OpenID Connect provider and the identities linked to it.
CREATE TABLE auth_providers (
    organization_id      INTEGER PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    issuer               TEXT    NOT NULL,
    client_id            TEXT    NOT NULL,
    -- ChaCha20-Poly1305 under a key derived from APP_SECRET_KEY, bound to the organization.
    client_secret_sealed TEXT    NOT NULL,
    display_name         TEXT    NOT NULL,
    require_sso          INTEGER NOT NULL DEFAULT 0,
    allow_jit_membership INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);

CREATE TABLE auth_identities (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id  INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    subject          TEXT    NOT NULL,
    email            TEXT,
    created_at       INTEGER NOT NULL,
    last_verified_at INTEGER NOT NULL,
    -- One account per identity, one identity per account, in each organization.
    UNIQUE (organization_id, subject),
    UNIQUE (organization_id, user_id)
);
CREATE INDEX auth_identities_user ON auth_identities (user_id);
