//! Logging in and out, and the professional's home page.
//!
//! GET/POST `/inloggen`, POST `/uitloggen` (never GET: a link or image on
//! another site must not log anyone out), GET `/beheer`.

use std::net::IpAddr;
use std::time::Instant;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::lang::LangChoice;
use super::render::page;
use super::session::{
    no_store, refusal, safe_return_path, AuthState, Professional, HOME_PATH, LOGIN_CSRF_COOKIE, LOGIN_PATH,
    SESSION_COOKIE,
};
use super::state::AppState;
use crate::auth::{
    authenticate, check_csrf, list_users, CsrfSecret, LoginOutcome, Role, Session, User, MAX_EMAIL_LEN,
    MAX_PASSWORD_LEN,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(LOGIN_PATH, web::get().to(login_form))
        .route(LOGIN_PATH, web::post().to(login))
        .route("/uitloggen", web::post().to(logout))
        .route(HOME_PATH, web::get().to(home))
        .route("/beheer/accounts", web::get().to(accounts));
}

/// The login form as sent; every field may be missing.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    email: String,
    password: String,
    csrf: String,
    terug: String,
}

/// What the login page shows besides the form.
#[derive(Default)]
struct LoginView<'a> {
    email: &'a str,
    terug: &'a str,
    /// A message above the form (a key of the interface texts).
    message: Option<&'static str>,
    email_error: Option<&'static str>,
    password_error: Option<&'static str>,
    retry_minutes: Option<u64>,
    logged_out: bool,
}

/// The browser's login CSRF secret, and the cookie to set when it is new.
fn login_secret(auth: &AuthState, req: &HttpRequest) -> (CsrfSecret, Option<actix_web::cookie::Cookie<'static>>) {
    match auth.read(req, LOGIN_CSRF_COOKIE).and_then(|v| CsrfSecret::from_hex(&v)) {
        Some(s) => (s, None),
        None => {
            let s = CsrfSecret::random();
            let cookie = auth.cookie(req, LOGIN_CSRF_COOKIE, s.to_hex(), None);
            (s, Some(cookie))
        }
    }
}

fn login_page(
    state: &AppState,
    auth: &AuthState,
    req: &HttpRequest,
    lang: LangChoice,
    status: StatusCode,
    view: LoginView,
) -> HttpResponse {
    let (secret, new_cookie) = login_secret(auth, req);
    let mut ctx = tera::Context::new();
    ctx.insert("csrf", &secret.token());
    ctx.insert("email", view.email);
    ctx.insert("terug", &safe_return_path(view.terug).unwrap_or(""));
    ctx.insert("message_key", &view.message);
    ctx.insert("email_error", &view.email_error);
    ctx.insert("password_error", &view.password_error);
    ctx.insert("retry_minutes", &view.retry_minutes);
    ctx.insert("logged_out", &view.logged_out);
    ctx.insert("max_email", &MAX_EMAIL_LEN);
    ctx.insert("max_password", &MAX_PASSWORD_LEN);
    let mut res = no_store(page(state, req, lang, status, "accounts/login.html", ctx));
    if let Some(c) = new_cookie {
        let _ = res.add_cookie(&c);
    }
    res
}

async fn login_form(
    state: web::Data<AppState>,
    auth: web::Data<AuthState>,
    req: HttpRequest,
    lang: LangChoice,
    query: web::Query<std::collections::BTreeMap<String, String>>,
) -> HttpResponse {
    let terug = query.get("terug").map(String::as_str).unwrap_or("");
    if auth.session(&req).is_some() && query.get("uitgelogd").is_none() {
        // Possibly logged in already: the home page checks the rest.
        let target = safe_return_path(terug).unwrap_or(HOME_PATH);
        return HttpResponse::SeeOther().insert_header((header::LOCATION, target.to_owned())).finish();
    }
    let view = LoginView { terug, logged_out: query.contains_key("uitgelogd"), ..LoginView::default() };
    login_page(&state, &auth, &req, lang, StatusCode::OK, view)
}

/// The address the request came from, for throttling only: held in memory
/// for 15 minutes at most, never logged or stored. Behind a trusted proxy
/// (`BUURTPEIL_TRUSTED_PROXIES`) it is the client's address the proxy
/// forwarded; otherwise the TCP peer's.
fn peer_ip(req: &HttpRequest) -> Option<IpAddr> {
    super::origin::client_ip(req)
}

