//! `POST /graphql`: the caller is authenticated before the body is read, the body is
//! bounded, and every refusal is a GraphQL response with `extensions.code`, as JSON.
//!
//! An outside probe found the body read in full before anything else: six anonymous
//! 300 MB posts took the service to 3 GB. Now an anonymous post is answered from its
//! headers, and no body over [`MAX_BODY`] is kept.

use std::time::Duration;

use async_graphql::{Executor, Pos, Request, Response};
use async_graphql_axum::GraphQLResponse;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response as HttpResponse};

use crate::auth::authenticate_headers;

use super::{GraphqlState, context, errors};

/// The largest request body read: a strategy's code (at most 1 MiB) with room for JSON
/// escaping and the rest of the request.
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// How long a body may take to arrive once the headers have (a client dripping it would
/// otherwise hold its connection for as long as it likes).
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);

pub(super) async fn execute(
    State(state): State<GraphqlState>,
    headers: HeaderMap,
    body: Body,
) -> HttpResponse {
    if !is_json(&headers) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send the request as Content-Type: application/json",
        );
    }
    let principal = match authenticate_headers(&headers, &state.keys) {
        Ok(principal) => principal,
        Err(e) => return answer(StatusCode::OK, errors::auth(&e)),
    };
    let read = tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, MAX_BODY)).await;
    let bytes = match read {
        Ok(Ok(bytes)) => bytes,
        Err(_) => {
            return refuse(
                StatusCode::REQUEST_TIMEOUT,
                "REQUEST_TIMEOUT",
                &format!("the request body did not arrive within {BODY_TIMEOUT:?}"),
            );
        }
        Ok(Err(_)) => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                &format!("the request body is larger than {MAX_BODY} bytes"),
            );
        }
    };
    let request: Request = match serde_json::from_slice(&bytes) {
        Ok(request) => request,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("the body is not a GraphQL request (one JSON object): {e}"),
            );
        }
    };
    if state.availability.is_down() {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            errors::UNAVAILABLE,
            "the database is unavailable; try again shortly",
        );
    }
    let principal = match state.users.current(&principal).await {
        Ok(principal) => principal,
        Err(e) => return answer(StatusCode::OK, errors::check(e)),
    };
    let authentication: context::Authentication = Ok(principal);
    let response = state.gate.execute(request.data(authentication)).await;
    GraphQLResponse::from(response).into_response()
}

/// `application/json`, with or without parameters (`; charset=utf-8`).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// A refusal before the query ran: the status says why, the body is a GraphQL response.
fn refuse(status: StatusCode, code: &'static str, message: &str) -> HttpResponse {
    answer(status, errors::error(code, message, None))
}

/// `error` as a GraphQL response with `status` (200 where a GraphQL error is the
/// whole answer, as for a refused token).
fn answer(status: StatusCode, error: async_graphql::Error) -> HttpResponse {
    let body = Response::from_errors(vec![error.into_server_error(Pos::default())]);
    (status, GraphQLResponse::from(body)).into_response()
}
