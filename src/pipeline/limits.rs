//! Bounds on what one feed document can make us do: at most `max` items (the newest), and one
//! item per distinct content when a feed reuses a guid.

use std::collections::{HashMap, HashSet};

use crate::model::ParsedItem;
use crate::store::source_hash;

/// What [`bound_items`] did to a feed's items.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bounded {
    /// Items in the document when more than the cap (`None` when all were taken).
    pub capped_from: Option<usize>,
    /// Items dropped because an earlier item had the same guid and the same content.
    pub duplicates: usize,
}

/// Keeps the `max` newest items (by publication date, undated ones in document order after
/// the dated ones), then gives each repeated guid with new content a guid of its own
/// (`guid#content-hash`) and drops exact repeats. Pure, and linear in the number of items
/// apart from the sort; contents are hashed only when a guid repeats.
pub fn bound_items(items: &mut Vec<ParsedItem>, max: usize) -> Bounded {
    let mut out = Bounded::default();
    if items.len() > max {
        out.capped_from = Some(items.len());
        // Stable: equal dates and undated items keep the feed's own order (newest first
        // in practice).
        items.sort_by(|a, b| match (a.published, b.published) {
            (Some(x), Some(y)) => y.cmp(&x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
        items.truncate(max);
    }
    // Only a guid given more than once needs its items' contents compared.
    let mut guids: HashMap<&str, usize> = HashMap::with_capacity(items.len());
    for item in items.iter() {
        *guids.entry(item.guid.as_str()).or_default() += 1;
    }
    if guids.values().all(|&n| n == 1) {
        return out;
    }
    let mut first_hash: HashMap<String, String> = HashMap::new();
    let mut kept_guids: HashSet<String> = HashSet::new();
    let before = items.len();
    items.retain_mut(|item| {
        let hash = source_hash(item);
        match first_hash.get(&item.guid) {
            None => {
                first_hash.insert(item.guid.clone(), hash);
                kept_guids.insert(item.guid.clone());
                true
            }
            Some(first) if *first == hash => false,
            Some(_) => {
                let own = format!("{}#{hash}", item.guid);
                if kept_guids.insert(own.clone()) {
                    item.guid = own;
                    true
                } else {
                    false
                }
            }
        }
    });
    out.duplicates = before - items.len();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn item(guid: &str, title: &str, day: Option<u32>) -> ParsedItem {
        ParsedItem {
            guid: guid.into(),
            title: title.into(),
            published: day.map(|d| Utc.with_ymd_and_hms(2026, 11, d, 8, 0, 0).unwrap()),
            ..ParsedItem::default()
        }
    }

    #[test]
    fn the_cap_keeps_the_newest_items() {
        let mut items: Vec<_> = (1..=20)
            .map(|d| item(&format!("g{d}"), "t", Some(d)))
            .collect();
        items.push(item("undated", "t", None));
        let b = bound_items(&mut items, 5);
        assert_eq!(b.capped_from, Some(21));
        let guids: Vec<_> = items.iter().map(|i| i.guid.as_str()).collect();
        assert_eq!(guids, ["g20", "g19", "g18", "g17", "g16"]);
    }

    #[test]
    fn under_the_cap_nothing_moves() {
        let mut items = vec![item("a", "t", Some(1)), item("b", "t", Some(9))];
        assert_eq!(bound_items(&mut items, 5), Bounded::default());
        assert_eq!(items[0].guid, "a");
    }

    #[test]
    fn one_guid_everywhere_gives_one_item_per_distinct_content() {
        let mut items: Vec<_> = (0..300)
            .map(|i| item("same", &format!("story {}", i % 3), None))
            .collect();
        let b = bound_items(&mut items, 1000);
        assert_eq!(items.len(), 3);
        assert_eq!(b.duplicates, 297);
        assert_eq!(items[0].guid, "same");
        assert!(items[1].guid.starts_with("same#"));
        let distinct: HashSet<_> = items.iter().map(|i| &i.guid).collect();
        assert_eq!(distinct.len(), 3);
    }
}
