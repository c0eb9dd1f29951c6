//! Listing jobs: a filter, an order and keyset pages.

use anytrade_aggregates::JobStatus;
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{Job, JobRow, select, table};
use crate::page::{Cursor, Direction, Page, PageError, rank, rank_sql};

/// Which jobs to list; `None` lets all through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    pub strategy_id: Option<Uuid>,
    /// Any of these statuses.
    pub statuses: Option<Vec<JobStatus>>,
}

impl JobFilter {
    fn push(&self, query: &mut QueryBuilder<'_, Postgres>) {
        query.push(" WHERE TRUE");
        if let Some(strategy_id) = self.strategy_id {
            query.push(" AND strategy_id = ").push_bind(strategy_id);
        }
        if let Some(statuses) = &self.statuses {
            let names: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
            query.push(" AND status = ANY(").push_bind(names).push(")");
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum JobOrderField {
    #[default]
    CreatedAt,
    /// Lifecycle order, as [`JobStatus::ALL`] lists the statuses.
    Status,
}

/// How to sort jobs; ties go by creation time, then id, in the same direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobOrder {
    pub field: JobOrderField,
    pub direction: Direction,
}

impl JobOrder {
    /// Names the order inside its cursors, so a cursor is only used with its own order.
    fn tag(self) -> String {
        let field = match self.field {
            JobOrderField::CreatedAt => "created_at",
            JobOrderField::Status => "status",
        };
        format!("{field}.{}", self.direction.tag())
    }

    /// The cursor of `job` in this order: the order's tag, the status rank and the
    /// creation time (the id is the cursor's own).
    pub fn cursor(self, job: &JobRow) -> Cursor {
        Cursor {
            key: format!(
                "{}|{}|{}",
                self.tag(),
                rank(JobStatus::ALL, &job.status),
                job.created_at.to_rfc3339()
            ),
            id: job.id,
        }
    }

    /// Reads back what [`Self::cursor`] wrote: (status rank, creation time).
    fn position(self, cursor: &Cursor) -> Result<(i32, DateTime<Utc>), PageError> {
        let mut parts = cursor.key.splitn(3, '|');
        let (Some(tag), Some(rank), Some(at)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(PageError::foreign_cursor());
        };
        if tag != self.tag() {
            return Err(PageError::foreign_cursor());
        }
        Ok((
            rank.parse().map_err(|_| PageError::foreign_cursor())?,
            at.parse().map_err(|_| PageError::foreign_cursor())?,
        ))
    }

    /// The SQL expressions rows are sorted by, most significant first.
    fn keys(self) -> Vec<String> {
        let status = rank_sql("status", JobStatus::ALL.iter().map(|s| s.as_str()));
        match self.field {
            JobOrderField::CreatedAt => vec!["created_at".to_owned(), "id".to_owned()],
            JobOrderField::Status => vec![status, "created_at".to_owned(), "id".to_owned()],
        }
    }
}

/// Up to `limit` jobs of kind `J` after `after` in `order`, with the count of all that
/// match.
pub async fn list<J: Job>(
    pool: &PgPool,
    filter: &JobFilter,
    order: JobOrder,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<Page<J>, PageError> {
    let mut count = QueryBuilder::new(format!("SELECT count(*) FROM {}", table(J::KIND)));
    filter.push(&mut count);
    let total: i64 = count.build_query_scalar().fetch_one(pool).await?;

    let keys = order.keys();
    let mut page = QueryBuilder::new(select::<J>());
    filter.push(&mut page);
    if let Some(cursor) = after {
        let (rank, created_at) = order.position(cursor)?;
        page.push(format!(
            " AND ({}) {} (",
            keys.join(", "),
            order.direction.after()
        ));
        if order.field == JobOrderField::Status {
            page.push_bind(rank).push(", ");
        }
        page.push_bind(created_at)
            .push(", ")
            .push_bind(cursor.id)
            .push(")");
    }
    let direction = order.direction.sql();
    let sorted: Vec<String> = keys.iter().map(|k| format!("{k} {direction}")).collect();
    page.push(format!(" ORDER BY {} LIMIT ", sorted.join(", ")))
        .push_bind(limit + 1);
    let rows: Vec<J> = page.build_query_as().fetch_all(pool).await?;
    Ok(Page::new(rows, limit, total, |job| order.cursor(job.job())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_belong_to_their_order() {
        let by_status = JobOrder {
            field: JobOrderField::Status,
            direction: Direction::Desc,
        };
        let at = Utc::now();
        let cursor = Cursor {
            key: format!("{}|4|{}", by_status.tag(), at.to_rfc3339()),
            id: Uuid::nil(),
        };
        assert_eq!(by_status.position(&cursor).ok(), Some((4, at)));
        assert!(JobOrder::default().position(&cursor).is_err());
        let garbage = Cursor {
            key: "status.desc|x".into(),
            id: Uuid::nil(),
        };
        assert!(by_status.position(&garbage).is_err());
    }

    #[test]
    fn status_ranks_follow_the_lifecycle() {
        let ranks: Vec<i32> = JobStatus::ALL
            .iter()
            .map(|s| rank(JobStatus::ALL, s))
            .collect();
        assert_eq!(ranks, [1, 2, 3, 4, 5]);
        assert_eq!(JobStatus::ALL[0], JobStatus::Pending);
    }
}
