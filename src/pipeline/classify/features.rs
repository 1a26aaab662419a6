//! The signals a topic's score is made of, each a number in [0, 1] computed from where the
//! concepts' terms occur: all required concepts together in the title, in the head (title and
//! lead), in one sentence, in a window of three sentences; how often they come together; the two
//! sides named side by side; cooperation words with both sides; how much of the item is about
//! the subject and each side; another partner in the head or throughout; a longer item naming
//! the second side, or the subject, in one sentence only (a passing mention).
//!
//! An alias counts as a weaker mention of its concept ("Washington" for the United States); a
//! `both` term ("the two sides") names both sides of the pair in its sentence once each was named
//! in an earlier one.

use super::rules::{Role, Topic};
use super::segment::{Field, Sentence};

/// The signals, in the order of [`Features::values`]; these names are the keys of `[model]`.
pub const FEATURES: [&str; N_FEATURES] = [
    "title",
    "head",
    "sentence",
    "window",
    "repeat",
    "pair_head",
    "pair",
    "cooperation",
    "head_cooperation",
    "pair_subject",
    "subject_head",
    "subject_share",
    "partner_share",
    "side_share",
    "exclude_head",
    "exclude_share",
    "exclude_pair",
    "off_topic_title",
    "off_topic_share",
    "partner_once",
    "subject_once",
];
pub const N_FEATURES: usize = 21;

/// Sentences in a window.
const WINDOW: usize = 3;
/// Sentences from which an item is long enough for a single mention to be a passing one.
const LONG: usize = 4;
/// Co-occurrences counted by `repeat` before it saturates.
const REPEATS: f64 = 4.0;

/// One term found in the text, where the signals need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mention {
    pub concept: usize,
    pub sentence: usize,
    /// Word index in the whole text.
    pub word: usize,
}

/// The signals of one item for one topic, and the sentences behind the strongest ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    pub values: [f64; N_FEATURES],
    /// Sentence ranges (inclusive) whose terms are the evidence, strongest first.
    pub spans: Vec<(usize, usize)>,
}

impl Features {
    pub fn get(&self, name: &str) -> f64 {
        FEATURES
            .iter()
            .position(|f| *f == name)
            .map_or(0.0, |i| self.values[i])
    }
}

