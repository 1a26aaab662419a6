//! How a topic's signals ([`Features`]) combine into a score: a logistic model,
//! `score = 1 / (1 + e^−(bias + Σ weight × signal))`, whose weights are data (the `[model]`
//! table of a rule file, fitted on labelled items by `veille fit`) so that every score can be
//! explained as the sum of its signals' contributions.

use serde::Serialize;

use super::features::{FEATURES, Features, N_FEATURES};

/// The weights of one topic's model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Model {
    pub bias: f64,
    pub weights: [f64; N_FEATURES],
}

/// One signal's part in a score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contribution {
    /// The signal's name, as in the `[model]` table.
    pub signal: &'static str,
    /// Its value for this item, in [0, 1].
    pub value: f64,
    /// value × weight: what it adds to (or takes from) the log-odds.
    pub contribution: f64,
}

/// The weights used when a rule file has no `[model]` table (or leaves a signal out): one model
/// fitted by `veille fit --joint` on both shipped topics' labelled corpora together, so they
/// suit any topic built the same way (a pair of sides, a subject, cooperation words, other
/// parties and subjects). The shipped rule files carry the same weights.
pub const DEFAULT: Model = Model {
    bias: -7.766,
    weights: [
        2.329,  // title
        0.422,  // head
        2.427,  // sentence
        1.376,  // window
        4.267,  // repeat
        1.565,  // pair_head
        0.277,  // pair
        0.244,  // cooperation
        2.590,  // head_cooperation
        -0.475, // pair_subject
        0.724,  // subject_head
        -2.823, // subject_share
        0.806,  // partner_share
        1.721,  // side_share
        -0.543, // exclude_head
        -2.304, // exclude_share
        -1.311, // exclude_pair
        -2.862, // off_topic_title
        -3.257, // off_topic_share
        -3.400, // partner_once
        -2.580, // subject_once
    ],
};

impl Default for Model {
    fn default() -> Model {
        DEFAULT
    }
}

impl Model {
    /// Sets `bias` or one signal's weight by name; the error lists the known names.
    pub fn set(&mut self, key: &str, value: f64) -> Result<(), String> {
        if !value.is_finite() || value.abs() > 100.0 {
            return Err(format!(
                "[model] {key} = {value}: a weight must be a number between -100 and 100"
            ));
        }
        if key == "bias" {
            self.bias = value;
            return Ok(());
        }
        match FEATURES.iter().position(|f| *f == key) {
            Some(i) => {
                self.weights[i] = value;
                Ok(())
            }
            None => Err(format!(
                "unknown signal `{key}` in [model]; expected bias or one of {}",
                FEATURES.join(", ")
            )),
        }
    }

    /// The log-odds of `features`.
    pub fn logit(&self, features: &Features) -> f64 {
        self.bias
            + features
                .values
                .iter()
                .zip(&self.weights)
                .map(|(v, w)| v * w)
                .sum::<f64>()
    }

    /// The score of `features`, in [0, 1].
    pub fn score(&self, features: &Features) -> f64 {
        sigmoid(self.logit(features))
    }

    /// Every signal that moved the score, largest part first.
    pub fn explain(&self, features: &Features) -> Vec<Contribution> {
        let mut parts: Vec<Contribution> = FEATURES
            .iter()
            .zip(features.values.iter().zip(&self.weights))
            .filter(|(_, (v, w))| **v != 0.0 && **w != 0.0)
            .map(|(name, (v, w))| Contribution {
                signal: name,
                value: round3(*v),
                contribution: round3(v * w),
            })
            .collect();
        parts.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
        parts
    }
}

pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
