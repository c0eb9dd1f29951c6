//! Strategies: the list with each one's current version and how many bots run it, and
//! a strategy's page: its code at any version, the difference between two versions,
//! and which bots run which version.

use std::collections::HashMap;

use anytrade_projections::bots::{self, BotRow, Owner};
use anytrade_projections::strategies::{self, StrategyFilter, StrategyRow, VersionRow};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use similar::{ChangeTag, TextDiff};
use uuid::Uuid;

use super::fleet::rfc3339;
use super::{WebState, current, render, unavailable};
use crate::auth::Principal;

/// The most strategies the list shows.
const LISTED: i64 = 500;
/// Unchanged lines shown around each change of a diff.
const CONTEXT: usize = 3;

/// One strategy as the list shows it.
pub struct StrategyLine {
    pub id: String,
    pub name: String,
    pub description: String,
    pub version: i32,
    pub class_name: String,
    pub bots: usize,
    pub updated_at: String,
}

#[derive(Template)]
#[template(path = "web/strategies.html")]
struct StrategiesPage {
    strategies: Vec<StrategyLine>,
    total: i64,
}

/// `GET /ui/strategies`.
pub async fn page(State(state): State<WebState>, principal: Principal) -> Response {
    if let Err(refused) = current(&state, principal).await {
        return refused;
    }
    let read = async {
        let listed = strategies::list(&state.pool, &StrategyFilter::default(), None, LISTED)
            .await
            .map_err(super::page_error)?;
        let ids: Vec<Uuid> = listed.rows.iter().map(|(s, _)| s.id).collect();
        let running = bots::by_owners(&state.pool, Owner::Strategy, &ids).await?;
        let mut lines: Vec<StrategyLine> = listed
            .rows
            .into_iter()
            .map(|(s, _)| StrategyLine {
                id: s.id.to_string(),
                bots: running.get(&s.id).map_or(0, Vec::len),
                name: s.name,
                description: s.description,
                version: s.version,
                class_name: s.class_name,
                updated_at: rfc3339(s.updated_at),
            })
            .collect();
        lines.sort_by_key(|line| line.name.to_lowercase());
        Ok::<_, sqlx::Error>(StrategiesPage {
            strategies: lines,
            total: listed.total,
        })
    };
    match read.await {
        Ok(page) => render(&page),
        Err(e) => unavailable(e),
    }
}

/// Which versions a strategy's page shows: the code of `code`, and the difference from
/// `from` to `to` (each defaults: the current version, and the one before it).
#[derive(Debug, Default, Deserialize)]
pub struct Shown {
    code: Option<i32>,
    from: Option<i32>,
    to: Option<i32>,
}

/// One version in the history table, with the bots that run it.
pub struct VersionLine {
    pub version: i32,
    pub sha256: String,
    pub class_name: String,
    pub created_at: String,
    /// (id, name) of each bot on this version.
    pub bots: Vec<(String, String)>,
}

/// What a line of a unified diff is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffKind {
    /// `@@ -a,b +c,d @@`
    Hunk,
    Added,
    Removed,
    Same,
}

impl DiffKind {
    /// The page's CSS class for it.
    pub fn class(self) -> &'static str {
        match self {
            Self::Hunk => "diff-hunk",
            Self::Added => "diff-add",
            Self::Removed => "diff-del",
            Self::Same => "diff-same",
        }
    }
}

/// One line of a unified diff, its sign included.
#[derive(Debug, PartialEq)]
pub struct DiffLine {
    pub kind: DiffKind,
    pub text: String,
}

#[derive(Template)]
#[template(path = "web/strategy.html")]
struct StrategyPage {
    strategy: StrategyRow,
    versions: Vec<VersionLine>,
    /// The version whose code is shown, and its lines.
    code_version: i32,
    code: Vec<String>,
    from: i32,
    to: i32,
    diff: Vec<DiffLine>,
}

