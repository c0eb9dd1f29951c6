//! Spreading a fleet's polls over an interval: each bot owns one second of it (from a
//! hash of its id, computed by PostgreSQL's `hashtext`), so with 1,000 bots and 30 s
//! about 33 are polled each second instead of 1,000 at once.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anytrade_projections::bots::Slot;

/// The one-second slots in `interval` (at least 1), and the slot of now.
pub fn due_now(interval: Duration) -> Slot {
    let slots = interval.as_secs().max(1) as i64;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    Slot {
        slots,
        slot: now % slots,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_slot_is_inside_the_interval() {
        let due = due_now(Duration::from_secs(30));
        assert_eq!(due.slots, 30);
        assert!((0..30).contains(&due.slot));
        // Under a second still polls, every second.
        assert_eq!(
            due_now(Duration::from_millis(200)),
            Slot { slots: 1, slot: 0 }
        );
    }
}
