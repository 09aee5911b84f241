-- A row written to an outbox wakes the delivery workers of every instance when its
-- transaction commits (they LISTEN on gatehouse_outbox; polling stays as the fallback).
-- One notification per statement; PostgreSQL folds repeats within a transaction.
CREATE FUNCTION gatehouse_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('gatehouse_outbox', TG_TABLE_NAME);
    RETURN NULL;
END
$$;

CREATE TRIGGER mail_outbox_notify AFTER INSERT ON mail_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_outbox_notify();
CREATE TRIGGER event_outbox_notify AFTER INSERT ON event_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_outbox_notify();
