-- Each bot's own profit summary (freqtrade `GET /profit`) as the trade sync last read
-- it. Volatile like `trade_marks`, so not in the event log; it stays after the bot is
-- deleted, as its trades do.
CREATE TABLE bot_profit (
    bot_id              uuid             PRIMARY KEY,
    profit_closed_coin  double precision NOT NULL,
    profit_closed_ratio double precision,
    profit_all_coin     double precision NOT NULL,
    profit_all_ratio    double precision,
    trade_count         bigint           NOT NULL,
    closed_trade_count  bigint           NOT NULL,
    winning_trades      bigint           NOT NULL,
    losing_trades       bigint           NOT NULL,
    winrate             double precision,
    profit_factor       double precision,
    expectancy          double precision,
    max_drawdown        double precision,
    max_drawdown_abs    double precision,
    trading_volume      double precision,
    best_pair           text,
    first_trade_at      timestamptz,
    latest_trade_at     timestamptz,
    bot_started_at      timestamptz,
    updated_at          timestamptz      NOT NULL
);
