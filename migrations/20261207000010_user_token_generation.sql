-- A user's sign-in generation: tokens carry the generation they were issued in, and
-- logging out or changing the password starts a new one, so older tokens stop counting.
ALTER TABLE users ADD COLUMN token_generation integer NOT NULL DEFAULT 0;
