//! What admins do to users: list them, change a role, set a password, disable,
//! enable, delete. Each change is checked first (nothing changes on bad input),
//! recorded with who made it ([`super::user_history`]), and announced on the
//! [`USERS_CHANNEL`] so every instance forgets what it read of the user at once: a
//! disabled user's or reset password's tokens stop counting everywhere.
//!
//! No change may leave the service without an enabled admin: nobody could manage users
//! again but by editing the database.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::passwords;
use super::user_history::{self, Actor, ChangeKind};
use super::users::{Role, User, UserError};
use crate::credential_rules::check_password;

/// The PostgreSQL notification channel a changed user's id is sent on.
pub const USERS_CHANNEL: &str = "anytrade_users";

/// Which user: by id (the API) or by name (the command line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserKey {
    Id(Uuid),
    Name(String),
}

impl std::fmt::Display for UserKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UserKey::Id(id) => write!(f, "with id {id}"),
            UserKey::Name(name) => write!(f, "named {name:?}"),
        }
    }
}

/// What to change; `None` leaves it as it is.
#[derive(Default)]
pub struct UserUpdate {
    pub role: Option<Role>,
    pub password: Option<Zeroizing<String>>,
    pub disabled: Option<bool>,
}

/// Every user, by name.
pub async fn list(pool: &PgPool) -> Result<Vec<User>, UserError> {
    let rows: Vec<UserRow> = sqlx::query_as(&format!("{SELECT_USER} ORDER BY username"))
        .fetch_all(pool)
        .await?;
    rows.into_iter().map(UserRow::into_user).collect()
}

/// One user; [`UserError::NotFound`] naming `field` when there is none.
pub async fn find(pool: &PgPool, field: &'static str, key: &UserKey) -> Result<User, UserError> {
    let mut conn = pool.acquire().await?;
    select(&mut conn, field, key, false).await
}

