-- Trades, from TradeOpened and TradeClosed events. Kept when their bot is deleted.
CREATE TABLE trades (
    id                 uuid             PRIMARY KEY,
    bot_id             uuid             NOT NULL,
    freqtrade_trade_id bigint           NOT NULL,
    pair               text             NOT NULL,
    is_open            boolean          NOT NULL,
    open_date          timestamptz      NOT NULL,
    close_date         timestamptz,
    open_rate          double precision NOT NULL,
    close_rate         double precision,
    amount             double precision NOT NULL,
    stake_amount       double precision NOT NULL,
    profit_abs         double precision,
    profit_ratio       double precision,
    exit_reason        text,
    strategy_name      text             NOT NULL,
    timeframe_minutes  integer          NOT NULL,
    created_at         timestamptz      NOT NULL,
    updated_at         timestamptz      NOT NULL,
    UNIQUE (bot_id, freqtrade_trade_id)
);
CREATE INDEX trades_bot_open ON trades (bot_id, is_open);
CREATE INDEX trades_bot_open_date ON trades (bot_id, open_date, id);
CREATE INDEX trades_open_date ON trades (open_date);
