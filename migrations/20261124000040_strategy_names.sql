-- Strategy names in use, one row per name (compared case-insensitively). Command-side
-- state, not a read model: the API reserves a name here before it creates or renames a
-- strategy, so two concurrent requests cannot both take it.
CREATE TABLE strategy_names (
    name_key    text PRIMARY KEY,
    strategy_id uuid NOT NULL
);
INSERT INTO strategy_names (name_key, strategy_id)
SELECT lower(name), id FROM strategies ON CONFLICT DO NOTHING;
