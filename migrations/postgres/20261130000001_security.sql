-- Invite tokens are derived from the instance secret, the invite's id and this
-- generation (SPEC §5.1): a resend mails the same link, a regenerate moves to the next
-- generation, and the server can name an invite's page from the row alone while storing
-- only the token's hash (§5.6, §9.5). Invites made before it keep their random token.
ALTER TABLE members ADD COLUMN token_generation BIGINT NOT NULL DEFAULT 0;
