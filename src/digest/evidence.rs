//! Evidence as a reader sees it: the stored JSON of a match, read defensively, boiled down to
//! the matched terms per concept. An unknown shape shows what can be shown, never an error.

use serde_json::Value;

/// Matched terms of one concept, in the order first seen, without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConceptTerms {
    pub concept: String,
    pub terms: Vec<String>,
}

/// The concept name used when the evidence does not name one.
pub const UNNAMED: &str = "matched";
const MAX_RAW: usize = 120;

/// Reads stored evidence: `[{"concept": "nato", "matched": "NATO", …}, …]` in the classifier's
/// shape; also a list of strings, an object of concept → term(s), or anything else (shown raw,
/// shortened).
pub fn concept_terms(json: &str) -> Vec<ConceptTerms> {
    let mut out: Vec<ConceptTerms> = Vec::new();
    let mut add = |concept: &str, term: &str| {
        let term = term.trim();
        if term.is_empty() {
            return;
        }
        let concept = if concept.trim().is_empty() {
            UNNAMED
        } else {
            concept.trim()
        };
        match out.iter_mut().find(|c| c.concept == concept) {
            Some(c) => {
                if !c.terms.iter().any(|t| t == term) {
                    c.terms.push(term.to_string())
                }
            }
            None => out.push(ConceptTerms {
                concept: concept.to_string(),
                terms: vec![term.to_string()],
            }),
        }
    };
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Array(entries)) => {
            for e in &entries {
                match e {
                    Value::Object(o) => {
                        let concept = ["concept", "group", "name"]
                            .iter()
                            .find_map(|k| o.get(*k).and_then(Value::as_str))
                            .unwrap_or(UNNAMED);
                        let term = ["matched", "term", "text", "pattern"]
                            .iter()
                            .find_map(|k| o.get(*k).and_then(scalar));
                        match term {
                            Some(t) => add(concept, &t),
                            None => add(concept, &shorten(&Value::Object(o.clone()).to_string())),
                        }
                    }
                    other => {
                        if let Some(t) = scalar(other) {
                            add(UNNAMED, &t)
                        }
                    }
                }
            }
        }
        Ok(Value::Object(o)) => {
            for (k, v) in &o {
                match v {
                    Value::Array(a) => a.iter().filter_map(scalar).for_each(|t| add(k, &t)),
                    other => match scalar(other) {
                        Some(t) => add(k, &t),
                        None => add(k, &shorten(&other.to_string())),
                    },
                }
            }
        }
        Ok(Value::Null) => {}
        Ok(other) => {
            if let Some(t) = scalar(&other) {
                add(UNNAMED, &t)
            }
        }
        Err(_) => add(UNNAMED, &shorten(json)),
    }
    out
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn shorten(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(MAX_RAW) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Merges the evidence of several items (language versions of one story).
pub fn merge(all: impl IntoIterator<Item = Vec<ConceptTerms>>) -> Vec<ConceptTerms> {
    let mut out: Vec<ConceptTerms> = Vec::new();
    for list in all {
        for c in list {
            match out.iter_mut().find(|o| o.concept == c.concept) {
                Some(o) => {
                    for t in c.terms {
                        if !o.terms.contains(&t) {
                            o.terms.push(t)
                        }
                    }
                }
                None => out.push(c),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifier_shape_groups_terms_by_concept_without_repeats() {
        let json = r#"[{"concept":"nato","term":"NATO","matched":"NATO","offset":12,"snippet":"…"},
            {"concept":"cyber","term":"cyber*","matched":"cybersecurity","offset":40},
            {"concept":"nato","term":"NATO","matched":"NATO","offset":90},
            {"concept":"nato","term":"OTAN","matched":"OTAN","offset":99}]"#;
        assert_eq!(
            concept_terms(json),
            [
                ConceptTerms {
                    concept: "nato".into(),
                    terms: vec!["NATO".into(), "OTAN".into()]
                },
                ConceptTerms {
                    concept: "cyber".into(),
                    terms: vec!["cybersecurity".into()]
                },
            ]
        );
    }

    #[test]
    fn unknown_shapes_show_what_they_can() {
        assert_eq!(
            concept_terms(r#"["NATO", 2025]"#)[0].terms,
            ["NATO", "2025"]
        );
        let o = concept_terms(r#"{"eu": ["EU", "UE"], "score": 0.7}"#);
        assert_eq!(o[0].concept, "eu");
        assert_eq!(o[0].terms, ["EU", "UE"]);
        assert_eq!(o[1].terms, ["0.7"]);
        let raw = concept_terms("not json at all");
        assert_eq!(raw[0].terms, ["not json at all"]);
        let odd = concept_terms(r#"[{"concept":"x","weird":[1,2]}]"#);
        assert_eq!(odd[0].concept, "x");
        assert!(odd[0].terms[0].contains("weird"));
        assert!(concept_terms("[]").is_empty());
        assert!(concept_terms("null").is_empty());
        let long = "y".repeat(500);
        assert_eq!(
            concept_terms(&long)[0].terms[0].chars().count(),
            MAX_RAW + 1
        );
    }
}
