//! Lenient recovery of feed XML that a strict parser refuses or misreads, the way lenient feed
//! readers recover it: a stray `&` is escaped, an unclosed CDATA section is closed at its
//! element's end, characters XML forbids are dropped, end tags are balanced (a truncated document
//! is closed), and the feed element is found and normalised (inside an HTML wrapper, `<rss>`
//! without a version or without `<channel>`, RSS or Atom elements in an unexpected namespace).
//!
//! Pure and only run on documents the strict parse failed on ([`super::parse`]): well-formed
//! feeds never pay for it. The result says what was fixed, for the warning kept on the feed.

use std::fmt;

/// The namespace of Atom 1.0.
const ATOM: &str = "http://www.w3.org/2005/Atom";
/// The namespace of RSS 1.0 (RDF).
const RSS1: &str = "http://purl.org/rss/1.0/";
/// Marks an open element whose tags are not written out (the RDF `<channel>`).
const HIDDEN: char = '\u{0}';

/// A repaired document and what was changed in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Repaired {
    pub text: String,
    pub fixes: Fixes,
}

/// What [`repair`] changed, by kind. Empty when the document needed nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fixes {
    /// `&` that began no entity or character reference, escaped.
    pub ampersands: usize,
    /// `<` that began no markup, escaped.
    pub less_thans: usize,
    /// CDATA sections without `]]>`, closed at their element's end.
    pub cdata: usize,
    /// Characters XML forbids (control characters, U+FFFE/U+FFFF, references to them), dropped.
    pub invalid_chars: usize,
    /// End tags without a matching start tag, dropped, or elements closed by an outer end tag.
    pub unbalanced_tags: usize,
    /// Elements still open at the end of the document (it was cut short), closed.
    pub unclosed_at_end: usize,
    /// Changes to the feed element itself, in words (`<rss> without a version read as RSS 2.0`).
    pub structure: Vec<String>,
}

impl Fixes {
    pub fn is_empty(&self) -> bool {
        *self == Fixes::default()
    }
}

impl fmt::Display for Fixes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        let mut count = |n: usize, what: &str| {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        };
        count(self.ampersands, "unescaped '&' escaped");
        count(self.less_thans, "unescaped '<' escaped");
        count(self.cdata, "unclosed CDATA section(s) closed");
        count(self.invalid_chars, "invalid character(s) dropped");
        count(self.unbalanced_tags, "unbalanced tag(s) fixed");
        count(
            self.unclosed_at_end,
            "element(s) left open at the end of the document closed",
        );
        parts.extend(self.structure.iter().cloned());
        write!(f, "{}", parts.join("; "))
    }
}

/// The kind of feed element found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Root {
    Rss,
    Rdf,
    Atom,
}

/// Rewrites `text` into well-formed XML holding the feed element, keeping everything readable.
pub fn repair(text: &str) -> Repaired {
    let mut r = Repairer {
        src: text,
        at: 0,
        out: String::with_capacity(text.len() + text.len() / 64 + 64),
        stack: Vec::new(),
        root: None,
        strip_prefix: None,
        drop_default_ns: None,
        added_channel: false,
        rdf_item: None,
        item_start: None,
        fixes: Fixes::default(),
    };
    r.run();
    Repaired {
        text: r.out,
        fixes: r.fixes,
    }
}

struct Repairer<'a> {
    src: &'a str,
    at: usize,
    out: String,
    /// Open elements, by the name written for them.
    stack: Vec<String>,
    root: Option<Root>,
    /// RSS elements written with the prefix of the RSS namespace (`<r:item>`): the prefix to drop.
    strip_prefix: Option<String>,
    /// A default namespace declared for RSS elements, dropped wherever it is declared again.
    drop_default_ns: Option<String>,
    /// A `<channel>` was opened for items written directly under `<rss>`.
    added_channel: bool,
    /// The RSS 1.0 item being read: its `rdf:about` and whether it has a `<link>`.
    rdf_item: Option<(String, bool)>,
    /// Where the item (or entry) being read starts in `out`: a document cut short inside an
    /// item loses that item rather than keep half of it.
    item_start: Option<usize>,
    fixes: Fixes,
}

