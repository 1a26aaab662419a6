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
    (5, "0005_web", include_str!("../../migrations/0005_web.sql")),
    (
        6,
        "0006_hardening",
        include_str!("../../migrations/0006_hardening.sql"),
    ),
    (
        7,
        "0007_article_reports",
        include_str!("../../migrations/0007_article_reports.sql"),
    ),
    (
        8,
        "0008_retention",
        include_str!("../../migrations/0008_retention.sql"),
    ),
    (
        9,
        "0009_webhooks",
        include_str!("../../migrations/0009_webhooks.sql"),
    ),
    (
        10,
        "0010_fts_batch",
        include_str!("../../migrations/0010_fts_batch.sql"),
    ),
    (
        11,
        "0011_fts_deletemerge",
        include_str!("../../migrations/0011_fts_deletemerge.sql"),
    ),
];

/// Applies every migration newer than the database, each in its own transaction.
pub fn apply(conn: &mut Connection) -> Result<(), StoreError> {
    apply_until(conn, i64::MAX)
}

/// Applies the migrations newer than the database up to number `last`.
fn apply_until(conn: &mut Connection, last: i64) -> Result<(), StoreError> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = MIGRATIONS.last().map_or(0, |m| m.0);
    if current > known {
        return Err(StoreError::TooNew {
            found: current,
            known,
        });
    }
    for &(version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current && m.0 <= last) {
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
    fn the_search_index_is_built_for_items_stored_before_it_and_follows_deletions() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::register_functions(&conn).unwrap();
        apply_until(&mut conn, 4).unwrap();
        conn.execute_batch(
            "INSERT INTO feeds (id, name, url, created_at) VALUES (1, 'f', 'https://x.eu/', '2026-01-01');
             INSERT INTO items (id, feed_id, guid, title, text, fetched_at, content_hash)
               VALUES (1, 1, 'a', 'Défense européenne', 'Η ΚΥΒΕΡΝΟΑΣΦΆΛΕΙΑ της Ένωσης', '2026-01-01', 'h1'),
                      (2, 1, 'b', 'Straße', 'Współpraca z NATO', '2026-01-01', 'h2');",
        )
        .unwrap();
        apply(&mut conn).unwrap();
        let hits = |conn: &Connection, q: &str| -> Vec<i64> {
            let mut s = conn
                .prepare("SELECT rowid FROM items_fts WHERE items_fts MATCH ?1 ORDER BY rowid")
                .unwrap();
            s.query_map([q], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert_eq!(hits(&conn, "\"defense europeenne\""), [1]);
        assert_eq!(hits(&conn, "κυβερνοασφαλεια"), [1], "Greek tonos folded");
        assert_eq!(hits(&conn, "strasse"), [2]);
        assert_eq!(hits(&conn, "wspolpraca"), [2], "Polish ł folded");
        conn.execute("UPDATE items SET title = 'Autre' WHERE id = 1", [])
            .unwrap();
        assert!(hits(&conn, "defense").is_empty(), "an edit re-indexes");
        assert_eq!(hits(&conn, "autre"), [1]);
        conn.execute("DELETE FROM items WHERE id = 2", []).unwrap();
        assert!(
            hits(&conn, "strasse").is_empty(),
            "a deletion removes the row"
        );
        let rows: i64 = conn
            .query_row("SELECT COUNT(*) FROM items_fts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1);
    }

    /// Branches merged with migrations of the same number, or adding the same column twice
    /// (0005_web and the article reports both added `items.language_source`), break the upgrade
    /// of a database written by an earlier release: every earlier version must reach the last.
    #[test]
    fn a_database_at_every_earlier_version_upgrades_to_the_last() {
        let last = MIGRATIONS.last().unwrap().0;
        for version in 1..last {
            let mut conn = Connection::open_in_memory().unwrap();
            super::super::register_functions(&conn).unwrap();
            apply_until(&mut conn, version).unwrap();
            conn.execute(
                "INSERT INTO feeds (id, name, url, created_at) VALUES (1, 'f', 'https://x.eu/', '2026-01-01')",
                [],
            )
            .unwrap();
            let store = super::super::Store::setup(conn)
                .unwrap_or_else(|e| panic!("upgrading from version {version}: {e}"));
            let v: i64 = store
                .conn
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .unwrap();
            assert_eq!(v, last, "from version {version}");
            let feeds = store.feeds().unwrap();
            assert_eq!(feeds.len(), 1, "from version {version}");
            assert_eq!(feeds[0].article_report, None);
            assert_eq!(feeds[0].reissued, 0);
            // 0008 (retention) and 0009 (webhooks) are in place whatever the starting version.
            let present = |sql: &str| -> i64 {
                store
                    .conn
                    .query_row(sql, [], |r| r.get(0))
                    .unwrap_or_else(|e| panic!("from version {version}: {sql}: {e}"))
            };
            assert_eq!(present("SELECT COUNT(*) FROM tombstones"), 0);
            assert_eq!(present("SELECT COUNT(*) FROM maintenance"), 0);
            assert_eq!(present("SELECT COUNT(links) FROM items"), 0);
            assert_eq!(present("SELECT COUNT(*) FROM digest_webhooks"), 0);
            assert_eq!(present("SELECT COUNT(mailed) FROM digests"), 0);
        }
    }

    #[test]
    fn applying_twice_is_a_no_op_and_newer_databases_are_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::register_functions(&conn).unwrap();
        apply(&mut conn).unwrap();
        apply(&mut conn).unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
        assert!(matches!(
            apply(&mut conn),
            Err(StoreError::TooNew { found: 999, .. })
        ));
    }
}
