//! Invitation pages: the landing of a personal link (`/i/{token}`), the form
//! to type the code (`/i`), starting the questionnaire with the
//! invitation's buurt (`POST /i/start`), and the council's list of
//! campaigns (`/beheer/campagnes`; one campaign: `campaign.rs`).
//!
//! Opening a link only shows a page: mail scanners and link previews fetch
//! links, and must not use up an invitation. The invitation is used when
//! the resident presses "Beginnen" (a POST), in the same transaction that
//! stores their empty partial response; the partial holds no link to the
//! invitation. The access log never sees a token: `web::log_path` hides it.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use diesel::Connection;

use super::lang::LangChoice;
use super::render::{error_page, page};
use super::resident::{new_partial, no_store, to_first_page, today, unavailable};
use super::session::Professional;
use super::state::{blocking, AppState};
use crate::auth::Role;
use crate::db::DbError;
use crate::invite::{self, InviteError, InviteToken, Landing};
use crate::questionnaire::{Kind, Published};
use crate::survey::{partial, wave, Opening, ResumeCode};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/i", web::get().to(code_form))
        .route("/i", web::post().to(typed_code))
        .route("/i/start", web::post().to(start))
        .route("/i/{token}", web::get().to(landing))
        .route("/beheer/campagnes", web::get().to(campaigns));
}

/// An invitation's problem as a status and a text key.
fn refused(landing: &Landing) -> (StatusCode, &'static str) {
    match landing {
        Landing::Used => (StatusCode::GONE, "invite_used"),
        Landing::Replaced => (StatusCode::GONE, "invite_replaced"),
        Landing::Unknown | Landing::Open { .. } => (StatusCode::NOT_FOUND, "invite_unknown"),
    }
}

fn invite_error_page(state: &AppState, req: &HttpRequest, lang: LangChoice, landing: &Landing) -> HttpResponse {
    let (status, key) = refused(landing);
    let mut ctx = tera::Context::new();
    ctx.insert("message_key", key);
    ctx.insert("given", "");
    ctx.insert("error_key", &None::<&str>);
    no_store(page(state, req, lang, status, "invite/code.html", ctx))
}

fn code_page(
    state: &AppState,
    req: &HttpRequest,
    lang: LangChoice,
    status: StatusCode,
    given: &str,
    error_key: Option<&str>,
) -> HttpResponse {
    let mut ctx = tera::Context::new();
    ctx.insert("message_key", &None::<&str>);
    ctx.insert("given", &given.chars().take(60).collect::<String>());
    ctx.insert("error_key", &error_key);
    no_store(page(state, req, lang, status, "invite/code.html", ctx))
}

async fn code_form(state: web::Data<AppState>, req: HttpRequest, lang: LangChoice) -> HttpResponse {
    code_page(&state, &req, lang, StatusCode::OK, "", None)
}

async fn lookup(state: &web::Data<AppState>, token: InviteToken) -> Result<Landing, DbError> {
    blocking(state, move |conn| {
        invite::find_by_token(conn, &token).map_err(|e| match e {
            InviteError::Db(db) => db,
            other => DbError::Connect(other.to_string()),
        })
    })
    .await
}

/// The questionnaire of an open invitation, if residents may answer it now.
fn questionnaire(state: &AppState, slug: &str) -> Option<Published> {
    state.catalog().open(slug).cloned()
}