impl<'a> Repairer<'a> {
    fn rest(&self) -> &'a str {
        &self.src[self.at..]
    }

    fn run(&mut self) {
        if self.rest().trim_start().starts_with("<?xml")
            && let Some(end) = self.rest().find("?>")
        {
            let decl = &self.rest()[..end + 2];
            self.out.push_str(decl.trim_start());
            self.out.push('\n');
            self.at += end + 2;
        }
        while self.at < self.src.len() {
            let Some(lt) = self.rest().find('<') else {
                let text = &self.src[self.at..];
                self.text(text);
                self.at = self.src.len();
                break;
            };
            let text = &self.src[self.at..self.at + lt];
            self.text(text);
            self.at += lt;
            if !self.markup() {
                break;
            }
        }
        if let Some(start) = self.item_start.take() {
            self.out.truncate(start);
            self.stack.truncate(self.item_depth());
            self.fixes
                .structure
                .push("document cut short: its incomplete last item dropped".into());
        }
        let open = self.stack.len();
        if open > 0 {
            self.fixes.unclosed_at_end += open;
            while let Some(name) = self.stack.pop() {
                self.close(&name);
            }
        }
    }

    /// Text between markup, escaped and cleaned; dropped outside the feed element.
    fn text(&mut self, text: &str) {
        if self.stack.is_empty() || text.is_empty() {
            return;
        }
        let mut rest = text;
        while let Some(i) = rest.find(|c: char| c == '&' || c == '>' || is_invalid(c)) {
            self.out.push_str(&rest[..i]);
            let c = rest[i..].chars().next().expect("found a char");
            rest = &rest[i + c.len_utf8()..];
            match c {
                '&' => match reference(rest) {
                    Some((len, valid)) => {
                        if valid {
                            self.out.push('&');
                            self.out.push_str(&rest[..len]);
                        } else {
                            self.fixes.invalid_chars += 1;
                        }
                        rest = &rest[len..];
                    }
                    None => {
                        self.fixes.ampersands += 1;
                        self.out.push_str("&amp;");
                    }
                },
                '>' => self.out.push_str("&gt;"),
                _ => self.fixes.invalid_chars += 1,
            }
        }
        self.out.push_str(rest);
    }

    /// Handles the markup at `self.at` (a `<`). Returns false when the document ends here.
    fn markup(&mut self) -> bool {
        let rest = self.rest();
        if let Some(body) = rest.strip_prefix("<!--") {
            // Comments carry nothing a feed reader uses.
            match body.find("-->") {
                Some(end) => self.at += 4 + end + 3,
                None => self.at = self.src.len(),
            }
            true
        } else if rest.starts_with("<![CDATA[") {
            self.cdata();
            true
        } else if rest.starts_with("<!") || rest.starts_with("<?") {
            // DOCTYPE (with its internal subset) and processing instructions are dropped.
            self.at += skip_declaration(rest);
            true
        } else if let Some(after) = rest.strip_prefix("</") {
            match after.find('>') {
                Some(end) => {
                    let name = after[..end].trim().to_string();
                    self.at += 2 + end + 1;
                    self.end_tag(&name)
                }
                None => {
                    self.at = self.src.len();
                    false
                }
            }
        } else if rest[1..].starts_with(is_name_start) {
            self.start_tag()
        } else {
            if !self.stack.is_empty() {
                self.fixes.less_thans += 1;
                self.out.push_str("&lt;");
            }
            self.at += 1;
            true
        }
    }

    fn cdata(&mut self) {
        let start = self.at + "<![CDATA[".len();
        let body = &self.src[start..];
        let end = body.find("]]>");
        let next = body.find("<![CDATA[");
        let (content, consumed, closed) = match (end, next) {
            (Some(e), n) if n.is_none_or(|n| e < n) => (&body[..e], e + 3, true),
            _ => {
                // Unclosed: it ends where its element does (or where the next section starts).
                let stop = next.unwrap_or(body.len());
                let close = self
                    .stack
                    .last()
                    .and_then(|name| {
                        body[..stop].find(&format!("</{}", name.trim_start_matches(HIDDEN)))
                    })
                    .unwrap_or(stop);
                (&body[..close], close, false)
            }
        };
        if !closed {
            self.fixes.cdata += 1;
        }
        self.at = start + consumed;
        if self.stack.is_empty() {
            return;
        }
        let dropped = content.chars().filter(|c| is_invalid(*c)).count();
        self.fixes.invalid_chars += dropped;
        self.out.push_str("<![CDATA[");
        if dropped > 0 {
            self.out.extend(content.chars().filter(|c| !is_invalid(*c)));
        } else {
            self.out.push_str(content);
        }
        self.out.push_str("]]>");
    }

    /// Reads a start tag at `self.at`. Returns false when the document ends inside it.
    fn start_tag(&mut self) -> bool {
        let Some(tag) = read_tag(self.rest()) else {
            // Cut short inside a start tag.
            self.at = self.src.len();
            return false;
        };
        self.at += tag.len;
        let mut name = tag.name.to_string();
        let mut attrs = tag.attrs;
        if self.root.is_none() {
            match root_kind(&name) {
                Some(kind) => self.open_root(kind, &mut name, &mut attrs),
                // Before the feed element (an HTML page wrapping it): nothing is kept.
                None => return true,
            }
        } else {
            self.rename(&mut name, &mut attrs);
            self.imply_end_tags(&name);
            if self.root == Some(Root::Rdf) && self.stack.len() == 2 && name == "channel" {
                // The RDF <channel>: its children go into the <channel> already open.
                if !tag.empty {
                    self.stack.push(format!("{HIDDEN}channel"));
                }
                return true;
            }
            if !tag.empty && self.stack.len() == self.item_depth() && is_item(self.root, &name) {
                self.item_start = Some(self.out.len());
            }
        }
        self.out.push('<');
        self.out.push_str(&name);
        for (k, v) in &attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            self.attr_value(v);
            self.out.push('"');
        }
        if tag.empty {
            self.out.push_str("/>");
            return !self.stack.is_empty();
        }
        self.out.push('>');
        let wrap_channel = self.stack.is_empty()
            && (self.root == Some(Root::Rdf)
                || (self.root == Some(Root::Rss)
                    && !self.src.contains("<channel")
                    && !self.src.contains(":channel")));
        self.stack.push(name);
        if wrap_channel {
            self.added_channel = true;
            if self.root == Some(Root::Rss) {
                self.fixes
                    .structure
                    .push("items without <channel> read as its items".into());
            }
            self.out.push_str("<channel>");
            self.stack.push("channel".into());
        }
        true
    }

    /// Normalises the feed element and decides how the elements under it are renamed.
    fn open_root(&mut self, kind: Root, name: &mut String, attrs: &mut Vec<(String, String)>) {
        self.root = Some(kind);
        if self.at > tag_start_of_first_element(self.src) {
            self.fixes
                .structure
                .push(format!("<{name}> found inside another document"));
        }
        let (prefix, local) = split_name(name);
        let ns_attr = match prefix {
            Some(p) => format!("xmlns:{p}"),
            None => "xmlns".to_string(),
        };
        let ns = attrs
            .iter()
            .find(|(k, _)| *k == ns_attr)
            .map(|(_, v)| v.clone());
        match kind {
            Root::Rss => {
                let version = attrs.iter().find(|(k, _)| k == "version");
                if !version.is_some_and(|(_, v)| matches!(v.trim(), "2.0" | "0.91" | "0.92")) {
                    let said =
                        version.map_or("no version".to_string(), |(_, v)| format!("version {v:?}"));
                    self.fixes
                        .structure
                        .push(format!("<rss> with {said} read as RSS 2.0"));
                    attrs.retain(|(k, _)| k != "version");
                    attrs.push(("version".into(), "2.0".into()));
                }
                if let Some(ns) = ns {
                    // Whatever namespace <rss> is in, its elements are RSS elements.
                    self.fixes
                        .structure
                        .push(format!("RSS elements in namespace {ns} read as RSS"));
                    attrs.retain(|(k, _)| *k != ns_attr);
                    match prefix {
                        Some(p) => self.strip_prefix = Some(format!("{p}:")),
                        None => self.drop_default_ns = Some(ns),
                    }
                    *name = local.to_string();
                }
            }
            Root::Rdf => {
                // Read as RSS 2.0, whose reader keeps items without a <link> (the RDF reader
                // drops them) and knows the same elements: the RDF <channel> is unwrapped into
                // the <channel> opened here, the items follow it.
                self.fixes
                    .structure
                    .push("RSS 1.0 (RDF) read as RSS 2.0".into());
                if let Some(v) = attrs.iter().find(|(k, _)| k == "xmlns").map(|(_, v)| v)
                    && v != RSS1
                {
                    self.drop_default_ns = Some(v.clone());
                }
                attrs.retain(|(k, _)| k != "xmlns");
                attrs.push(("version".into(), "2.0".into()));
                *name = "rss".into();
            }
            Root::Atom => {
                if let Some(ns) = ns
                    && ns != ATOM
                {
                    self.fixes
                        .structure
                        .push(format!("Atom elements in namespace {ns} read as Atom 1.0"));
                    for (k, v) in attrs.iter_mut() {
                        if *k == ns_attr {
                            *v = ATOM.into();
                        }
                    }
                }
            }
        }
    }

    /// How many elements are open around an item: `<rss><channel>`, or `<feed>`.
    fn item_depth(&self) -> usize {
        if self.root == Some(Root::Atom) { 1 } else { 2 }
    }

    /// An `<item>` (`<entry>` in Atom) closes what is still open inside the previous one, as an
    /// element left unclosed before it (`<itunes:category>` without its end tag) would
    /// otherwise swallow every item after it.
    fn imply_end_tags(&mut self, name: &str) {
        let (item, parent) = match self.root {
            Some(Root::Atom) => ("entry", 1),
            Some(_) => ("item", 2),
            None => return,
        };
        if split_name(name).1 != item || self.stack.len() <= parent {
            return;
        }
        let container = self.stack[parent - 1].trim_start_matches(HIDDEN);
        if parent == 2 && split_name(container).1 != "channel" {
            return;
        }
        while self.stack.len() > parent {
            self.fixes.unbalanced_tags += 1;
            if self.stack.len() == 3 && self.root == Some(Root::Rdf) {
                self.rdf_item_ends();
            }
            let open = self.stack.pop().expect("longer than parent");
            self.close(&open);
        }
    }

    /// Renames an element under the feed element as the root decided.
    fn rename(&mut self, name: &mut String, attrs: &mut Vec<(String, String)>) {
        if let Some(p) = &self.strip_prefix
            && let Some(local) = name.strip_prefix(p.as_str())
        {
            *name = local.to_string();
        }
        if let Some(ns) = &self.drop_default_ns {
            attrs.retain(|(k, v)| !(k == "xmlns" && v == ns));
        }
        if self.root == Some(Root::Atom) && self.stack.len() == 1 && name == "item" {
            // An Atom feed whose entries are written as RSS items.
            if !self.fixes.structure.iter().any(|f| f.starts_with("<item>")) {
                self.fixes
                    .structure
                    .push("<item> in an Atom feed read as <entry>".into());
            }
            *name = "entry".into();
        }
        if self.root == Some(Root::Rdf) {
            let local = split_name(name).1;
            if self.stack.len() == 2 && local == "item" {
                let about = attrs
                    .iter()
                    .find(|(k, _)| split_name(k).1 == "about")
                    .map(|(_, v)| v.trim().to_string());
                self.rdf_item = Some((about.unwrap_or_default(), false));
            } else if self.stack.len() == 3
                && local == "link"
                && let Some((_, seen)) = &mut self.rdf_item
            {
                *seen = true;
            }
        }
    }

    /// An RSS 1.0 item without `<link>` (which the RDF reader skips) takes its `rdf:about`.
    fn rdf_item_ends(&mut self) {
        if let Some((about, false)) = self.rdf_item.take()
            && (about.starts_with("http://") || about.starts_with("https://"))
        {
            if !self.fixes.structure.iter().any(|f| f.contains("rdf:about")) {
                self.fixes
                    .structure
                    .push("RSS 1.0 items without <link> linked to their rdf:about".into());
            }
            self.out.push_str("<link>");
            self.attr_value(&about);
            self.out.push_str("</link>");
        }
    }

    /// Closes elements up to the one `name` ends. Returns false once the feed element closes.
    fn end_tag(&mut self, name: &str) -> bool {
        if self.root.is_none() {
            return true;
        }
        let name = match &self.strip_prefix {
            Some(p) => name.strip_prefix(p.as_str()).unwrap_or(name),
            None => name,
        };
        let name = if self.root == Some(Root::Atom) && self.stack.len() == 2 && name == "item" {
            "entry"
        } else {
            name
        };
        let depth = if root_kind(name).is_some() && root_kind(name) == self.root {
            Some(0)
        } else {
            self.stack
                .iter()
                .rposition(|open| open.trim_start_matches(HIDDEN) == name)
        };
        let Some(depth) = depth else {
            self.fixes.unbalanced_tags += 1;
            return true;
        };
        // Elements opened inside the one that ends are closed with it; a <channel> we added
        // closes silently with the <rss> around it.
        let implied = self.stack.len() - depth - 1;
        let silent = usize::from(depth == 0 && self.added_channel && self.stack.len() > 1);
        self.fixes.unbalanced_tags += implied - silent.min(implied);
        if depth <= self.item_depth() {
            self.item_start = None;
        }
        while self.stack.len() > depth {
            if self.stack.len() == 3 && self.root == Some(Root::Rdf) {
                self.rdf_item_ends();
            }
            let open = self.stack.pop().expect("depth is within the stack");
            self.close(&open);
        }
        !self.stack.is_empty()
    }

    fn close(&mut self, name: &str) {
        if name.starts_with(HIDDEN) {
            return;
        }
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// An attribute value, escaped for double quotes.
    fn attr_value(&mut self, v: &str) {
        let mut rest = v;
        while let Some(i) = rest.find(|c: char| matches!(c, '&' | '<' | '"') || is_invalid(c)) {
            self.out.push_str(&rest[..i]);
            let c = rest[i..].chars().next().expect("found a char");
            rest = &rest[i + c.len_utf8()..];
            match c {
                '&' => match reference(rest) {
                    Some((len, true)) => {
                        self.out.push('&');
                        self.out.push_str(&rest[..len]);
                        rest = &rest[len..];
                    }
                    Some((len, false)) => {
                        self.fixes.invalid_chars += 1;
                        rest = &rest[len..];
                    }
                    None => {
                        self.fixes.ampersands += 1;
                        self.out.push_str("&amp;");
                    }
                },
                '<' => self.out.push_str("&lt;"),
                '"' => self.out.push_str("&quot;"),
                _ => self.fixes.invalid_chars += 1,
            }
        }
        self.out.push_str(rest);
    }
}

