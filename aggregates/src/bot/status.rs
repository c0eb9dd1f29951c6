//! A bot's lifecycle, as one pure transition function.
//!
//! Users ask (start, stop, restart, delete) and the runtime layer confirms (provisioned,
//! started, stopped, deleted) or reports a failure. Every legal step is listed in
//! [`BotStatus::after`]; anything else is a Conflict on `status`.

use crate::error::DomainError;

crate::values::string_enum! {
    /// Where a bot is in its life; the names are what events and read models store.
    pub enum BotStatus (field = "status", what = "bot status") {
        /// Created; the runtime is preparing its container, pod or process.
        Creating => "creating",
        Stopped => "stopped",
        Starting => "starting",
        Running => "running",
        Stopping => "stopping",
        /// Something failed; see the bot's last error. It can be started, updated or deleted.
        Error => "error",
        Deleting => "deleting",
        Deleted => "deleted",
    }
}

/// A step in a bot's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BotAction {
    ConfirmProvisioned,
    Update,
    Start,
    ConfirmStarted,
    Stop,
    ConfirmStopped,
    Restart,
    Fail,
    Delete,
    ConfirmDeleted,
    /// Ask the trade sync to read the bot's trades now.
    SyncTrades,
    /// Ask freqtrade to exit one trade.
    CloseTrade,
    /// Reachable again after the health monitor reported it unhealthy.
    Recover,
    /// Its process is gone while it ran (only then: a bot stopped or deleted meanwhile
    /// is left to that request).
    Lose,
}

impl BotStatus {
    /// The status after `action`, or a Conflict on `status` naming the status from which
    /// the action is not allowed.
    ///
    /// Deleting a running or starting bot is two steps, stop then delete: `Delete` itself
    /// is only allowed once nothing runs.
    pub fn after(self, action: BotAction) -> Result<Self, DomainError> {
        use BotAction::*;
        use BotStatus::*;
        let next = match (self, action) {
            (Creating, ConfirmProvisioned) => Some(Stopped),
            (Stopped | Error, Update) => Some(self),
            (Stopped | Error, Start) => Some(Starting),
            (Starting, ConfirmStarted) => Some(Running),
            // From error too: a bot the reconciler would start again can be kept down.
            (Running | Starting | Error, Stop) => Some(Stopping),
            (Stopping, ConfirmStopped) => Some(Stopped),
            (Running, Restart) => Some(Starting),
            (Running, Lose) => Some(Error),
            (Deleted, Fail) => None,
            (_, Fail) => Some(Error),
            (Creating | Stopped | Stopping | Error, Delete) => Some(Deleting),
            (Deleting, ConfirmDeleted) => Some(Deleted),
            (Running, SyncTrades | CloseTrade) => Some(Running),
            (Error, Recover) => Some(Running),
            _ => None,
        };
        next.ok_or_else(|| {
            let verb = match action {
                ConfirmProvisioned => "confirm provisioning of",
                Update => "update",
                Start => "start",
                ConfirmStarted => "confirm the start of",
                Stop => "stop",
                ConfirmStopped => "confirm the stop of",
                Restart => "restart",
                Fail => "report a failure of",
                Lose => "report the loss of the process of",
                Delete => "delete",
                ConfirmDeleted => "confirm the deletion of",
                SyncTrades => "sync the trades of",
                CloseTrade => "close a trade of",
                Recover => "confirm the recovery of",
            };
            let hint = match action {
                Update => "stop the bot first: ",
                _ => "",
            };
            DomainError::conflict(
                "status",
                format!("{hint}cannot {verb} a bot that is {}", self.as_str()),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BotAction::*;
    use BotStatus::*;

    /// The whole table, written out once more so a change to `after` is deliberate.
    const ALLOWED: &[(BotStatus, BotAction, BotStatus)] = &[
        (Creating, ConfirmProvisioned, Stopped),
        (Stopped, Update, Stopped),
        (Error, Update, Error),
        (Stopped, Start, Starting),
        (Error, Start, Starting),
        (Starting, ConfirmStarted, Running),
        (Running, Stop, Stopping),
        (Starting, Stop, Stopping),
        (Error, Stop, Stopping),
        (Running, Lose, Error),
        (Stopping, ConfirmStopped, Stopped),
        (Running, Restart, Starting),
        (Creating, Fail, Error),
        (Stopped, Fail, Error),
        (Starting, Fail, Error),
        (Running, Fail, Error),
        (Stopping, Fail, Error),
        (Error, Fail, Error),
        (Deleting, Fail, Error),
        (Creating, Delete, Deleting),
        (Stopped, Delete, Deleting),
        (Stopping, Delete, Deleting),
        (Error, Delete, Deleting),
        (Deleting, ConfirmDeleted, Deleted),
        (Running, SyncTrades, Running),
        (Running, CloseTrade, Running),
        (Error, Recover, Running),
    ];

    const ACTIONS: [BotAction; 14] = [
        ConfirmProvisioned,
        Update,
        Start,
        ConfirmStarted,
        Stop,
        ConfirmStopped,
        Restart,
        Fail,
        Lose,
        Delete,
        ConfirmDeleted,
        SyncTrades,
        CloseTrade,
        Recover,
    ];

    #[test]
    fn every_transition_is_as_listed() {
        for &from in BotStatus::ALL {
            for action in ACTIONS {
                let expected = ALLOWED
                    .iter()
                    .find(|(f, a, _)| *f == from && *a == action)
                    .map(|(_, _, to)| *to);
                match expected {
                    Some(to) => assert_eq!(from.after(action), Ok(to), "{from:?} {action:?}"),
                    None => {
                        let error = from.after(action).expect_err("not allowed");
                        assert_eq!(error.field(), Some("status"), "{from:?} {action:?}");
                        assert!(
                            error
                                .reason()
                                .ends_with(&format!("a bot that is {}", from.as_str())),
                            "{}",
                            error.reason()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn update_tells_to_stop_first() {
        assert_eq!(
            Running.after(Update),
            Err(DomainError::conflict(
                "status",
                "stop the bot first: cannot update a bot that is running"
            ))
        );
    }

    #[test]
    fn serializes_as_snake_case() {
        assert_eq!(
            serde_json::to_value(Deleting).ok(),
            Some(serde_json::json!("deleting"))
        );
    }
}
