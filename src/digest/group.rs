//! Stories: items that are the same story in several languages, found by a shared link slug,
//! a link from one version to another, or the same names and numbers on nearby dates. Pure.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use memchr::memmem::Finder;
use url::Url;

/// What grouping looks at in one item.
#[derive(Debug, Clone, Default)]
pub struct StoryKey<'a> {
    pub url: Option<&'a str>,
    pub language: Option<&'a str>,
    pub published: Option<DateTime<Utc>>,
    /// Clean text (and raw HTML, when there is some) to look for links and names in.
    pub text: &'a str,
    pub html: Option<&'a str>,
}

/// Names and numbers shared by at least this many…
pub const MIN_SHARED: usize = 3;
/// …making at least this share of the smaller item's names and numbers…
pub const MIN_OVERLAP: f64 = 0.75;
/// …published at most this many days apart make two language versions one story.
pub const MAX_DAYS_APART: i64 = 3;

/// Groups items into stories: returns groups of indices into `keys`, each sorted, the groups in
/// the order of their first item.
pub fn group_stories(keys: &[StoryKey<'_>]) -> Vec<Vec<usize>> {
    let n = keys.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    let slugs: Vec<Option<String>> = keys.iter().map(|k| k.url.and_then(slug_key)).collect();
    let sigs: Vec<BTreeSet<String>> = keys.iter().map(|k| signature(k.text)).collect();
    // Each link's searcher is built once, not once per pair.
    let links: Vec<Option<Finder<'_>>> = keys
        .iter()
        .map(|k| bare_link(k.url?).map(|b| Finder::new(b.as_bytes())))
        .collect();
    for a in 0..n {
        for b in a + 1..n {
            let linked =
                links_to(&keys[a], links[b].as_ref()) || links_to(&keys[b], links[a].as_ref());
            if linked || same_story(&keys[a], &keys[b], &slugs[a], &slugs[b], &sigs[a], &sigs[b]) {
                let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
                if ra != rb {
                    parent[ra.max(rb)] = ra.min(rb);
                }
            }
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut root_of_group: Vec<usize> = Vec::new();
    for i in 0..n {
        let r = find(&mut parent, i);
        match root_of_group.iter().position(|&x| x == r) {
            Some(g) => groups[g].push(i),
            None => {
                root_of_group.push(r);
                groups.push(vec![i]);
            }
        }
    }
    groups
}

fn same_story(
    a: &StoryKey<'_>,
    b: &StoryKey<'_>,
    slug_a: &Option<String>,
    slug_b: &Option<String>,
    sig_a: &BTreeSet<String>,
    sig_b: &BTreeSet<String>,
) -> bool {
    if let (Some(x), Some(y)) = (slug_a, slug_b)
        && x == y
    {
        return true;
    }
    let different_languages = matches!((a.language, b.language), (Some(x), Some(y)) if x != y);
    if !different_languages {
        return false;
    }
    if let (Some(x), Some(y)) = (a.published, b.published)
        && (x - y).num_days().abs() > MAX_DAYS_APART
    {
        return false;
    }
    let shared = sig_a.intersection(sig_b).count();
    let smaller = sig_a.len().min(sig_b.len());
    shared >= MIN_SHARED && shared as f64 >= MIN_OVERLAP * smaller as f64
}

/// A link without its scheme and trailing slash, when long enough to name one page.
fn bare_link(url: &str) -> Option<&str> {
    let bare = url
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    (bare.len() >= 12 && bare.contains('/')).then_some(bare)
}

/// Whether `from` mentions the link `to` searches for (a translation link, or the original's
/// URL at the foot).
fn links_to(from: &StoryKey<'_>, to: Option<&Finder<'_>>) -> bool {
    let Some(to) = to else { return false };
    to.find(from.text.as_bytes()).is_some()
        || from.html.is_some_and(|h| to.find(h.as_bytes()).is_some())
}

/// The link without its language: host plus path segments that are not language codes
/// (`/en/`, `/it/`, `/fr-be/`), without a trailing `.html` or language suffix (`_en`, `.en`).
/// `None` when too little is left to identify a story.
pub fn slug_key(url: &str) -> Option<String> {
    let u = Url::parse(url).ok()?;
    let host = u.host_str()?.trim_start_matches("www.");
    let mut parts = Vec::new();
    for seg in u.path_segments()? {
        if seg.is_empty() || is_language_code(seg) {
            continue;
        }
        let seg = seg
            .strip_suffix(".html")
            .or_else(|| seg.strip_suffix(".htm"))
            .unwrap_or(seg);
        let seg = match seg.rsplit_once(['_', '.']) {
            Some((head, tail)) if is_language_code(tail) && !head.is_empty() => head,
            _ => seg,
        };
        parts.push(seg.to_ascii_lowercase());
    }
    let last = parts.last()?;
    // A story slug is long, or carries digits (an id); `/news` alone names no story.
    if last.len() < 16 && !last.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(format!("{host}/{}", parts.join("/")))
}

fn is_language_code(s: &str) -> bool {
    let b = s.as_bytes();
    let two = |x: &[u8]| x.len() == 2 && x.iter().all(u8::is_ascii_lowercase);
    two(b)
        || (b.len() == 5
            && (b[2] == b'-' || b[2] == b'_')
            && two(&b[..2])
            && b[3..].iter().all(u8::is_ascii_alphabetic))
}

/// What survives translation: numbers (dates, years, counts) and acronyms of three or more
/// capitals (NATO, ENISA, CISA).
pub fn signature(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, out: &mut BTreeSet<String>| {
        let w = std::mem::take(cur);
        if w.chars().all(|c| c.is_ascii_digit()) {
            if !w.is_empty() {
                out.insert(w.trim_start_matches('0').to_string());
            }
        } else if w.chars().count() >= 3
            && w.chars().count() <= 8
            && w.chars().all(|c| c.is_uppercase())
        {
            out.insert(w);
        }
    };
    let mut prev_digit = None;
    for c in text.chars() {
        let digit = c.is_ascii_digit();
        if c.is_alphanumeric() && prev_digit.is_none_or(|p| p == digit) {
            cur.push(c);
        } else {
            flush(&mut cur, &mut out);
            if c.is_alphanumeric() {
                cur.push(c);
            }
        }
        prev_digit = c.is_alphanumeric().then_some(digit);
    }
    flush(&mut cur, &mut out);
    out.remove("");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Story texts written for the tests (see tests/data/stories/README.md): the same EU–NATO story
    // in Italian, English and Spanish, then two other Italian stories.
    const IT: &str = include_str!("../../tests/data/stories/000_it.txt");
    const EN: &str = include_str!("../../tests/data/stories/001_en.txt");
    const ES: &str = include_str!("../../tests/data/stories/002_es.txt");
    const IT_US: &str = include_str!("../../tests/data/stories/003_it.txt");
    const IT_DHS: &str = include_str!("../../tests/data/stories/004_it.txt");

    fn key<'a>(text: &'a str, lang: &'a str, url: Option<&'a str>) -> StoryKey<'a> {
        StoryKey {
            url,
            language: Some(lang),
            published: None,
            text,
            html: None,
        }
    }

    #[test]
    fn the_three_seed_versions_are_one_story_by_names_and_numbers_alone() {
        let keys = [
            key(IT, "it", Some("https://a.example/it/1")),
            key(IT_US, "it", None),
            key(EN, "en", Some("https://b.example/x/2")),
            key(IT_DHS, "it", None),
            key(ES, "es", Some("https://c.example/es/3")),
        ];
        assert_eq!(group_stories(&keys), vec![vec![0, 2, 4], vec![1], vec![3]]);
    }

    #[test]
    fn numbers_and_acronyms_survive_translation() {
        let s = signature("On October 4th, NATO and the EU (2016, 2018) met; OTAN 2021.");
        let v: Vec<_> = s.iter().map(String::as_str).collect();
        assert_eq!(v, ["2016", "2018", "2021", "4", "NATO", "OTAN"]);
    }

    #[test]
    fn shared_slug_or_a_translation_link_groups_even_without_overlap() {
        let en = "https://digital-strategy.ec.europa.eu/en/news/eu-and-nato-hold-first-structured-dialogue-cyber";
        let it = "https://digital-strategy.ec.europa.eu/it/news/eu-and-nato-hold-first-structured-dialogue-cyber";
        assert_eq!(slug_key(en), slug_key(it));
        assert!(slug_key("https://x.eu/en/news").is_none());
        assert_eq!(
            slug_key("https://ec.europa.eu/commission/presscorner/detail/en/ip_24_5012"),
            slug_key("https://ec.europa.eu/commission/presscorner/detail/fr/ip_24_5012"),
        );
        let keys = [key("uno", "it", Some(it)), key("one", "en", Some(en))];
        assert_eq!(group_stories(&keys), vec![vec![0, 1]]);
        // the Italian story ends with the English page's URL: a translation link
        let keys = [
            key(
                IT,
                "it",
                Some("https://digital-strategy.ec.europa.eu/it/node/123"),
            ),
            key(
                "short",
                "en",
                Some(
                    "https://digital-strategy.ec.europa.eu/en/news/eu-and-nato-staff-test-joint-response-cyber-crisis-second-exercise",
                ),
            ),
        ];
        assert_eq!(group_stories(&keys), vec![vec![0, 1]]);
    }

    #[test]
    fn same_language_or_far_apart_dates_are_not_merged_on_numbers_alone() {
        let mut a = key(EN, "en", None);
        let b = key(EN, "en", None);
        assert_eq!(group_stories(&[a.clone(), b]).len(), 2);
        a.published = Some(
            DateTime::parse_from_rfc3339("2024-10-04T10:00:00Z")
                .unwrap()
                .into(),
        );
        let mut c = key(IT, "it", None);
        c.published = Some(
            DateTime::parse_from_rfc3339("2024-11-04T10:00:00Z")
                .unwrap()
                .into(),
        );
        assert_eq!(group_stories(&[a.clone(), c.clone()]).len(), 2);
        c.published = Some(
            DateTime::parse_from_rfc3339("2024-10-05T10:00:00Z")
                .unwrap()
                .into(),
        );
        assert_eq!(group_stories(&[a, c]).len(), 1);
    }
}
