//! The login form: asks for the web view's token and sets a session cookie.

use maud::{Markup, html};

use super::{Nav, layout};

pub fn page(csrf: &str, next: &str, error: Option<&str>) -> Markup {
    layout(
        "Sign in",
        Nav::None,
        "",
        html! {
            h1 { "Sign in" }
            p { "This web view is served beyond this machine: give its token (" code { "[server] token" } " in the configuration)." }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form.login method="post" action="/login" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="next" value=(next);
                label for="token" { "Token" }
                input #token type="password" name="token" autocomplete="current-password" required;
                button type="submit" { "Sign in" }
            }
        },
    )
}
