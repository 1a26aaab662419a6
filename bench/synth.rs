//! Synthetic news feeds for the benchmarks: RSS 2.0, Atom and JSON Feed documents whose items
//! carry several paragraphs of policy-news prose in eight EU languages, deterministic from a
//! seed. Shared by `benches/parse.rs` and the loopback feed server of `bench/server.rs`.
//!
//! The sentences were written for veille's benchmarks; they are generic institutional prose,
//! not copied from any publication.

#![allow(dead_code)] // each user takes the part it needs

use std::fmt::Write as _;

/// A small deterministic generator (SplitMix64): the same seed gives the same feeds everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }

    pub fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.range(0, items.len() - 1)]
    }
}

/// A feed document format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Rss2,
    Atom,
    Json,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Rss2 => "application/rss+xml; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Rss2 | Format::Atom => "xml",
            Format::Json => "json",
        }
    }
}

/// One language's material: title openings, subjects and body sentences.
struct Lang {
    code: &'static str,
    feed_title: &'static str,
    headlines: &'static [&'static str],
    subjects: &'static [&'static str],
    sentences: &'static [&'static str],
}

const LANGS: &[Lang] = &[
    Lang {
        code: "en",
        feed_title: "Press releases",
        headlines: &[
            "Council adopts conclusions on",
            "Commission proposes new rules on",
            "Ministers discuss",
            "Parliament backs agreement on",
            "Joint statement on",
            "High Representative welcomes progress on",
        ],
        subjects: &[
            "cyber resilience",
            "the Digital Services Act",
            "EU-NATO cooperation",
            "critical infrastructure",
            "the transatlantic trade and technology dialogue",
            "hybrid threats",
            "the single market for data",
        ],
        sentences: &[
            "The ministers agreed that closer coordination between member states remains essential.",
            "The proposal will now be examined by the European Parliament and the Council.",
            "According to the Commission, the new framework will reduce administrative burden for small companies.",
            "Delegations underlined the importance of information sharing with trusted partners.",
            "The text foresees a review clause three years after its entry into force.",
            "Several member states asked for additional funding under the next multiannual budget.",
            "Experts from national agencies will meet again in Brussels before the end of the year.",
            "The presidency expects a general approach to be reached at the next meeting.",
            "Stakeholders were invited to submit their views during a twelve-week public consultation.",
            "The agreement builds on the work carried out by the previous presidencies.",
        ],
    },
    Lang {
        code: "fr",
        feed_title: "Communiqués de presse",
        headlines: &[
            "Le Conseil adopte des conclusions sur",
            "La Commission propose de nouvelles règles sur",
            "Les ministres débattent de",
            "Le Parlement approuve l'accord sur",
            "Déclaration commune sur",
        ],
        subjects: &[
            "la cyberrésilience",
            "la coopération entre l'UE et l'OTAN",
            "les infrastructures critiques",
            "les menaces hybrides",
            "le marché unique des données",
            "la sécurité des réseaux 5G",
        ],
        sentences: &[
            "Les ministres ont convenu qu'une coordination plus étroite entre les États membres reste essentielle.",
            "La proposition sera maintenant examinée par le Parlement européen et le Conseil.",
            "Selon la Commission, le nouveau cadre réduira la charge administrative des petites entreprises.",
            "Les délégations ont souligné l'importance du partage d'informations avec des partenaires de confiance.",
            "Le texte prévoit une clause de réexamen trois ans après son entrée en vigueur.",
            "Plusieurs États membres ont demandé des financements supplémentaires dans le prochain cadre financier.",
            "Les experts des agences nationales se réuniront à nouveau à Bruxelles avant la fin de l'année.",
            "La présidence espère parvenir à une orientation générale lors de la prochaine réunion.",
        ],
    },
    Lang {
        code: "de",
        feed_title: "Pressemitteilungen",
        headlines: &[
            "Rat nimmt Schlussfolgerungen an zu",
            "Kommission schlägt neue Vorschriften vor zu",
            "Minister beraten über",
            "Parlament billigt Einigung zu",
            "Gemeinsame Erklärung zu",
        ],
        subjects: &[
            "Cyberresilienz",
            "der Zusammenarbeit zwischen EU und NATO",
            "kritischen Infrastrukturen",
            "hybriden Bedrohungen",
            "dem Binnenmarkt für Daten",
            "der Sicherheit von Lieferketten",
        ],
        sentences: &[
            "Die Minister waren sich einig, dass eine engere Abstimmung zwischen den Mitgliedstaaten unerlässlich bleibt.",
            "Der Vorschlag wird nun vom Europäischen Parlament und vom Rat geprüft.",
            "Nach Angaben der Kommission wird der neue Rahmen den Verwaltungsaufwand für kleine Unternehmen verringern.",
            "Die Delegationen betonten die Bedeutung des Informationsaustauschs mit vertrauenswürdigen Partnern.",
            "Der Text sieht eine Überprüfungsklausel drei Jahre nach seinem Inkrafttreten vor.",
            "Mehrere Mitgliedstaaten forderten zusätzliche Mittel im nächsten mehrjährigen Finanzrahmen.",
            "Fachleute der nationalen Behörden werden vor Jahresende erneut in Brüssel zusammenkommen.",
            "Der Vorsitz erwartet, dass beim nächsten Treffen eine allgemeine Ausrichtung erreicht wird.",
        ],
    },
    Lang {
        code: "it",
        feed_title: "Comunicati stampa",
        headlines: &[
            "Il Consiglio adotta conclusioni su",
            "La Commissione propone nuove norme su",
            "I ministri discutono di",
            "Il Parlamento approva l'accordo su",
        ],
        subjects: &[
            "la resilienza informatica",
            "la cooperazione UE-NATO",
            "le infrastrutture critiche",
            "le minacce ibride",
            "il mercato unico dei dati",
        ],
        sentences: &[
            "I ministri hanno convenuto che un più stretto coordinamento tra gli Stati membri resta essenziale.",
            "La proposta sarà ora esaminata dal Parlamento europeo e dal Consiglio.",
            "Secondo la Commissione, il nuovo quadro ridurrà gli oneri amministrativi per le piccole imprese.",
            "Le delegazioni hanno sottolineato l'importanza della condivisione delle informazioni con partner affidabili.",
            "Il testo prevede una clausola di riesame tre anni dopo la sua entrata in vigore.",
            "Diversi Stati membri hanno chiesto finanziamenti aggiuntivi nel prossimo quadro finanziario pluriennale.",
            "Gli esperti delle agenzie nazionali si riuniranno di nuovo a Bruxelles entro la fine dell'anno.",
        ],
    },
    Lang {
        code: "es",
        feed_title: "Comunicados de prensa",
        headlines: &[
            "El Consejo adopta conclusiones sobre",
            "La Comisión propone nuevas normas sobre",
            "Los ministros debaten sobre",
            "El Parlamento respalda el acuerdo sobre",
        ],
        subjects: &[
            "la ciberresiliencia",
            "la cooperación entre la UE y la OTAN",
            "las infraestructuras críticas",
            "las amenazas híbridas",
            "el mercado único de datos",
        ],
        sentences: &[
            "Los ministros coincidieron en que una coordinación más estrecha entre los Estados miembros sigue siendo esencial.",
            "La propuesta será examinada ahora por el Parlamento Europeo y el Consejo.",
            "Según la Comisión, el nuevo marco reducirá la carga administrativa de las pequeñas empresas.",
            "Las delegaciones subrayaron la importancia de compartir información con socios de confianza.",
            "El texto prevé una cláusula de revisión tres años después de su entrada en vigor.",
            "Varios Estados miembros pidieron financiación adicional en el próximo marco financiero plurianual.",
            "Los expertos de las agencias nacionales volverán a reunirse en Bruselas antes de fin de año.",
        ],
    },
    Lang {
        code: "nl",
        feed_title: "Persberichten",
        headlines: &[
            "Raad neemt conclusies aan over",
            "Commissie stelt nieuwe regels voor over",
            "Ministers bespreken",
            "Parlement steunt akkoord over",
        ],
        subjects: &[
            "cyberweerbaarheid",
            "samenwerking tussen de EU en de NAVO",
            "kritieke infrastructuur",
            "hybride dreigingen",
            "de interne markt voor gegevens",
        ],
        sentences: &[
            "De ministers waren het erover eens dat nauwere coördinatie tussen de lidstaten essentieel blijft.",
            "Het voorstel wordt nu behandeld door het Europees Parlement en de Raad.",
            "Volgens de Commissie vermindert het nieuwe kader de administratieve lasten voor kleine bedrijven.",
            "De delegaties benadrukten het belang van informatie-uitwisseling met betrouwbare partners.",
            "De tekst voorziet in een evaluatieclausule drie jaar na de inwerkingtreding.",
            "Verscheidene lidstaten vroegen om extra middelen in het volgende meerjarig financieel kader.",
        ],
    },
    Lang {
        code: "pl",
        feed_title: "Komunikaty prasowe",
        headlines: &[
            "Rada przyjmuje konkluzje w sprawie",
            "Komisja proponuje nowe przepisy dotyczące",
            "Ministrowie omawiają",
            "Parlament popiera porozumienie w sprawie",
        ],
        subjects: &[
            "cyberodporności",
            "współpracy UE i NATO",
            "infrastruktury krytycznej",
            "zagrożeń hybrydowych",
            "jednolitego rynku danych",
        ],
        sentences: &[
            "Ministrowie zgodzili się, że ściślejsza koordynacja między państwami członkowskimi pozostaje niezbędna.",
            "Wniosek zostanie teraz rozpatrzony przez Parlament Europejski i Radę.",
            "Według Komisji nowe ramy zmniejszą obciążenia administracyjne małych przedsiębiorstw.",
            "Delegacje podkreśliły znaczenie wymiany informacji z zaufanymi partnerami.",
            "Tekst przewiduje klauzulę przeglądową trzy lata po wejściu w życie.",
            "Kilka państw członkowskich zwróciło się o dodatkowe środki w następnych wieloletnich ramach finansowych.",
        ],
    },
    Lang {
        code: "pt",
        feed_title: "Comunicados de imprensa",
        headlines: &[
            "Conselho adota conclusões sobre",
            "Comissão propõe novas regras sobre",
            "Ministros debatem",
            "Parlamento apoia acordo sobre",
        ],
        subjects: &[
            "a ciber-resiliência",
            "a cooperação UE-NATO",
            "as infraestruturas críticas",
            "as ameaças híbridas",
            "o mercado único de dados",
        ],
        sentences: &[
            "Os ministros concordaram que uma coordenação mais estreita entre os Estados-Membros continua a ser essencial.",
            "A proposta será agora analisada pelo Parlamento Europeu e pelo Conselho.",
            "Segundo a Comissão, o novo quadro reduzirá os encargos administrativos das pequenas empresas.",
            "As delegações sublinharam a importância da partilha de informações com parceiros de confiança.",
            "O texto prevê uma cláusula de revisão três anos após a sua entrada em vigor.",
            "Vários Estados-Membros pediram financiamento adicional no próximo quadro financeiro plurianual.",
        ],
    },
];