fn landing_page(
    state: &AppState,
    req: &HttpRequest,
    lang: LangChoice,
    token: &InviteToken,
    p: &Published,
    buurt: &str,
    consent_error: bool,
) -> HttpResponse {
    let def = &p.definition;
    let l = lang.lang;
    let mut ctx = tera::Context::new();
    ctx.insert("title", def.title.get(l));
    ctx.insert("intro", &def.intro.as_ref().map(|t| t.get(l)));
    ctx.insert("identified", &(def.kind == Kind::Identified));
    ctx.insert("purpose", &def.purpose.as_ref().map(|t| t.get(l)));
    ctx.insert("buurt_name", &state.areas().get(buurt).map(|a| a.name.clone()).unwrap_or_else(|| buurt.to_owned()));
    ctx.insert("token", token.as_str());
    ctx.insert("consent_error", &consent_error);
    let status = if consent_error { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    no_store(page(state, req, lang, status, "invite/landing.html", ctx))
}

/// `GET /i/{token}`: shows what the invitation opens; uses nothing.
async fn landing(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    token: web::Path<String>,
) -> HttpResponse {
    let Some(token) = InviteToken::parse(&token) else {
        return invite_error_page(&state, &req, lang, &Landing::Unknown);
    };
    show(&state, &req, lang, token, None).await
}

/// The landing page of a token, or why it cannot be used. `typed`: the
/// resident typed it, so a problem re-shows the form with what they typed.
async fn show(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    lang: LangChoice,
    token: InviteToken,
    typed: Option<&str>,
) -> HttpResponse {
    let found = match lookup(state, token.clone()).await {
        Ok(found) => found,
        Err(e) => return unavailable(state, req, lang, e),
    };
    match found {
        Landing::Open { questionnaire: slug, buurt, .. } => match questionnaire(state, &slug) {
            Some(p) => landing_page(state, req, lang, &token, &p, buurt.as_str(), false),
            None => no_store(error_page(state, req, lang, StatusCode::NOT_FOUND, "error_no_questionnaire")),
        },
        other => match typed {
            Some(given) => {
                let (status, key) = refused(&other);
                code_page(state, req, lang, status, given, Some(key))
            }
            None => invite_error_page(state, req, lang, &other),
        },
    }
}

/// `POST /i`: a typed code.
async fn typed_code(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let given = form.iter().find(|(k, _)| k == "code").map(|(_, v)| v.as_str()).unwrap_or("");
    if given.trim().is_empty() {
        return code_page(&state, &req, lang, StatusCode::BAD_REQUEST, given, Some("invite_code_missing"));
    }
    match InviteToken::parse(given) {
        Some(token) => show(&state, &req, lang, token, Some(given)).await,
        None => code_page(&state, &req, lang, StatusCode::NOT_FOUND, given, Some("invite_code_wrong")),
    }
}

/// Why starting did not work (the transaction is rolled back).
#[derive(Debug, thiserror::Error)]
enum StartFail {
    #[error("used")]
    Used,
    #[error("closed")]
    Closed,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for StartFail {
    fn from(e: diesel::result::Error) -> StartFail {
        StartFail::Db(DbError::Query(e))
    }
}

impl From<InviteError> for StartFail {
    fn from(e: InviteError) -> StartFail {
        match e {
            InviteError::Db(db) => StartFail::Db(db),
            other => StartFail::Db(DbError::Connect(other.to_string())),
        }
    }
}

/// `POST /i/start`: uses the invitation and starts the questionnaire for
/// its buurt, atomically: one UPDATE … WHERE used_on IS NULL decides who
/// wins, in the transaction that stores the empty partial response.
async fn start(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("");
    let Some(token) = InviteToken::parse(field("code")) else {
        return invite_error_page(&state, &req, lang, &Landing::Unknown);
    };
    let found = match lookup(&state, token.clone()).await {
        Ok(found) => found,
        Err(e) => return unavailable(&state, &req, lang, e),
    };
    let Landing::Open { invitation_id, questionnaire: slug, buurt } = found else {
        return invite_error_page(&state, &req, lang, &found);
    };
    let Some(p) = questionnaire(&state, &slug) else {
        return no_store(error_page(&state, &req, lang, StatusCode::NOT_FOUND, "error_no_questionnaire"));
    };
    if p.definition.kind == Kind::Identified && field("toestemming") != "ja" {
        return landing_page(&state, &req, lang, &token, &p, buurt.as_str(), true);
    }
    let new = new_partial(&p, buurt.clone());
    let state2 = state.clone();
    let started = web::block(move || -> Result<ResumeCode, StartFail> {
        let mut conn = state2.pool.get().map_err(DbError::from)?;
        conn.transaction(|conn| {
            // The write comes first, so SQLite takes its write lock at once.
            if !invite::mark_used(conn, invitation_id, today())? {
                return Err(StartFail::Used);
            }
            if wave::opening(conn, &slug, today(), buurt.as_str())? == Opening::Closed {
                return Err(StartFail::Closed);
            }
            Ok(partial::start(conn, &new, today())?)
        })
    })
    .await;
    match started {
        Ok(Ok(code)) => to_first_page(&req, lang, &p.definition, &code),
        Ok(Err(StartFail::Used)) => invite_error_page(&state, &req, lang, &Landing::Used),
        Ok(Err(StartFail::Closed)) => {
            no_store(error_page(&state, &req, lang, StatusCode::FORBIDDEN, "error_wave_closed"))
        }
        Ok(Err(StartFail::Db(e))) => unavailable(&state, &req, lang, e),
        Err(e) => unavailable(&state, &req, lang, DbError::Connect(e.to_string())),
    }
}

const CAMPAIGN_ROLES: [Role; 2] = [Role::Admin, Role::Council];

/// `GET /beheer/campagnes`: every campaign with its totals.
async fn campaigns(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    user: Professional,
) -> actix_web::Result<HttpResponse> {
    user.require_role(&req, &CAMPAIGN_ROLES)?;
    let list = blocking(&state, |conn| {
        invite::campaigns(conn).map_err(|e| match e {
            InviteError::Db(db) => db,
            other => DbError::Connect(other.to_string()),
        })
    })
    .await;
    let list = match list {
        Ok(l) => l,
        Err(e) => return Ok(unavailable(&state, &req, lang, e)),
    };
    let mut ctx = user.context();
    ctx.insert("campaigns", &list);
    Ok(no_store(page(&state, &req, lang, StatusCode::OK, "invite/campaigns.html", ctx)))
}

/// The invitation pages' templates, added to the application's set.
pub fn add_templates(tera: &mut tera::Tera) -> Result<(), tera::Error> {
    tera.add_raw_templates([
        ("invite/code.html", include_str!("../../templates/invite/code.html")),
        ("invite/landing.html", include_str!("../../templates/invite/landing.html")),
        ("invite/campaign.html", include_str!("../../templates/invite/campaign.html")),
        ("invite/campaigns.html", include_str!("../../templates/invite/campaigns.html")),
        ("invite/purge.html", include_str!("../../templates/invite/purge.html")),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_reach_the_log() {
        let t = InviteToken::generate();
        assert_eq!(crate::web::log_path::loggable_path(&format!("/i/{}", t.as_str())), "/i/…");
        assert_eq!(crate::web::log_path::loggable_path("/i/anything-at-all"), "/i/…");
        assert_eq!(crate::web::log_path::loggable_path("/i"), "/i");
        assert_eq!(crate::web::log_path::loggable_path("/i/start"), "/i/start");
        assert_eq!(crate::web::log_path::loggable_path("/s/geluk"), "/s/geluk");
    }
}
