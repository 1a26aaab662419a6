//! `veille feeds`: the feeds with their health, as a table or JSON lines; `add`, `remove`,
//! `import` and `export` manage the `[[feeds]]` of the configuration file (a running service
//! picks changes up on SIGHUP). Listing reads only: feeds configured since the last poll show
//! as `new`, and no database is created.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use veille::config::{Config, FeedConfig, MIN_EVERY};
use veille::feedlist::{self, NewFeed, edit, opml};
use veille::model::FeedRow;
use veille::pipeline::discover::{self, Via};
use veille::pipeline::fetch::Fetcher;
use veille::pipeline::schedule::FAILING_AFTER;
use veille::store::Store;

use super::short_time;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
    /// One JSON object per line instead of a table
    #[arg(long)]
    json: bool,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Add a feed to the configuration: URL is a feed, or a page that names one
    /// (<link rel="alternate">) or a site with one at a common path; it is fetched once to check
    Add(AddArgs),
    /// Remove a feed from the configuration (its stored items stay)
    Remove {
        /// The feed's name
        name: String,
    },
    /// Add the feeds of an OPML file (exported by another feed reader) to the configuration
    Import(ImportArgs),
    /// Print the configured feeds as OPML 2.0 (with their categories)
    Export,
}

#[derive(clap::Args)]
struct AddArgs {
    /// The feed, or a page or site that has one
    url: String,
    /// Its name (default: from the feed's title)
    #[arg(long)]
    name: Option<String>,
    /// Polling interval, e.g. 30m (default 1h)
    #[arg(long)]
    every: Option<String>,
    /// Two-letter language hint (ISO 639-1) for a feed that does not say
    #[arg(long)]
    language: Option<String>,
    /// A category label, e.g. "EU agencies" (kept in OPML exports)
    #[arg(long)]
    category: Option<String>,
    /// Print the table that would be added; change nothing
    #[arg(long)]
    dry_run: bool,
}

#[derive(clap::Args)]
struct ImportArgs {
    /// The OPML file
    file: PathBuf,
    /// Polling interval of every imported feed (default 1h)
    #[arg(long)]
    every: Option<String>,
    /// Print what would be added; change nothing
    #[arg(long)]
    dry_run: bool,
}

pub async fn run(config: Option<&Path>, args: &Args) -> anyhow::Result<ExitCode> {
    match &args.action {
        None => list(config, args.json),
        Some(Action::Add(a)) => add(config, a).await,
        Some(Action::Remove { name }) => remove(config, name),
        Some(Action::Import(a)) => import(config, a),
        Some(Action::Export) => export(config),
    }
}

