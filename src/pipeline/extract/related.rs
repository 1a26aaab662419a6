//! "Related news" inside an article: a heading such as "Related news", "Voir aussi" or
//! "Weitere Meldungen" (in the languages of the sources) and the list of other headlines after
//! it are dropped whole. Dropping only the heading line would leave the headlines looking like
//! the end of the article — and headlines about other subjects mislead the classifier.

use super::dom::{Dom, Ix, NONE, is_block};

/// Headings that introduce links to other articles, compared lower-case without trailing
/// punctuation: the 24 official EU languages, as the sites of the EU institutions, NATO and
/// national administrations word them.
const HEADINGS: &[&str] = &[
    // en
    "related news",
    "related articles",
    "related content",
    "related stories",
    "related links",
    "related press releases",
    "related",
    "see also",
    "read also",
    "read more",
    "more news",
    "latest news",
    "other news",
    "more on this topic",
    "you may also be interested in",
    "you might also like",
    // fr
    "actualités liées",
    "actualités associées",
    "articles liés",
    "articles associés",
    "contenus associés",
    "sur le même sujet",
    "dans la même rubrique",
    "voir aussi",
    "voir également",
    "lire aussi",
    "à lire aussi",
    "autres actualités",
    "dernières actualités",
    // de
    "verwandte nachrichten",
    "verwandte artikel",
    "ähnliche nachrichten",
    "ähnliche artikel",
    "weitere meldungen",
    "weitere nachrichten",
    "weitere artikel",
    "mehr zum thema",
    "zum thema",
    "siehe auch",
    "lesen sie auch",
    "das könnte sie auch interessieren",
    "aktuelle meldungen",
    // it
    "notizie correlate",
    "articoli correlati",
    "contenuti correlati",
    "leggi anche",
    "vedi anche",
    "altre notizie",
    "ultime notizie",
    "potrebbe interessarti anche",
    // es
    "noticias relacionadas",
    "artículos relacionados",
    "contenidos relacionados",
    "ver también",
    "lea también",
    "lee también",
    "más noticias",
    "otras noticias",
    "últimas noticias",
    // pt
    "notícias relacionadas",
    "artigos relacionados",
    "conteúdos relacionados",
    "veja também",
    "leia também",
    "ver também",
    "mais notícias",
    "outras notícias",
    // nl
    "gerelateerd nieuws",
    "gerelateerde artikelen",
    "gerelateerde berichten",
    "zie ook",
    "lees ook",
    "meer nieuws",
    "ander nieuws",
    "laatste nieuws",
    // pl
    "powiązane wiadomości",
    "powiązane artykuły",
    "powiązane informacje",
    "podobne artykuły",
    "zobacz także",
    "zobacz też",
    "czytaj także",
    "czytaj też",
    "więcej wiadomości",
    "najnowsze wiadomości",
    // cs
    "související zprávy",
    "související články",
    "související aktuality",
    "viz také",
    "čtěte také",
    "další zprávy",
    // sk
    "súvisiace správy",
    "súvisiace články",
    "pozri tiež",
    "čítajte aj",
    "ďalšie správy",
    // sl
    "sorodne novice",
    "povezane novice",
    "sorodni članki",
    "glej tudi",
    "preberite tudi",
    "več novic",
    // hr
    "povezane vijesti",
    "vezane vijesti",
    "povezani članci",
    "pogledajte i",
    "pročitajte i",
    "više vijesti",
    // hu
    "kapcsolódó hírek",
    "kapcsolódó cikkek",
    "lásd még",
    "további hírek",
    "ezek is érdekelhetik",
    // ro
    "știri similare",
    "știri conexe",
    "articole similare",
    "articole conexe",
    "vezi și",
    "citește și",
    "alte știri",
    // bg
    "свързани новини",
    "свързани статии",
    "вижте също",
    "прочетете също",
    "още новини",
    // el
    "σχετικές ειδήσεις",
    "σχετικά άρθρα",
    "δείτε επίσης",
    "διαβάστε επίσης",
    "περισσότερες ειδήσεις",
    // sv
    "relaterade nyheter",
    "relaterade artiklar",
    "se även",
    "läs även",
    "läs också",
    "fler nyheter",
    // da
    "relaterede nyheder",
    "relaterede artikler",
    "se også",
    "læs også",
    "flere nyheder",
    // fi
    "aiheeseen liittyvät uutiset",
    "aiheeseen liittyvää",
    "liittyvät uutiset",
    "katso myös",
    "lue myös",
    "lisää uutisia",
    // et
    "seotud uudised",
    "seotud artiklid",
    "vaata ka",
    "loe ka",
    // lv
    "saistītās ziņas",
    "saistītie raksti",
    "skatīt arī",
    "lasiet arī",
    // lt
    "susijusios naujienos",
    "susiję straipsniai",
    "taip pat skaitykite",
    "taip pat žiūrėkite",
    // mt
    "aħbarijiet relatati",
    "ara wkoll",
    "aqra wkoll",
    // ga
    "nuacht ghaolmhar",
    "féach freisin",
    "léigh freisin",
];

