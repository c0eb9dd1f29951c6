-- Users who may call the API. Plain rows, not events: a password hash has no place in
-- an append-only log kept forever. `password_hash` is an argon2id PHC string; the
-- first admin is created from the configuration on the first start (src/auth/users.rs).
CREATE TABLE users (
    id            uuid        PRIMARY KEY,
    username      text        NOT NULL UNIQUE,
    password_hash text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('admin', 'viewer')),
    created_at    timestamptz NOT NULL DEFAULT now()
);
