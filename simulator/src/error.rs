//! Binance-style errors: an HTTP status and `{"code": -11xx, "msg": "..."}`, which ccxt
//! maps to its own exception classes by code.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Legal range Binance names for integer parameters.
pub const DIGITS: &str = "^[0-9]{1,20}$";

/// A request the simulator refuses, with Binance's code and message.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ApiError {
    #[error("Illegal characters found in parameter '{name}'; legal range is '{range}'.")]
    IllegalChars { name: String, range: &'static str },
    #[error("Mandatory parameter '{0}' was not sent, was empty/null, or malformed.")]
    MissingParam(&'static str),
    #[error("Data sent for parameter '{0}' is not valid.")]
    InvalidParam(&'static str),
    #[error("Invalid symbol.")]
    BadSymbol,
    #[error("Invalid interval.")]
    BadInterval,
    #[error("Start time is greater than end time.")]
    StartAfterEnd,
    #[error("Combination of optional parameters invalid: send '{0}' or '{1}', not both.")]
    Exclusive(&'static str, &'static str),
    #[error("An unknown error occurred while processing the request.")]
    Internal,
    #[error("Unknown endpoint: {method} {path}.")]
    UnknownEndpoint { method: String, path: String },
}

impl ApiError {
    /// Binance's error code.
    pub fn code(&self) -> i32 {
        match self {
            Self::IllegalChars { .. } => -1100,
            Self::MissingParam(_) => -1102,
            Self::InvalidParam(_) => -1130,
            Self::BadSymbol | Self::UnknownEndpoint { .. } => -1121,
            Self::BadInterval => -1120,
            Self::StartAfterEnd => -1023,
            Self::Exclusive(..) => -1128,
            Self::Internal => -1000,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::UnknownEndpoint { .. } => StatusCode::NOT_FOUND,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "code": self.code(), "msg": self.to_string() });
        (self.status(), Json(body)).into_response()
    }
}