/// Longest heading looked at, in non-whitespace characters.
const MAX_HEADING_CHARS: u32 = 40;
/// A paragraph this long (non-whitespace characters) and nearly free of links is article
/// text, not a teaser: the list ends before it.
const PARAGRAPH_CHARS: u32 = 250;

/// Whether `text` is one of the related-news headings.
pub fn is_heading_text(text: &str) -> bool {
    let lower = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let lower = lower.to_lowercase();
    let bare = lower.trim_end_matches(|c: char| {
        c.is_whitespace() || matches!(c, ':' | '.' | '…' | '›' | '»' | '>' | '-' | '–')
    });
    HEADINGS.contains(&bare)
}

/// Marks every related-news heading of the page and the list after it as removed; returns how
/// many such sections were found. Statistics are summed again when anything was removed.
pub fn mark(dom: &mut Dom) -> usize {
    let mut found = 0;
    let mut ix = 1;
    while ix < dom.nodes.len() {
        let node = &dom.nodes[ix];
        if node.removed || node.is_text() {
            ix += 1;
            continue;
        }
        // Headings are blocks (`<h2>`, `<p><strong>…</strong></p>`, `<div>`): the inline
        // elements inside them need no look of their own.
        let candidate = node.chars > 0
            && node.chars <= MAX_HEADING_CHARS
            && node.link_chars * 2 < node.chars
            && is_block(node.tag)
            && !matches!(
                node.tag,
                "ul" | "ol" | "dl" | "table" | "tr" | "tbody" | "thead" | "br" | "hr"
            )
            && is_heading_text(&text_of(dom, ix));
        if !candidate {
            ix += 1;
            continue;
        }
        // The outermost element holding only the heading: `<div><h2>Related</h2></div>`.
        let mut heading = ix;
        loop {
            let parent = dom.nodes[heading].parent;
            if parent == NONE || parent == 0 || dom.nodes[parent].chars != dom.nodes[heading].chars
            {
                break;
            }
            heading = parent;
        }
        let end = dom.nodes[heading].end;
        let list = list_after(dom, heading);
        remove(dom, heading);
        for &l in &list {
            remove(dom, l);
        }
        found += 1;
        ix = list.last().map_or(end, |&l| dom.nodes[l].end).max(end);
    }
    if found > 0 {
        dom.recount();
    }
    found
}

