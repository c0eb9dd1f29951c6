//! Logging through `tracing`, as human-readable text or one JSON object per line.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber; call once at start. `RUST_LOG` wins over `level`.
pub fn init(format: LogFormat, level: &str) {
    // PostgreSQL's notices ("relation already exists, skipping" on every migrate) are
    // not AnyTrade's news; RUST_LOG can still ask for them.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::try_new(level)
            .unwrap_or_else(|_| EnvFilter::new("info"))
            .add_directive(
                "sqlx::postgres::notice=warn"
                    .parse()
                    .expect("static directive"),
            )
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
