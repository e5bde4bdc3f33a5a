//! The resident's language: `?lang=` (the visible switch, remembered in a
//! cookie), then the cookie, then `Accept-Language`; Dutch otherwise.

use std::future::{ready, Ready};

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{dev::Payload, FromRequest, HttpRequest};

use crate::i18n::Lang;

#[derive(Debug, Clone, Copy)]
pub struct LangChoice {
    pub lang: Lang,
    /// Chosen with the switch on this request: remember it.
    pub switched: bool,
}

impl LangChoice {
    pub fn cookie(&self) -> Option<Cookie<'static>> {
        self.switched.then(|| {
            Cookie::build("lang", self.lang.code())
                .path("/")
                .max_age(actix_web::cookie::time::Duration::days(365))
                .same_site(SameSite::Lax)
                .http_only(true)
                .finish()
        })
    }
}

impl FromRequest for LangChoice {
    type Error = actix_web::Error;
    type Future = Ready<Result<LangChoice, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let from_query = req.query_string().split('&').find_map(|kv| kv.strip_prefix("lang=")).and_then(Lang::parse);
        let choice = if let Some(lang) = from_query {
            LangChoice { lang, switched: true }
        } else if let Some(lang) = req.cookie("lang").and_then(|c| Lang::parse(c.value())) {
            LangChoice { lang, switched: false }
        } else {
            let header =
                req.headers().get(actix_web::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
            LangChoice { lang: Lang::from_accept_language(header), switched: false }
        };
        ready(Ok(choice))
    }
}

/// One interface text in the request's language.
pub fn t(lang: LangChoice, key: &str) -> String {
    lang.lang.text(key)
}
