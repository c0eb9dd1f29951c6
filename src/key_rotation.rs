//! `anytrade keys rotate`: re-seals every exchange secret and every bot API password
//! under the current key.
//!
//! Each value is opened with whichever configured key sealed it and sealed again with
//! the current one, in memory only (the plaintext is zeroized when dropped); the event
//! store receives the new ciphertext through the Exchange aggregate's
//! `ResealExchangeSecret` command. Re-running it after an interruption finishes the job.

use anytrade_aggregates::ExchangeCommand;
use uuid::Uuid;

use crate::crypto::{CryptoError, Keyring, exchange_secret_context};
use crate::store::{CommandError, CommandMetadata, Commands};

/// What a rotation did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rotation {
    /// Exchange secrets.
    pub resealed: usize,
    pub already_current: usize,
    /// Bot API passwords (kept in a plain table, re-sealed in place).
    pub bot_passwords: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error("listing exchanges: {0}")]
    Database(#[from] sqlx::Error),
    #[error("exchange {exchange} secret {name}: {source}")]
    Crypto {
        exchange: Uuid,
        name: String,
        source: CryptoError,
    },
    #[error(transparent)]
    BotCredentials(#[from] crate::bot_credentials::CredentialsError),
    #[error("exchange {exchange}: {source}")]
    Command {
        exchange: Uuid,
        source: CommandError,
    },
}

/// Re-seals every secret of every exchange that is not under the current key yet.
pub async fn reseal_all(
    pool: &sqlx::PgPool,
    commands: &Commands,
    keys: &Keyring,
) -> Result<Rotation, RotationError> {
    let exchanges = anytrade_projections::exchanges::ids(pool).await?;
    let metadata = CommandMetadata::issued_by("system:keys-rotate");
    let mut rotation = Rotation::default();
    for exchange in exchanges {
        let state = commands
            .exchanges
            .load_state(&exchange)
            .await
            .map_err(|source| RotationError::Command { exchange, source })?;
        let Some(state) = state.state() else { continue };
        for (name, sealed) in &state.secrets {
            if sealed.key_id == keys.current_key_id() {
                rotation.already_current += 1;
                continue;
            }
            let context = exchange_secret_context(exchange, name.as_str());
            let crypto = |source| RotationError::Crypto {
                exchange,
                name: name.to_string(),
                source,
            };
            let plaintext = keys.open(sealed, &context).map_err(crypto)?;
            let reseal = ExchangeCommand::ResealExchangeSecret {
                name: name.to_string(),
                value: keys.seal(&plaintext, &context),
            };
            commands
                .exchanges
                .execute(&exchange, reseal, &metadata)
                .await
                .map_err(|source| RotationError::Command { exchange, source })?;
            rotation.resealed += 1;
        }
    }
    rotation.bot_passwords = crate::bot_credentials::reseal_all(pool, keys).await?;
    Ok(rotation)
}