/// Applies `update` to the user `key` names, as `actor`; answers the user as it is
/// after. A new password is checked and ends the user's sessions, as does disabling.
pub async fn update(
    pool: &PgPool,
    actor: &Actor,
    (field, key): (&'static str, &UserKey),
    update: UserUpdate,
) -> Result<User, UserError> {
    // Hashing is slow: done before the transaction, once the name is known.
    let hash = match &update.password {
        Some(password) => {
            let user = find(pool, field, key).await?;
            check_password(password, &user.username).map_err(|reason| UserError::Invalid {
                field: "password",
                reason,
            })?;
            Some(passwords::hash(password.clone()).await?)
        }
        None => None,
    };
    let mut tx = pool.begin().await?;
    lock_users(&mut tx).await?;
    let before = select(&mut tx, field, key, true).await?;
    let role = update.role.unwrap_or(before.role);
    let enabled = !update.disabled.unwrap_or(before.disabled_at.is_some());
    let was_admin = before.role == Role::Admin && before.disabled_at.is_none();
    if was_admin && (role != Role::Admin || !enabled) && !other_admin(&mut tx, before.id).await? {
        let field = if role != Role::Admin {
            "role"
        } else {
            "disabled"
        };
        return Err(UserError::LastAdmin {
            field,
            username: before.username,
        });
    }
    let mut changes = Vec::new();
    if role != before.role {
        changes.push(ChangeKind::RoleChanged);
    }
    if hash.is_some() {
        changes.push(ChangeKind::PasswordSet);
    }
    match (before.disabled_at.is_some(), enabled) {
        (false, false) => changes.push(ChangeKind::Disabled),
        (true, true) => changes.push(ChangeKind::Enabled),
        _ => {}
    }
    if changes.is_empty() {
        tx.commit().await?;
        return Ok(before);
    }
    let ends_sessions = hash.is_some() || changes.contains(&ChangeKind::Disabled);
    let row: UserRow = sqlx::query_as(
        "UPDATE users SET role = $2,
                password_hash = coalesce($3, password_hash),
                disabled_at = CASE WHEN $4 THEN NULL ELSE coalesce(disabled_at, now()) END,
                token_generation = token_generation + CASE WHEN $5 THEN 1 ELSE 0 END,
                updated_at = now()
          WHERE id = $1
      RETURNING id, username, role, created_at, disabled_at",
    )
    .bind(before.id)
    .bind(role.as_str())
    .bind(hash)
    .bind(enabled)
    .bind(ends_sessions)
    .fetch_one(&mut *tx)
    .await?;
    let who = (before.id, before.username.as_str());
    for change in &changes {
        let role = (*change == ChangeKind::RoleChanged).then_some(role);
        user_history::record(&mut *tx, actor, who, *change, role).await?;
    }
    announce(&mut tx, before.id).await?;
    tx.commit().await?;
    let after = row.into_user()?;
    let changes: Vec<_> = changes.iter().map(|c| c.as_str()).collect();
    tracing::info!(user_id = %after.id, username = %after.username, %actor, ?changes, "user changed");
    Ok(after)
}

/// Deletes the user `key` names, as `actor`; its history stays.
pub async fn delete(
    pool: &PgPool,
    actor: &Actor,
    (field, key): (&'static str, &UserKey),
) -> Result<User, UserError> {
    let mut tx = pool.begin().await?;
    lock_users(&mut tx).await?;
    let user = select(&mut tx, field, key, true).await?;
    if user.role == Role::Admin
        && user.disabled_at.is_none()
        && !other_admin(&mut tx, user.id).await?
    {
        return Err(UserError::LastAdmin {
            field,
            username: user.username,
        });
    }
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    let who = (user.id, user.username.as_str());
    user_history::record(&mut *tx, actor, who, ChangeKind::Deleted, None).await?;
    announce(&mut tx, user.id).await?;
    tx.commit().await?;
    tracing::info!(user_id = %user.id, username = %user.username, %actor, "user deleted");
    Ok(user)
}

/// Serializes changes of users, so two admins demoting each other at once cannot both
/// see the other still an admin. Logins and token checks (plain reads) go on.
async fn lock_users(tx: &mut sqlx::PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
        .execute(tx)
        .await?;
    Ok(())
}

/// Whether an enabled admin other than `id` exists.
async fn other_admin(tx: &mut sqlx::PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM users
                         WHERE role = 'admin' AND disabled_at IS NULL AND id <> $1)",
    )
    .bind(id)
    .fetch_one(tx)
    .await
}

/// Tells every instance (at commit) to read user `id` again.
async fn announce(tx: &mut sqlx::PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(USERS_CHANNEL)
        .bind(id.to_string())
        .execute(tx)
        .await?;
    Ok(())
}

const SELECT_USER: &str = "SELECT id, username, role, created_at, disabled_at FROM users";

type UserRow = (Uuid, String, String, DateTime<Utc>, Option<DateTime<Utc>>);

trait IntoUser {
    fn into_user(self) -> Result<User, UserError>;
}

impl IntoUser for UserRow {
    fn into_user(self) -> Result<User, UserError> {
        let (id, username, role, created_at, disabled_at) = self;
        let role = role
            .parse()
            .map_err(|reason| anyhow::anyhow!("user {id} has role {role:?}: {reason}"))?;
        Ok(User {
            id,
            username,
            role,
            created_at,
            disabled_at,
        })
    }
}

async fn select(
    conn: &mut sqlx::PgConnection,
    field: &'static str,
    key: &UserKey,
    for_update: bool,
) -> Result<User, UserError> {
    let lock = if for_update { " FOR UPDATE" } else { "" };
    let row: Option<UserRow> = match key {
        UserKey::Id(id) => {
            sqlx::query_as(&format!("{SELECT_USER} WHERE id = $1{lock}"))
                .bind(id)
                .fetch_optional(conn)
                .await?
        }
        UserKey::Name(name) => {
            sqlx::query_as(&format!("{SELECT_USER} WHERE username = $1{lock}"))
                .bind(name)
                .fetch_optional(conn)
                .await?
        }
    };
    row.ok_or_else(|| UserError::NotFound {
        field,
        user: key.to_string(),
    })?
    .into_user()
}
