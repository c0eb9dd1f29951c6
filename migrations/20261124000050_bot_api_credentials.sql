-- The REST API credentials of each bot's freqtrade, made anew at every start. Runtime
-- state, not a read model: the password is needed to talk to the bot and is kept only
-- sealed (XChaCha20-Poly1305, bound to `bot:<id>:api_password`).
CREATE TABLE bot_api_credentials (
    bot_id     uuid PRIMARY KEY,
    username   text NOT NULL,
    password   jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
