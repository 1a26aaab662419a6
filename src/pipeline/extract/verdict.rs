//! Decides whether an extraction succeeded, or why not: an empty page, too little text, a
//! cookie/consent wall or a login wall in place of the article.

use super::Status;

/// Below this many non-whitespace characters an extraction is not an article.
pub const MIN_CHARS: usize = 200;
/// A page whose article text is shorter than this may still be a wall in disguise.
const WALL_MAX_CHARS: usize = 1500;

/// Phrases of cookie/consent walls, lower case, in the languages of the feeds we watch.
const CONSENT: &[&str] = &[
    "cookie",
    "consent",
    "accept all",
    "reject all",
    "privacy settings",
    "manage preferences",
    "manage options",
    "we value your privacy",
    "our partners",
    "legitimate interest",
    "einwilligung",
    "zustimmen",
    "alle akzeptieren",
    "datenschutz",
    "tout accepter",
    "consentement",
    "paramétrer",
    "accetta",
    "acconsent",
    "rifiuta",
    "zgod",
    "akceptuj",
    "aceptar",
    "toestemming",
    "accepteren",
    "gdpr",
];

/// Button and heading phrases of consent dialogs: an article about cookie rules uses the
/// words "cookie" and "consent", but rarely these.
const CONSENT_BUTTONS: &[&str] = &[
    "accept all",
    "reject all",
    "manage preferences",
    "manage options",
    "manage settings",
    "we value your privacy",
    "we and our partners",
    "alle akzeptieren",
    "alle ablehnen",
    "tout accepter",
    "tout refuser",
    "accetta tutti",
    "rifiuta tutti",
    "akceptuj wszystkie",
    "odrzuć wszystkie",
    "aceptar todo",
    "rechazar todo",
    "alles accepteren",
];

/// Phrases of login/subscription walls, lower case.
const LOGIN: &[&str] = &[
    "log in",
    "login",
    "sign in",
    "password",
    "username",
    "forgot your",
    "create an account",
    "to continue reading",
    "subscribe to read",
    "se connecter",
    "mot de passe",
    "identifiant",
    "anmelden",
    "passwort",
    "benutzername",
    "accedi",
    "nome utente",
    "zaloguj",
    "hasło",
    "iniciar sesión",
    "contraseña",
    "ecas",
    "eu login",
];

fn hits(text: &str, phrases: &[&str]) -> usize {
    phrases.iter().filter(|p| text.contains(*p)).count()
}

/// Status of an extraction: `text` is the article text, `page_text` all text of the page
/// body (including what was discarded as furniture), `has_password` whether the page has a
/// password field.
pub fn judge(text: &str, page_text: impl FnOnce() -> String, has_password: bool) -> Status {
    let chars = text.chars().filter(|c| !c.is_whitespace()).count();
    if chars >= WALL_MAX_CHARS {
        return Status::Ok;
    }
    let lower_text = text.to_lowercase();
    if chars >= MIN_CHARS {
        // Enough text, but it may be the wall's own explanation.
        let words = text.split_whitespace().count().max(1);
        if hits(&lower_text, CONSENT_BUTTONS) >= 2 && words < 250 {
            return Status::ConsentWall;
        }
        if has_password && hits(&lower_text, LOGIN) >= 2 && words < 250 {
            return Status::LoginWall;
        }
        return Status::Ok;
    }
    let page = page_text().to_lowercase();
    if page.trim().is_empty() && chars == 0 {
        return Status::Empty;
    }
    if hits(&page, CONSENT) >= 2 {
        return Status::ConsentWall;
    }
    if has_password || hits(&page, LOGIN) >= 2 {
        return Status::LoginWall;
    }
    if chars == 0 {
        Status::Empty
    } else {
        Status::TooShort
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_ok_even_with_cookie_words() {
        let text = "The Commission adopted cookie rules after consent talks. ".repeat(40);
        assert_eq!(judge(&text, String::new, false), Status::Ok);
    }

    #[test]
    fn short_text_reasons() {
        assert_eq!(judge("", String::new, false), Status::Empty);
        assert_eq!(
            judge("Short note.", || "Short note.".into(), false),
            Status::TooShort
        );
        let wall = || "We use cookies. Accept all or Reject all to give consent.".to_string();
        assert_eq!(judge("", wall, false), Status::ConsentWall);
        assert_eq!(
            judge("Sign in", || "Sign in with your username".into(), true),
            Status::LoginWall
        );
    }

    #[test]
    fn an_article_about_cookie_rules_is_an_article() {
        let text = "The Commission fined an online retailer for placing cookies without consent. \
                    The GDPR requires consent before tracking cookies are stored, the data \
                    protection board recalled, and consent banners must offer a refusal as easy \
                    as acceptance. The retailer has three months to change its cookie settings.";
        assert!(text.chars().filter(|c| !c.is_whitespace()).count() >= MIN_CHARS);
        assert_eq!(judge(text, String::new, false), Status::Ok);
    }

    #[test]
    fn a_consent_explanation_is_not_an_article() {
        let text = "We and our partners use cookies to store and access information on your device. \
                    With your consent we process data for personalised ads. You can accept all, \
                    reject all, or manage preferences at any time in the privacy settings page. \
                    Your choices will apply to this site only and you can withdraw them later.";
        assert!(text.chars().filter(|c| !c.is_whitespace()).count() >= MIN_CHARS);
        assert_eq!(judge(text, String::new, false), Status::ConsentWall);
    }
}
