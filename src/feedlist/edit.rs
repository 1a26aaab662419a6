//! Editing the `[[feeds]]` of a configuration file as text, so that everything else in it —
//! comments, blank lines, order, other tables — stays as the person wrote it (toml_edit).

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, value};

use super::NewFeed;

/// Why the file could not be edited.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum EditError {
    #[error("the configuration is not valid TOML: {0}")]
    Parse(String),
    #[error("no feed named {name:?} in the configuration (feeds: {known})")]
    NoSuchFeed { name: String, known: String },
}

/// The `[[feeds]]` tables of `text`, as written.
fn feed_count(text: &str) -> Option<usize> {
    let doc = text.parse::<DocumentMut>().ok()?;
    Some(
        doc.get("feeds")
            .and_then(Item::as_array_of_tables)
            .map_or(0, ArrayOfTables::len),
    )
}

/// One `[[feeds]]` table as TOML text, with the feed's title as a comment above it.
fn render(f: &NewFeed) -> String {
    let mut t = Table::new();
    t["name"] = value(&f.name);
    t["url"] = value(&f.url);
    if let Some(e) = &f.every {
        t["every"] = value(e);
    }
    if let Some(l) = &f.language {
        t["language"] = value(l);
    }
    if let Some(c) = &f.category {
        t["category"] = value(c);
    }
    let mut aot = ArrayOfTables::new();
    aot.push(t);
    let mut doc = DocumentMut::new();
    doc.insert("feeds", Item::ArrayOfTables(aot));
    let mut out = String::new();
    if let Some(title) = f.title.as_deref().map(one_line).filter(|t| !t.is_empty()) {
        out.push_str("# ");
        out.push_str(&title);
        out.push('\n');
    }
    out.push_str(&doc.to_string());
    out
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether a line opens a table of the feed list (`[[feeds]]`, `[feeds.html]`, …).
fn feeds_header(line: &str) -> bool {
    let bare: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    bare.starts_with("[[feeds]]") || bare.starts_with("[feeds.") || bare.starts_with("[[feeds.")
}

/// Where new feeds go: after the last feed's table (and its `[feeds.…]` sub-tables), before the
/// comments that open the next section; the end of the file when it has no feed.
fn insertion_point(text: &str) -> usize {
    let mut lines: Vec<(usize, &str)> = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        lines.push((at, line));
        at += line.len();
    }
    let is_header = |l: &str| l.trim_start().starts_with('[');
    let Some(last_feed) = lines.iter().rposition(|(_, l)| feeds_header(l)) else {
        return text.len();
    };
    let Some(next) = lines
        .iter()
        .skip(last_feed + 1)
        .position(|(_, l)| is_header(l) && !feeds_header(l))
        .map(|p| p + last_feed + 1)
    else {
        return text.len();
    };
    let mut j = next;
    while j > last_feed + 1 {
        let l = lines[j - 1].1.trim();
        if l.is_empty() || l.starts_with('#') {
            j -= 1;
        } else {
            break;
        }
    }
    lines[j].0
}

/// `text` with a `[[feeds]]` table for each of `feeds`, placed after the last feed already there
/// (else at the end); nothing else in the file changes.
pub fn add(text: &str, feeds: &[NewFeed]) -> Result<String, EditError> {
    let before = feed_count(text).ok_or_else(|| parse_error(text))?;
    let tables: Vec<String> = feeds.iter().map(render).collect();
    let block = tables.join("\n");
    let splice = |at: usize| {
        let (head, tail) = text.split_at(at);
        let mut out = String::with_capacity(text.len() + block.len() + 4);
        out.push_str(head);
        if !head.is_empty() && !head.ends_with('\n') {
            out.push('\n');
        }
        if !head.is_empty() && !head.ends_with("\n\n") {
            out.push('\n');
        }
        out.push_str(&block);
        if !tail.is_empty() && !tail.starts_with('\n') {
            out.push('\n');
        }
        out.push_str(tail);
        out
    };
    let placed = splice(insertion_point(text));
    if feed_count(&placed) == Some(before + feeds.len()) {
        return Ok(placed);
    }
    // A layout the scan misread (a header-like line inside a multi-line string): at the end.
    Ok(splice(text.len()))
}

/// `text` without the feed named `name` (its table, its sub-tables and the comment lines right
/// above its header). Comments above it that a blank line separates from it (a section's
/// heading) stay, above the next feed.
pub fn remove(text: &str, name: &str) -> Result<String, EditError> {
    let mut doc = text
        .parse::<DocumentMut>()
        .map_err(|e| EditError::Parse(e.to_string()))?;
    let names = |aot: &ArrayOfTables| -> Vec<String> {
        aot.iter()
            .filter_map(|t| t.get("name").and_then(Item::as_str).map(str::to_string))
            .collect()
    };
    let Some(aot) = doc.get_mut("feeds").and_then(Item::as_array_of_tables_mut) else {
        return Err(EditError::NoSuchFeed {
            name: name.into(),
            known: "none".into(),
        });
    };
    let all = names(aot);
    let Some(i) = aot
        .iter()
        .position(|t| t.get("name").and_then(Item::as_str) == Some(name))
    else {
        return Err(EditError::NoSuchFeed {
            name: name.into(),
            known: all.join(", "),
        });
    };
    let removed = aot.remove(i);
    let prefix = removed
        .decor()
        .prefix()
        .and_then(|p| p.as_str())
        .unwrap_or("")
        .to_string();
    let section = section_part(&prefix);
    if !section.trim().is_empty()
        && let Some(next) = aot.get_mut(i)
    {
        let own = next
            .decor()
            .prefix()
            .and_then(|p| p.as_str())
            .unwrap_or("")
            .trim_start_matches('\n')
            .to_string();
        next.decor_mut().set_prefix(format!("{section}{own}"));
    }
    Ok(doc.to_string())
}

