//! Which bots a worker is busy with, so a slow bot is never polled twice at once.

use std::collections::HashSet;
use std::sync::Mutex;

use anytrade_aggregates::values::BotId;

#[derive(Default)]
pub struct InFlight(Mutex<HashSet<BotId>>);

/// Held while a bot is being worked on; dropping it (also on panic) frees the bot.
pub struct Busy<'a> {
    set: &'a InFlight,
    bot: BotId,
}

impl InFlight {
    /// `None` when `bot` is already being worked on.
    pub fn begin(&self, bot: BotId) -> Option<Busy<'_>> {
        let newly = self.0.lock().is_ok_and(|mut bots| bots.insert(bot));
        newly.then_some(Busy { set: self, bot })
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        if let Ok(mut bots) = self.set.0.lock() {
            bots.remove(&self.bot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bot_is_busy_until_its_guard_drops() {
        let in_flight = InFlight::default();
        let bot = BotId::new();
        let busy = in_flight.begin(bot).expect("free");
        assert!(in_flight.begin(bot).is_none());
        assert!(in_flight.begin(BotId::new()).is_some());
        drop(busy);
        assert!(in_flight.begin(bot).is_some());
    }
}