/// A character XML 1.0 does not allow in a document.
fn is_invalid(c: char) -> bool {
    matches!(c, '\0'..='\x08' | '\x0b' | '\x0c' | '\x0e'..='\x1f' | '\u{fffe}' | '\u{ffff}')
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == ':'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | ':' | '-' | '.')
}

/// After a `&`: the length of a well-formed entity or character reference up to its `;`, and
/// whether it stands for a character XML allows; `None` when this `&` begins no reference.
fn reference(after: &str) -> Option<(usize, bool)> {
    let semi = after.find(';').filter(|i| *i <= 32)?;
    let body = &after[..semi];
    let valid = if let Some(num) = body.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) if !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()) => {
                u32::from_str_radix(hex, 16).ok()
            }
            Some(_) => return None,
            None if !num.is_empty() && num.chars().all(|c| c.is_ascii_digit()) => num.parse().ok(),
            None => return None,
        };
        code.and_then(char::from_u32)
            .is_some_and(|c| !is_invalid(c) && c != '\0')
    } else {
        let mut chars = body.chars();
        if !chars.next().is_some_and(is_name_start) || !chars.all(is_name_char) {
            return None;
        }
        true
    };
    Some((semi + 1, valid))
}

/// Whether an element is an item of the feed: `<item>`, or `<entry>` in Atom.
fn is_item(root: Option<Root>, name: &str) -> bool {
    let local = split_name(name).1;
    match root {
        Some(Root::Atom) => local == "entry",
        Some(_) => local == "item",
        None => false,
    }
}