/// The part of a table's leading decor that is not the table's own comment: everything up to
/// the last blank line (the comment lines right above a header belong to it).
fn section_part(prefix: &str) -> String {
    let lines: Vec<&str> = prefix.split_inclusive('\n').collect();
    match lines.iter().rposition(|l| l.trim().is_empty()) {
        Some(blank) => lines[..=blank].concat(),
        None => String::new(),
    }
}

fn parse_error(text: &str) -> EditError {
    match text.parse::<DocumentMut>() {
        Err(e) => EditError::Parse(e.to_string()),
        Ok(_) => EditError::Parse("unreadable".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# veille — my configuration\n\n[storage]\ndatabase = \"v.db\" # beside me\n\n\
        # ---- Feeds ----\n# one table per feed\n\n# the EEAS press feed\n[[feeds]]\nname = \"eeas\"\nurl = \"https://x.eu/eeas.xml\"\n\n\
        [[feeds]]\nname = \"listing\"\nurl = \"https://x.eu/news\"\nkind = \"html\"\n[feeds.html]\nitem = \"li\" # each row\n\n\
        # ---- Mail ----\n[mail]\ntransport = \"outbox\"\n";

    fn feed(name: &str) -> NewFeed {
        NewFeed {
            name: name.into(),
            url: format!("https://new.example/{name}.xml"),
            every: Some("30m".into()),
            language: Some("fr".into()),
            category: Some("Agences \"UE\"".into()),
            title: Some("Le fil\nde l'agence".into()),
        }
    }

    #[test]
    fn added_feeds_go_after_the_last_feed_and_nothing_else_moves() {
        let out = add(FILE, &[feed("a"), feed("b")]).unwrap();
        let expected_block = "# Le fil de l'agence\n[[feeds]]\nname = \"a\"\nurl = \"https://new.example/a.xml\"\nevery = \"30m\"\nlanguage = \"fr\"\ncategory = 'Agences \"UE\"'\n";
        assert!(out.contains(expected_block), "{out}");
        let at = FILE.find("# ---- Mail").unwrap();
        assert!(out.starts_with(&FILE[..at]), "{out}");
        assert!(out.ends_with(&FILE[at..]), "{out}");
        assert!(out.find("name = \"b\"").unwrap() < out.find("# ---- Mail").unwrap());
        let doc: DocumentMut = out.parse().unwrap();
        let feeds = doc["feeds"].as_array_of_tables().unwrap();
        assert_eq!(feeds.len(), 4);
        assert_eq!(feeds.get(1).unwrap()["html"]["item"].as_str(), Some("li"));
        assert_eq!(
            feeds.get(3).unwrap()["category"].as_str(),
            Some("Agences \"UE\"")
        );
    }

    #[test]
    fn a_file_without_feeds_gets_them_at_the_end() {
        let out = add("[storage]\ndatabase = \"v.db\"", &[feed("a")]).unwrap();
        assert!(
            out.starts_with("[storage]\ndatabase = \"v.db\"\n\n# Le fil"),
            "{out}"
        );
        assert_eq!(feed_count(&out), Some(1));
        let out = add("", &[feed("a")]).unwrap();
        assert!(out.starts_with("# Le fil"), "{out}");
    }

    #[test]
    fn a_header_like_line_in_a_string_does_not_misplace_the_feed() {
        let text = "[[feeds]]\nname = \"a\"\nurl = \"https://x.eu/a\"\n[mail]\nfrom = '''\n[[feeds]]\n'''\n";
        let out = add(text, &[feed("b")]).unwrap();
        assert_eq!(feed_count(&out), Some(2), "{out}");
        let doc: DocumentMut = out.parse().unwrap();
        assert_eq!(doc["mail"]["from"].as_str(), Some("[[feeds]]\n"));
    }

    #[test]
    fn removing_a_feed_takes_its_own_comment_and_keeps_the_section_heading() {
        let out = remove(FILE, "eeas").unwrap();
        assert!(
            !out.contains("eeas") && !out.contains("the EEAS press feed"),
            "{out}"
        );
        assert!(
            out.contains(
                "# ---- Feeds ----\n# one table per feed\n\n[[feeds]]\nname = \"listing\""
            ),
            "{out}"
        );
        assert!(out.starts_with(
            "# veille — my configuration\n\n[storage]\ndatabase = \"v.db\" # beside me\n"
        ));
        assert!(
            out.ends_with("# ---- Mail ----\n[mail]\ntransport = \"outbox\"\n"),
            "{out}"
        );
        let out = remove(FILE, "listing").unwrap();
        assert!(
            !out.contains("[feeds.html]") && !out.contains("listing"),
            "{out}"
        );
        assert_eq!(feed_count(&out), Some(1));
        assert_eq!(
            remove(FILE, "nope"),
            Err(EditError::NoSuchFeed {
                name: "nope".into(),
                known: "eeas, listing".into()
            })
        );
    }
}
