//! Where every request enters the schema, over HTTP and WebSocket alike: a NUL anywhere
//! is refused, the document is parsed once, the caller is checked, and an operation
//! that only introspects goes to the schema without depth and complexity limits
//! (`limits`); every error of the answer leaves with a code (`error_codes`).
//!
//! These checks run here, once per request, rather than as async-graphql extensions:
//! with any extension installed, async-graphql resolves every field of every answer
//! through a slower path (a type lookup and a boxed future per field and extension),
//! which cost a fifth of the service's CPU on a page of 50 bots (docs/benchmarks.md).

use std::any::TypeId;
use std::sync::Arc;

use async_graphql::{Data, Executor, Request, Response, ServerError};
use futures::stream::{self, BoxStream, StreamExt};

use crate::auth::CurrentUsers;

use super::context::Authentication;
use super::error_codes::{PARSE_FAILED, code_all, coded};
use super::{AnyTradeSchema, guard, limits, nul_input};

/// The executor the HTTP handler and every WebSocket use.
#[derive(Clone)]
pub struct Gate {
    /// Limited in depth and complexity: every operation but introspection.
    limited: AnyTradeSchema,
    /// Not limited: operations that only introspect, within their list bound.
    introspection: AnyTradeSchema,
    users: Arc<CurrentUsers>,
}

impl Gate {
    pub fn new(
        limited: AnyTradeSchema,
        introspection: AnyTradeSchema,
        users: Arc<CurrentUsers>,
    ) -> Self {
        Self {
            limited,
            introspection,
            users,
        }
    }

    /// The schema that may run `request`, its document parsed into it; or why not.
    async fn admit(
        &self,
        request: &mut Request,
        session: Option<&Data>,
    ) -> Result<AnyTradeSchema, ServerError> {
        nul_input::check(&request.query, &request.variables)?;
        let caller = authentication(&request.data)
            .or_else(|| session.and_then(authentication))
            .cloned();
        let document = request.parsed_query().map_err(|e| coded(e, PARSE_FAILED))?;
        guard::admit(caller.as_ref(), &self.users, document).await?;
        Ok(if limits::introspection_only(document)? {
            self.introspection.clone()
        } else {
            self.limited.clone()
        })
    }
}

/// Who is asking, as the HTTP handler or the socket's `connection_init` found.
fn authentication(data: &Data) -> Option<&Authentication> {
    data.get(&TypeId::of::<Authentication>())?.downcast_ref()
}

/// The schema's answer with every error coded and every limit named.
fn answer(response: Response) -> Response {
    code_all(limits::explained(response))
}

fn refused(error: ServerError) -> Response {
    Response::from_errors(vec![error])
}

impl Executor for Gate {
    async fn execute(&self, mut request: Request) -> Response {
        match self.admit(&mut request, None).await {
            Ok(schema) => answer(schema.execute(request).await),
            Err(refusal) => refused(refusal),
        }
    }

    fn execute_stream(
        &self,
        mut request: Request,
        session: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let gate = self.clone();
        stream::once(async move {
            match gate.admit(&mut request, session.as_deref()).await {
                Ok(schema) => schema
                    .execute_stream_with_session_data(request, session.unwrap_or_default())
                    .map(answer)
                    .boxed(),
                Err(refusal) => stream::iter([refused(refusal)]).boxed(),
            }
        })
        .flatten()
        .boxed()
    }
}
