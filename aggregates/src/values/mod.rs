//! Value types: user input parsed once, valid by construction.
//!
//! "Parse, don't validate": every input that reaches an event passes through one of these
//! types' `parse`, which either returns a value that is valid for the rest of its life or a
//! [`DomainError`](crate::DomainError) naming the API field at fault. Fields are private, so an invalid value
//! cannot be built; deserialization goes through `parse` too, so an event read back from
//! the store holds the same guarantees. Each type serializes as the plain string or number
//! the API and freqtrade use.

mod api_url;
mod bot_id;
mod bot_mode;
mod config_object;
mod cpu_limit;
mod date_range;
mod entity_name;
mod epochs;
mod exchange_name;
mod freqtrade_version;
mod hyperopt_space;
mod max_open_trades;
mod memory_limit;
mod optimization_metric;
mod pair;
mod progress;
mod resource_limits;
mod runtime_id;
mod runtime_kind;
mod secret_name;
mod stake_amount;
mod stake_currency;
mod timeframe;
mod wanted_state;

pub use api_url::ApiUrl;
pub use bot_id::BotId;
pub use bot_mode::BotMode;
pub use config_object::ConfigObject;
pub use cpu_limit::CpuLimit;
pub use date_range::DateRange;
pub use entity_name::EntityName;
pub use epochs::Epochs;
pub use exchange_name::ExchangeName;
pub use freqtrade_version::FreqtradeVersion;
pub use hyperopt_space::{HyperoptSpace, HyperoptSpaces};
pub use max_open_trades::MaxOpenTrades;
pub use memory_limit::MemoryLimit;
pub use optimization_metric::OptimizationMetric;
pub use pair::{MAX_PAIRS, Pair, Pairs};
pub use progress::Progress;
pub use resource_limits::ResourceLimits;
pub use runtime_id::RuntimeId;
pub use runtime_kind::RuntimeKind;
pub use secret_name::SecretName;
pub use stake_amount::StakeAmount;
pub use stake_currency::StakeCurrency;
pub use timeframe::Timeframe;
pub use wanted_state::WantedState;

#[cfg(test)]
mod tests;

/// `input` quoted for an error message, cut to a readable length (inputs can be huge).
pub(crate) fn quoted(input: &str) -> String {
    const MAX_CHARS: usize = 40;
    if input.chars().count() <= MAX_CHARS {
        format!("{input:?}")
    } else {
        let head: String = input.chars().take(MAX_CHARS).collect();
        format!("{head:?}…")
    }
}

/// An enum with a fixed set of lowercase (or freqtrade-spelled) names: `as_str`, `parse`,
/// `ALL`, `Display`, and serde as the plain name (deserializing through `parse`).
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident (field = $field:literal, what = $what:literal) {
            $( $(#[$variant_meta:meta])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The name as the API and freqtrade spell it.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            pub fn parse(input: &str) -> Result<Self, $crate::error::DomainError> {
                match input {
                    $($text => Ok(Self::$variant),)+
                    _ => Err($crate::error::DomainError::invalid(
                        $field,
                        format!(
                            "unknown {} {}; expected one of: {}",
                            $what,
                            $crate::values::quoted(input),
                            [$($text),+].join(", ")
                        ),
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use string_enum;
