//! `anytrade users`: manage who may log in, from the machine the service runs on (no
//! token needed: whoever can read the service's configuration owns it). Changes are
//! recorded as made by `cli:<operating-system user>` and take effect at once on every
//! running instance.

use std::io::{BufRead, IsTerminal};

use clap::{Subcommand, ValueEnum};
use sqlx::PgPool;
use zeroize::Zeroizing;

use super::BadInput;
use crate::auth::user_history;
use crate::auth::{Actor, Role, User, UserError, UserKey, UserUpdate, create_user, user_admin};

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user. The password is read from standard input (asked for, unechoed, on a
    /// terminal).
    Add {
        username: String,
        #[arg(long, value_enum, default_value = "viewer")]
        role: RoleArg,
    },
    /// List the users.
    List,
    /// Change a user's role.
    SetRole {
        username: String,
        #[arg(value_enum)]
        role: RoleArg,
    },
    /// Set a user's password (read as for `add`); the user's sessions end.
    Passwd { username: String },
    /// Disable a user: it cannot log in, and its sessions end.
    Disable { username: String },
    /// Enable a disabled user again.
    Enable { username: String },
    /// Delete a user; its recorded changes stay.
    Delete { username: String },
    /// Every recorded change of one user (or of all), oldest first.
    History { username: Option<String> },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Admin,
    Viewer,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Admin => Role::Admin,
            RoleArg::Viewer => Role::Viewer,
        }
    }
}

pub async fn run(command: UsersCommand, pool: &PgPool) -> anyhow::Result<()> {
    let actor = Actor::cli(&os_user());
    let by_name = |name: &str| UserKey::Name(name.to_owned());
    let done = match command {
        UsersCommand::Add { username, role } => {
            let password = read_password(&format!("password for {username}: "))?;
            create_user(pool, &actor, &username, &password, role.into()).await
        }
        UsersCommand::List => {
            print_users(&user_admin::list(pool).await.map_err(bad_input)?);
            return Ok(());
        }
        UsersCommand::History { username } => {
            let user = match username {
                Some(name) => Some(find(pool, &name).await?.id),
                None => None,
            };
            print_history(&user_history::changes(pool, user, i64::MAX).await?);
            return Ok(());
        }
        UsersCommand::SetRole { username, role } => {
            let update = UserUpdate {
                role: Some(role.into()),
                ..UserUpdate::default()
            };
            user_admin::update(pool, &actor, ("username", &by_name(&username)), update).await
        }
        UsersCommand::Passwd { username } => {
            find(pool, &username).await?;
            let password = read_password(&format!("new password for {username}: "))?;
            let update = UserUpdate {
                password: Some(password),
                ..UserUpdate::default()
            };
            user_admin::update(pool, &actor, ("username", &by_name(&username)), update).await
        }
        UsersCommand::Disable { username } => set_disabled(pool, &actor, &username, true).await,
        UsersCommand::Enable { username } => set_disabled(pool, &actor, &username, false).await,
        UsersCommand::Delete { username } => {
            user_admin::delete(pool, &actor, ("username", &by_name(&username))).await
        }
    };
    let user = done.map_err(bad_input)?;
    print_users(std::slice::from_ref(&user));
    Ok(())
}

async fn set_disabled(
    pool: &PgPool,
    actor: &Actor,
    username: &str,
    disabled: bool,
) -> Result<User, UserError> {
    let update = UserUpdate {
        disabled: Some(disabled),
        ..UserUpdate::default()
    };
    let key = UserKey::Name(username.to_owned());
    user_admin::update(pool, actor, ("username", &key), update).await
}

async fn find(pool: &PgPool, username: &str) -> anyhow::Result<User> {
    let key = UserKey::Name(username.to_owned());
    user_admin::find(pool, "username", &key)
        .await
        .map_err(bad_input)
}

/// Input errors exit with 2 naming the argument; the rest are failures.
fn bad_input(e: UserError) -> anyhow::Error {
    match e {
        UserError::Invalid { field, reason } => BadInput::new(field, reason).into(),
        UserError::Conflict { .. } | UserError::NotFound { .. } | UserError::LastAdmin { .. } => {
            let message = e.to_string();
            let (argument, reason) = message.split_once(": ").unwrap_or(("username", &message));
            BadInput::new(argument, reason).into()
        }
        e => e.into(),
    }
}

/// The password from standard input: asked for without echo on a terminal, else its
/// first line (so `echo "$PASSWORD" | anytrade users add …` works in scripts).
fn read_password(prompt: &str) -> anyhow::Result<Zeroizing<String>> {
    if std::io::stdin().is_terminal() {
        let first = Zeroizing::new(rpassword::prompt_password(prompt)?);
        let again = Zeroizing::new(rpassword::prompt_password("again: ")?);
        if first != again {
            return Err(BadInput::new("password", "the two entries differ").into());
        }
        return Ok(first);
    }
    let mut line = Zeroizing::new(String::new());
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        return Err(BadInput::new("password", "none on standard input").into());
    }
    Ok(Zeroizing::new(password.to_owned()))
}

/// Who runs this command, for the record.
fn os_user() -> String {
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|user| user.name)
        .unwrap_or_else(|| format!("uid {}", nix::unistd::getuid()))
}

fn print_users(users: &[User]) {
    println!("{:<24} {:<7} {:<9} CREATED", "USERNAME", "ROLE", "STATUS");
    for user in users {
        let status = if user.disabled_at.is_some() {
            "disabled"
        } else {
            "enabled"
        };
        println!(
            "{:<24} {:<7} {:<9} {}",
            user.username,
            user.role,
            status,
            user.created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
    }
}

fn print_history(changes: &[user_history::UserChange]) {
    println!(
        "{:<20} {:<24} {:<17} {:<7} ACTOR",
        "AT", "USERNAME", "CHANGE", "ROLE"
    );
    for change in changes {
        println!(
            "{:<20} {:<24} {:<17} {:<7} {}",
            change.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            change.username,
            change.kind,
            change.role.map(|r| r.as_str()).unwrap_or("-"),
            change.actor
        );
    }
}