/// The siblings after `heading` that make up its list: everything up to the next paragraph of
/// article text, or a section heading that introduces one.
fn list_after(dom: &Dom, heading: Ix) -> Vec<Ix> {
    let parent = dom.nodes[heading].parent;
    if parent == NONE {
        return Vec::new();
    }
    let siblings: Vec<Ix> = dom.nodes[parent]
        .children
        .iter()
        .copied()
        .filter(|&c| c > heading && !dom.nodes[c].removed)
        .filter(|&c| !dom.nodes[c].is_text() || !dom.nodes[c].text.trim().is_empty())
        .collect();
    let mut list = Vec::new();
    for (k, &s) in siblings.iter().enumerate() {
        if is_article_paragraph(dom, s) {
            break;
        }
        let node = &dom.nodes[s];
        let section_heading = matches!(node.tag, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
            && node.link_chars == 0
            && siblings
                .get(k + 1)
                .is_some_and(|&next| is_article_paragraph(dom, next));
        if section_heading {
            break;
        }
        list.push(s);
    }
    list
}

/// A paragraph of article text: long, nearly free of links.
fn is_article_paragraph(dom: &Dom, ix: Ix) -> bool {
    let node = &dom.nodes[ix];
    let paragraph = node.is_text() || matches!(node.tag, "p" | "blockquote" | "pre");
    paragraph && node.chars >= PARAGRAPH_CHARS && node.link_density() < 0.1
}

fn remove(dom: &mut Dom, ix: Ix) {
    let end = dom.nodes[ix].end;
    for node in &mut dom.nodes[ix..end] {
        node.removed = true;
    }
}

/// The text of the subtree of `ix` (short subtrees only: headings).
fn text_of(dom: &Dom, ix: Ix) -> String {
    let mut out = String::new();
    for node in &dom.nodes[ix..dom.nodes[ix].end] {
        if node.is_text() && !node.removed {
            out.push_str(node.text);
            out.push(' ');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::Html;
    use std::collections::HashSet;

    fn kept(html: &str) -> String {
        let doc = Html::parse_document(html);
        let mut dom = Dom::build(&doc, &HashSet::new());
        mark(&mut dom);
        dom.nodes
            .iter()
            .filter(|n| n.is_text() && !n.removed && !n.text.trim().is_empty())
            .map(|n| n.text.trim())
            .collect::<Vec<_>>()
            .join(" | ")
    }

    const BODY: &str = "Les ministres de la pêche ont adopté aujourd'hui les possibilités de pêche pour \
        l'année prochaine en mer Baltique, après deux jours de négociations à Bruxelles sur les stocks \
        de cabillaud, de hareng et de sprat, dont plusieurs restent dans un état préoccupant selon les \
        avis scientifiques publiés au printemps.";

    #[test]
    fn headings_in_the_languages_of_the_sources() {
        for h in [
            "Related news",
            "RELATED NEWS:",
            "Voir aussi",
            "À lire aussi :",
            "Weitere Meldungen",
            "Notizie correlate",
            "Noticias relacionadas",
            "Zobacz także",
            "Σχετικές ειδήσεις",
            "Свързани новини",
            "Läs också",
            "Aiheeseen liittyvät uutiset",
        ] {
            assert!(is_heading_text(h), "{h}");
        }
        for h in [
            "Related parties",
            "Background",
            "Voir",
            "News",
            "Related news about the fisheries agreement concluded today",
        ] {
            assert!(!is_heading_text(h), "{h}");
        }
    }

    #[test]
    fn the_heading_and_the_headlines_after_it_go_the_article_stays() {
        let html = format!(
            "<html><body><div><p>{BODY}</p><h3>Voir aussi</h3>\
             <div><h4><a href=/a>L'UE et l'OTAN renforcent leur coopération cyber</a></h4>\
             <p>Les deux organisations partagent leurs informations sur les menaces.</p></div>\
             <p><a href=/b>Exercice conjoint de cyberdéfense</a> 28/11/2026</p>\
             <ul><li><a href=/c>Rapport du groupe de travail UE-OTAN</a></li></ul></div></body></html>"
        );
        let text = kept(&html);
        assert!(text.starts_with("Les ministres de la pêche"), "{text}");
        for gone in [
            "Voir aussi",
            "OTAN",
            "cyberdéfense",
            "partagent",
            "28/11/2026",
        ] {
            assert!(!text.contains(gone), "{gone} kept: {text}");
        }
    }

    #[test]
    fn a_heading_wrapped_alone_takes_the_list_after_its_wrapper() {
        let html = format!(
            "<html><body><p>{BODY}</p><div><p><strong>Weitere Meldungen</strong></p></div>\
             <p><a href=/a>NATO und EU üben Cyberabwehr</a></p>\
             <p><a href=/b>Cyberangriffe auf Seekabel</a></p></body></html>"
        );
        let text = kept(&html);
        assert!(!text.contains("Weitere"), "{text}");
        assert!(!text.contains("Cyber"), "{text}");
        assert!(text.contains("Les ministres"), "{text}");
    }

    #[test]
    fn the_list_ends_at_the_next_paragraph_of_article_text() {
        let html = format!(
            "<html><body><div><h2>See also</h2><ul><li><a href=/a>Council conclusions on fisheries</a></li>\
             <li><a href=/b>Scientific advice</a></li></ul>\
             <h2>Background</h2><p>{BODY}</p><p>{BODY}</p></div></body></html>"
        );
        let text = kept(&html);
        assert!(!text.contains("See also"), "{text}");
        assert!(!text.contains("Council conclusions"), "{text}");
        assert!(
            text.contains("Background"),
            "a section heading stays: {text}"
        );
        assert_eq!(text.matches("Les ministres").count(), 2, "{text}");
    }

    #[test]
    fn a_long_line_or_a_heading_inside_a_sentence_is_not_a_heading() {
        let html = format!("<html><body><p>{BODY} Related news</p><p>{BODY}</p></body></html>");
        let text = kept(&html);
        assert!(text.contains("Related news"), "{text}");
        assert_eq!(text.matches("Les ministres").count(), 2, "{text}");
    }
}
