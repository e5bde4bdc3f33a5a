//! Sessions over HTTP: the encrypted session cookie, the `Professional`
//! extractor, role checks and CSRF checks that every professional's page and
//! form uses.
//!
//! ```ignore
//! async fn save(user: Professional, req: HttpRequest, form: web::Form<MyForm>) -> actix_web::Result<HttpResponse> {
//!     user.require_role(&req, &[Role::Admin, Role::Professional])?;
//!     user.check_csrf(&req, &form.csrf)?;
//!     let mut ctx = user.context(); // holds `csrf` and `current_user`
//!     …
//! }
//! ```

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, CookieJar, Key, SameSite};
use actix_web::dev::Payload;
use actix_web::error::InternalError;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use serde_json::json;
use sha2::{Digest, Sha512};

use super::lang::LangChoice;
use super::render::error_page;
use super::state::AppState;
use crate::auth::{
    check_csrf, find_by_id, CsrfSecret, LoginThrottle, Role, Session, SessionKey, User, SESSION_LIFETIME_SECS,
};

/// The session cookie: encrypted and authenticated, so its content can be
/// neither read nor changed by the browser.
pub const SESSION_COOKIE: &str = "buurtpeil_sessie";
/// Before login: the browser's CSRF secret for the login form, encrypted too.
pub const LOGIN_CSRF_COOKIE: &str = "buurtpeil_csrf";
/// Where a visitor who is not logged in is sent.
pub const LOGIN_PATH: &str = "/inloggen";
/// Where a professional lands after logging in.
pub const HOME_PATH: &str = "/beheer";

/// What the session machinery shares: the cookie key and the login
/// throttle. Registered as its own `web::Data`, beside `AppState`.
pub struct AuthState {
    key: Key,
    pub throttle: LoginThrottle,
}

impl AuthState {
    /// With `None` a random key is made: sessions then end when the server
    /// stops (logged once).
    pub fn new(key: Option<&SessionKey>) -> AuthState {
        let key = match key {
            Some(k) => k.clone(),
            None => {
                tracing::info!(
                    "BUURTPEIL_SESSION_KEY is not set: using a random session key, so logins end when the server stops"
                );
                SessionKey::random()
            }
        };
        // SHA-512 spreads every byte of a longer key over the 64 bytes the
        // cookie jar takes (32 to sign, 32 to encrypt).
        let key = Key::from(&Sha512::digest(key.as_bytes()));
        crate::auth::warm_up();
        AuthState { key, throttle: LoginThrottle::default() }
    }

    /// The decrypted value of a private cookie, if present and untampered.
    pub fn read(&self, req: &HttpRequest, name: &str) -> Option<String> {
        let cookie = req.cookie(name)?;
        let mut jar = CookieJar::new();
        jar.add_original(cookie.into_owned());
        jar.private(&self.key).get(name).map(|c| c.value().to_owned())
    }

    /// An encrypted cookie with our flags: HttpOnly, SameSite=Lax, Path=/,
    /// Secure over HTTPS; `max_age` None makes it last until the browser
    /// closes.
    pub fn cookie(&self, req: &HttpRequest, name: &str, value: String, max_age: Option<i64>) -> Cookie<'static> {
        let mut builder = Cookie::build(name.to_owned(), value)
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(is_https(req));
        if let Some(secs) = max_age {
            builder = builder.max_age(CookieDuration::seconds(secs));
        }
        let mut jar = CookieJar::new();
        jar.private_mut(&self.key).add(builder.finish());
        jar.get(name).cloned().expect("the cookie was just added")
    }

    /// A cookie that makes the browser forget `name`.
    pub fn removal(&self, req: &HttpRequest, name: &str) -> Cookie<'static> {
        let mut c = Cookie::build(name.to_owned(), "")
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(is_https(req))
            .finish();
        c.make_removal();
        c
    }

    /// The session cookie for a fresh login.
    pub fn session_cookie(&self, req: &HttpRequest, session: &Session) -> Cookie<'static> {
        self.cookie(req, SESSION_COOKIE, session.encode(), Some(SESSION_LIFETIME_SECS))
    }

    /// The session in the request's cookie, if any, untampered and fresh.
    /// Whether its account still may log in is checked by `Professional`.
    pub fn session(&self, req: &HttpRequest) -> Option<Session> {
        let session = Session::decode(&self.read(req, SESSION_COOKIE)?)?;
        session.is_fresh(chrono::Utc::now().timestamp()).then_some(session)
    }
}

/// Whether the request came over HTTPS, as a trusted proxy says.
fn is_https(req: &HttpRequest) -> bool {
    super::origin::is_https(req)
}

fn auth_state(req: &HttpRequest) -> Result<&web::Data<AuthState>, actix_web::Error> {
    req.app_data::<web::Data<AuthState>>()
        .ok_or_else(|| actix_web::error::ErrorInternalServerError("AuthState is not registered"))
}

fn is_api(req: &HttpRequest) -> bool {
    req.path().starts_with("/api/")
}

fn lang_of(req: &HttpRequest) -> LangChoice {
    match LangChoice::from_request(req, &mut Payload::None).into_inner() {
        Ok(l) => l,
        Err(_) => LangChoice { lang: crate::i18n::Lang::Nl, switched: false },
    }
}

