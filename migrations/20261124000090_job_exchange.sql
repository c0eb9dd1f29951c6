-- The exchange a backtest or hyperopt downloads its candles from. Null for jobs
-- requested before jobs named one.
ALTER TABLE backtests ADD COLUMN exchange_id uuid;
ALTER TABLE hyperopts ADD COLUMN exchange_id uuid;
