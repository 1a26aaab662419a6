//! The page of a refused or failed request.

use axum::http::StatusCode;
use maud::{Markup, html};

use super::{Nav, layout};

pub fn page(status: StatusCode, message: &str) -> Markup {
    let title = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    layout(
        &title,
        Nav::None,
        "",
        html! {
            h1 { (title) }
            p.error { (message) }
            p { a href="/" { "Back to the matches" } }
        },
    )
}
