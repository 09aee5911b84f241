-- Administration (SPEC §2, §5.10).

-- The organization the user last opened: where `/` and the organization switcher start.
-- Read only together with a membership check, so a stale value (the user left) is ignored.
ALTER TABLE users ADD COLUMN last_org_id INTEGER REFERENCES organizations (id) ON DELETE SET NULL;

-- The audit log is read newest first, filtered by event or by actor.
CREATE INDEX audit_log_org_event ON audit_log (organization_id, event, id);
CREATE INDEX audit_log_org_actor ON audit_log (organization_id, actor_id, id);
