//! How deep and how complex an operation may be. The standard introspection query
//! (GraphiQL's schema explorer, code generators) nests `ofType` deeper than any query
//! of the API needs, and async-graphql applies one limit to both (its issue #1696), so
//! there are two schemas (`gate`): an operation that only introspects runs on one
//! without limits once it is found to nest at most three list fields (as the standard
//! query does: types, fields, args), which bounds its answer by the size of the schema;
//! every other operation runs on one limited in depth and complexity.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Response, ServerError};

use super::error_codes::{VALIDATION_FAILED, coded};

/// Deepest nesting and highest complexity of an operation that is not introspection.
pub const MAX_DEPTH: usize = 12;
pub const MAX_COMPLEXITY: usize = 2_000;

/// Introspection fields that answer lists; nested, they multiply the answer.
const INTROSPECTION_LISTS: [&str; 8] = [
    "types",
    "fields",
    "args",
    "inputFields",
    "interfaces",
    "possibleTypes",
    "enumValues",
    "directives",
];
const MAX_INTROSPECTION_LISTS: usize = 3;
/// Deepest an introspection operation may nest (the standard query's `ofType` chain
/// is about 15), and how many selections are looked at before giving up on one.
const MAX_INTROSPECTION_DEPTH: usize = 32;
const MAX_WALKED: usize = 10_000;

/// Which schema may run `document`: the one without depth and complexity limits for an
/// operation that only introspects (within its list bound), the limited one for any
/// other; a refusal when introspection nests too many lists.
pub fn introspection_only(document: &ExecutableDocument) -> Result<bool, ServerError> {
    match introspection_lists(document) {
        Some(lists) if lists > MAX_INTROSPECTION_LISTS => Err(coded(
            ServerError::new(
                format!(
                    "Introspection nests {lists} list fields; at most {MAX_INTROSPECTION_LISTS}."
                ),
                None,
            ),
            VALIDATION_FAILED,
        )),
        Some(_) => Ok(true),
        None => Ok(false),
    }
}

/// async-graphql's refusal of a document over the limits, with the limit it broke.
pub fn explained(mut response: Response) -> Response {
    for error in &mut response.errors {
        let message = match error.message.as_str() {
            "Query is nested too deep." => {
                format!("Query is nested too deep: at most {MAX_DEPTH} levels.")
            }
            "Query is too complex." => {
                format!("Query is too complex: at most {MAX_COMPLEXITY}.")
            }
            _ => continue,
        };
        error.message = message;
    }
    response
}

/// For a document whose every operation selects only `__schema`, `__type` and
/// `__typename`: the most introspection list fields it nests. `None` for any other
/// document, and for one too deep or too large to look through.
fn introspection_lists(document: &ExecutableDocument) -> Option<usize> {
    let mut walk = Walk {
        document,
        walked: 0,
        most_lists: 0,
    };
    for (_, operation) in document.operations.iter() {
        let top = &operation.node.selection_set.node;
        if !walk.only_introspection(top, 0)? {
            return None;
        }
        walk.lists(top, 0, 0)?;
    }
    Some(walk.most_lists)
}

struct Walk<'a> {
    document: &'a ExecutableDocument,
    walked: usize,
    most_lists: usize,
}

impl<'a> Walk<'a> {
    /// Counts a step; `None` once the walk is too deep or too long.
    fn step(&mut self, depth: usize) -> Option<()> {
        self.walked += 1;
        (depth <= MAX_INTROSPECTION_DEPTH && self.walked <= MAX_WALKED).then_some(())
    }

    /// The selection set a selection opens: a field's or inline fragment's own, the
    /// named fragment's for a spread (none if unknown: validation reports that).
    fn inner(&self, selection: &'a Selection) -> Option<&'a SelectionSet> {
        let document = self.document;
        match selection {
            Selection::Field(field) => Some(&field.node.selection_set.node),
            Selection::InlineFragment(inline) => Some(&inline.node.selection_set.node),
            Selection::FragmentSpread(spread) => document
                .fragments
                .get(&spread.node.fragment_name.node)
                .map(|fragment| &fragment.node.selection_set.node),
        }
    }

    /// Whether the fields at the top of `set` (through fragments) are all introspection.
    fn only_introspection(&mut self, set: &'a SelectionSet, depth: usize) -> Option<bool> {
        for item in &set.items {
            self.step(depth)?;
            let fits = match &item.node {
                Selection::Field(field) => matches!(
                    field.node.name.node.as_str(),
                    "__schema" | "__type" | "__typename"
                ),
                fragment => match self.inner(fragment) {
                    Some(inner) => self.only_introspection(inner, depth + 1)?,
                    None => true,
                },
            };
            if !fits {
                return Some(false);
            }
        }
        Some(true)
    }

    /// Records the most list fields nested on any path below `set`.
    fn lists(&mut self, set: &'a SelectionSet, depth: usize, lists: usize) -> Option<()> {
        for item in &set.items {
            self.step(depth)?;
            let lists = match &item.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    lists + usize::from(INTROSPECTION_LISTS.contains(&name))
                }
                _ => lists,
            };
            self.most_lists = self.most_lists.max(lists);
            if let Some(inner) = self.inner(&item.node) {
                self.lists(inner, depth + 1, lists)?;
            }
        }
        Some(())
    }
}