/// A refusal as an error: an error page for pages, JSON for the API.
/// `message_key` is a key of the interface texts.
pub fn refusal(req: &HttpRequest, status: StatusCode, message_key: &str) -> actix_web::Error {
    let response = if is_api(req) {
        let text = crate::i18n::Lang::En.texts().get(message_key).cloned().unwrap_or_default();
        HttpResponse::build(status).json(json!({ "error": text }))
    } else {
        match req.app_data::<web::Data<AppState>>() {
            Some(state) => no_store(error_page(state, req, lang_of(req), status, message_key)),
            None => HttpResponse::build(status).finish(),
        }
    };
    InternalError::from_response(message_key.to_owned(), response).into()
}

/// Pages of logged-in users and login forms are never cached.
pub fn no_store(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    res
}

/// A local path to come back to after login: starts with one `/`, no
/// scheme, host or control characters; anything else gives `None`.
pub fn safe_return_path(raw: &str) -> Option<&str> {
    let ok = raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw.starts_with("/\\")
        && raw.len() <= 512
        && raw.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    ok.then_some(raw)
}

/// Not logged in: to the login form (and back here afterwards) for pages,
/// 401 for the API. Any stale session cookie is removed.
fn not_logged_in(req: &HttpRequest, auth: &AuthState) -> actix_web::Error {
    let mut res = if is_api(req) {
        HttpResponse::Unauthorized().json(json!({ "error": "log in first" }))
    } else {
        let here = match req.query_string() {
            "" => req.path().to_owned(),
            q => format!("{}?{q}", req.path()),
        };
        let target = match safe_return_path(&here) {
            Some(p) if p != HOME_PATH => {
                let query: String = url_encode(p);
                format!("{LOGIN_PATH}?terug={query}")
            }
            _ => LOGIN_PATH.to_owned(),
        };
        HttpResponse::SeeOther().insert_header((header::LOCATION, target)).finish()
    };
    if req.cookie(SESSION_COOKIE).is_some() {
        let _ = res.add_cookie(&auth.removal(req, SESSION_COOKIE));
    }
    InternalError::from_response("not logged in", res).into()
}

/// Percent-encodes everything but unreserved characters and `/`.
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The logged-in user of this request, of any role: an administrator,
/// professional or council member whose account exists, is enabled and has
/// the password the session was made with, within 8 hours of login.
/// Without one, pages redirect to `/inloggen` and the API answers 401.
pub struct Professional {
    pub user: User,
    session: Session,
}

impl Professional {
    pub fn role(&self) -> Role {
        self.user.role
    }

    /// A fresh token for a form's hidden `csrf` field.
    pub fn csrf_token(&self) -> String {
        self.session.csrf.token()
    }

    pub fn csrf_secret(&self) -> &CsrfSecret {
        &self.session.csrf
    }

    /// A template context holding `csrf` (a token for the hidden field of
    /// every form) and `current_user` (`email`, `role`).
    pub fn context(&self) -> tera::Context {
        let mut ctx = tera::Context::new();
        ctx.insert("csrf", &self.csrf_token());
        ctx.insert("current_user", &json!({ "email": self.user.email, "role": self.user.role }));
        ctx
    }

    /// 403 (page or JSON) unless the form's `csrf` value belongs to this
    /// session.
    pub fn check_csrf(&self, req: &HttpRequest, token: &str) -> Result<(), actix_web::Error> {
        check_csrf(&self.session.csrf, token).map_err(|_| refusal(req, StatusCode::FORBIDDEN, "error_csrf"))
    }

    /// 403 (page or JSON) unless the user has one of these roles.
    pub fn require_role(&self, req: &HttpRequest, roles: &[Role]) -> Result<(), actix_web::Error> {
        require_role(req, &self.user, roles)
    }
}

/// 403 (page or JSON) unless `user` has one of `roles`.
pub fn require_role(req: &HttpRequest, user: &User, roles: &[Role]) -> Result<(), actix_web::Error> {
    if roles.contains(&user.role) {
        Ok(())
    } else {
        Err(refusal(req, StatusCode::FORBIDDEN, "error_forbidden"))
    }
}

impl FromRequest for Professional {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Professional, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let auth = auth_state(&req)?.clone();
            let Some(session) = auth.session(&req) else {
                return Err(not_logged_in(&req, &auth));
            };
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or_else(|| actix_web::error::ErrorInternalServerError("AppState is not registered"))?;
            let id = session.user_id;
            let found = web::block(move || -> Result<Option<User>, crate::db::DbError> {
                let mut conn = state.pool.get()?;
                find_by_id(&mut conn, id)
            })
            .await;
            let user = match found {
                Ok(Ok(user)) => user,
                Ok(Err(e)) => {
                    tracing::error!("checking a session failed: {e}");
                    return Err(refusal(&req, StatusCode::SERVICE_UNAVAILABLE, "error_unavailable"));
                }
                Err(e) => {
                    tracing::error!("checking a session failed: {e}");
                    return Err(refusal(&req, StatusCode::SERVICE_UNAVAILABLE, "error_unavailable"));
                }
            };
            match user {
                Some(user) if !user.disabled && session.matches_password(&user.password_hash) => {
                    Ok(Professional { user, session })
                }
                _ => Err(not_logged_in(&req, &auth)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_paths_stay_local() {
        assert_eq!(safe_return_path("/ontwerp?x=1"), Some("/ontwerp?x=1"));
        for bad in [
            "",
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "ontwerp",
            "/a\nb",
            "/a\\b",
            "/é",
            "/a b",
        ] {
            assert_eq!(safe_return_path(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn encodes_return_paths() {
        assert_eq!(url_encode("/ontwerp?x=1&y=é"), "/ontwerp%3Fx%3D1%26y%3D%C3%A9");
    }
}
