-- Statuses, modes and kinds are the domain's enums, stored by name: only those names
-- may be stored. Every row the projectors wrote already holds one of them.
ALTER TABLE bots
    ADD CONSTRAINT bots_status_known
        CHECK (status IN ('creating', 'stopped', 'starting', 'running', 'stopping', 'error',
                          'deleting')),
    ADD CONSTRAINT bots_mode_known CHECK (mode IN ('dry_run', 'live')),
    ADD CONSTRAINT bots_runtime_known CHECK (runtime IN ('docker', 'kubernetes', 'local'));

ALTER TABLE backtests
    ADD CONSTRAINT backtests_status_known
        CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled'));

ALTER TABLE hyperopts
    ADD CONSTRAINT hyperopts_status_known
        CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
    ADD CONSTRAINT hyperopts_optimization_metric_known
        CHECK (optimization_metric IN ('sharpe', 'profit', 'trades', 'drawdown'));

-- A start or stop asked for while the bot was being created, carried out once it is.
ALTER TABLE bots
    ADD COLUMN wanted text CONSTRAINT bots_wanted_known CHECK (wanted IN ('running', 'stopped'));