/// The signals of `mentions` (masked and cut terms already left out) in `sentences`.
pub fn features(topic: &Topic, mentions: &[Mention], sentences: &[Sentence]) -> Features {
    let n = sentences.len();
    let required: Vec<usize> = (0..topic.concepts.len())
        .filter(|&c| topic.concepts[c].role == Role::Required)
        .collect();
    let slot = |concept: usize| required.iter().position(|&c| c == concept);
    let r = required.len();
    // presence[s * r + k]: how strongly sentence s names required concept k.
    let mut presence = vec![0.0f64; n * r];
    let mut boost = vec![false; n];
    let mut exclude = vec![false; n];
    let mut off_topic = vec![false; n];
    // Pairs said together, per sentence (strength).
    let mut paired = vec![0.0f64; n];
    let pair_slots = topic.pair.and_then(|(a, b)| Some((slot(a)?, slot(b)?)));

    // What each mention names (a required slot) and how strongly.
    let named = |m: &Mention| -> Option<(usize, f64)> {
        let c = &topic.concepts[m.concept];
        match c.role {
            Role::Required => Some((slot(m.concept)?, 1.0)),
            Role::Alias => Some((slot(c.of?)?, c.strength)),
            _ => None,
        }
    };
    let mut boths: Vec<&Mention> = Vec::new();
    for m in mentions.iter().filter(|m| m.sentence < n) {
        match topic.concepts[m.concept].role {
            Role::Boost => boost[m.sentence] = true,
            Role::Exclude => exclude[m.sentence] = true,
            Role::OffTopic => off_topic[m.sentence] = true,
            Role::Both => boths.push(m),
            _ => {
                if let Some((k, strength)) = named(m) {
                    let p = &mut presence[m.sentence * r + k];
                    *p = p.max(strength);
                }
            }
        }
    }
    if let Some((a, b)) = pair_slots {
        // Sides said within `pair_distance` words of each other.
        let sides: Vec<(usize, usize, usize, f64)> = mentions
            .iter()
            .filter(|m| m.sentence < n)
            .filter_map(|m| named(m).map(|(k, s)| (m.sentence, m.word, k, s)))
            .filter(|&(_, _, k, _)| k == a || k == b)
            .collect();
        for x in sides.iter().filter(|x| x.2 == a) {
            for y in sides.iter().filter(|y| y.2 == b && y.0 == x.0) {
                if x.1.abs_diff(y.1) <= topic.pair_distance {
                    paired[x.0] = paired[x.0].max(x.3.min(y.3));
                }
            }
        }
        // "The two sides": both sides, once each was named before.
        boths.sort_by_key(|m| m.sentence);
        for m in boths {
            let seen = |k: usize| {
                (0..m.sentence)
                    .map(|s| presence[s * r + k])
                    .fold(0.0, f64::max)
            };
            let v = seen(a).min(seen(b));
            if v > 0.0 {
                let s = m.sentence;
                presence[s * r + a] = presence[s * r + a].max(v);
                presence[s * r + b] = presence[s * r + b].max(v);
                paired[s] = paired[s].max(v);
            }
        }
    }

    // Max presence of slot k over sentences first..=last.
    let most = |k: usize, first: usize, last: usize| {
        (first..=last)
            .map(|s| presence[s * r + k])
            .fold(0.0, f64::max)
    };
    // How strongly sentences first..=last hold every required concept.
    let all = |first: usize, last: usize| (0..r).map(|k| most(k, first, last)).fold(1.0, f64::min);
    let share = |f: &dyn Fn(usize) -> bool| {
        if n == 0 {
            0.0
        } else {
            (0..n).filter(|&s| f(s)).count() as f64 / n as f64
        }
    };

    let mut values = [0.0; N_FEATURES];
    if n == 0 || r == 0 {
        return Features {
            values,
            spans: Vec::new(),
        };
    }
    let last = |s: usize| (s + WINDOW - 1).min(n - 1);
    let head = sentences
        .iter()
        .take_while(|s| s.field != Field::Body)
        .count();
    let mut spans = Vec::new();

    let title = if sentences[0].field == Field::Title {
        all(0, 0)
    } else {
        0.0
    };
    let head_value = if head > 0 { all(0, head - 1) } else { 0.0 };
    if head_value > 0.0 {
        spans.push((0, head - 1));
    }
    let best = |f: &dyn Fn(usize) -> f64| {
        (0..n)
            .map(|s| (s, f(s)))
            .fold((0, 0.0), |acc, x| if x.1 > acc.1 { x } else { acc })
    };
    let (best_window, window) = best(&|s| all(s, last(s)));
    if window > 0.0 {
        spans.push((best_window, last(best_window)));
    }
    let (best_sentence, sentence) = best(&|s| all(s, s));
    if sentence > 0.0 {
        spans.push((best_sentence, best_sentence));
    }
    // Sentences naming a required concept whose neighbourhood holds them all.
    let repeats = (0..n)
        .filter(|&s| (0..r).any(|k| presence[s * r + k] > 0.0))
        .filter(|&s| all(s.saturating_sub(1), (s + 1).min(n - 1)) >= 0.5)
        .count();
    let subject: Vec<usize> = (0..r)
        .filter(|&k| pair_slots.is_none_or(|(a, b)| k != a && k != b))
        .collect();
    // How strongly sentences first..=last name the subject (every non-pair required concept).
    let on_subject = |first: usize, last: usize| {
        subject
            .iter()
            .map(|&k| most(k, first, last))
            .product::<f64>()
    };
    let head_boost = boost[..head].iter().any(|&b| b);
    let (pair_head, pair, cooperation, head_cooperation, partner_share, side_share) =
        match pair_slots {
            Some((a, b)) => (
                paired[..head].iter().copied().fold(0.0, f64::max),
                paired.iter().copied().fold(0.0, f64::max),
                (0..n)
                    .filter(|&s| (s..=last(s)).any(|t| boost[t]))
                    .map(|s| most(a, s, last(s)) * most(b, s, last(s)))
                    .fold(0.0, f64::max),
                if head_boost && head > 0 {
                    most(a, 0, head - 1) * most(b, 0, head - 1)
                } else {
                    0.0
                },
                share(&|s| presence[s * r + b] > 0.0),
                share(&|s| presence[s * r + a] > 0.0),
            ),
            None => (
                0.0,
                0.0,
                (0..n)
                    .filter(|&s| (s..=last(s)).any(|t| boost[t]))
                    .map(|s| all(s, last(s)))
                    .fold(0.0, f64::max),
                if head_boost { head_value } else { 0.0 },
                0.0,
                0.0,
            ),
        };
    // Another party named right next to a side in the head ("Germany and NATO", "EU–Japan").
    let exclude_pair = mentions
        .iter()
        .filter(|m| m.sentence < head && topic.concepts[m.concept].role == Role::Exclude)
        .any(|x| {
            mentions.iter().any(|m| {
                m.sentence == x.sentence
                    && m.word.abs_diff(x.word) <= topic.pair_distance
                    && named(m)
                        .is_some_and(|(k, _)| pair_slots.is_some_and(|(a, b)| k == a || k == b))
            })
        });
    // Another subject in the title while the topic's subject is not there.
    let off_topic_title = sentences[0].field == Field::Title
        && off_topic[0]
        && (subject.is_empty() || on_subject(0, 0) == 0.0);
    let pair_subject = (0..n)
        .map(|s| paired[s] * on_subject(s, s))
        .fold(0.0, f64::max);
    let subject_head = if head > 0 && !subject.is_empty() {
        on_subject(0, head - 1)
    } else {
        0.0
    };
    let subject_share = if subject.is_empty() {
        0.0
    } else {
        share(&|s| subject.iter().all(|&k| presence[s * r + k] > 0.0))
    };
    // A longer item that names the second side in one sentence only (a passing mention: "its
    // partners, including the United States and NATO") / the subject in one body sentence only.
    let once = |f: &dyn Fn(usize) -> bool| (0..n).filter(|&s| f(s)).count() == 1;
    let partner_once = match pair_slots {
        Some((_, b)) if n >= LONG => f64::from(u8::from(once(&|s| presence[s * r + b] > 0.0))),
        _ => 0.0,
    };
    let subject_once = if n >= LONG && !subject.is_empty() && subject_head == 0.0 {
        f64::from(u8::from(once(&|s| {
            subject.iter().all(|&k| presence[s * r + k] > 0.0)
        })))
    } else {
        0.0
    };
    values.copy_from_slice(&[
        title,
        head_value,
        sentence,
        window,
        (repeats as f64 / REPEATS).min(1.0),
        pair_head,
        pair,
        cooperation,
        head_cooperation,
        pair_subject,
        subject_head,
        subject_share,
        partner_share,
        side_share,
        if exclude[..head].iter().any(|&x| x) {
            1.0
        } else {
            0.0
        },
        share(&|s| exclude[s]),
        if exclude_pair { 1.0 } else { 0.0 },
        if off_topic_title { 1.0 } else { 0.0 },
        share(&|s| off_topic[s]),
        partner_once,
        subject_once,
    ]);
    Features { values, spans }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::classify::Classifier;
    use crate::pipeline::classify::rules::parse_topic;
    use std::path::Path;

    fn classifier() -> Classifier {
        let rules = "threshold = 0.5\npair = [\"eu\", \"nato\"]\n\
            [concepts.eu]\nrole = \"required\"\nterms.en = [\"=EU\"]\n\
            [concepts.nato]\nrole = \"required\"\nterms.en = [\"=NATO\"]\n\
            [concepts.cyber]\nrole = \"required\"\nterms.en = [\"cyber*\"]\n\
            [concepts.brussels]\nrole = \"alias\"\nof = \"eu\"\nweight = 0.5\nterms.en = [\"Brussels\"]\n\
            [concepts.two]\nrole = \"both\"\nterms.en = [\"the two sides\"]\n\
            [concepts.coop]\nrole = \"boost\"\nterms.en = [\"cooperat*\"]\n\
            [concepts.other]\nrole = \"exclude\"\nterms.en = [\"Japan\", \"Germany\"]\n\
            [concepts.trade]\nrole = \"off_topic\"\nterms.en = [\"trade\"]\n";
        Classifier::new(vec![parse_topic(rules, Path::new("t.toml")).unwrap()]).unwrap()
    }

    fn signals(text: &str) -> Features {
        classifier().classify(text, None).remove(0).features
    }

    #[test]
    fn title_head_sentence_and_window() {
        let f = signals("EU and NATO on cyber\nA first sentence.");
        assert_eq!(
            (f.get("title"), f.get("head"), f.get("sentence")),
            (1.0, 1.0, 1.0)
        );
        assert_eq!(f.get("pair_head"), 1.0);
        assert_eq!(f.get("pair_subject"), 1.0);
        // Spread over three body sentences: a window, no sentence, not the head.
        let body =
            "Intro\nOne. Two. Three. Four. The EU met. NATO came. Cyber was the subject. End.";
        let f = signals(body);
        assert_eq!(
            (f.get("title"), f.get("head"), f.get("sentence")),
            (0.0, 0.0, 0.0)
        );
        assert_eq!(f.get("window"), 1.0);
        assert_eq!(f.get("subject_share"), 1.0 / 9.0);
    }

    #[test]
    fn an_alias_counts_less_and_the_two_sides_count_once_named() {
        let f = signals("Brussels and NATO on cyber\nNothing else.");
        assert_eq!(f.get("title"), 0.5);
        // "The two sides" names both only after each was named.
        let f = signals("Talks\nThe two sides spoke of cyber. The EU met NATO.");
        assert_eq!(f.get("sentence"), 0.0);
        let f = signals("Talks\nThe EU met NATO. The two sides spoke of cyber cooperation.");
        assert_eq!(f.get("sentence"), 1.0);
        assert_eq!(f.get("pair"), 1.0);
        assert_eq!(f.get("cooperation"), 1.0);
    }

    #[test]
    fn shares_cooperation_and_other_partners() {
        let f =
            signals("EU and Japan hold cyber talks\nThe EU and Japan spoke. NATO was not there.");
        assert_eq!(f.get("exclude_head"), 1.0);
        assert!(f.get("partner_share") > 0.0 && f.get("partner_share") < 0.5);
        assert_eq!(f.get("head_cooperation"), 0.0);
        let f = signals("EU and NATO step up cooperation\nCyber threats grow.");
        assert_eq!(f.get("head_cooperation"), 1.0);
        assert_eq!(f.get("subject_head"), 1.0);
        assert_eq!(f.get("exclude_head"), 0.0);
        assert_eq!(f.get("exclude_pair"), 0.0);
        let f = signals("Germany and NATO hold cyber talks\nThe EU watched.");
        assert_eq!(f.get("exclude_pair"), 1.0);
        let f = signals("EU and NATO talk trade\nCyber came up once. Trade again.");
        assert_eq!(f.get("off_topic_title"), 1.0);
        assert_eq!(f.get("off_topic_share"), 2.0 / 3.0);
        let f = signals("EU and NATO talk cyber and trade\nNothing else.");
        assert_eq!(f.get("off_topic_title"), 0.0);
    }

    #[test]
    fn a_side_or_the_subject_named_once_in_a_longer_item_is_a_passing_mention() {
        // The partner in one sentence of four or more: passing; in two: not.
        let f = signals("The EU on cyber\nThe EU acts. Its partners include NATO. The EU is firm.");
        assert_eq!(f.get("partner_once"), 1.0);
        let f = signals("The EU on cyber\nThe EU acts. NATO helps. NATO agrees. The EU is firm.");
        assert_eq!(f.get("partner_once"), 0.0);
        // A short item naming the partner once is not a passing mention.
        let f = signals("EU and NATO on cyber\nThey met.");
        assert_eq!(f.get("partner_once"), 0.0);
        // The subject once, in the body only (the lead is three sentences): passing; in the
        // head: not.
        let body = "They met. They talked. Of satellites. They also have a cyber dialogue.";
        let f = signals(&format!("EU and NATO on space\n{body}"));
        assert_eq!(f.get("subject_once"), 1.0);
        let f = signals(&format!("EU and NATO on cyber\n{body}"));
        assert_eq!(f.get("subject_once"), 0.0);
    }
}
