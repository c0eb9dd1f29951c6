-- Read models, built from the event log by the projectors in projections/. Each
-- projector owns its tables; `anytrade projections rebuild` empties and refills them.

CREATE TABLE exchanges (
    id         uuid        PRIMARY KEY,
    name       text        NOT NULL,
    test_mode  boolean     NOT NULL,
    config     jsonb       NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX exchanges_created ON exchanges (created_at, id);

-- Secret names and when each was last set: never values.
CREATE TABLE exchange_secrets (
    exchange_id uuid        NOT NULL REFERENCES exchanges (id) ON DELETE CASCADE,
    name        text        NOT NULL,
    key_id      text        NOT NULL,
    set_at      timestamptz NOT NULL,
    PRIMARY KEY (exchange_id, name)
);

CREATE TABLE strategies (
    id              uuid        PRIMARY KEY,
    name            text        NOT NULL,
    description     text        NOT NULL,
    current_version integer     NOT NULL,
    class_name      text        NOT NULL,
    sha256          text        NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX strategies_created ON strategies (created_at, id);
CREATE INDEX strategies_name ON strategies (lower(name));

CREATE TABLE strategy_versions (
    strategy_id uuid        NOT NULL REFERENCES strategies (id) ON DELETE CASCADE,
    version     integer     NOT NULL,
    code        text        NOT NULL,
    sha256      text        NOT NULL,
    class_name  text        NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (strategy_id, version)
);

CREATE TABLE bots (
    id                uuid        PRIMARY KEY,
    name              text        NOT NULL,
    exchange_id       uuid        NOT NULL,
    strategy_id       uuid        NOT NULL,
    strategy_version  integer     NOT NULL,
    status            text        NOT NULL,
    mode              text        NOT NULL,
    runtime           text,
    runtime_id        text,
    api_url           text,
    config            jsonb       NOT NULL,
    resources         jsonb       NOT NULL,
    freqtrade_version text        NOT NULL,
    error_message     text,
    started_at        timestamptz,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
CREATE INDEX bots_created ON bots (created_at, id);
CREATE INDEX bots_exchange ON bots (exchange_id);
CREATE INDEX bots_strategy ON bots (strategy_id);

CREATE TABLE backtests (
    id               uuid             PRIMARY KEY,
    strategy_id      uuid             NOT NULL,
    strategy_version integer          NOT NULL,
    strategy_class   text             NOT NULL,
    status           text             NOT NULL,
    start_date       date             NOT NULL,
    end_date         date             NOT NULL,
    timeframe        text             NOT NULL,
    stake_amount     double precision NOT NULL,
    stake_currency   text             NOT NULL,
    pairs            jsonb            NOT NULL,
    config           jsonb            NOT NULL,
    runtime_id       text,
    results          jsonb,
    error_message    text,
    created_at       timestamptz      NOT NULL,
    updated_at       timestamptz      NOT NULL,
    started_at       timestamptz,
    completed_at     timestamptz
);
CREATE INDEX backtests_created ON backtests (created_at, id);
CREATE INDEX backtests_strategy ON backtests (strategy_id);

CREATE TABLE hyperopts (
    id                  uuid             PRIMARY KEY,
    strategy_id         uuid             NOT NULL,
    strategy_version    integer          NOT NULL,
    strategy_class      text             NOT NULL,
    status              text             NOT NULL,
    start_date          date             NOT NULL,
    end_date            date             NOT NULL,
    timeframe           text             NOT NULL,
    stake_amount        double precision NOT NULL,
    stake_currency      text             NOT NULL,
    pairs               jsonb            NOT NULL,
    config              jsonb            NOT NULL,
    epochs              integer          NOT NULL,
    spaces              jsonb            NOT NULL,
    optimization_metric text             NOT NULL,
    progress            double precision NOT NULL,
    epoch               integer,
    runtime_id          text,
    results             jsonb,
    error_message       text,
    created_at          timestamptz      NOT NULL,
    updated_at          timestamptz      NOT NULL,
    started_at          timestamptz,
    completed_at        timestamptz
);
CREATE INDEX hyperopts_created ON hyperopts (created_at, id);
CREATE INDEX hyperopts_strategy ON hyperopts (strategy_id);
