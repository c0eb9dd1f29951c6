//! Users through the API, for admins only: list them with their recorded changes,
//! create, update (role, password, disabled) and delete. Every change is recorded as
//! made by the calling admin; a disabled user's or reset password's tokens stop
//! counting at once. No password or hash is ever answered.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::context::{ContextExt, parse_id};
use super::errors;
use crate::auth::user_history::{self, ChangeKind};
use crate::auth::{
    Actor, AuthError, Role, User as UserRow, UserChange as ChangeRow, UserError, UserKey,
    UserUpdate, create_user, user_admin,
};

/// What a user may do.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "Role")]
pub enum UserRole {
    /// Everything, users included.
    Admin,
    /// Queries and subscriptions only.
    Viewer,
}

/// What happened to a user.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "ChangeKind")]
pub enum UserChangeKind {
    Created,
    RoleChanged,
    PasswordSet,
    PasswordChanged,
    Disabled,
    Enabled,
    Deleted,
}

pub struct User(UserRow);

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn username(&self) -> &str {
        &self.0.username
    }

    async fn role(&self) -> UserRole {
        self.0.role.into()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// A disabled user cannot log in and its tokens do not count.
    async fn disabled(&self) -> bool {
        self.0.disabled_at.is_some()
    }

    async fn disabled_at(&self) -> Option<DateTime<Utc>> {
        self.0.disabled_at
    }

    /// Every change of this user, oldest first: who made it and when.
    async fn changes(&self, ctx: &Context<'_>) -> Result<Vec<UserChange>> {
        changes_of(ctx, Some(self.0.id)).await
    }
}

/// One recorded change of a user.
#[derive(SimpleObject)]
pub struct UserChange {
    pub at: DateTime<Utc>,
    /// `user:<name>` (the API), `cli:<os user>` (the command line) or `system`.
    pub actor: String,
    pub user_id: ID,
    pub username: String,
    pub change: UserChangeKind,
    /// The role after the change, for `CREATED` and `ROLE_CHANGED`.
    pub role: Option<UserRole>,
}

impl From<ChangeRow> for UserChange {
    fn from(row: ChangeRow) -> Self {
        Self {
            at: row.at,
            actor: row.actor,
            user_id: ID(row.user_id.to_string()),
            username: row.username,
            change: row.kind.into(),
            role: row.role.map(Into::into),
        }
    }
}

/// The most changes answered at once.
const MAX_CHANGES: i64 = 1_000;

async fn changes_of(ctx: &Context<'_>, user: Option<Uuid>) -> Result<Vec<UserChange>> {
    let rows = user_history::changes(&ctx.api().pool, user, MAX_CHANGES)
        .await
        .map_err(errors::database)?;
    Ok(rows.into_iter().map(UserChange::from).collect())
}

/// The caller, when an admin.
fn admin(ctx: &Context<'_>) -> Result<Actor> {
    let principal = ctx.principal()?;
    if principal.role != Role::Admin {
        return Err(errors::auth(&AuthError::Forbidden));
    }
    Ok(Actor::user(&principal.username))
}

fn user_error(e: UserError) -> async_graphql::Error {
    let message = e.to_string();
    match e {
        UserError::Invalid { field, .. } => errors::error("VALIDATION", message, Some(field)),
        UserError::Conflict { .. } => errors::error("CONFLICT", message, Some("username")),
        UserError::LastAdmin { field, .. } => errors::error("CONFLICT", message, Some(field)),
        UserError::NotFound { field, .. } => errors::not_found(field, message),
        e @ (UserError::MissingAdminPassword { .. } | UserError::Unexpected(_)) => {
            errors::internal("changing a user", e)
        }
    }
}

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// Every user, by name. Admins only.
    async fn users(&self, ctx: &Context<'_>) -> Result<Vec<User>> {
        admin(ctx)?;
        let users = user_admin::list(&ctx.api().pool)
            .await
            .map_err(user_error)?;
        Ok(users.into_iter().map(User).collect())
    }

    /// Every change of every user (deleted ones too), oldest first, at most 1,000.
    /// Admins only.
    async fn user_changes(&self, ctx: &Context<'_>) -> Result<Vec<UserChange>> {
        admin(ctx)?;
        changes_of(ctx, None).await
    }
}

#[derive(InputObject)]
pub struct CreateUserInput {
    /// 1 to 64 of `A-Z a-z 0-9 _ . -`.
    pub username: String,
    /// At least 12 characters, and not easy to guess.
    pub password: String,
    pub role: UserRole,
}

/// What to change; what is left out stays.
#[derive(InputObject)]
pub struct UpdateUserInput {
    pub role: Option<UserRole>,
    /// A new password; the user's sessions end.
    pub password: Option<String>,
    /// `true` disables the user (its sessions end), `false` enables it again.
    pub disabled: Option<bool>,
}

#[derive(Default)]
pub struct UserMutation;

#[Object]
impl UserMutation {
    async fn create_user(&self, ctx: &Context<'_>, input: CreateUserInput) -> Result<User> {
        let actor = admin(ctx)?;
        let password = Zeroizing::new(input.password);
        let user = create_user(
            &ctx.api().pool,
            &actor,
            &input.username,
            &password,
            input.role.into(),
        )
        .await
        .map_err(user_error)?;
        Ok(User(user))
    }

    /// Changes a user's role, password or whether it is disabled. The last enabled
    /// admin cannot be demoted or disabled.
    async fn update_user(&self, ctx: &Context<'_>, id: ID, input: UpdateUserInput) -> Result<User> {
        let actor = admin(ctx)?;
        let key = UserKey::Id(parse_id("id", &id)?);
        let update = UserUpdate {
            role: input.role.map(Into::into),
            password: input.password.map(Zeroizing::new),
            disabled: input.disabled,
        };
        let api = ctx.api();
        let user = user_admin::update(&api.pool, &actor, ("id", &key), update)
            .await
            .map_err(user_error)?;
        api.users.forget(user.id);
        Ok(User(user))
    }

    /// Deletes a user (its recorded changes stay); answers it as it was. The last
    /// enabled admin cannot be deleted.
    async fn delete_user(&self, ctx: &Context<'_>, id: ID) -> Result<User> {
        let actor = admin(ctx)?;
        let key = UserKey::Id(parse_id("id", &id)?);
        let api = ctx.api();
        let user = user_admin::delete(&api.pool, &actor, ("id", &key))
            .await
            .map_err(user_error)?;
        api.users.forget(user.id);
        Ok(User(user))
    }
}
