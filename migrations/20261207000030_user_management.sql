-- Managing users beyond the first admin: a user may be disabled (its tokens stop
-- counting and it cannot log in, its row and history stay), and every change of a user
-- is recorded with who made it and when. Not events: users are not aggregates, and a
-- password hash has no place in the log; the history holds no secret, only what changed.
ALTER TABLE users ADD COLUMN disabled_at timestamptz;
ALTER TABLE users ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

CREATE TABLE user_changes (
    id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    -- `user:<name>` (the API), `cli:<os user>` (the command line), `system` (the first
    -- start, and tools).
    actor    text        NOT NULL,
    -- No foreign key: the history of a deleted user stays.
    user_id  uuid        NOT NULL,
    username text        NOT NULL,
    change   text        NOT NULL CHECK (change IN (
        'created', 'role_changed', 'password_set', 'password_changed',
        'disabled', 'enabled', 'deleted')),
    -- The role after the change, for `created` and `role_changed`.
    role     text        CHECK (role IN ('admin', 'viewer'))
);
CREATE INDEX user_changes_user ON user_changes (user_id, id);