/// `GET /ui/strategies/{id}?code=V&from=A&to=B`.
pub async fn strategy(
    State(state): State<WebState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    Query(shown): Query<Shown>,
) -> Response {
    if let Err(refused) = current(&state, principal).await {
        return refused;
    }
    let read = async {
        let Some(strategy) = strategies::get(&state.pool, id).await? else {
            return Ok(None);
        };
        let versions = strategies::versions(&state.pool, &[id])
            .await?
            .remove(&id)
            .unwrap_or_default();
        let running = bots::by_owners(&state.pool, Owner::Strategy, &[id])
            .await?
            .remove(&id)
            .unwrap_or_default();
        Ok::<_, sqlx::Error>(Some((strategy, versions, running)))
    };
    let (strategy, versions, running) = match read.await {
        Ok(Some(found)) => found,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => return unavailable(e),
    };
    match strategy_page(strategy, &versions, running, &shown) {
        Ok(page) => render(&page),
        Err(why) => (StatusCode::BAD_REQUEST, why).into_response(),
    }
}

fn strategy_page(
    strategy: StrategyRow,
    versions: &[VersionRow],
    running: Vec<BotRow>,
    shown: &Shown,
) -> Result<StrategyPage, String> {
    let code_of = |field: &str, version: i32| {
        versions
            .iter()
            .find(|v| v.version == version)
            .map(|v| v.code.as_str())
            .ok_or_else(|| {
                format!(
                    "{field}: {} has no version {version}",
                    strategy.name.as_str()
                )
            })
    };
    let current = strategy.version;
    let code_version = shown.code.unwrap_or(current);
    let code = code_of("code", code_version)?
        .lines()
        .map(str::to_owned)
        .collect();
    let to = shown.to.unwrap_or(current);
    let from = shown.from.unwrap_or(to.saturating_sub(1).max(1));
    let diff = diff_lines(code_of("from", from)?, code_of("to", to)?);
    let mut on_version: HashMap<i32, Vec<(String, String)>> = HashMap::new();
    for bot in running {
        on_version
            .entry(bot.strategy_version)
            .or_default()
            .push((bot.id.to_string(), bot.name));
    }
    let versions = versions
        .iter()
        .rev()
        .map(|v| VersionLine {
            version: v.version,
            sha256: v.sha256.chars().take(12).collect(),
            class_name: v.class_name.clone(),
            created_at: rfc3339(v.created_at),
            bots: on_version.remove(&v.version).unwrap_or_default(),
        })
        .collect();
    Ok(StrategyPage {
        strategy,
        versions,
        code_version,
        code,
        from,
        to,
        diff,
    })
}

/// The unified diff from `old` to `new` as lines, with [`CONTEXT`] unchanged lines
/// around each change; empty when they are the same.
fn diff_lines(old: &str, new: &str) -> Vec<DiffLine> {
    let diff = TextDiff::from_lines(old, new);
    let mut lines = Vec::new();
    for group in diff.grouped_ops(CONTEXT) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let (old_range, new_range) = (
            first.old_range().start..last.old_range().end,
            first.new_range().start..last.new_range().end,
        );
        lines.push(DiffLine {
            kind: DiffKind::Hunk,
            text: format!(
                "@@ -{},{} +{},{} @@",
                old_range.start + 1,
                old_range.len(),
                new_range.start + 1,
                new_range.len()
            ),
        });
        for op in &group {
            for change in diff.iter_changes(op) {
                let (kind, sign) = match change.tag() {
                    ChangeTag::Insert => (DiffKind::Added, '+'),
                    ChangeTag::Delete => (DiffKind::Removed, '-'),
                    ChangeTag::Equal => (DiffKind::Same, ' '),
                };
                let text = change.value().trim_end_matches(['\n', '\r']);
                lines.push(DiffLine {
                    kind,
                    text: format!("{sign}{text}"),
                });
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_marks_added_and_removed_lines_in_hunks() {
        let lines = diff_lines("a\nb\nc\n", "a\nB\nc\nd\n");
        let seen: Vec<(DiffKind, &str)> = lines.iter().map(|l| (l.kind, l.text.as_str())).collect();
        use DiffKind::*;
        assert_eq!(
            seen,
            [
                (Hunk, "@@ -1,3 +1,4 @@"),
                (Same, " a"),
                (Removed, "-b"),
                (Added, "+B"),
                (Same, " c"),
                (Added, "+d"),
            ]
        );
        assert!(diff_lines("same\n", "same\n").is_empty());
    }
}
