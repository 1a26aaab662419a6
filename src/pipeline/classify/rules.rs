//! Topic rule files (`config/topics/<topic>.toml`) → compiled rules, with errors that name the
//! file, the line and the key. The file format is documented in the header of each shipped file
//! and in `docs/rules.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_spanned::Spanned;

use super::fold::{fold_str, is_word};
use super::model::Model;
use crate::config::{ConfigError, located};

/// Language keys a concept's `terms` table accepts: the 24 official EU languages and `any`.
pub const LANGUAGES: [&str; 25] = [
    "any", "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu", "it",
    "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv",
];

/// What a concept does in its topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// One of the pieces an item must bring together (a side, the subject).
    Required,
    /// A weaker way of naming a required concept (`of`): "Brussels" for the EU, "Washington"
    /// for the United States; each hit counts `weight` of a full mention.
    Alias,
    /// Names both `pair` concepts at once ("the two sides"), once both were named before.
    Both,
    /// Words that make a co-occurrence more telling (cooperation, dialogue).
    Boost,
    /// Another party than the two sides (another partner, a member state).
    Exclude,
    /// Another subject than the topic's (trade, energy, space).
    OffTopic,
    /// Text it matches hides the other concepts' matches inside it.
    Mask,
    /// A line starting with it starts page furniture: the rest of the text is ignored.
    Boilerplate,
}

impl Role {
    fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "required" => Role::Required,
            "alias" => Role::Alias,
            "both" => Role::Both,
            "boost" => Role::Boost,
            "exclude" => Role::Exclude,
            "off_topic" => Role::OffTopic,
            "mask" => Role::Mask,
            "boilerplate" => Role::Boilerplate,
            _ => return None,
        })
    }
}

/// One term as compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// As written in the file, markers included (`=US`, `cyber*`).
    pub written: String,
    /// Folded form searched for: the whole term, or its words up to the first inner `*`.
    pub folded: String,
    /// `*` after the searched form: its last word may go on (`kyber*` finds `kybernetické`).
    pub prefix: bool,
    /// Words that must follow the searched form (after spaces or hyphens), each with its own
    /// `*` flag: `evropsk* uni*` finds `Evropské unie` and `evropskou unií`.
    pub rest: Vec<(String, bool)>,
    /// `=` prefix: the original text of the searched form must read exactly this.
    pub exact_case: Option<String>,
    /// The `terms` key it was listed under (one of [`LANGUAGES`]; shared, not one string per
    /// term: the rules hold some 18,000 terms).
    pub language: &'static str,
}

#[derive(Debug, Clone)]
pub struct Concept {
    pub name: String,
    pub role: Role,
    /// How much one hit counts: 1 for required concepts, `weight` for an alias.
    pub strength: f64,
    /// For an alias: the required concept it names.
    pub of: Option<usize>,
    pub terms: Vec<Term>,
}

