//! Reading a bot's closed trades safely, and turning freqtrade's trades into AnyTrade's
//! records.
//!
//! freqtrade lists closed trades by id, 500 a page, with `total_trades`. A trade with an
//! older id that closes later (or a trade deleted in freqtrade) shifts every offset
//! while the pages are read, so a resumed offset would skip trades. The scan therefore
//! always reads from the start, keys trades by id, and reads again when what it found
//! disagrees with `total_trades` at the end.

use std::collections::{BTreeMap, HashSet};

use anytrade_aggregates::values::BotId;
use anytrade_aggregates::{TradeClosing, TradeOpening};

use crate::freqtrade::client::{FreqtradeClient, FreqtradeError, MAX_TRADES_PAGE};
use crate::freqtrade::models::{Trade, TradesPage};

/// Attempts at a scan that agrees with `total_trades`.
const SCAN_ATTEMPTS: usize = 3;

/// Where pages of closed trades come from (a bot's API, or a test's list).
pub trait TradePages {
    fn page(
        &self,
        limit: u32,
        offset: u64,
    ) -> impl std::future::Future<Output = Result<TradesPage, FreqtradeError>> + Send;
}

impl TradePages for FreqtradeClient {
    async fn page(&self, limit: u32, offset: u64) -> Result<TradesPage, FreqtradeError> {
        self.trades(limit, offset).await
    }
}

/// Every closed trade of the bot by id, and whether a scan was consistent: the same
/// `total_trades` at its first and last page, and as many trades seen as that total. A
/// scan that was not is read again (what earlier attempts found is kept: those trades
/// did close); after `SCAN_ATTEMPTS` the next sync tries again.
pub async fn closed_trades(
    source: &impl TradePages,
) -> Result<(BTreeMap<i64, Trade>, bool), FreqtradeError> {
    let mut found = BTreeMap::new();
    for _ in 0..SCAN_ATTEMPTS {
        let mut seen = HashSet::new();
        let mut first_total = None;
        let mut offset = 0;
        let last_total = loop {
            let page = source.page(MAX_TRADES_PAGE, offset).await?;
            first_total.get_or_insert(page.total_trades);
            let read = page.trades.len() as u64;
            for trade in page.trades.into_iter().filter(|t| !t.is_open) {
                seen.insert(trade.trade_id);
                found.insert(trade.trade_id, trade);
            }
            offset += read;
            if read == 0 || offset >= page.total_trades {
                break page.total_trades;
            }
        };
        if first_total == Some(last_total) && seen.len() as u64 == last_total {
            return Ok((found, true));
        }
    }
    Ok((found, false))
}

/// The opening AnyTrade records for a freqtrade trade; `None` while its entry order
/// has filled nothing (freqtrade lists the trade with amount 0 until then): it is no
/// position yet, and is recorded once it is one.
pub fn opening(bot_id: BotId, trade: &Trade) -> Option<TradeOpening> {
    if trade.amount <= 0.0 || trade.open_rate <= 0.0 {
        return None;
    }
    Some(TradeOpening {
        bot_id,
        trade_id: trade.trade_id,
        pair: trade.pair.clone(),
        open_date: trade.open_date,
        open_rate: trade.open_rate,
        amount: trade.amount,
        stake_amount: trade.stake_amount,
        strategy_name: trade.strategy.clone(),
        timeframe_minutes: trade.timeframe.unwrap_or_default(),
    })
}

