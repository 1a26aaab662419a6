//! Where terms occur in a text, for highlighting: the text and the terms are folded as the
//! classifier folds them (case, diacritics), whole words only (or word starts for prefix
//! terms), and the hits mapped back to byte ranges of the original text. Pure.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use crate::pipeline::classify::fold::{fold, fold_str, is_word};

/// A term to find: its text, and whether it also matches longer words it starts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Needle {
    pub text: String,
    pub prefix: bool,
}

/// Finds a set of needles in texts; built once, used on many texts.
pub struct Highlighter {
    automaton: Option<AhoCorasick>,
    /// Whether each pattern is a prefix.
    prefix: Vec<bool>,
}

impl Highlighter {
    pub fn new(needles: &[Needle]) -> Highlighter {
        let mut pats: Vec<(String, bool)> = needles
            .iter()
            .map(|n| (fold_str(n.text.trim()), n.prefix))
            .filter(|(f, _)| f.chars().any(is_word))
            .collect();
        pats.sort();
        pats.dedup();
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            // An NFA builds in microseconds where a DFA takes milliseconds.
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(pats.iter().map(|p| p.0.as_str()))
            .ok()
            .filter(|_| !pats.is_empty());
        Highlighter {
            automaton,
            prefix: pats.into_iter().map(|p| p.1).collect(),
        }
    }

    /// Sorted, non-overlapping byte ranges of `text` where a needle occurs.
    pub fn ranges(&self, text: &str) -> Vec<(usize, usize)> {
        let Some(ac) = &self.automaton else {
            return Vec::new();
        };
        if text.is_empty() {
            return Vec::new();
        }
        let folded = fold(text);
        let f = folded.text.as_str();
        let mut out: Vec<(usize, usize)> = Vec::new();
        for m in ac.find_iter(f) {
            let (s, mut e) = (m.start(), m.end());
            let prefix = self.prefix[m.pattern().as_usize()];
            if prefix {
                // A word start marks the whole word.
                e += f[e..].find(|c: char| !is_word(c)).unwrap_or(f.len() - e);
            }
            let starts_word = !f[..s].chars().next_back().is_some_and(is_word);
            let ends_word = prefix || !f[e..].chars().next().is_some_and(is_word);
            if starts_word && ends_word {
                let (os, oe) = folded.original_range(text, s, e);
                match out.last_mut() {
                    Some(last) if os <= last.1 => last.1 = last.1.max(oe),
                    _ => out.push((os, oe)),
                }
            }
        }
        out
    }
}

/// Sorted, non-overlapping byte ranges of `text` where one of `needles` occurs.
pub fn ranges(text: &str, needles: &[Needle]) -> Vec<(usize, usize)> {
    Highlighter::new(needles).ranges(text)
}

/// `text` cut into pieces, each marked or not, following `ranges`.
pub fn pieces<'a>(text: &'a str, ranges: &[(usize, usize)]) -> Vec<(bool, &'a str)> {
    let mut out = Vec::new();
    let mut at = 0;
    for &(s, e) in ranges {
        if s < at || e > text.len() || !text.is_char_boundary(s) || !text.is_char_boundary(e) {
            continue;
        }
        if s > at {
            out.push((false, &text[at..s]));
        }
        out.push((true, &text[s..e]));
        at = e;
    }
    if at < text.len() {
        out.push((false, &text[at..]));
    }
    out
}

/// A window of about `chars` characters of `text` around its first range (its start when there
/// is none), on word boundaries, with the ranges inside it re-based. Leading and trailing
/// ellipses mark cuts.
pub fn window(
    text: &str,
    ranges: &[(usize, usize)],
    chars: usize,
) -> (String, Vec<(usize, usize)>) {
    let centre = ranges.first().map_or(0, |r| r.0);
    let before = chars / 3;
    let mut start = text[..centre]
        .char_indices()
        .rev()
        .nth(before)
        .map_or(0, |(i, _)| i);
    if start > 0 {
        start = text[start..]
            .find(char::is_whitespace)
            .map_or(start, |i| start + i + 1)
            .min(centre);
    }
    let mut end = text[start..]
        .char_indices()
        .nth(chars)
        .map_or(text.len(), |(i, _)| start + i);
    if end < text.len() {
        end = text[..end]
            .rfind(char::is_whitespace)
            .filter(|&i| i > start)
            .unwrap_or(end);
    }
    let lead = if start > 0 { "… " } else { "" };
    let tail = if end < text.len() { " …" } else { "" };
    let shift = lead.len() as isize - start as isize;
    let inside = ranges
        .iter()
        .filter(|r| r.0 >= start && r.1 <= end)
        .map(|r| {
            (
                (r.0 as isize + shift) as usize,
                (r.1 as isize + shift) as usize,
            )
        })
        .collect();
    (format!("{lead}{}{tail}", &text[start..end]), inside)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(t: &str, prefix: bool) -> Needle {
        Needle {
            text: t.into(),
            prefix,
        }
    }

    fn marked(text: &str, needles: &[Needle]) -> String {
        pieces(text, &ranges(text, needles))
            .into_iter()
            .map(|(m, s)| if m { format!("[{s}]") } else { s.to_string() })
            .collect()
    }

    #[test]
    fn whole_words_are_found_whatever_their_case_and_accents() {
        assert_eq!(
            marked(
                "La DÉFENSE européenne et l'OTAN; otanien; Cyber-sécurité.",
                &[
                    n("défense", false),
                    n("otan", false),
                    n("cyber-securite", false)
                ]
            ),
            "La [DÉFENSE] européenne et l'[OTAN]; otanien; [Cyber-sécurité]."
        );
        assert_eq!(
            marked("cybersecurity cyber", &[n("cyber", true)]),
            "[cybersecurity] [cyber]"
        );
        assert_eq!(
            marked("Straße STRASSE", &[n("strasse", false)]),
            "[Straße] [STRASSE]"
        );
        assert_eq!(
            marked("nothing here", &[n("", false), n("--", false)]),
            "nothing here"
        );
    }

    #[test]
    fn windows_centre_on_the_first_hit() {
        let text = format!("{} NATO {}", "word ".repeat(100), "tail ".repeat(100));
        let r = ranges(&text, &[n("nato", false)]);
        let (w, inside) = window(&text, &r, 60);
        assert!(w.starts_with("… ") && w.ends_with(" …"), "{w}");
        assert_eq!(&w[inside[0].0..inside[0].1], "NATO");
        let (w, inside) = window(
            "short NATO text",
            &ranges("short NATO text", &[n("nato", false)]),
            60,
        );
        assert_eq!((w.as_str(), inside), ("short NATO text", vec![(6, 10)]));
    }
}