/// One topic's compiled rules.
#[derive(Debug, Clone)]
pub struct Topic {
    pub id: String,
    pub name: String,
    /// The score (a probability) at which the topic matches.
    pub threshold: f64,
    /// The two sides of the cooperation (e.g. the EU and NATO), as required concepts …
    pub pair: Option<(usize, usize)>,
    /// … said together when within this many words ("EU–NATO", "the EU and NATO").
    pub pair_distance: usize,
    /// How the signals combine into a score.
    pub model: Model,
    pub concepts: Vec<Concept>,
    pub path: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopic {
    name: Option<String>,
    #[allow(dead_code)]
    description: Option<String>,
    threshold: Spanned<f64>,
    pair: Option<Spanned<Vec<String>>>,
    pair_distance: Option<usize>,
    model: Option<Spanned<BTreeMap<Spanned<String>, Spanned<f64>>>>,
    concepts: Spanned<BTreeMap<Spanned<String>, RawConcept>>,
    // Keys of the former unit scoring, refused with a note on what replaced them.
    window: Option<Spanned<toml::Value>>,
    pair_weight: Option<Spanned<toml::Value>>,
    weights: Option<Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConcept {
    role: Spanned<String>,
    weight: Option<Spanned<f64>>,
    of: Option<Spanned<String>>,
    once_weight: Option<Spanned<toml::Value>>,
    #[allow(dead_code)]
    description: Option<String>,
    terms: BTreeMap<Spanned<String>, Vec<Spanned<String>>>,
}

/// What replaced the keys of the former scoring, for the error that refuses them.
const RETIRED: &str = "is no longer used: the score now combines the signals listed under \
                       [model] (see the header of the shipped rule files); remove this key";

/// Compiles one rule file's text; `path` names it in errors and its stem is the topic id.
pub fn parse_topic(text: &str, path: &Path) -> Result<Topic, ConfigError> {
    let raw: RawTopic = toml::from_str(text).map_err(|e| {
        let at = e.span().map(|s| s.start);
        located(path, text, at, e.message().to_string())
    })?;
    let err = |at: usize, msg: String| located(path, text, Some(at), msg);
    let id = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let threshold = *raw.threshold.get_ref();
    if !(threshold > 0.0 && threshold <= 1.0) {
        return Err(err(
            raw.threshold.span().start,
            format!("threshold must be in (0, 1], got {threshold}"),
        ));
    }
    for (key, value) in [
        ("window", &raw.window),
        ("pair_weight", &raw.pair_weight),
        ("weights", &raw.weights),
    ] {
        if let Some(v) = value {
            return Err(err(v.span().start, format!("`{key}` {RETIRED}")));
        }
    }
    // Every vector below is built at its exact size: the rules stay resident for the life of
    // the process, and growth by doubling would leave up to half of each unused.
    let mut concepts = Vec::with_capacity(raw.concepts.get_ref().len());
    // Alias targets, resolved once every concept is known.
    let mut aliases: Vec<(usize, &Spanned<String>)> = Vec::new();
    for (name, rc) in raw.concepts.get_ref() {
        let role = Role::parse(rc.role.get_ref()).ok_or_else(|| {
            err(
                rc.role.span().start,
                format!(
                    "unknown role `{}` for concept `{}`; expected one of required, alias, both, \
                     boost, exclude, off_topic, mask, boilerplate",
                    rc.role.get_ref(),
                    name.get_ref()
                ),
            )
        })?;
        if let Some(w) = &rc.once_weight {
            return Err(err(w.span().start, format!("`once_weight` {RETIRED}")));
        }
        let strength = match &rc.weight {
            Some(w) if role != Role::Alias => {
                return Err(err(
                    w.span().start,
                    format!(
                        "`weight` is only for an alias (how much one of its hits counts); \
                         concept `{}` is {}; its weight is fitted under [model]",
                        name.get_ref(),
                        rc.role.get_ref()
                    ),
                ));
            }
            Some(w) if !(0.0..=1.0).contains(w.get_ref()) => {
                return Err(err(
                    w.span().start,
                    format!("weight must be in [0, 1], got {}", w.get_ref()),
                ));
            }
            Some(w) => *w.get_ref(),
            None if role == Role::Alias => 0.5,
            None => 1.0,
        };
        match (&rc.of, role) {
            (Some(of), Role::Alias) => aliases.push((concepts.len(), of)),
            (None, Role::Alias) => {
                return Err(err(
                    name.span().start,
                    format!(
                        "alias `{}` needs `of = \"<required concept>\"`: the concept it names",
                        name.get_ref()
                    ),
                ));
            }
            (Some(of), _) => {
                return Err(err(
                    of.span().start,
                    format!(
                        "`of` is only for role = \"alias\"; concept `{}` is {}",
                        name.get_ref(),
                        rc.role.get_ref()
                    ),
                ));
            }
            (None, _) => {}
        }
        let mut terms = Vec::with_capacity(rc.terms.values().map(Vec::len).sum());
        for (lang, list) in &rc.terms {
            let Some(&language) = LANGUAGES.iter().find(|l| **l == lang.get_ref().as_str()) else {
                return Err(err(
                    lang.span().start,
                    format!(
                        "unknown language `{}`; expected `any` or one of the 24 EU language \
                         codes (bg, cs, da, …)",
                        lang.get_ref()
                    ),
                ));
            };
            for t in list {
                let term =
                    compile_term(t.get_ref(), language).map_err(|m| err(t.span().start, m))?;
                terms.push(term);
            }
        }
        if terms.is_empty() {
            return Err(err(
                name.span().start,
                format!("concept `{}` has no terms", name.get_ref()),
            ));
        }
        concepts.push(Concept {
            name: name.get_ref().clone(),
            role,
            strength,
            of: None,
            terms,
        });
    }
    for (at, of) in aliases {
        let target = concepts
            .iter()
            .position(|c| c.name == *of.get_ref() && c.role == Role::Required)
            .ok_or_else(|| {
                err(
                    of.span().start,
                    format!(
                        "`of = \"{}\"` must name a concept with role = \"required\"",
                        of.get_ref()
                    ),
                )
            })?;
        concepts[at].of = Some(target);
    }
    if !concepts.iter().any(|c| c.role == Role::Required) {
        return Err(err(
            raw.concepts.span().start,
            "no concept has role = \"required\"; a topic needs at least one".into(),
        ));
    }
    let pair = match &raw.pair {
        None => None,
        Some(p) => {
            let names = p.get_ref();
            let find = |n: &str| {
                concepts
                    .iter()
                    .position(|c| c.name == n && c.role == Role::Required)
            };
            match names.as_slice() {
                [a, b] => match (find(a), find(b)) {
                    (Some(a), Some(b)) if a != b => Some((a, b)),
                    _ => {
                        return Err(err(
                            p.span().start,
                            format!("pair {names:?} must name two different required concepts"),
                        ));
                    }
                },
                _ => {
                    return Err(err(
                        p.span().start,
                        "pair must name exactly two concepts".into(),
                    ));
                }
            }
        }
    };
    if pair.is_none()
        && let Some(c) = concepts.iter().find(|c| c.role == Role::Both)
    {
        return Err(err(
            raw.concepts.span().start,
            format!(
                "concept `{}` has role = \"both\" (it names the two sides of `pair`), but the \
                 topic has no `pair`",
                c.name
            ),
        ));
    }
    let mut model = Model::default();
    if let Some(table) = &raw.model {
        for (key, value) in table.get_ref() {
            model
                .set(key.get_ref(), *value.get_ref())
                .map_err(|m| err(key.span().start, m))?;
        }
    }
    Ok(Topic {
        name: raw.name.unwrap_or_else(|| id.clone()),
        id,
        threshold,
        pair,
        pair_distance: raw.pair_distance.unwrap_or(4),
        model,
        concepts,
        path: path.to_path_buf(),
    })
}

/// `=` prefix → case-sensitive; `*` ending a word → prefix match of that word.
fn compile_term(written: &str, language: &'static str) -> Result<Term, String> {
    if written.contains('\0') {
        return Err(format!(
            "term `{}` holds a NUL character (it would end a key of the term trie early); remove it",
            written.escape_debug()
        ));
    }
    let mut t = written.trim();
    let exact = t.starts_with('=');
    if exact {
        t = &t[1..];
    }
    let words: Vec<&str> = t.split_whitespace().collect();
    let mut head: Vec<&str> = Vec::new();
    let mut prefix = false;
    let mut rest = Vec::new();
    for w in &words {
        let starred = w.ends_with('*');
        let bare = w.trim_end_matches('*');
        if bare.contains('*') || bare.is_empty() {
            return Err(format!(
                "term `{written}`: `*` may only end a word (prefix match)"
            ));
        }
        if prefix {
            rest.push((exact_size(fold_str(bare)), starred));
        } else {
            head.push(bare);
            prefix = starred;
        }
    }
    let folded = exact_size(fold_str(&head.join(" ")));
    if !folded.chars().next().is_some_and(is_word) {
        return Err(format!(
            "term `{written}` must start with a letter or digit"
        ));
    }
    if rest.iter().any(|(w, _)| w.is_empty()) {
        return Err(format!("term `{written}` has an empty word"));
    }
    rest.shrink_to_fit();
    Ok(Term {
        written: written.to_string(),
        folded,
        prefix,
        rest,
        exact_case: exact.then(|| head.join(" ")),
        language,
    })
}

/// `s` without its spare capacity: folding grows its output as it goes, and a compiled term
/// keeps its strings for the life of the process.
fn exact_size(mut s: String) -> String {
    s.shrink_to_fit();
    s
}

/// The topic rule files of `dir` (`*.toml`, by name), read and compiled.
pub fn load_dir(dir: &Path) -> Result<Vec<Topic>, ConfigError> {
    let read_err = |path: &Path, e: std::io::Error| ConfigError {
        path: path.to_path_buf(),
        line: None,
        column: None,
        key: None,
        message: format!("cannot read topic rules: {e}"),
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| read_err(dir, e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(ConfigError {
            path: dir.to_path_buf(),
            line: None,
            column: None,
            key: None,
            message: "no topic rule files (*.toml) in this directory".into(),
        });
    }
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).map_err(|e| read_err(p, e))?;
            parse_topic(&text, p)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Topic, ConfigError> {
        parse_topic(text, Path::new("topics/t.toml"))
    }

    #[test]
    fn terms_markers_and_defaults() {
        let t = parse(
            "threshold = 0.5\n[concepts.a]\nrole = \"required\"\nterms.en = [\"=US\", \"Cyber*\"]\n",
        )
        .unwrap();
        assert_eq!(t.id, "t");
        let terms = &t.concepts[0].terms;
        assert_eq!(terms[0].exact_case.as_deref(), Some("US"));
        assert_eq!(terms[0].folded, "us");
        assert!(terms[1].prefix);
        assert_eq!(terms[1].folded, "cyber");
        assert_eq!(t.model, Model::default());
        let t = parse(
            "threshold = 0.5\n[concepts.a]\nrole = \"required\"\nterms.cs = [\"Evropsk* uni*\"]\n",
        )
        .unwrap();
        let term = &t.concepts[0].terms[0];
        assert_eq!(term.folded, "evropsk");
        assert!(term.prefix);
        assert_eq!(term.rest, [("uni".to_string(), true)]);
    }

    #[test]
    fn errors_name_line_and_key() {
        let e = parse("threshold = 0.5\n[concepts.a]\nrole = \"required\"\nterm = [\"x\"]\n")
            .unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.to_string().contains("topics/t.toml:4"), "{e}");
        let e = parse("threshold = 0.5\n[concepts.a]\nrole = \"needed\"\nterms.en = [\"x\"]\n")
            .unwrap_err();
        assert_eq!(e.line, Some(3));
        assert_eq!(e.key.as_deref(), Some("role"));
        let e = parse("threshold = 0.5\n[concepts.a]\nrole = \"required\"\nterms.xx = [\"x\"]\n")
            .unwrap_err();
        assert!(e.message.contains("unknown language `xx`"), "{e}");
        let e = parse("threshold = 0.5\n[concepts.a]\nrole = \"required\"\nterms.en = [\"c*y\"]\n")
            .unwrap_err();
        assert_eq!(e.line, Some(4));
        let e = parse("threshold = 2\n[concepts.a]\nrole = \"boost\"\nterms.en = [\"x\"]\n")
            .unwrap_err();
        assert_eq!(e.key.as_deref(), Some("threshold"));
        let e = parse("threshold = 0.5\n[concepts.a]\nrole = \"boost\"\nterms.en = [\"x\"]\n")
            .unwrap_err();
        assert!(e.message.contains("required"), "{e}");
    }

    #[test]
    fn aliases_both_and_model() {
        let t = parse(
            "threshold = 0.5\npair = [\"a\", \"b\"]\n[model]\nbias = -2\ntitle = 3\n\
             [concepts.a]\nrole = \"required\"\nterms.en = [\"x\"]\n\
             [concepts.b]\nrole = \"required\"\nterms.en = [\"y\"]\n\
             [concepts.b_place]\nrole = \"alias\"\nof = \"b\"\nweight = 0.4\nterms.en = [\"z\"]\n\
             [concepts.two]\nrole = \"both\"\nterms.en = [\"the two sides\"]\n",
        )
        .unwrap();
        assert_eq!(t.model.bias, -2.0);
        assert_eq!(t.model.weights[0], 3.0);
        assert_eq!(t.model.weights[1], Model::default().weights[1]);
        let alias = t.concepts.iter().find(|c| c.name == "b_place").unwrap();
        assert_eq!(alias.role, Role::Alias);
        assert_eq!(alias.strength, 0.4);
        assert_eq!(t.concepts[alias.of.unwrap()].name, "b");
        let base = "threshold = 0.5\n[concepts.a]\nrole = \"required\"\nterms.en = [\"x\"]\n";
        // An alias of nothing, of a non-required concept, a weight on a required concept.
        let e = parse(&format!(
            "{base}[concepts.p]\nrole = \"alias\"\nterms.en = [\"z\"]\n"
        ))
        .unwrap_err();
        assert!(e.message.contains("needs `of"), "{e}");
        let e = parse(&format!(
            "{base}[concepts.p]\nrole = \"alias\"\nof = \"nope\"\nterms.en = [\"z\"]\n"
        ))
        .unwrap_err();
        assert!(e.message.contains("`of = \"nope\"`"), "{e}");
        let e = parse(
            "threshold = 0.5\n[concepts.a]\nrole = \"required\"\nweight = 0.3\nterms.en = [\"x\"]\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
        // `both` without a pair; an unknown signal; a retired key.
        let e = parse(&format!(
            "{base}[concepts.t]\nrole = \"both\"\nterms.en = [\"z\"]\n"
        ))
        .unwrap_err();
        assert!(e.message.contains("no `pair`"), "{e}");
        let e = parse(&format!("{base}[model]\nheadline = 1\n")).unwrap_err();
        assert!(e.message.contains("unknown signal `headline`"), "{e}");
        let e = parse(&format!("window = 30\n{base}")).unwrap_err();
        assert!(e.message.contains("no longer used"), "{e}");
        assert_eq!(e.line, Some(1));
    }
}
