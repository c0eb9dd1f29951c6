//! Every change of a user, with who made it and when (`user_changes`): users are rows,
//! not aggregates, so this is their audit trail. It records what changed, never a
//! password or a hash.

use std::fmt;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::users::Role;

/// Who changed a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(String);

impl Actor {
    /// A caller of the API, by username.
    pub fn user(username: &str) -> Self {
        Self(format!("user:{username}"))
    }

    /// The command line, run by this operating-system user.
    pub fn cli(os_user: &str) -> Self {
        Self(format!("cli:{os_user}"))
    }

    /// The service itself (the first admin on the first start) and tools.
    pub fn system() -> Self {
        Self("system".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What happened to a user; stored as its snake_case name (`role_changed`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::Display,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum ChangeKind {
    Created,
    RoleChanged,
    /// An admin set the password.
    PasswordSet,
    /// The user changed their own password.
    PasswordChanged,
    Disabled,
    Enabled,
    Deleted,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserChange {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub user_id: Uuid,
    pub username: String,
    pub kind: ChangeKind,
    /// The role after the change, for [`ChangeKind::Created`] and
    /// [`ChangeKind::RoleChanged`].
    pub role: Option<Role>,
}

/// Records that `actor` made change `kind` to user `id`, in the transaction that makes
/// it, so a change and its record commit together.
pub(crate) async fn record<'e>(
    db: impl sqlx::PgExecutor<'e>,
    actor: &Actor,
    (id, username): (Uuid, &str),
    kind: ChangeKind,
    role: Option<Role>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO user_changes (actor, user_id, username, change, role)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(actor.as_str())
    .bind(id)
    .bind(username)
    .bind(kind.as_str())
    .bind(role.map(Role::as_str))
    .execute(db)
    .await?;
    Ok(())
}

/// The changes of one user (or of every user), oldest first, at most `limit`.
pub async fn changes(
    pool: &PgPool,
    user: Option<Uuid>,
    limit: i64,
) -> Result<Vec<UserChange>, sqlx::Error> {
    type Row = (DateTime<Utc>, String, Uuid, String, String, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT at, actor, user_id, username, change, role FROM user_changes
          WHERE $1::uuid IS NULL OR user_id = $1
          ORDER BY id LIMIT $2",
    )
    .bind(user)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(at, actor, user_id, username, kind, role)| {
            let corrupt = |reason: String| sqlx::Error::Decode(reason.into());
            Ok(UserChange {
                at,
                actor,
                user_id,
                username,
                kind: kind
                    .parse()
                    .map_err(|_| corrupt(format!("not a change of a user: {kind:?}")))?,
                role: role.map(|r| r.parse()).transpose().map_err(corrupt)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_back_as_written() {
        for kind in <ChangeKind as strum::IntoEnumIterator>::iter() {
            assert_eq!(kind.as_str().parse::<ChangeKind>(), Ok(kind));
        }
        // As the table's CHECK constraint names them.
        assert_eq!(ChangeKind::RoleChanged.as_str(), "role_changed");
        assert!("renamed".parse::<ChangeKind>().is_err());
    }

    #[test]
    fn actors_say_where_the_change_came_from() {
        assert_eq!(Actor::user("alice").as_str(), "user:alice");
        assert_eq!(Actor::cli("root").as_str(), "cli:root");
        assert_eq!(Actor::system().to_string(), "system");
    }
}
