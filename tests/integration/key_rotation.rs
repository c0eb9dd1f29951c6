//! `keys rotate`: every secret ends up sealed under the new key, opens with the new key
//! alone, and no plaintext lands anywhere on the way.

use std::sync::Arc;
use std::time::Duration;

use anytrade::bot_credentials;
use anytrade::crypto::{Keyring, exchange_secret_context};
use anytrade::key_rotation::{Rotation, reseal_all};
use anytrade::lookup::PgLookup;
use anytrade::store::{CommandMetadata, Commands, EventLog};
use anytrade_aggregates::ExchangeCommand;
use anytrade_aggregates::values::BotId;
use anytrade_projections::runner;
use uuid::Uuid;

use crate::helpers::fresh_database;
use crate::secrets::rows_containing;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_reseals_every_secret_under_the_new_key() {
    let pool = fresh_database().await;
    let log = EventLog::new(pool.clone());
    let commands = Commands::new(&pool, &log, Arc::new(PgLookup::new(pool.clone())));
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let (projections, _tasks) =
        runner::spawn(pool.clone(), log, anytrade_projections::all(), stopped)
            .await
            .expect("projections");
    let old_key = Keyring::generate_key();
    let old = Keyring::from_base64(Some(&old_key), &[]).expect("old key");
    let meta = CommandMetadata::issued_by("user:test");

    let mut planted = Vec::new();
    let mut last = None;
    for e in 0..2 {
        let id = Uuid::now_v7();
        let key = id.to_string();
        commands
            .exchanges
            .execute(
                &key.parse().expect("id"),
                ExchangeCommand::CreateExchange {
                    exchange_id: id,
                    name: "binance".into(),
                    test_mode: false,
                    config: serde_json::json!({}),
                    secrets: Vec::new(),
                },
                &meta,
            )
            .await
            .expect("create");
        for name in ["api_key", "api_secret"] {
            let value = format!("PLANTED-{e}-{name}-5d1e");
            let sealed = old.seal(&value, &exchange_secret_context(id, name));
            last = commands
                .exchanges
                .execute(
                    &key.parse().expect("id"),
                    ExchangeCommand::AddExchangeSecret {
                        name: name.into(),
                        value: sealed,
                    },
                    &meta,
                )
                .await
                .expect("add");
            planted.push((id, name, value));
        }
    }
    assert!(
        projections
            .wait_for(last.expect("position"), Duration::from_secs(20))
            .await
    );

    // A bot's API password, sealed under the old key too.
    let bot = Uuid::new_v4();
    bot_credentials::save(
        &pool,
        &old,
        BotId::from(bot),
        "anytrade",
        "bot-api-password",
    )
    .await
    .expect("bot credentials saved");

    let new_key = Keyring::generate_key();
    let new = Keyring::from_base64(Some(&new_key), &[old_key]).expect("new key");
    let done = reseal_all(&pool, &commands, &new).await.expect("rotate");
    assert_eq!(
        done,
        Rotation {
            resealed: 4,
            already_current: 0,
            bot_passwords: 1,
        }
    );
    let again = reseal_all(&pool, &commands, &new)
        .await
        .expect("rotate again");
    assert_eq!(
        again,
        Rotation {
            resealed: 0,
            already_current: 4,
            bot_passwords: 0,
        }
    );

    // The new key alone opens everything now.
    let new_only = Keyring::from_base64(Some(&new_key), &[]).expect("new key alone");
    let (_, password) = bot_credentials::load(&pool, &new_only, BotId::from(bot))
        .await
        .expect("bot credentials readable")
        .expect("bot credentials stored");
    assert_eq!(password.as_str(), "bot-api-password");
    for (id, name, value) in &planted {
        let state = commands.exchanges.load_state(id).await.expect("load");
        let secrets = &state.state().expect("exchange").secrets;
        let sealed = secrets
            .iter()
            .find(|(n, _)| n.as_str() == *name)
            .map(|(_, s)| s)
            .expect("secret");
        assert_eq!(sealed.key_id, new.current_key_id());
        let opened = new_only
            .open(sealed, &exchange_secret_context(*id, name))
            .expect("opens with the new key alone");
        assert_eq!(opened.as_str(), value);
    }
    assert_eq!(
        rows_containing(&pool, "PLANTED").await,
        Vec::<String>::new()
    );
}
