//! Listing bots: a filter, an order and keyset pages.

use anytrade_aggregates::BotStatus;
use anytrade_aggregates::values::BotMode;
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{BotRow, SELECT};
use crate::page::{Cursor, Direction, Page, PageError, contains_pattern, rank, rank_sql};

/// Which bots to list; every field left `None` lets all through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BotFilter {
    pub status: Option<BotStatus>,
    pub mode: Option<BotMode>,
    pub exchange_id: Option<Uuid>,
    pub strategy_id: Option<Uuid>,
    /// Case-insensitive part of the name.
    pub name_contains: Option<String>,
}

impl BotFilter {
    fn push(&self, query: &mut QueryBuilder<'_, Postgres>) {
        query.push(" WHERE TRUE");
        if let Some(status) = self.status {
            query.push(" AND b.status = ").push_bind(status.as_str());
        }
        if let Some(mode) = self.mode {
            query.push(" AND b.mode = ").push_bind(mode.as_str());
        }
        if let Some(id) = self.exchange_id {
            query.push(" AND b.exchange_id = ").push_bind(id);
        }
        if let Some(id) = self.strategy_id {
            query.push(" AND b.strategy_id = ").push_bind(id);
        }
        if let Some(part) = &self.name_contains {
            query
                .push(" AND b.name ILIKE ")
                .push_bind(contains_pattern(part));
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BotOrderField {
    Name,
    #[default]
    CreatedAt,
    /// Lifecycle order, as [`BotStatus::ALL`] lists the statuses.
    Status,
}

/// How to sort a list; ties are broken by id, in the same direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BotOrder {
    pub field: BotOrderField,
    pub direction: Direction,
}

impl BotOrder {
    /// `field:direction:`, the start of every cursor key this ordering issues.
    fn tag(&self) -> String {
        let field = match self.field {
            BotOrderField::Name => "name",
            BotOrderField::CreatedAt => "created_at",
            BotOrderField::Status => "status",
        };
        format!("{field}:{}:", self.direction.tag())
    }

    /// The SQL expression rows are sorted by.
    fn sort_key(&self) -> String {
        match self.field {
            BotOrderField::Name => "b.name".to_owned(),
            BotOrderField::CreatedAt => "b.created_at".to_owned(),
            BotOrderField::Status => rank_sql(
                "b.status",
                BotStatus::ALL.iter().map(|status| status.as_str()),
            ),
        }
    }

    /// The cursor of `bot` in this ordering.
    pub fn cursor(&self, bot: &BotRow) -> Cursor {
        let value = match self.field {
            BotOrderField::Name => bot.name.clone(),
            BotOrderField::CreatedAt => bot.created_at.to_rfc3339(),
            BotOrderField::Status => rank(BotStatus::ALL, &bot.status).to_string(),
        };
        Cursor {
            key: format!("{}{value}", self.tag()),
            id: bot.id.uuid(),
        }
    }

    /// Restricts `query` to the rows strictly after `cursor`.
    fn push_after(
        &self,
        query: &mut QueryBuilder<'_, Postgres>,
        cursor: &Cursor,
    ) -> Result<(), PageError> {
        let value = cursor
            .key
            .strip_prefix(&self.tag())
            .ok_or_else(PageError::foreign_cursor)?;
        query.push(format!(
            " AND ({}, b.id) {} (",
            self.sort_key(),
            self.direction.after()
        ));
        match self.field {
            BotOrderField::Name => query.push_bind(value.to_owned()),
            BotOrderField::CreatedAt => {
                let at: DateTime<Utc> = value.parse().map_err(|_| PageError::foreign_cursor())?;
                query.push_bind(at)
            }
            BotOrderField::Status => {
                let rank: i32 = value.parse().map_err(|_| PageError::foreign_cursor())?;
                query.push_bind(rank)
            }
        };
        query.push(", ").push_bind(cursor.id).push(")");
        Ok(())
    }
}

/// Up to `limit` bots after `after` in `order`, with the count of all that match.
pub async fn list(
    pool: &PgPool,
    filter: &BotFilter,
    order: BotOrder,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<Page<BotRow>, PageError> {
    let mut page = QueryBuilder::new(SELECT);
    filter.push(&mut page);
    if let Some(cursor) = after {
        order.push_after(&mut page, cursor)?;
    }
    let direction = order.direction.sql();
    page.push(format!(
        " ORDER BY {} {direction}, b.id {direction} LIMIT ",
        order.sort_key()
    ))
    .push_bind(limit + 1);

    let mut count = QueryBuilder::new("SELECT count(*) FROM bots b");
    filter.push(&mut count);
    // Two connections at once: the page costs one round trip instead of two.
    let (total, rows): (i64, Vec<BotRow>) = tokio::try_join!(
        count.build_query_scalar().fetch_one(pool),
        page.build_query_as().fetch_all(pool)
    )?;
    Ok(Page::new(rows, limit, total, |bot| order.cursor(bot)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_of_one_ordering_is_refused_by_another() {
        let by_name = BotOrder {
            field: BotOrderField::Name,
            direction: Direction::Asc,
        };
        let by_name_desc = BotOrder {
            direction: Direction::Desc,
            ..by_name
        };
        let cursor = Cursor {
            key: "name:asc:alpha".into(),
            id: Uuid::nil(),
        };
        let mut query = QueryBuilder::new("");
        assert!(by_name.push_after(&mut query, &cursor).is_ok());
        let mut query = QueryBuilder::new("");
        assert!(matches!(
            by_name_desc.push_after(&mut query, &cursor),
            Err(PageError::Cursor(_))
        ));
    }

    #[test]
    fn status_ranks_follow_the_lifecycle() {
        assert_eq!(rank(BotStatus::ALL, &BotStatus::Creating), 1);
        assert_eq!(rank(BotStatus::ALL, &BotStatus::Deleting), 7);
    }
}