/// How a closed trade closed; `None` when freqtrade gave no close date (still
/// closing).
pub fn closing(trade: &Trade) -> Option<TradeClosing> {
    Some(TradeClosing {
        close_date: trade.close_date?,
        close_rate: trade.close_rate.unwrap_or_default(),
        profit_abs: trade
            .close_profit_abs
            .or(trade.profit_abs)
            .unwrap_or_default(),
        profit_ratio: trade
            .close_profit
            .or(trade.profit_ratio)
            .unwrap_or_default(),
        exit_reason: trade
            .exit_reason
            .clone()
            .unwrap_or_else(|| "unknown".to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    type Change = Box<dyn FnOnce(&mut Vec<Trade>) + Send>;

    /// A bot's closed trades as freqtrade would page them, with a change applied after
    /// the first page is read (a trade closing or being deleted mid-scan).
    struct Pages {
        closed: Mutex<Vec<Trade>>,
        after_first_page: Mutex<Option<Change>>,
        page_size: u32,
    }

    impl TradePages for Pages {
        async fn page(&self, limit: u32, offset: u64) -> Result<TradesPage, FreqtradeError> {
            let limit = limit.min(self.page_size) as usize;
            let mut closed = self.closed.lock().unwrap();
            closed.sort_by_key(|t| t.trade_id);
            let trades: Vec<Trade> = closed
                .iter()
                .skip(offset as usize)
                .take(limit)
                .cloned()
                .collect();
            let total = closed.len() as u64;
            if offset == 0
                && let Some(change) = self.after_first_page.lock().unwrap().take()
            {
                change(&mut closed);
            }
            Ok(TradesPage {
                trades_count: trades.len() as u64,
                trades,
                offset,
                total_trades: total,
            })
        }
    }

    fn recorded_trade() -> Trade {
        let page: TradesPage =
            serde_json::from_str(include_str!("../../tests/fixtures/freqtrade/trades.json"))
                .unwrap();
        page.trades.into_iter().next().expect("a recorded trade")
    }

    fn closed(id: i64) -> Trade {
        Trade {
            trade_id: id,
            is_open: false,
            ..recorded_trade()
        }
    }

    fn pages(ids: &[i64], page_size: u32) -> Pages {
        Pages {
            closed: Mutex::new(ids.iter().map(|&id| closed(id)).collect()),
            after_first_page: Mutex::new(None),
            page_size,
        }
    }

    #[tokio::test]
    async fn a_trade_with_an_older_id_closing_mid_scan_is_still_found() {
        // Trades 1 and 3..=8 are closed; 2 is open and closes while page 1 is read,
        // which shifts every later offset by one.
        let source = pages(&[1, 3, 4, 5, 6, 7, 8], 3);
        *source.after_first_page.lock().unwrap() = Some(Box::new(|trades| trades.push(closed(2))));
        let (found, agreed) = closed_trades(&source).await.unwrap();
        assert!(agreed);
        assert_eq!(
            found.keys().copied().collect::<Vec<_>>(),
            (1..=8).collect::<Vec<_>>()
        );
    }

    #[tokio::test]
    async fn a_trade_deleted_mid_scan_does_not_break_it() {
        let source = pages(&[1, 2, 3, 4, 5, 6, 7], 3);
        *source.after_first_page.lock().unwrap() =
            Some(Box::new(|trades| trades.retain(|t| t.trade_id != 2)));
        let (found, agreed) = closed_trades(&source).await.unwrap();
        assert!(agreed);
        // Trade 4 moved to page 1 while page 2 was read; the second pass finds it. The
        // deleted one, read before it went, stays known: it did close.
        assert_eq!(
            found.keys().copied().collect::<Vec<_>>(),
            (1..=7).collect::<Vec<_>>()
        );
    }

    #[tokio::test]
    async fn a_bot_without_closed_trades_scans_one_empty_page() {
        let (found, agreed) = closed_trades(&pages(&[], 500)).await.unwrap();
        assert!(found.is_empty() && agreed);
    }

    #[test]
    fn records_carry_freqtrades_values() {
        let trade = recorded_trade();
        let bot = BotId::new();
        let opening = opening(bot, &trade).expect("a filled trade opens");
        assert_eq!(opening.trade_id, trade.trade_id);
        assert_eq!(opening.pair, trade.pair);
        assert_eq!(opening.open_rate, trade.open_rate);
        assert_eq!(opening.strategy_name, trade.strategy);
        let closing = closing(&trade).expect("a closed trade closes");
        assert_eq!(Some(closing.close_date), trade.close_date);
        assert_eq!(Some(closing.profit_abs), trade.close_profit_abs);
        assert_eq!(closing.exit_reason, trade.exit_reason.clone().unwrap());
        let open = Trade {
            close_date: None,
            ..trade
        };
        assert!(super::closing(&open).is_none());
        // An entry order that filled nothing yet is no position.
        let unfilled = Trade {
            amount: 0.0,
            ..open
        };
        assert!(super::opening(bot, &unfilled).is_none());
    }
}
