-- Organization webhooks (SPEC §8): endpoints, one delivery per (endpoint, event), and the
-- log of every attempt (kept 14 days).

-- An owner's endpoint. Its secrets are sealed under APP_SECRET_KEY (the server must sign
-- with them); the previous secret keeps signing until `previous_secret_expires_at`.
-- `events` is the list of event types, each between commas (",member.joined,").
CREATE TABLE webhook_endpoints (
    id                         INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id            INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    url                        TEXT    NOT NULL,
    events                     TEXT    NOT NULL,
    enabled                    BIGINT  NOT NULL DEFAULT 1,
    disabled_reason            TEXT,
    secret                     TEXT    NOT NULL,
    previous_secret            TEXT,
    previous_secret_expires_at BIGINT,
    failing_since              BIGINT,
    created_by                 INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at                 BIGINT  NOT NULL,
    updated_at                 BIGINT  NOT NULL,
    CONSTRAINT webhook_endpoints_reason CHECK (disabled_reason IS NULL OR disabled_reason IN ('gone', 'failing'))
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (organization_id, id);

-- One event for one endpoint: an outbox of its own (claimed with a lease like the mail
-- and event outboxes). The body is fixed when the delivery is made, so every retry and
-- redelivery sends the same bytes under the same `msg_id`.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id     INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        BIGINT  NOT NULL,
    msg_id          TEXT    NOT NULL UNIQUE,
    event_type      TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'queued',
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    last_error      TEXT,
    created_at      BIGINT  NOT NULL,
    delivered_at    BIGINT,
    CONSTRAINT webhook_deliveries_status CHECK (status IN ('queued', 'delivering', 'delivered', 'failed')),
    CONSTRAINT webhook_deliveries_once UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

-- Every attempt: its HTTP status (or the category of what kept the answer from coming),
-- how long it took, and the first 1 KiB of the answer.
CREATE TABLE webhook_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id  INTEGER NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at BIGINT  NOT NULL,
    status_code  BIGINT,
    error        TEXT,
    duration_ms  BIGINT  NOT NULL,
    response     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
CREATE INDEX webhook_attempts_age ON webhook_attempts (attempted_at);