/// The feed element a start tag's name stands for.
fn root_kind(name: &str) -> Option<Root> {
    match split_name(name).1 {
        "rss" => Some(Root::Rss),
        "RDF" | "rdf" => Some(Root::Rdf),
        "feed" => Some(Root::Atom),
        _ => None,
    }
}

fn split_name(name: &str) -> (Option<&str>, &str) {
    match name.split_once(':') {
        Some((p, local)) => (Some(p), local),
        None => (None, name),
    }
}

/// Where the document's first element starts (after its prolog), to tell a wrapped feed.
fn tag_start_of_first_element(src: &str) -> usize {
    let mut at = 0;
    while let Some(i) = src[at..].find('<') {
        let rest = &src[at + i..];
        if rest[1..].starts_with(is_name_start) {
            return at + i + read_tag(rest).map_or(0, |t| t.len);
        }
        at += i + skip_declaration(rest).max(1);
    }
    src.len()
}

/// The length of a `<!…>` or `<?…?>` declaration, its internal subset included.
fn skip_declaration(rest: &str) -> usize {
    if rest.starts_with("<?") {
        return rest.find("?>").map_or(rest.len(), |e| e + 2);
    }
    if rest.starts_with("<!--") {
        return rest.find("-->").map_or(rest.len(), |e| e + 3);
    }
    let mut depth = 0usize;
    for (i, c) in rest.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '>' if depth == 0 => return i + 1,
            _ => {}
        }
    }
    rest.len()
}