/// How many languages the generator writes.
pub fn language_count() -> usize {
    LANGS.len()
}

/// One generated item.
#[derive(Debug, Clone)]
pub struct Item {
    pub guid: String,
    pub link: String,
    pub title: String,
    /// Unix seconds.
    pub published: i64,
    /// HTML body: a few `<p>` paragraphs.
    pub html: String,
}

/// One generated feed.
#[derive(Debug, Clone)]
pub struct Feed {
    pub name: String,
    pub title: String,
    pub language: &'static str,
    pub format: Format,
    pub items: Vec<Item>,
}

/// 1 November 2026, 08:00 UTC: items are dated back from here, one every few hours.
const BASE_TIME: i64 = 1_793_520_000;

/// Feed number `index` of the set generated from `seed`: its language rotates through the eight,
/// its format is `format` (the caller mixes them), and it has `items` items.
pub fn feed(seed: u64, index: usize, format: Format, items: usize) -> Feed {
    let mut rng = Rng::new(seed ^ (index as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
    let lang = &LANGS[index % LANGS.len()];
    let name = format!("bench-{index:05}");
    let mut time = BASE_TIME - rng.range(0, 3600) as i64;
    let items = (0..items)
        .map(|n| {
            time -= rng.range(1800, 6 * 3600) as i64;
            let title = format!("{} {}", rng.pick(lang.headlines), rng.pick(lang.subjects));
            let mut html = String::new();
            for _ in 0..rng.range(3, 6) {
                html.push_str("<p>");
                let mut last = usize::MAX;
                for s in 0..rng.range(2, 4) {
                    if s > 0 {
                        html.push(' ');
                    }
                    // Never the same sentence twice in a row.
                    let mut k = rng.range(0, lang.sentences.len() - 1);
                    if k == last {
                        k = (k + 1) % lang.sentences.len();
                    }
                    last = k;
                    html.push_str(lang.sentences[k]);
                }
                html.push_str("</p>\n");
            }
            let slug = format!("{name}/{}/item-{n:03}", lang.code);
            Item {
                guid: format!("urn:veille-bench:{slug}"),
                link: format!("https://news.bench.example/{slug}"),
                title,
                published: time,
                html,
            }
        })
        .collect();
    Feed {
        title: format!("{} — {name}", lang.feed_title),
        name,
        language: lang.code,
        format,
        items,
    }
}

/// The feed as a document in its format.
pub fn render(feed: &Feed) -> String {
    match feed.format {
        Format::Rss2 => rss2(feed),
        Format::Atom => atom(feed),
        Format::Json => json(feed),
    }
}

fn rfc2822(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .expect("time in range")
        .to_rfc2822()
}

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .expect("time in range")
        .to_rfc3339()
}

/// XML text escaping (also used for HTML carried as escaped text).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

fn rss2(feed: &Feed) -> String {
    let mut x = String::with_capacity(feed.items.len() * 2400);
    let _ = write!(
        x,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\">\n<channel>\n\
         <title>{}</title>\n<link>https://news.bench.example/{}/</link>\n\
         <description>Synthetic feed for veille's benchmarks</description>\n<language>{}</language>\n",
        escape(&feed.title),
        feed.name,
        feed.language
    );
    for it in &feed.items {
        let _ = write!(
            x,
            "<item>\n<title>{}</title>\n<link>{}</link>\n<guid isPermaLink=\"false\">{}</guid>\n\
             <pubDate>{}</pubDate>\n<description>{}</description>\n</item>\n",
            escape(&it.title),
            it.link,
            it.guid,
            rfc2822(it.published),
            escape(&it.html)
        );
    }
    x.push_str("</channel>\n</rss>\n");
    x
}

fn atom(feed: &Feed) -> String {
    let mut x = String::with_capacity(feed.items.len() * 2400);
    let updated = feed.items.first().map_or(BASE_TIME, |i| i.published);
    let _ = write!(
        x,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{}\">\n\
         <title>{}</title>\n<id>urn:veille-bench:{}</id>\n\
         <link href=\"https://news.bench.example/{}/\"/>\n<updated>{}</updated>\n",
        feed.language,
        escape(&feed.title),
        feed.name,
        feed.name,
        rfc3339(updated)
    );
    for it in &feed.items {
        let _ = write!(
            x,
            "<entry>\n<title>{}</title>\n<link href=\"{}\"/>\n<id>{}</id>\n\
             <updated>{}</updated>\n<published>{}</published>\n\
             <author><name>Press office</name></author>\n\
             <content type=\"html\">{}</content>\n</entry>\n",
            escape(&it.title),
            it.link,
            it.guid,
            rfc3339(it.published),
            rfc3339(it.published),
            escape(&it.html)
        );
    }
    x.push_str("</feed>\n");
    x
}

fn json(feed: &Feed) -> String {
    let items: Vec<serde_json::Value> = feed
        .items
        .iter()
        .map(|it| {
            serde_json::json!({
                "id": it.guid,
                "url": it.link,
                "title": it.title,
                "content_html": it.html,
                "date_published": rfc3339(it.published),
            })
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed.title,
        "home_page_url": format!("https://news.bench.example/{}/", feed.name),
        "language": feed.language,
        "items": items,
    }))
    .expect("JSON values serialise")
}

/// An RSS 2.0 document encoded in Windows-1252, declared in its XML prolog (a French feed, so
/// the accented letters really go through the decoder).
pub fn rss2_windows_1252(seed: u64, items: usize) -> Vec<u8> {
    // Index 1 is French in LANGS.
    let feed = feed(seed, 1, Format::Rss2, items);
    let text = rss2(&feed).replacen("encoding=\"utf-8\"", "encoding=\"windows-1252\"", 1);
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&text);
    assert!(!unmappable, "the French material fits Windows-1252");
    bytes.into_owned()
}