async fn login(
    state: web::Data<AppState>,
    auth: web::Data<AuthState>,
    req: HttpRequest,
    lang: LangChoice,
    form: web::Form<LoginForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let email = form.email.trim();
    // Never echo an oversized value back into the page.
    let shown_email = if email.chars().count() > MAX_EMAIL_LEN { "" } else { email };
    let view = LoginView { email: shown_email, terug: &form.terug, ..LoginView::default() };

    let csrf_ok = auth
        .read(&req, LOGIN_CSRF_COOKIE)
        .and_then(|v| CsrfSecret::from_hex(&v))
        .is_some_and(|secret| check_csrf(&secret, &form.csrf).is_ok());
    if !csrf_ok {
        let view = LoginView { message: Some("error_csrf_login"), ..view };
        return login_page(&state, &auth, &req, lang, StatusCode::FORBIDDEN, view);
    }

    let email_error = if email.is_empty() {
        Some("login_error_email_missing")
    } else if email.chars().count() > MAX_EMAIL_LEN {
        Some("login_error_email_long")
    } else {
        None
    };
    let password_error = if form.password.is_empty() {
        Some("login_error_password_missing")
    } else if form.password.chars().count() > MAX_PASSWORD_LEN {
        Some("login_error_password_long")
    } else {
        None
    };
    if email_error.is_some() || password_error.is_some() {
        let view = LoginView { message: Some("login_error_fields"), email_error, password_error, ..view };
        return login_page(&state, &auth, &req, lang, StatusCode::UNPROCESSABLE_ENTITY, view);
    }

    let account = email.to_lowercase();
    let ip = peer_ip(&req);
    // Counted as a failure before the password is hashed, so parallel
    // guesses cannot all pass; given back below if the password is right.
    let attempt = match auth.throttle.reserve(&account, ip, Instant::now()) {
        Ok(attempt) => attempt,
        Err(throttled) => {
            let secs = throttled.retry_after_secs();
            let view = LoginView { message: Some("login_throttled"), retry_minutes: Some(secs.div_ceil(60)), ..view };
            let mut res = login_page(&state, &auth, &req, lang, StatusCode::TOO_MANY_REQUESTS, view);
            res.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
            return res;
        }
    };

    let outcome = {
        let (state, email, password) = (state.clone(), email.to_owned(), form.password);
        web::block(move || -> Result<LoginOutcome, crate::db::DbError> {
            let mut conn = state.pool.get()?;
            authenticate(&mut conn, &email, &password)
        })
        .await
    };
    let outcome = match outcome {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => {
            auth.throttle.release(attempt);
            tracing::error!("login failed on the database: {e}");
            let view = LoginView { message: Some("error_unavailable"), ..view };
            return login_page(&state, &auth, &req, lang, StatusCode::SERVICE_UNAVAILABLE, view);
        }
        Err(e) => {
            auth.throttle.release(attempt);
            tracing::error!("login failed: {e}");
            let view = LoginView { message: Some("error_unavailable"), ..view };
            return login_page(&state, &auth, &req, lang, StatusCode::SERVICE_UNAVAILABLE, view);
        }
    };
    match outcome {
        LoginOutcome::LoggedIn(user) => {
            auth.throttle.release(attempt);
            tracing::info!("account {} logged in", user.id.0);
            let session = Session::new(user.id, &user.password_hash, chrono::Utc::now().timestamp());
            let target = safe_return_path(&form.terug).unwrap_or(HOME_PATH).to_owned();
            let mut res = HttpResponse::SeeOther().insert_header((header::LOCATION, target)).finish();
            let _ = res.add_cookie(&auth.session_cookie(&req, &session));
            let _ = res.add_cookie(&auth.removal(&req, LOGIN_CSRF_COOKIE));
            no_store(res)
        }
        LoginOutcome::WrongCredentials => {
            // The reserved attempt stays a failure (it is not released).
            let view = LoginView { message: Some("login_error_wrong"), ..view };
            let mut res = login_page(&state, &auth, &req, lang, StatusCode::UNAUTHORIZED, view);
            res.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Form"));
            res
        }
        LoginOutcome::Disabled => {
            let view = LoginView { message: Some("login_error_disabled"), ..view };
            login_page(&state, &auth, &req, lang, StatusCode::FORBIDDEN, view)
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CsrfOnly {
    csrf: String,
}

async fn logout(
    user: Professional,
    auth: web::Data<AuthState>,
    req: HttpRequest,
    form: web::Form<CsrfOnly>,
) -> actix_web::Result<HttpResponse> {
    user.check_csrf(&req, &form.csrf)?;
    tracing::info!("account {} logged out", user.user.id.0);
    let mut res =
        HttpResponse::SeeOther().insert_header((header::LOCATION, format!("{LOGIN_PATH}?uitgelogd=1"))).finish();
    let _ = res.add_cookie(&auth.removal(&req, SESSION_COOKIE));
    Ok(no_store(res))
}

async fn home(user: Professional, state: web::Data<AppState>, req: HttpRequest, lang: LangChoice) -> HttpResponse {
    let mut ctx = user.context();
    ctx.insert("role_key", &format!("role_{}", user.role()));
    // The map of every questionnaire with public results.
    let catalog = state.catalog();
    let maps: Vec<_> = catalog
        .all_current()
        .filter(|p| p.definition.kind == crate::questionnaire::Kind::Anonymous)
        .map(|p| (p.definition.slug.to_string(), p.definition.title.get(lang.lang).to_owned()))
        .collect();
    ctx.insert("maps", &maps);
    no_store(page(&state, &req, lang, StatusCode::OK, "accounts/home.html", ctx))
}

/// Every account: for administrators only.
async fn accounts(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
) -> actix_web::Result<HttpResponse> {
    user.require_role(&req, &[Role::Admin])?;
    let list = {
        let state = state.clone();
        web::block(move || -> Result<Vec<User>, crate::db::DbError> { list_users(&mut *state.pool.get()?) }).await
    };
    let Ok(Ok(list)) = list else {
        return Err(refusal(&req, StatusCode::SERVICE_UNAVAILABLE, "error_unavailable"));
    };
    let rows: Vec<_> = list
        .iter()
        .map(|u| {
            serde_json::json!({
                "id": u.id.0,
                "email": u.email,
                "role_key": format!("role_{}", u.role),
                "disabled": u.disabled,
                "created": u.created_at.format("%Y-%m-%d").to_string(),
            })
        })
        .collect();
    let mut ctx = user.context();
    ctx.insert("accounts", &rows);
    Ok(no_store(page(&state, &req, lang, StatusCode::OK, "accounts/list.html", ctx)))
}

/// `GET /api/v1/me`: who is logged in (401 JSON when nobody is).
pub async fn me(user: Professional) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "email": user.user.email, "role": user.role() }))
}
