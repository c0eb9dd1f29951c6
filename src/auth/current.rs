//! A token stands for its user as the user is now, not as they were when it was
//! issued: a deleted user's token stops working, a demoted admin stops mutating, and a
//! token from before a logout or a password change (an older sign-in generation) stops
//! working, within [`RECHECK_AFTER`] (an outside probe found the first two working for
//! the token's whole day); at once on the instance that took the logout, and on every
//! instance following the users' notifications ([`CurrentUsers::follow_changes`])
//! when an admin changed the user. The users table is read at most once per user in
//! that time.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lru::LruCache;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::watch;
use uuid::Uuid;

use super::user_admin::USERS_CHANNEL;
use super::users::{self, Standing};
use super::{AuthError, Principal};

/// How long a user's role, as read, is trusted.
pub const RECHECK_AFTER: Duration = Duration::from_secs(2);

/// Users whose role is remembered at once.
const REMEMBERED: usize = 10_000;

/// Why a token's user could not be confirmed.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("cannot read the users: {0}")]
    Database(#[from] sqlx::Error),
}

/// The users as the users table has them, each remembered for [`RECHECK_AFTER`].
pub struct CurrentUsers {
    pool: PgPool,
    roles: Mutex<LruCache<Uuid, (Instant, Option<Standing>)>>,
}

impl CurrentUsers {
    pub fn new(pool: PgPool) -> Self {
        let capacity = NonZeroUsize::new(REMEMBERED).unwrap_or(NonZeroUsize::MIN);
        Self {
            pool,
            roles: Mutex::new(LruCache::new(capacity)),
        }
    }

    /// `principal` with the role its user has now; [`AuthError::Revoked`] when the user
    /// no longer exists or the token is from an older sign-in generation. A principal confirmed within [`RECHECK_AFTER`] is taken as is,
    /// so an HTTP request checked by its handler is not checked again by the guard.
    pub async fn current(&self, principal: &Principal) -> Result<Principal, CheckError> {
        if principal
            .confirmed_at
            .is_some_and(|at| at.elapsed() < RECHECK_AFTER)
        {
            return Ok(principal.clone());
        }
        // A token newer than what was read (issued after a logout here) reads again.
        let remembered = self
            .remembered(principal.user_id)
            .filter(|(_, standing)| standing.is_none_or(|s| s.generation >= principal.generation));
        let (read, standing) = match remembered {
            Some(remembered) => remembered,
            None => {
                let standing = users::standing(&self.pool, principal.user_id).await?;
                let read = Instant::now();
                if let Ok(mut roles) = self.roles.lock() {
                    roles.put(principal.user_id, (read, standing));
                }
                (read, standing)
            }
        };
        match standing {
            Some(standing) if standing.generation == principal.generation => Ok(Principal {
                role: standing.role,
                confirmed_at: Some(read),
                ..principal.clone()
            }),
            _ => Err(AuthError::Revoked.into()),
        }
    }

    /// Forgets what was read of `user`, so its next token is checked against the
    /// table (after this instance changed it).
    pub fn forget(&self, user: Uuid) {
        if let Ok(mut roles) = self.roles.lock() {
            roles.pop(&user);
        }
    }

    /// Forgets each user as soon as a change of it commits, on any instance or from
    /// the command line, until `stopped`. While the notifications cannot be followed,
    /// everything read is forgotten and the recheck interval still holds.
    pub fn follow_changes(
        self: std::sync::Arc<Self>,
        mut stopped: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut listener: Option<PgListener> = None;
            while !*stopped.borrow() {
                let listening = match listener.as_mut() {
                    Some(listening) => listening,
                    None => match self.listen().await {
                        Ok(listening) => listener.insert(listening),
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot follow changes of users; retrying");
                            tokio::select! {
                                _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                                _ = stopped.changed() => break,
                            }
                        }
                    },
                };
                let notification = tokio::select! {
                    received = listening.try_recv() => received,
                    _ = stopped.changed() => break,
                };
                match notification {
                    Ok(Some(notification)) => match notification.payload().parse() {
                        Ok(user) => self.forget(user),
                        Err(_) => self.forget_all(),
                    },
                    // The connection went: what was sent meanwhile is lost.
                    Ok(None) | Err(_) => {
                        self.forget_all();
                        listener = None;
                    }
                }
            }
        })
    }

    async fn listen(&self) -> Result<PgListener, sqlx::Error> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(USERS_CHANNEL).await?;
        // Changes made before the listening began are not announced again.
        self.forget_all();
        Ok(listener)
    }

    fn forget_all(&self) {
        if let Ok(mut roles) = self.roles.lock() {
            roles.clear();
        }
    }

    fn remembered(&self, user: Uuid) -> Option<(Instant, Option<Standing>)> {
        let mut roles = self.roles.lock().ok()?;
        roles
            .get(&user)
            .copied()
            .filter(|(read, _)| read.elapsed() < RECHECK_AFTER)
    }
}
