-- Each bot's trades summed, kept by the trades projector as trades open and close, so
-- the fleet page reads one row per bot instead of summing every trade. Profit is
-- numeric: its sum is exact and the same in whatever batches the trades came.
CREATE TABLE bot_trade_totals (
    bot_id        uuid    PRIMARY KEY,
    open_trades   bigint  NOT NULL DEFAULT 0,
    closed_trades bigint  NOT NULL DEFAULT 0,
    closed_profit numeric NOT NULL DEFAULT 0
);

INSERT INTO bot_trade_totals (bot_id, open_trades, closed_trades, closed_profit)
SELECT bot_id,
       count(*) FILTER (WHERE is_open),
       count(*) FILTER (WHERE NOT is_open),
       COALESCE(sum(profit_abs::numeric) FILTER (WHERE NOT is_open), 0)
  FROM trades
 GROUP BY bot_id;
