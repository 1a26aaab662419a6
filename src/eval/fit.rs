//! Fitting a topic's `[model]` weights on labelled items: L2-regularised logistic regression
//! (Newton's method) over the signals of [`crate::pipeline::classify::features`], and k-fold
//! cross-validation, whose figures predict how the fitted weights do on items they were not
//! fitted on.

use serde::Serialize;

use crate::pipeline::classify::features::{FEATURES, N_FEATURES};
use crate::pipeline::classify::model::{Model, sigmoid};

/// One labelled example: an item's signals for one topic and whether the topic is right for it.
#[derive(Debug, Clone, Copy)]
pub struct Example {
    pub x: [f64; N_FEATURES],
    pub y: bool,
}

/// How to fit.
#[derive(Debug, Clone, Copy)]
pub struct FitOptions {
    /// L2 penalty on the weights (not on the bias).
    pub l2: f64,
    /// How much a negative example weighs against a positive one (> 1 favours precision).
    pub negative_weight: f64,
}

impl Default for FitOptions {
    fn default() -> FitOptions {
        FitOptions {
            l2: 1.0,
            negative_weight: 1.0,
        }
    }
}

const DIM: usize = N_FEATURES + 1;
const ITERATIONS: usize = 50;

/// The weights that best separate `examples` (maximum penalised likelihood).
pub fn fit(examples: &[Example], options: &FitOptions) -> Model {
    let mut beta = [0.0f64; DIM];
    for _ in 0..ITERATIONS {
        // Gradient and Hessian of the penalised negative log-likelihood.
        let mut grad = [0.0f64; DIM];
        let mut hess = [[0.0f64; DIM]; DIM];
        for e in examples {
            let row = design_row(&e.x);
            let p = sigmoid(dot(&beta, &row));
            let w = if e.y { 1.0 } else { options.negative_weight };
            let y = if e.y { 1.0 } else { 0.0 };
            for i in 0..DIM {
                grad[i] += w * (p - y) * row[i];
                for j in 0..DIM {
                    hess[i][j] += w * p * (1.0 - p) * row[i] * row[j];
                }
            }
        }
        for i in 1..DIM {
            grad[i] += options.l2 * beta[i];
            hess[i][i] += options.l2;
        }
        // A little ridge on the bias too, so a separable set still gives a finite step.
        hess[0][0] += 1e-6;
        let Some(step) = solve(hess, grad) else {
            break;
        };
        let mut largest = 0.0f64;
        for i in 0..DIM {
            beta[i] -= step[i];
            largest = largest.max(step[i].abs());
        }
        if largest < 1e-9 {
            break;
        }
    }
    let mut weights = [0.0; N_FEATURES];
    weights.copy_from_slice(&beta[1..]);
    Model {
        bias: beta[0],
        weights,
    }
}

/// Counts at a threshold, and the rates they give.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Counts {
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
    pub true_negatives: usize,
}

impl Counts {
    pub fn add(&mut self, expected: bool, predicted: bool) {
        match (expected, predicted) {
            (true, true) => self.true_positives += 1,
            (false, true) => self.false_positives += 1,
            (true, false) => self.false_negatives += 1,
            (false, false) => self.true_negatives += 1,
        }
    }

    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    pub fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }

    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// k-fold cross-validation: each example is predicted by weights fitted on the other folds.
/// `fold_of[i]` gives example `i`'s fold (so every topic of one item shares a fold). Returns the
/// pooled counts and the held-out prediction of each example.
pub fn cross_validate(
    examples: &[Example],
    fold_of: &[usize],
    folds: usize,
    threshold: f64,
    options: &FitOptions,
) -> (Counts, Vec<bool>) {
    let mut counts = Counts::default();
    let mut predicted = vec![false; examples.len()];
    for k in 0..folds {
        let train: Vec<Example> = examples
            .iter()
            .zip(fold_of)
            .filter(|(_, f)| **f != k)
            .map(|(e, _)| *e)
            .collect();
        if train.is_empty() {
            continue;
        }
        let model = fit(&train, options);
        for (i, e) in examples
            .iter()
            .enumerate()
            .filter(|(i, _)| fold_of[*i] == k)
        {
            let p = sigmoid(dot_model(&model, &e.x)) >= threshold;
            predicted[i] = p;
            counts.add(e.y, p);
        }
    }
    (counts, predicted)
}

/// A stable fold for an item id (the same id always lands in the same fold).
pub fn fold_of(id: &str, folds: usize) -> usize {
    // FNV-1a: stable across runs and platforms, unlike the std hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % folds.max(1) as u64) as usize
}

/// The `[model]` table of a rule file for `model`, with a comment line on top.
pub fn model_table(model: &Model, comment: &str) -> String {
    let mut out = String::new();
    for line in comment.lines() {
        out.push_str(&format!("# {line}\n"));
    }
    out.push_str("[model]\n");
    out.push_str(&format!("bias = {:.3}\n", model.bias));
    for (name, w) in FEATURES.iter().zip(&model.weights) {
        out.push_str(&format!("{name} = {w:.3}\n"));
    }
    out
}

