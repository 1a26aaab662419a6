//! Schema migrations: the numbered files of `migrations/`, embedded and applied in order.
//!
//! `PRAGMA user_version` holds the number of the last applied migration. A file that has shipped
//! is never edited; a change is a new file with the next number.

use rusqlite::Connection;

use crate::error::StoreError;

/// (version, name, SQL), in order. Add new files at the end.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "0001_initial",
        include_str!("../../migrations/0001_initial.sql"),
    ),
    (
        2,
        "0002_digests",
        include_str!("../../migrations/0002_digests.sql"),
    ),
    (
        3,
        "0003_articles",
        include_str!("../../migrations/0003_articles.sql"),
    ),
    (
        4,
        "0004_feed_warnings",
        include_str!("../../migrations/0004_feed_warnings.sql"),
    ),
    (
        5,
        "0005_article_reports",
        include_str!("../../migrations/0005_article_reports.sql"),
    ),
];

/// Applies every migration newer than the database, each in its own transaction.
pub fn apply(conn: &mut Connection) -> Result<(), StoreError> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = MIGRATIONS.last().map_or(0, |m| m.0);
    if current > known {
        return Err(StoreError::TooNew {
            found: current,
            known,
        });
    }
    for &(version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)
            .and_then(|_| tx.pragma_update(None, "user_version", version))
            .map_err(|source| StoreError::Migration { name, source })?;
        tx.commit()?;
        tracing::info!(migration = name, "applied database migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_in_order() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.0, i as i64 + 1, "migration {} out of order", m.1);
            assert!(m.1.starts_with(&format!("{:04}_", m.0)));
        }
    }

    #[test]
    fn applying_twice_is_a_no_op_and_newer_databases_are_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply(&mut conn).unwrap();
        apply(&mut conn).unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
        assert!(matches!(
            apply(&mut conn),
            Err(StoreError::TooNew { found: 999, .. })
        ));
    }
}
