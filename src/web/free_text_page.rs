//! Free-text answers of one area for professionals: a warning first, the
//! texts after confirming it (a POST, so no link or prefetch opens them),
//! each reading in the audit log. The rule is `insight::free_text::access`.

use actix_web::error::InternalError;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, Result};
use serde::Deserialize;

use super::lang::LangChoice;
use super::render::page;
use super::results_page::load_results;
use super::session::{no_store, refusal, Professional};
use super::state::{blocking_or_refuse, AppState};
use super::talent::refuse_with;
use crate::area::AreaCode;
use crate::auth::Role;
use crate::insight::free_text::{self, Access};
use crate::survey::Wave;
use crate::talent::access;
use crate::talent::audit::{self, Action};
use crate::talent::Scope;

const READERS: [Role; 2] = [Role::Admin, Role::Professional];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/resultaten/{slug}/open-antwoorden/{code}", web::get().to(warning))
        .route("/resultaten/{slug}/open-antwoorden/{code}", web::post().to(read));
}

#[derive(Deserialize)]
struct Confirm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    meting: String,
}

/// An area whose texts this user may read.
struct Allowed {
    slug: String,
    code: AreaCode,
    name: String,
    wave: Option<Wave>,
    waves: Vec<Wave>,
    buurten: Vec<String>,
}

/// Checks everything before a text is shown: role, questionnaire, area,
/// wave, the user's areas (a refusal is logged) and the threshold.
async fn allowed(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    lang: LangChoice,
    user: &Professional,
    (slug, code): (String, String),
    meting: Option<&str>,
) -> Result<Allowed> {
    user.require_role(req, &READERS)?;
    let not_found = |key| refusal(req, StatusCode::NOT_FOUND, key);
    let code = AreaCode::parse_any(&code).map_err(|_| not_found("error_no_area"))?;
    let wave_id = match meting.map(str::trim).filter(|m| !m.is_empty()) {
        None => None,
        Some(m) => Some(m.parse::<i32>().map_err(|_| not_found("error_no_wave"))?),
    };
    let set =
        load_results(state, req, lang, &slug).await.map_err(|res| InternalError::from_response("results", res))?;
    let table = set.table(wave_id).ok_or_else(|| not_found("error_no_wave"))?;
    let name = table.get(code.as_str()).map(|a| a.name.clone()).ok_or_else(|| not_found("error_no_area"))?;
    let id = user.user.id;
    let assigned = blocking_or_refuse(state, req, move |conn| access::assigned(conn, id)).await?;
    let tree = state.areas();
    let scope = Scope::new(&assigned, &tree);
    match free_text::access(table, &tree, code.as_str(), |b| scope.contains(b)) {
        Access::Allowed(buurten) => Ok(Allowed {
            slug,
            name,
            wave: table.wave.clone(),
            waves: set.waves.iter().filter_map(|t| t.wave.clone()).collect(),
            buurten,
            code,
        }),
        Access::OutsideScope => {
            let subject = free_text::subject(&slug, code.as_str(), table.wave.as_ref());
            Err(refuse_with(state, req, user, subject, "free_text_outside_area").await)
        }
        Access::TooFew => Err(refusal(req, StatusCode::FORBIDDEN, "free_text_too_few")),
    }
}

fn context(user: &Professional, state: &AppState, lang: LangChoice, a: &Allowed) -> tera::Context {
    let mut ctx = user.context();
    ctx.insert("identified", &true);
    ctx.insert("slug", &a.slug);
    ctx.insert("code", a.code.as_str());
    ctx.insert("area", &a.name);
    ctx.insert("wave", &a.wave.as_ref().map(Wave::label));
    ctx.insert("wave_id", &a.wave.as_ref().map(|w| w.id));
    let title = state.catalog().current(&a.slug).map(|p| p.definition.title.get(lang.lang).to_owned());
    ctx.insert("title", &title.unwrap_or_default());
    ctx
}

async fn warning(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    path: web::Path<(String, String)>,
    query: web::Query<std::collections::BTreeMap<String, String>>,
) -> Result<HttpResponse> {
    let a = allowed(&state, &req, lang, &user, path.into_inner(), query.get("meting").map(String::as_str)).await?;
    let mut ctx = context(&user, &state, lang, &a);
    ctx.insert("confirmed", &false);
    Ok(no_store(page(&state, &req, lang, StatusCode::OK, "results/free_text.html", ctx)))
}

async fn read(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    path: web::Path<(String, String)>,
    form: web::Form<Confirm>,
) -> Result<HttpResponse> {
    user.check_csrf(&req, &form.csrf)?;
    let a = allowed(&state, &req, lang, &user, path.into_inner(), Some(&form.meting)).await?;
    let catalog = state.catalog();
    let current = catalog
        .current(&a.slug)
        .cloned()
        .ok_or_else(|| refusal(&req, StatusCode::NOT_FOUND, "error_no_questionnaire"))?;
    let versions: Vec<i32> = catalog.versions(&a.slug).iter().map(|v| v.id).collect();
    let (uid, subject) = (user.user.id, free_text::subject(&a.slug, a.code.as_str(), a.wave.as_ref()));
    let (buurten, wave, waves, l) = (a.buurten.clone(), a.wave.clone(), a.waves.clone(), lang.lang);
    let groups = blocking_or_refuse(&state, &req, move |conn| {
        // Logged before anything is read: no reading goes unrecorded.
        audit::record(conn, Some(uid), Action::FreeTextRead, &subject)?;
        free_text::load(conn, &current, &versions, &buurten, wave.as_ref().map(|w| (w, waves.as_slice())), l)
    })
    .await?;
    let mut ctx = context(&user, &state, lang, &a);
    ctx.insert("confirmed", &true);
    ctx.insert("groups", &groups);
    Ok(no_store(page(&state, &req, lang, StatusCode::OK, "results/free_text.html", ctx)))
}
