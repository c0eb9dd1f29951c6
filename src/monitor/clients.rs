//! One freqtrade client per bot, shared by the health monitor and the trade sync: a
//! bot's access token (freqtrade's last 15 minutes) is reused across polls, and the
//! whole fleet shares one HTTP connection pool.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anytrade_aggregates::values::BotId;
use sqlx::PgPool;

use crate::bot_credentials::{self, CredentialsError};
use crate::crypto::Keyring;
use crate::freqtrade::client::{Credentials, FreqtradeClient, FreqtradeError};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the bot has no API credentials (it was never started by this control plane)")]
    NoCredentials,
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    #[error(transparent)]
    Freqtrade(#[from] FreqtradeError),
}

pub struct BotClients {
    pool: PgPool,
    keys: Arc<Keyring>,
    http: reqwest::Client,
    timeout: Duration,
    /// By bot: the API URL the client was made for, and the client.
    cache: Mutex<HashMap<BotId, (String, FreqtradeClient)>>,
}

impl BotClients {
    pub fn new(pool: PgPool, keys: Arc<Keyring>, http: reqwest::Client, timeout: Duration) -> Self {
        Self {
            pool,
            keys,
            http,
            timeout,
            cache: Mutex::default(),
        }
    }

    /// The client for bot `bot` at `api_url`, made anew when the URL changed.
    pub async fn get(&self, bot: BotId, api_url: &str) -> Result<FreqtradeClient, ClientError> {
        if let Some(client) = self.cached(bot, api_url) {
            return Ok(client);
        }
        let (username, password) = bot_credentials::load(&self.pool, &self.keys, bot)
            .await?
            .ok_or(ClientError::NoCredentials)?;
        let client = FreqtradeClient::new(
            self.http.clone(),
            api_url,
            Credentials::new(username, password.as_str()),
        )?
        .with_timeout(self.timeout);
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(bot, (api_url.to_owned(), client.clone()));
        }
        Ok(client)
    }

    /// Drops bot `bot`'s client: its credentials changed (a restart makes new ones).
    pub fn forget(&self, bot: BotId) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(&bot);
        }
    }

    fn cached(&self, bot: BotId, api_url: &str) -> Option<FreqtradeClient> {
        let cache = self.cache.lock().ok()?;
        cache
            .get(&bot)
            .filter(|(url, _)| url == api_url)
            .map(|(_, client)| client.clone())
    }
}
