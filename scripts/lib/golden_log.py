"""Builds the golden event log: every event type of every aggregate, in coherent
histories (each aggregate created first, ids and references consistent, times fixed),
from the one-row-per-type templates in tests/fixtures/events/templates.jsonl.

Prints one SQL INSERT per event, in log order; scripts/golden-log runs them into a
scratch database (where the store computes each hash) and exports the result."""

import copy
import hashlib
import json
import sys
import uuid
from datetime import datetime, timedelta, timezone

templates = {}
for line in open(sys.argv[1]):
    row = json.loads(line)
    templates[row["event_type"]] = row

EXCHANGE = "01a30000-0000-7000-8000-00000000e001"
EXCHANGE_GONE = "01a30000-0000-7000-8000-00000000e002"
STRATEGY = "01a30000-0000-7000-8000-00000000s001".replace("s", "5")
STRATEGY_GONE = "01a30000-0000-7000-8000-00000000s002".replace("s", "5")
BOT = "01a30000-0000-7000-8000-00000000b001"
BOT_GONE = "01a30000-0000-7000-8000-00000000b002"
IDS = {"exchange_id": EXCHANGE, "strategy_id": STRATEGY, "bot_id": BOT}
START = datetime(2026, 12, 1, tzinfo=timezone.utc)

events = []


def rewrite(value, own_key, own_id):
    """The template's payload with its ids pointing into the golden fleet."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == own_key:
                out[key] = own_id
            elif key in IDS and isinstance(item, str):
                out[key] = IDS[key]
            elif key == "runtime_id" and isinstance(item, str):
                prefix = "bot-" if item.startswith("bot-") else "anytrade-job-"
                out[key] = prefix + own_id
            else:
                out[key] = rewrite(item, own_key, own_id)
        return out
    if isinstance(value, list):
        return [rewrite(item, own_key, own_id) for item in value]
    return value


def add(aggregate_type, aggregate_id, event_type, own_key=None, change=None):
    template = templates[event_type]
    payload = rewrite(copy.deepcopy(template["payload"]), own_key, aggregate_id)
    if change:
        change(payload[event_type])
    sequence = 1 + sum(1 for e in events if e[1] == aggregate_id)
    events.append((aggregate_type, aggregate_id, sequence, event_type, template["event_version"],
                   payload, template["metadata"]))


def named(name):
    return lambda body: body.update(name=name)


# Exchanges: every secret event on one; a second one deleted.
add("exchange", EXCHANGE, "ExchangeCreated", "exchange_id")
add("exchange", EXCHANGE, "ExchangeSecretAdded")
add("exchange", EXCHANGE, "ExchangeSecretAdded", change=named("passphrase"))
add("exchange", EXCHANGE, "ExchangeSecretRotated")
add("exchange", EXCHANGE, "ExchangeSecretResealed")
add("exchange", EXCHANGE, "ExchangeSecretRemoved")
add("exchange", EXCHANGE, "ExchangeUpdated")
add("exchange", EXCHANGE_GONE, "ExchangeCreated", "exchange_id")
add("exchange", EXCHANGE_GONE, "ExchangeDeleted")

# Strategies: two versions, renamed and described; a second one deleted.
add("strategy", STRATEGY, "StrategyCreated", "strategy_id")
add("strategy", STRATEGY, "StrategyVersionAdded")
add("strategy", STRATEGY, "StrategyVersionAdded", change=lambda b: b.update(
    version=2, code=b["code"].replace('timeframe = "1m"', 'timeframe = "5m"'),
    sha256="0" * 64))
add("strategy", STRATEGY, "StrategyRenamed")
add("strategy", STRATEGY, "StrategyDescriptionChanged")
add("strategy", STRATEGY_GONE, "StrategyCreated", "strategy_id", change=named("gone"))
add("strategy", STRATEGY_GONE, "StrategyVersionAdded")
add("strategy", STRATEGY_GONE, "StrategyDeleted")

# A bot through its whole life, with a trade; a second one deleted.
for event_type in ["BotCreated", "BotWantedStateSet", "BotStartRequested", "BotProvisioned",
                   "BotStarted", "TradeSyncRequested", "TradeCloseRequested", "BotFailed",
                   "BotRecovered", "BotRestartRequested", "BotInstanceRemoved", "BotStarted",
                   "BotUpdated", "BotStopRequested", "BotStopped"]:
    add("bot", BOT, event_type, "bot_id")
add("bot", BOT_GONE, "BotCreated", "bot_id", change=named("gone"))
add("bot", BOT_GONE, "BotDeletionRequested")
add("bot", BOT_GONE, "BotDeleted")

# trade_aggregate_id: UUID v5 of the trade id's 8 big-endian bytes under the bot's id.
digest = hashlib.sha1(uuid.UUID(BOT).bytes + (1).to_bytes(8, "big")).digest()
trade = str(uuid.UUID(bytes=digest[:16], version=5))
add("trade", trade, "TradeOpened")
add("trade", trade, "TradeClosed")

# Jobs: one of each ending.
for n, ending in enumerate([["BacktestStarted", "BacktestCompleted"],
                            ["BacktestStarted", "BacktestFailed"],
                            ["BacktestCancelled", "BacktestDeleted"]]):
    job = "01a30000-0000-7000-8000-0000000bt00{}".format(n + 1).replace("bt", "ba")
    add("backtest", job, "BacktestRequested", "backtest_id")
    for event_type in ending:
        add("backtest", job, event_type)
for n, ending in enumerate([["HyperoptStarted", "HyperoptProgressReported", "HyperoptCompleted"],
                            ["HyperoptStarted", "HyperoptFailed"],
                            ["HyperoptCancelled", "HyperoptDeleted"]]):
    job = "01a30000-0000-7000-8000-0000000c000{}".format(n + 1)
    add("hyperopt", job, "HyperoptRequested", "hyperopt_id")
    for event_type in ending:
        add("hyperopt", job, event_type)

missing = set(templates) - {e[3] for e in events}
if missing:
    sys.exit("the golden log misses " + ", ".join(sorted(missing)))


def literal(text):
    return "'" + text.replace("'", "''") + "'"


for n, (kind, aggregate_id, sequence, event_type, version, payload, metadata) in enumerate(events):
    at = (START + timedelta(minutes=n)).isoformat()
    print("INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,"
          " payload, metadata, original_committed_at) VALUES ({}, {}, {}, {}, {}, {}::jsonb,"
          " {}::jsonb, {});".format(literal(kind), literal(aggregate_id), sequence,
                                    literal(event_type), literal(version),
                                    literal(json.dumps(payload)), literal(json.dumps(metadata)),
                                    literal(at)))
