-- PostgreSQL's version of this migration adds triggers that notify the outbox workers of
-- every instance at commit. SQLite has no notifications: the workers of the writing
-- process are woken in-process, those of other processes on the same file poll.
SELECT 1;
