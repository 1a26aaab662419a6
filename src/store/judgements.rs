//! Judgements (an analyst's verdict on an item for a topic) and the secrets kept with the data.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::Store;
use crate::error::StoreError;

/// What an analyst said about an item for a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verdict {
    /// The item matched the topic and is about it.
    Relevant,
    /// The item matched the topic but is not about it (a false positive).
    NotRelevant,
    /// The item did not match the topic but is about it (a known miss).
    ShouldMatch,
}

impl Verdict {
    pub const ALL: [Verdict; 3] = [
        Verdict::Relevant,
        Verdict::NotRelevant,
        Verdict::ShouldMatch,
    ];

    /// As stored and written in forms.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Relevant => "relevant",
            Verdict::NotRelevant => "not_relevant",
            Verdict::ShouldMatch => "should_match",
        }
    }

    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Relevant => "relevant",
            Verdict::NotRelevant => "not relevant",
            Verdict::ShouldMatch => "should match",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether the item is about the topic, by this verdict.
    pub fn positive(self) -> bool {
        !matches!(self, Verdict::NotRelevant)
    }
}

/// A verdict to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJudgement {
    pub item_id: i64,
    pub topic: String,
    pub verdict: Verdict,
    /// `page` (the item page) or `link` (a signed link from a digest).
    pub via: &'static str,
    pub at: DateTime<Utc>,
}

/// A recorded verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub id: i64,
    pub item_id: i64,
    pub topic: String,
    pub verdict: Verdict,
    /// Whether the item matched the topic when judged, and its score then.
    pub matched: bool,
    pub score: Option<f64>,
    pub via: String,
    pub judged_at: DateTime<Utc>,
}

/// Counts of verdicts in force for one topic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JudgementTotals {
    pub relevant: usize,
    pub not_relevant: usize,
    pub should_match: usize,
}

fn judgement(r: &rusqlite::Row<'_>) -> rusqlite::Result<Judgement> {
    let verdict: String = r.get(3)?;
    Ok(Judgement {
        id: r.get(0)?,
        item_id: r.get(1)?,
        topic: r.get(2)?,
        verdict: Verdict::parse(&verdict).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                3,
                rusqlite::types::Type::Text,
                format!("unknown verdict {verdict:?}").into(),
            )
        })?,
        matched: r.get(4)?,
        score: r.get(5)?,
        via: r.get(6)?,
        judged_at: r.get(7)?,
    })
}

const COLUMNS: &str = "id, item_id, topic, verdict, matched, score, via, judged_at";

impl Store {
    /// Records a verdict, with the item's current match state for the topic. `Ok(None)` when
    /// the item does not exist.
    pub fn record_judgement(&mut self, j: &NewJudgement) -> Result<Option<i64>, StoreError> {
        let tx = self.conn.transaction()?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM items WHERE id = ?1)",
            [j.item_id],
            |r| r.get(0),
        )?;
        if !exists {
            return Ok(None);
        }
        let score: Option<f64> = tx
            .query_row(
                "SELECT score FROM matches WHERE item_id = ?1 AND topic = ?2",
                params![j.item_id, j.topic],
                |r| r.get(0),
            )
            .optional()?;
        tx.execute(
            "INSERT INTO judgements (item_id, topic, verdict, matched, score, via, judged_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                j.item_id,
                j.topic,
                j.verdict.as_str(),
                score.is_some(),
                score,
                j.via,
                j.at
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(Some(id))
    }

    /// Every verdict on one item, oldest first (the last per topic is in force).
    pub fn judgements_of(&self, item_id: i64) -> Result<Vec<Judgement>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM judgements WHERE item_id = ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map([item_id], judgement)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The verdicts in force (the latest per item and topic), by item then topic.
    pub fn current_judgements(&self) -> Result<Vec<Judgement>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM judgements j
             WHERE id = (SELECT MAX(id) FROM judgements k WHERE k.item_id = j.item_id AND k.topic = j.topic)
             ORDER BY item_id, topic"
        ))?;
        let rows = stmt.query_map([], judgement)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A secret kept in the database under `name`; created with `make` on first use (two
    /// processes starting at once agree on the first one written).
    pub fn secret(
        &mut self,
        name: &str,
        make: impl FnOnce() -> Vec<u8>,
    ) -> Result<Vec<u8>, StoreError> {
        let found: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT value FROM secrets WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?;
        if let Some(v) = found {
            return Ok(v);
        }
        self.conn.execute(
            "INSERT OR IGNORE INTO secrets (name, value, created_at) VALUES (?1, ?2, ?3)",
            params![name, make(), Utc::now()],
        )?;
        Ok(self
            .conn
            .query_row("SELECT value FROM secrets WHERE name = ?1", [name], |r| {
                r.get(0)
            })?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_made_once_and_kept() {
        let mut s = Store::open_in_memory().unwrap();
        let a = s.secret("k", || vec![1, 2, 3]).unwrap();
        let b = s.secret("k", || vec![9]).unwrap();
        assert_eq!(
            (a.as_slice(), b.as_slice()),
            (&[1, 2, 3][..], &[1, 2, 3][..])
        );
    }

    #[test]
    fn verdicts_parse_back() {
        for v in Verdict::ALL {
            assert_eq!(Verdict::parse(v.as_str()), Some(v));
        }
        assert_eq!(Verdict::parse("maybe"), None);
    }
}