/// `text` (a rule file) with its `[model]` table (and the comment lines right above it)
/// replaced by `table`, or `table` inserted before the first `[concepts.` table.
pub fn replace_model_table(text: &str, table: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let header = |l: &str| l.trim_start().starts_with('[');
    let start = lines.iter().position(|l| l.trim() == "[model]");
    let (from, to) = match start {
        Some(s) => {
            let mut from = s;
            while from > 0 && lines[from - 1].starts_with('#') {
                from -= 1;
            }
            let to = lines[s + 1..]
                .iter()
                .position(|l| header(l))
                .map_or(lines.len(), |i| s + 1 + i);
            (from, to)
        }
        None => {
            let at = lines
                .iter()
                .position(|l| l.trim_start().starts_with("[concepts."))
                .unwrap_or(lines.len());
            (at, at)
        }
    };
    let mut out: Vec<String> = lines[..from].iter().map(|l| l.to_string()).collect();
    out.extend(table.lines().map(str::to_string));
    out.push(String::new());
    // Skip blank lines between the old table and what follows.
    let rest = lines[to..].iter().skip_while(|l| l.trim().is_empty());
    out.extend(rest.map(|l| l.to_string()));
    let mut joined = out.join("\n");
    joined.push('\n');
    joined
}

fn design_row(x: &[f64; N_FEATURES]) -> [f64; DIM] {
    let mut row = [1.0; DIM];
    row[1..].copy_from_slice(x);
    row
}

fn dot(a: &[f64; DIM], b: &[f64; DIM]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn dot_model(model: &Model, x: &[f64; N_FEATURES]) -> f64 {
    model.bias + model.weights.iter().zip(x).map(|(w, v)| w * v).sum::<f64>()
}

/// Solves `a · x = b` by Gaussian elimination with partial pivoting; `None` when singular.
fn solve(mut a: [[f64; DIM]; DIM], mut b: [f64; DIM]) -> Option<[f64; DIM]> {
    for col in 0..DIM {
        let pivot = (col..DIM).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..DIM {
            let f = a[row][col] / a[col][col];
            let (above, below) = a.split_at_mut(row);
            for (target, pivot) in below[0][col..].iter_mut().zip(&above[col][col..]) {
                *target -= f * pivot;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0; DIM];
    for row in (0..DIM).rev() {
        let s: f64 = (row + 1..DIM).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(signal: f64, y: bool) -> Example {
        let mut x = [0.0; N_FEATURES];
        x[0] = signal;
        Example { x, y }
    }

    #[test]
    fn fits_a_signal_that_separates_and_ignores_one_that_does_not() {
        let mut data = Vec::new();
        for i in 0..40 {
            let y = i % 2 == 0;
            let mut e = example(if y { 1.0 } else { 0.0 }, y);
            // Noise: the same value for both classes.
            e.x[1] = (i % 3) as f64 / 2.0;
            data.push(e);
        }
        let m = fit(&data, &FitOptions::default());
        assert!(m.weights[0] > 2.0, "{m:?}");
        assert!(m.weights[1].abs() < 0.5, "{m:?}");
        assert!(m.bias < 0.0, "{m:?}");
        let folds: Vec<usize> = (0..data.len()).map(|i| i % 5).collect();
        let (c, _) = cross_validate(&data, &folds, 5, 0.5, &FitOptions::default());
        assert_eq!(c.f1(), 1.0, "{c:?}");
    }

    #[test]
    fn negative_weight_trades_recall_for_precision() {
        // Positives and negatives overlap at signal 0.5.
        let mut data = Vec::new();
        for _ in 0..10 {
            data.push(example(1.0, true));
            data.push(example(0.5, true));
            data.push(example(0.5, false));
            data.push(example(0.0, false));
        }
        let lenient = fit(&data, &FitOptions::default());
        let strict = fit(
            &data,
            &FitOptions {
                negative_weight: 3.0,
                ..FitOptions::default()
            },
        );
        let at = |m: &Model| sigmoid(dot_model(m, &example(0.5, true).x));
        assert!(at(&strict) < at(&lenient));
        assert!(at(&strict) < 0.5);
    }

    #[test]
    fn model_table_replaces_the_old_one_and_keeps_the_rest() {
        let text =
            "threshold = 0.5\n\n# old\n[model]\nbias = 1\n\n[concepts.a]\nrole = \"required\"\n";
        let table = model_table(&Model::default(), "fitted");
        let out = replace_model_table(text, &table);
        let bias = format!("bias = {:.3}\n", Model::default().bias);
        assert!(
            out.starts_with(&format!("threshold = 0.5\n\n# fitted\n[model]\n{bias}")),
            "{out}"
        );
        assert!(!out.contains("# old"));
        assert!(
            out.contains("\n\n[concepts.a]\nrole = \"required\"\n"),
            "{out}"
        );
        // No table yet: inserted before the concepts.
        let out = replace_model_table("threshold = 0.5\n[concepts.a]\n", &table);
        assert!(out.contains("# fitted\n[model]\n"), "{out}");
        assert!(out.find("[model]") < out.find("[concepts.a]"));
        assert_eq!(replace_model_table(&out, &table), out);
    }

    #[test]
    fn folds_are_stable() {
        assert_eq!(fold_of("pl-t03", 10), fold_of("pl-t03", 10));
        let spread: std::collections::BTreeSet<usize> =
            (0..100).map(|i| fold_of(&format!("x{i}"), 10)).collect();
        assert_eq!(spread.len(), 10);
    }
}
