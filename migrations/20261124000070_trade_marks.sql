-- Open trades' mark-to-market values as the trade sync last read them from freqtrade.
-- Volatile: rewritten on every sync, so not in the event log; a trade's row goes when
-- it closes.
CREATE TABLE trade_marks (
    bot_id             uuid             NOT NULL,
    freqtrade_trade_id bigint           NOT NULL,
    current_rate       double precision,
    profit_ratio       double precision,
    profit_abs         double precision,
    updated_at         timestamptz      NOT NULL,
    PRIMARY KEY (bot_id, freqtrade_trade_id)
);
