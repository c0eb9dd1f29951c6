//! Users and their roles: plain rows in `users`, each with an argon2 password hash.
//!
//! The first start creates the first admin from the configuration
//! ([`ensure_first_admin`]); later starts leave the table alone, so changing
//! `admin_password` afterwards changes nothing. Admins manage the others
//! ([`super::user_admin`]); every change is recorded ([`super::user_history`]).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::passwords;
use super::user_history::{self, Actor, ChangeKind};
use crate::config::Settings;
use crate::credential_rules::{MIN_PASSWORD_CHARS, check_password, check_username};

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything.
    Admin,
    /// Queries and subscriptions only.
    Viewer,
}

impl Role {
    /// Whether this role may change anything (mutations).
    pub fn can_mutate(self) -> bool {
        match self {
            Role::Admin => true,
            Role::Viewer => false,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "viewer" => Ok(Role::Viewer),
            _ => Err("must be admin or viewer".into()),
        }
    }
}

/// A user, without the password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    /// When an admin disabled the user: it cannot log in, and its tokens do not count.
    pub disabled_at: Option<DateTime<Utc>>,
}

/// Why a user could not be created. Never holds a password or a hash.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("username: a user named {username:?} already exists")]
    Conflict { username: String },
    #[error("{field}: there is no user {user}")]
    NotFound { field: &'static str, user: String },
    /// The change would leave no enabled admin, and nobody could manage users again.
    #[error("{field}: {username:?} is the last enabled admin; make another user admin first")]
    LastAdmin {
        field: &'static str,
        username: String,
    },
    #[error(
        "there are no users yet: set ANYTRADE_ADMIN_PASSWORD (at least {MIN_PASSWORD_CHARS} characters) to create the first admin, {username:?}"
    )]
    MissingAdminPassword { username: String },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for UserError {
    fn from(e: sqlx::Error) -> Self {
        UserError::Unexpected(anyhow::Error::new(e).context("users table"))
    }
}

/// What a token's user is now: its role, and its sign-in generation (tokens of
/// another generation no longer count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub role: Role,
    pub generation: i32,
}

/// User `id`'s standing now; `None` when there is no such user or it is disabled.
pub async fn standing(pool: &PgPool, id: Uuid) -> Result<Option<Standing>, sqlx::Error> {
    let row: Option<(String, i32)> = sqlx::query_as(
        "SELECT role, token_generation FROM users WHERE id = $1 AND disabled_at IS NULL",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|(role, generation)| {
        Some(Standing {
            role: role.parse().ok()?,
            generation,
        })
    }))
}

/// User `id`'s password hash; `None` when there is no such user.
pub async fn password_hash(pool: &PgPool, id: Uuid) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Ends every session of user `id`: its tokens issued so far stop counting.
pub async fn end_sessions(pool: &PgPool, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET token_generation = token_generation + 1 WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Sets user `(id, username)`'s own password to `new` (checked first), ends its
/// sessions and records the change as the user's.
pub async fn change_password(
    pool: &PgPool,
    (id, username): (Uuid, &str),
    new: &str,
) -> Result<(), UserError> {
    check_password(new, username).map_err(|reason| UserError::Invalid {
        field: "newPassword",
        reason,
    })?;
    let hash = passwords::hash(Zeroizing::new(new.to_owned())).await?;
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE users SET password_hash = $2, token_generation = token_generation + 1,
                updated_at = now()
          WHERE id = $1",
    )
    .bind(id)
    .bind(hash)
    .execute(&mut *tx)
    .await?;
    let actor = Actor::user(username);
    user_history::record(
        &mut *tx,
        &actor,
        (id, username),
        ChangeKind::PasswordChanged,
        None,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user_id = %id, "password changed; the user's sessions ended");
    Ok(())
}

/// Creates a user with a checked username and password, recorded as made by `actor`;
/// a taken username is a [`UserError::Conflict`].
pub async fn create_user(
    pool: &PgPool,
    actor: &Actor,
    username: &str,
    password: &str,
    role: Role,
) -> Result<User, UserError> {
    check_username(username).map_err(|reason| UserError::Invalid {
        field: "username",
        reason,
    })?;
    check_password(password, username).map_err(|reason| UserError::Invalid {
        field: "password",
        reason,
    })?;
    let hash = passwords::hash(Zeroizing::new(password.to_owned())).await?;
    let mut tx = pool.begin().await?;
    let user = insert(&mut tx, actor, username, &hash, role).await?;
    tx.commit().await?;
    tracing::info!(user_id = %user.id, username = %user.username, role = %user.role, %actor, "user created");
    Ok(user)
}

