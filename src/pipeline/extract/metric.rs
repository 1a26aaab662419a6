//! The scoring used by the article-extraction benchmark: texts become `\w+` tokens, tokens
//! become a multiset of overlapping 4-token shingles, and a prediction is compared with the
//! truth by shingle precision and recall. Corpus figures are means over documents, and F1 is
//! taken from the two means.

use std::collections::HashMap;

/// Shingle length.
const N: usize = 4;

/// Word tokens of `text`: maximal runs of Unicode letters, digits and `_` (as `\w+`).
pub fn tokens(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|t| !t.is_empty())
        .collect()
}

/// Multiset of 4-token shingles; 1–3 tokens make one shingle, no tokens none.
pub fn shingles<'t>(tokens: &[&'t str]) -> HashMap<Vec<&'t str>, u32> {
    let mut out = HashMap::new();
    if tokens.is_empty() {
        return out;
    }
    if tokens.len() < N {
        out.insert(tokens.to_vec(), 1);
        return out;
    }
    for window in tokens.windows(N) {
        *out.entry(window.to_vec()).or_insert(0) += 1;
    }
    out
}

/// Shingle counts of one document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DocScore {
    pub tp: u32,
    pub fp: u32,
    pub fn_: u32,
}

impl DocScore {
    /// Compares a predicted text with the true text.
    pub fn compare(truth: &str, predicted: &str) -> DocScore {
        let t_tokens = tokens(truth);
        let p_tokens = tokens(predicted);
        let t = shingles(&t_tokens);
        let p = shingles(&p_tokens);
        let mut score = DocScore::default();
        for (s, &tc) in &t {
            let pc = p.get(s).copied().unwrap_or(0);
            score.tp += tc.min(pc);
            score.fn_ += tc.saturating_sub(pc);
        }
        for (s, &pc) in &p {
            let tc = t.get(s).copied().unwrap_or(0);
            score.fp += pc.saturating_sub(tc);
        }
        score
    }

    pub fn precision(&self) -> f64 {
        if self.fp == 0 && self.fn_ == 0 {
            1.0
        } else if self.tp + self.fp == 0 {
            0.0
        } else {
            f64::from(self.tp) / f64::from(self.tp + self.fp)
        }
    }

    pub fn recall(&self) -> f64 {
        if self.fp == 0 && self.fn_ == 0 {
            1.0
        } else if self.tp + self.fn_ == 0 {
            0.0
        } else {
            f64::from(self.tp) / f64::from(self.tp + self.fn_)
        }
    }

    pub fn f1(&self) -> f64 {
        f1(self.precision(), self.recall())
    }
}

/// Harmonic mean, 0 when both are 0.
pub fn f1(precision: f64, recall: f64) -> f64 {
    if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    }
}

/// Corpus figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Mean precision over documents with a non-empty prediction.
    pub precision: f64,
    /// Mean recall over documents with a non-empty truth.
    pub recall: f64,
    /// F1 of the two means.
    pub f1: f64,
    /// Share of documents whose own F1 is at least 0.9.
    pub share_f1_090: f64,
}

/// Corpus figures of per-document scores.
pub fn summarize(scores: &[DocScore]) -> Summary {
    let mean = |values: Vec<f64>| {
        if values.is_empty() {
            0.0
        } else {
            values.iter().sum::<f64>() / values.len() as f64
        }
    };
    let precision = mean(
        scores
            .iter()
            .filter(|s| s.tp + s.fp > 0)
            .map(DocScore::precision)
            .collect(),
    );
    let recall = mean(
        scores
            .iter()
            .filter(|s| s.tp + s.fn_ > 0)
            .map(DocScore::recall)
            .collect(),
    );
    let good = scores.iter().filter(|s| s.f1() >= 0.9).count();
    Summary {
        precision,
        recall,
        f1: f1(precision, recall),
        share_f1_090: if scores.is_empty() {
            0.0
        } else {
            good as f64 / scores.len() as f64
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unicode_words() {
        assert_eq!(
            tokens("Zażółć, gęślą-jaźń! snake_case 42"),
            ["Zażółć", "gęślą", "jaźń", "snake_case", "42"]
        );
        assert!(tokens(" ,.;! ").is_empty());
    }

    #[test]
    fn short_texts_make_one_shingle() {
        let s = shingles(&["a", "b"]);
        assert_eq!(s.len(), 1);
        assert_eq!(s[&vec!["a", "b"]], 1);
        assert!(shingles(&[]).is_empty());
        let s = shingles(&["a", "b", "c", "d", "a", "b", "c", "d"]);
        assert_eq!(s[&vec!["a", "b", "c", "d"]], 2);
        assert_eq!(s.values().sum::<u32>(), 5);
    }

    #[test]
    fn identical_texts_score_one() {
        let d = DocScore::compare("One two three four five.", "One, two three four five");
        assert_eq!(
            d,
            DocScore {
                tp: 2,
                fp: 0,
                fn_: 0
            }
        );
        assert_eq!((d.precision(), d.recall()), (1.0, 1.0));
    }

    #[test]
    fn both_empty_is_perfect_but_excluded_from_means() {
        let d = DocScore::compare("", "...");
        assert_eq!((d.precision(), d.recall()), (1.0, 1.0));
        let s = summarize(&[d, DocScore::compare("a b c d e", "a b c d")]);
        // Only the second document counts: tp 1, fp 0, fn 1.
        assert_eq!(s.precision, 1.0);
        assert_eq!(s.recall, 0.5);
        assert!((s.f1 - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn empty_prediction_has_zero_recall_and_no_precision_vote() {
        let d = DocScore::compare("a b c d e f", "");
        assert_eq!(
            d,
            DocScore {
                tp: 0,
                fp: 0,
                fn_: 3
            }
        );
        assert_eq!((d.precision(), d.recall()), (0.0, 0.0));
        let s = summarize(&[d]);
        assert_eq!((s.precision, s.recall, s.f1), (0.0, 0.0, 0.0));
    }

    #[test]
    fn multiset_counts_repeats() {
        // Truth has the shingle twice, prediction three times: one false positive.
        let d = DocScore::compare("x y z w x y z w", "x y z w x y z w x y z w");
        assert_eq!(d.tp, 5);
        assert_eq!(d.fp, 4);
        assert_eq!(d.fn_, 0);
        assert!((d.precision() - 5.0 / 9.0).abs() < 1e-12);
    }

    #[test]
    fn f1_is_from_means_not_mean_of_f1() {
        let a = DocScore {
            tp: 1,
            fp: 0,
            fn_: 9,
        }; // P 1.0, R 0.1
        let b = DocScore {
            tp: 1,
            fp: 9,
            fn_: 0,
        }; // P 0.1, R 1.0
        let s = summarize(&[a, b]);
        assert!((s.precision - 0.55).abs() < 1e-12);
        assert!((s.recall - 0.55).abs() < 1e-12);
        assert!((s.f1 - 0.55).abs() < 1e-12);
        assert!(s.f1 > (a.f1() + b.f1()) / 2.0);
        assert_eq!(s.share_f1_090, 0.0);
    }
}