/// A start tag read leniently.
struct Tag<'a> {
    name: &'a str,
    attrs: Vec<(String, String)>,
    empty: bool,
    /// Bytes from `<` to `>` included.
    len: usize,
}

/// Reads the start tag at the start of `s`: quoted, single-quoted, unquoted and bare attributes;
/// the first of duplicated attributes is kept. `None` when the document ends inside the tag.
fn read_tag(s: &str) -> Option<Tag<'_>> {
    let name_end = s[1..]
        .find(|c: char| !is_name_char(c))
        .map_or(s.len(), |i| i + 1);
    let name = &s[1..name_end];
    let mut at = name_end;
    let mut attrs: Vec<(String, String)> = Vec::new();
    loop {
        let rest = &s[at..];
        let trimmed = rest.trim_start();
        at += rest.len() - trimmed.len();
        let mut chars = trimmed.chars();
        match chars.next()? {
            '>' => {
                return Some(Tag {
                    name,
                    attrs,
                    empty: false,
                    len: at + 1,
                });
            }
            '/' if chars.next() == Some('>') => {
                return Some(Tag {
                    name,
                    attrs,
                    empty: true,
                    len: at + 2,
                });
            }
            c if is_name_start(c) => {
                let key_len = trimmed.find(|c: char| !is_name_char(c))?;
                let key = &trimmed[..key_len];
                at += key_len;
                let after = s[at..].trim_start();
                let value = if let Some(v) = after.strip_prefix('=') {
                    let v = v.trim_start();
                    at = s.len() - v.len();
                    match v.chars().next()? {
                        q @ ('"' | '\'') => {
                            let end = v[1..].find(q)?;
                            at += end + 2;
                            v[1..end + 1].to_string()
                        }
                        _ => {
                            let end = v
                                .find(|c: char| c.is_whitespace() || c == '>')
                                .unwrap_or(v.len());
                            at += end;
                            v[..end].to_string()
                        }
                    }
                } else {
                    key.to_string()
                };
                if !attrs.iter().any(|(k, _)| k == key) {
                    attrs.push((key.to_string(), value));
                }
            }
            // Anything else inside a tag (a stray quote or slash) is skipped.
            c => at += c.len_utf8(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(text: &str) -> (String, Fixes) {
        let r = repair(text);
        (r.text, r.fixes)
    }

    #[test]
    fn stray_ampersands_are_escaped_and_references_kept() {
        let (text, fixes) = fixed(
            "<rss version=\"2.0\"><channel><item><title>Tom & Jerry &amp; &#233; &eacute; &#x41;</title>\
             <link>http://x.eu/a?b=1&c=2</link></item></channel></rss>",
        );
        assert!(
            text.contains("<title>Tom &amp; Jerry &amp; &#233; &eacute; &#x41;</title>"),
            "{text}"
        );
        assert!(text.contains("http://x.eu/a?b=1&amp;c=2"), "{text}");
        assert_eq!(fixes.ampersands, 2);
        assert_eq!(fixes.to_string(), "2 unescaped '&' escaped");
    }

    #[test]
    fn an_unclosed_cdata_closes_at_its_element_end() {
        let (text, fixes) = fixed(
            "<rss version=\"2.0\"><channel><item><description><![CDATA[<p>Hi</p></description>\
             <title><![CDATA[Fine]]></title></item></channel></rss>",
        );
        assert!(
            text.contains("<description><![CDATA[<p>Hi</p>]]></description>"),
            "{text}"
        );
        assert!(text.contains("<title><![CDATA[Fine]]></title>"), "{text}");
        assert_eq!(fixes.cdata, 1);
    }

    #[test]
    fn invalid_characters_are_dropped_in_text_cdata_attributes_and_references() {
        let (text, fixes) = fixed(
            "<rss version=\"2.0\"><channel><item a=\"x\u{1}\"><title>A\u{0}B\u{c}C&#1;</title>\
             <description><![CDATA[D\u{1b}E]]></description></item></channel></rss>",
        );
        assert!(text.contains("<item a=\"x\"><title>ABC</title>"), "{text}");
        assert!(text.contains("<![CDATA[DE]]>"), "{text}");
        assert_eq!(fixes.invalid_chars, 5);
    }

    #[test]
    fn tags_are_balanced_and_a_cut_document_is_closed_without_its_half_item() {
        let (text, fixes) =
            fixed("<rss version=\"2.0\"><channel><item><category>a</item></bogus><item><title>T");
        assert_eq!(
            text,
            "<rss version=\"2.0\"><channel><item><category>a</category></item></channel></rss>"
        );
        assert_eq!((fixes.unbalanced_tags, fixes.unclosed_at_end), (2, 2));
        assert_eq!(
            fixes.to_string(),
            "2 unbalanced tag(s) fixed; 2 element(s) left open at the end of the document closed; document cut short: its incomplete last item dropped"
        );
    }

    #[test]
    fn an_item_closes_what_the_previous_one_left_open() {
        let (text, fixes) = fixed(
            "<rss version=\"2.0\"><channel><itunes:category text=\"a\"><item><title>1</title></item>\
             <item><title>2</title></itunes:category></channel></rss>",
        );
        assert_eq!(
            text,
            "<rss version=\"2.0\"><channel><itunes:category text=\"a\"></itunes:category><item><title>1</title></item><item><title>2</title></item></channel></rss>"
        );
        assert_eq!(fixes.unbalanced_tags, 3);
    }

    #[test]
    fn the_feed_is_found_inside_an_html_page_and_what_follows_is_dropped() {
        let (text, fixes) = fixed(
            "<?xml version=\"1.0\"?><!DOCTYPE html [<!ENTITY x \"y\">]><html><body>\
             <feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><id>1</id></entry></feed></body></html><p>x</p>",
        );
        assert_eq!(
            text,
            "<?xml version=\"1.0\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><id>1</id></entry></feed>"
        );
        assert_eq!(fixes.structure, ["<feed> found inside another document"]);
    }

    #[test]
    fn rss_without_version_or_channel_and_in_a_namespace_is_normalised() {
        let (text, _) = fixed("<rss><item><title>a</title></item></rss>");
        assert_eq!(
            text,
            "<rss version=\"2.0\"><channel><item><title>a</title></item></channel></rss>"
        );
        let (text, fixes) = fixed(
            "<rss version=\"2.0\" xmlns=\"http://backend.userland.com/rss2\"><channel><item xmlns=\"http://backend.userland.com/rss2\"><title>a</title></item></channel></rss>",
        );
        assert_eq!(
            text,
            "<rss version=\"2.0\"><channel><item><title>a</title></item></channel></rss>"
        );
        assert_eq!(
            fixes.to_string(),
            "RSS elements in namespace http://backend.userland.com/rss2 read as RSS"
        );
        let (text, _) = fixed(
            "<r:rss version=\"2.0\" xmlns:r=\"http://backend.userland.com/rss2\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><r:channel><r:item><r:title>a</r:title><dc:creator>b</dc:creator></r:item></r:channel></r:rss>",
        );
        assert_eq!(
            text,
            "<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel><item><title>a</title><dc:creator>b</dc:creator></item></channel></rss>"
        );
    }

    #[test]
    fn rss_090_and_atom_03_namespaces_are_read_as_their_successors() {
        let (text, _) = fixed(
            "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns=\"http://my.netscape.com/rdf/simple/0.9/\">\
             <channel><title>t</title></channel><item><title>a</title></item></rdf:RDF>",
        );
        assert_eq!(
            text,
            "<rss xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" version=\"2.0\"><channel><title>t</title><item><title>a</title></item></channel></rss>"
        );
        let (text, _) = fixed(
            "<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\"><item><title>a</title></item></feed>",
        );
        assert_eq!(
            text,
            "<feed version=\"0.3\" xmlns=\"http://www.w3.org/2005/Atom\"><entry><title>a</title></entry></feed>"
        );
    }

    #[test]
    fn an_rss_1_item_without_link_takes_its_rdf_about() {
        let (text, _) = fixed(
            "<rdf:RDF xmlns:rdf=\"r\" xmlns=\"http://purl.org/rss/1.0/\"><item rdf:about=\"http://x.eu/1\"><title>a</title></item>\
             <item rdf:about=\"http://x.eu/2\"><link>http://x.eu/two</link></item></rdf:RDF>",
        );
        assert!(
            text.contains("<item rdf:about=\"http://x.eu/1\"><title>a</title><link>http://x.eu/1</link></item>"),
            "{text}"
        );
        assert!(
            text.contains("<link>http://x.eu/two</link></item>"),
            "{text}"
        );
    }

    #[test]
    fn lenient_attributes_become_quoted() {
        let (text, _) = fixed(
            "<rss version='2.0'><channel><item><guid isPermaLink=false>g</guid><enclosure url=\"a&b\" checked/></item></channel></rss>",
        );
        assert!(
            text.contains("<guid isPermaLink=\"false\">g</guid>"),
            "{text}"
        );
        assert!(
            text.contains("<enclosure url=\"a&amp;b\" checked=\"checked\"/>"),
            "{text}"
        );
    }

    #[test]
    fn a_document_without_a_feed_element_comes_back_empty_of_elements() {
        let r = repair("<html><body><p>not a feed</p></body></html>");
        assert_eq!(r.text, "");
        assert!(r.fixes.is_empty());
    }
}