fn list(config: Option<&Path>, json: bool) -> anyhow::Result<ExitCode> {
    let (config, store) = super::open_existing(config)?;
    let stored = match &store {
        Some(s) => s.feeds()?,
        None => Vec::new(),
    };
    let feeds = as_configured(stored, &config.feeds);
    if json {
        for f in &feeds {
            let mut v = serde_json::to_value(f)?;
            v["state"] = f.state(FAILING_AFTER).into();
            println!("{v}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if store.is_none() {
        println!(
            "no database yet at {} (`veille poll` creates it); the feeds as configured:",
            super::absolute(&config.storage.database).display()
        );
    }
    println!(
        "{:<24} {:<9} {:>6} {:>6} {:<16} {:<16} LAST ERROR OR WARNING",
        "FEED", "STATE", "ERRORS", "ITEMS", "LAST FETCH (UTC)", "NEXT CHECK (UTC)"
    );
    for f in &feeds {
        println!(
            "{:<24} {:<9} {:>6} {:>6} {:<16} {:<16} {}",
            f.name,
            f.state(FAILING_AFTER),
            f.error_count,
            f.item_count,
            short_time(f.last_fetch_at),
            short_time(f.next_check_at),
            f.notes().join("; ")
        );
    }
    let retry: Vec<&str> = feeds
        .iter()
        .filter(|f| f.article_trouble().is_some_and(|r| r.retryable()))
        .map(|f| f.name.as_str())
        .collect();
    if !retry.is_empty() {
        println!(
            "Once the cause is fixed, `veille refetch --feed NAME` fetches those article pages again ({}).",
            retry.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The configuration and the text of its file, which must exist: the embedded defaults have no
/// file to edit.
fn editable(config: Option<&Path>) -> anyhow::Result<(Config, String)> {
    let config = Config::load(config)?;
    if !config.path.exists() {
        bail!(
            "veille is running on its embedded defaults: there is no configuration file {} to change; \
             create it (the defaults are the repository's config/veille.toml) or name one with --config PATH",
            config.path.display()
        );
    }
    let text = std::fs::read_to_string(&config.path)
        .with_context(|| format!("reading {}", config.path.display()))?;
    Ok((config, text))
}

/// Checks the edited text as the service would load it, then replaces the file (a temporary
/// file renamed over it, with the same permissions): the file is never left half-written.
fn save(config: &Config, text: &str) -> anyhow::Result<Config> {
    let checked = Config::from_str(text, &config.path).map_err(|e| {
        anyhow::anyhow!(
            "the configuration would not be valid after this change, so it was left as it was: {e}"
        )
    })?;
    let path = &config.path;
    let tmp = path.with_file_name(format!(
        ".{}.tmp",
        path.file_name()
            .map_or("veille.toml".into(), |n| n.to_string_lossy())
    ));
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(checked)
}

const RELOAD_HINT: &str =
    "a running `veille run` picks this up on SIGHUP (`systemctl reload veille` or `kill -HUP PID`)";

fn check_every(every: Option<&str>) -> anyhow::Result<()> {
    if let Some(e) = every {
        let d = humantime::parse_duration(e).map_err(|err| {
            anyhow::anyhow!("--every {e:?}: {err}; expected a duration such as 30m, 2h or 1d")
        })?;
        if d < MIN_EVERY {
            bail!("--every {e:?} is too short; the minimum is 1m");
        }
    }
    Ok(())
}

fn same_url(a: &str, b: &str) -> bool {
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

async fn add(config: Option<&Path>, a: &AddArgs) -> anyhow::Result<ExitCode> {
    let (config, text) = editable(config)?;
    check_every(a.every.as_deref())?;
    let language = match &a.language {
        Some(l) => {
            let code = l.trim().to_ascii_lowercase();
            if code.len() != 2 || !code.chars().all(|c| c.is_ascii_lowercase()) {
                bail!("--language {l:?}: expected a two-letter ISO 639-1 code such as en or ga");
            }
            Some(code)
        }
        None => None,
    };
    let taken: HashSet<String> = config.feeds.iter().map(|f| f.name.clone()).collect();
    if let Some(n) = &a.name
        && taken.contains(n)
    {
        bail!(
            "a feed named {n:?} is already configured in {}",
            config.path.display()
        );
    }
    let fetcher = Fetcher::new(&config.fetch)?;
    let found = discover::discover(&fetcher, &a.url).await?;
    if let Some(f) = config
        .feeds
        .iter()
        .find(|f| same_url(f.url.as_str(), &found.url))
    {
        bail!("{} is already configured as feed {:?}", found.url, f.name);
    }
    let name = a
        .name
        .clone()
        .unwrap_or_else(|| feedlist::name_for(found.title.as_deref(), &found.url, &taken));
    let feed = NewFeed {
        name: name.clone(),
        url: found.url.clone(),
        every: a.every.clone(),
        language,
        category: a.category.clone(),
        title: found.title.clone(),
    };
    let new_text = edit::add(&text, std::slice::from_ref(&feed))?;
    let via = match found.via {
        Via::Given => "the URL given",
        Via::Alternate => "the page's <link rel=\"alternate\">",
        Via::CommonPath => "a common path of the site",
    };
    println!(
        "found {} ({}, {} items{}) via {via}",
        found.url,
        found.title.as_deref().unwrap_or("no title"),
        found.items,
        found
            .language
            .as_deref()
            .map_or(String::new(), |l| format!(", language {l}"))
    );
    if a.dry_run {
        Config::from_str(&new_text, &config.path)?;
        print!(
            "would add to {}:\n\n{}",
            config.path.display(),
            added_part(&text, &new_text)
        );
        return Ok(ExitCode::SUCCESS);
    }
    save(&config, &new_text)?;
    println!(
        "added feed {name:?} to {}; {RELOAD_HINT}",
        config.path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The lines `new` has that `old` has not (the added tables), for --dry-run.
fn added_part(old: &str, new: &str) -> String {
    let start = old
        .bytes()
        .zip(new.bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(old.len());
    let tail = old.len() - start;
    let end = (0..=tail)
        .rev()
        .find(|&n| new.ends_with(&old[old.len() - n..]))
        .map_or(new.len(), |n| new.len() - n);
    new[start..end.max(start)].to_string()
}

fn remove(config: Option<&Path>, name: &str) -> anyhow::Result<ExitCode> {
    let (config, text) = editable(config)?;
    let new_text = edit::remove(&text, name)?;
    save(&config, &new_text)?;
    println!(
        "removed feed {name:?} from {} (its stored items stay); {RELOAD_HINT}",
        config.path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// An OPML text that already reads as a feed name (`eeas-press`, as `veille feeds export`
/// writes them) is kept as it is; any other is a title, made into a name.
fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

fn import(config: Option<&Path>, a: &ImportArgs) -> anyhow::Result<ExitCode> {
    let (config, text) = editable(config)?;
    check_every(a.every.as_deref())?;
    let xml = std::fs::read_to_string(&a.file)
        .with_context(|| format!("reading {}", a.file.display()))?;
    let feeds = opml::read(&xml).with_context(|| format!("{}", a.file.display()))?;
    let mut taken: HashSet<String> = config.feeds.iter().map(|f| f.name.clone()).collect();
    let mut urls: Vec<String> = config.feeds.iter().map(|f| f.url.to_string()).collect();
    let (mut new, mut present, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
    for f in feeds {
        if !f.is_feed() {
            skipped.push(format!(
                "{} ({}): type {:?} is a page the other reader scrapes with its own rules; add it as kind = \"html\" with selectors",
                f.text,
                f.url,
                f.kind.as_deref().unwrap_or("")
            ));
            continue;
        }
        let ok_url = url::Url::parse(&f.url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"));
        let Some(parsed) = ok_url else {
            skipped.push(format!("{} ({}): not an http(s) URL", f.text, f.url));
            continue;
        };
        if urls.iter().any(|u| same_url(u, parsed.as_str())) {
            present.push(f.text);
            continue;
        }
        urls.push(parsed.to_string());
        let name = if valid_name(&f.text) {
            feedlist::unique_name(&f.text, &taken)
        } else {
            feedlist::name_for(Some(&f.text), parsed.as_str(), &taken)
        };
        taken.insert(name.clone());
        let language = f
            .language
            .as_deref()
            .map(|l| l.get(..2).unwrap_or("").to_ascii_lowercase())
            .filter(|l| l.len() == 2 && l.chars().all(|c| c.is_ascii_lowercase()));
        new.push(NewFeed {
            title: (f.text != name).then(|| f.text.clone()),
            name,
            url: parsed.to_string(),
            every: a.every.clone(),
            language,
            category: f.category,
        });
    }
    let new_text = edit::add(&text, &new)?;
    let verb = if a.dry_run {
        "would import"
    } else {
        "imported"
    };
    if a.dry_run {
        Config::from_str(&new_text, &config.path)?;
    } else if !new.is_empty() {
        save(&config, &new_text)?;
    }
    println!(
        "{verb} {} feeds from {} into {} ({} already configured, {} skipped)",
        new.len(),
        a.file.display(),
        config.path.display(),
        present.len(),
        skipped.len()
    );
    for s in &skipped {
        println!("  skipped {s}");
    }
    if !a.dry_run && !new.is_empty() {
        println!("{RELOAD_HINT}");
    }
    Ok(ExitCode::SUCCESS)
}

fn export(config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let config = Config::load(config)?;
    // Feed titles as their documents give them, when the database knows them.
    let titles: std::collections::HashMap<String, String> = if config.storage.database.exists() {
        Store::open(&config.storage.database)
            .and_then(|s| s.feeds())
            .map(|rows| {
                rows.into_iter()
                    .filter_map(|f| Some((f.name, f.title?)))
                    .collect()
            })
            .unwrap_or_default()
    } else {
        Default::default()
    };
    let feeds: Vec<opml::OpmlFeed> = config
        .feeds
        .iter()
        .map(|f| opml::OpmlFeed {
            text: f.name.clone(),
            title: titles.get(&f.name).cloned(),
            url: f.url.to_string(),
            html_url: None,
            category: config.categories.get(&f.name).cloned(),
            language: f.language.clone(),
            kind: None,
        })
        .collect();
    print!("{}", opml::write("veille feeds", &feeds));
    Ok(ExitCode::SUCCESS)
}

/// The stored feeds as the configuration has them now, without writing anything: configured
/// feeds not polled yet are added as new, stored feeds no longer configured show as disabled.
fn as_configured(stored: Vec<FeedRow>, configured: &[FeedConfig]) -> Vec<FeedRow> {
    let mut out: Vec<FeedRow> = stored
        .into_iter()
        .map(|mut f| {
            match configured.iter().find(|c| c.name == f.name) {
                Some(c) => {
                    f.enabled = c.enabled;
                    f.url = c.url.to_string();
                }
                None => f.enabled = false,
            }
            f
        })
        .collect();
    for c in configured {
        if !out.iter().any(|f| f.name == c.name) {
            out.push(FeedRow {
                id: 0,
                name: c.name.clone(),
                url: c.url.to_string(),
                title: None,
                enabled: c.enabled,
                last_status: None,
                error_count: 0,
                last_error: None,
                last_fetch_at: None,
                last_success_at: None,
                next_check_at: None,
                item_count: 0,
                article_failures: 0,
                reissued: 0,
                last_warning: None,
                article_report: None,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}
