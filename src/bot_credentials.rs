//! Where the control plane keeps the credentials of each bot's REST API: a plain
//! table, the password sealed with the service's keyring. The JWT secret and websocket
//! token are not kept: only freqtrade needs them, and a new start makes new ones.

use anytrade_aggregates::SealedSecret;
use anytrade_aggregates::values::BotId;
use sqlx::PgPool;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::crypto::{CryptoError, Keyring};

/// What the password of bot `bot_id` is bound to when sealed.
pub fn password_context(bot_id: BotId) -> String {
    format!("bot:{bot_id}:api_password")
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("bot API credentials: {0}")]
    Database(#[from] sqlx::Error),
    #[error("bot API credentials are not readable: {0}")]
    Crypto(#[from] CryptoError),
    #[error("bot API credentials are malformed: {0}")]
    Malformed(#[from] serde_json::Error),
}

/// Seals and stores `password` for bot `bot_id`, replacing what was there.
pub async fn save(
    pool: &PgPool,
    keys: &Keyring,
    bot_id: BotId,
    username: &str,
    password: &str,
) -> Result<(), CredentialsError> {
    let sealed = keys.seal(password, &password_context(bot_id));
    sqlx::query(
        "INSERT INTO bot_api_credentials (bot_id, username, password) VALUES ($1, $2, $3)
         ON CONFLICT (bot_id) DO UPDATE
         SET username = EXCLUDED.username, password = EXCLUDED.password, updated_at = now()",
    )
    .bind(bot_id.uuid())
    .bind(username)
    .bind(serde_json::to_value(&sealed)?)
    .execute(pool)
    .await?;
    Ok(())
}

/// The username and password of bot `bot_id`, if it has been started.
pub async fn load(
    pool: &PgPool,
    keys: &Keyring,
    bot_id: BotId,
) -> Result<Option<(String, Zeroizing<String>)>, CredentialsError> {
    let row: Option<(String, serde_json::Value)> =
        sqlx::query_as("SELECT username, password FROM bot_api_credentials WHERE bot_id = $1")
            .bind(bot_id.uuid())
            .fetch_optional(pool)
            .await?;
    let Some((username, password)) = row else {
        return Ok(None);
    };
    let sealed: SealedSecret = serde_json::from_value(password)?;
    let password = keys.open(&sealed, &password_context(bot_id))?;
    Ok(Some((username, password)))
}

pub async fn delete(pool: &PgPool, bot_id: BotId) -> Result<(), CredentialsError> {
    sqlx::query("DELETE FROM bot_api_credentials WHERE bot_id = $1")
        .bind(bot_id.uuid())
        .execute(pool)
        .await?;
    Ok(())
}

/// Re-seals every stored password not under the current key; returns how many.
pub async fn reseal_all(pool: &PgPool, keys: &Keyring) -> Result<usize, CredentialsError> {
    let rows: Vec<(Uuid, String, serde_json::Value)> =
        sqlx::query_as("SELECT bot_id, username, password FROM bot_api_credentials")
            .fetch_all(pool)
            .await?;
    let mut resealed = 0;
    for (bot_id, username, password) in rows {
        let bot_id = BotId::from(bot_id);
        let sealed: SealedSecret = serde_json::from_value(password)?;
        if sealed.key_id == keys.current_key_id() {
            continue;
        }
        let plaintext = keys.open(&sealed, &password_context(bot_id))?;
        save(pool, keys, bot_id, &username, &plaintext).await?;
        resealed += 1;
    }
    Ok(resealed)
}