/// On the first start (no users at all), creates the admin named `admin_username`
/// with `admin_password`, and returns it; fails when that password is not set. Once
/// any user exists, does nothing and returns `None`, whatever the configuration says.
/// Safe when several instances start at once: one creates the admin.
pub async fn ensure_first_admin(
    pool: &PgPool,
    settings: &Settings,
) -> Result<Option<User>, UserError> {
    if any_user(pool).await? {
        if settings.admin_password().is_some() {
            tracing::info!(
                "users exist already: the configured admin password is ignored (it only creates the first admin)"
            );
        }
        return Ok(None);
    }
    let username = settings.admin_username.as_str();
    let password = settings
        .admin_password()
        .ok_or_else(|| UserError::MissingAdminPassword {
            username: username.to_owned(),
        })?;
    check_username(username).map_err(|reason| UserError::Invalid {
        field: "admin_username",
        reason,
    })?;
    check_password(password, username).map_err(|reason| UserError::Invalid {
        field: "admin_password",
        reason,
    })?;
    let hash = passwords::hash(Zeroizing::new(password.to_owned())).await?;

    let mut tx = pool.begin().await?;
    // Blocks other writers of `users` until commit, so two instances starting at
    // once cannot both see an empty table.
    sqlx::query("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    if any_user(&mut *tx).await? {
        tx.commit().await?;
        return Ok(None);
    }
    let user = insert(&mut tx, &Actor::system(), username, &hash, Role::Admin).await?;
    tx.commit().await?;
    tracing::info!(user_id = %user.id, username = %user.username, "first admin user created");
    Ok(Some(user))
}

async fn any_user<'e>(db: impl sqlx::PgExecutor<'e>) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users)")
        .fetch_one(db)
        .await
}

/// Inserts the user and records its creation by `actor`.
async fn insert(
    tx: &mut sqlx::PgConnection,
    actor: &Actor,
    username: &str,
    password_hash: &str,
    role: Role,
) -> Result<User, UserError> {
    let row: Result<(Uuid, DateTime<Utc>), sqlx::Error> = sqlx::query_as(
        "INSERT INTO users (id, username, password_hash, role) VALUES ($1, $2, $3, $4)
         RETURNING id, created_at",
    )
    .bind(Uuid::now_v7())
    .bind(username)
    .bind(password_hash)
    .bind(role.as_str())
    .fetch_one(&mut *tx)
    .await;
    match row {
        Ok((id, created_at)) => {
            let kind = ChangeKind::Created;
            user_history::record(&mut *tx, actor, (id, username), kind, Some(role)).await?;
            Ok(User {
                id,
                username: username.to_owned(),
                role,
                created_at,
                disabled_at: None,
            })
        }
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(UserError::Conflict {
            username: username.to_owned(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// A user as login needs it: with the stored hash. Only for checking a password.
pub(crate) struct Credentials {
    pub user: User,
    pub password_hash: String,
    /// The sign-in generation a token issued now belongs to.
    pub generation: i32,
}

/// The user called `username` (disabled or not: login refuses a disabled one), with
/// the password hash, if there is one.
pub(crate) async fn find_credentials(
    pool: &PgPool,
    username: &str,
) -> anyhow::Result<Option<Credentials>> {
    type Row = (
        Uuid,
        String,
        String,
        String,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
        i32,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, username, password_hash, role, created_at, disabled_at, token_generation
           FROM users WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(pool)
    .await?;
    let Some((id, username, password_hash, role, created_at, disabled_at, generation)) = row else {
        return Ok(None);
    };
    let role = role
        .parse()
        .map_err(|reason| anyhow::anyhow!("user {id} has role {role:?}: {reason}"))?;
    Ok(Some(Credentials {
        user: User {
            id,
            username,
            role,
            created_at,
            disabled_at,
        },
        password_hash,
        generation,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admins_mutate() {
        assert!(Role::Admin.can_mutate());
        assert!(!Role::Viewer.can_mutate());
    }

    #[test]
    fn roles_read_and_write_as_lowercase_words() {
        for role in [Role::Admin, Role::Viewer] {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(
                serde_json::to_value(role).expect("serializes"),
                serde_json::Value::from(role.as_str())
            );
        }
        assert!("Admin".parse::<Role>().is_err());
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn errors_name_the_field() {
        let e = UserError::Invalid {
            field: "password",
            reason: "must be at least 12 characters".into(),
        };
        assert_eq!(e.to_string(), "password: must be at least 12 characters");
        let e = UserError::MissingAdminPassword {
            username: "admin".into(),
        };
        assert!(e.to_string().contains("ANYTRADE_ADMIN_PASSWORD"), "{e}");
    }
}
