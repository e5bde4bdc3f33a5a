//! The printable report of one area: glue between the result set and the
//! template; the content is assembled by `insight::report`.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::lang::LangChoice;
use super::render::{error_page, page};
use super::results_page::load_results;
use super::state::AppState;
use crate::area::AreaCode;
use crate::insight::report::{build, ReportError};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/resultaten/{slug}/rapport/{code}", web::get().to(report));
}

async fn report(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    path: web::Path<(String, String)>,
    query: web::Query<BTreeMap<String, String>>,
) -> HttpResponse {
    let (slug, code) = path.into_inner();
    let not_found = |key| error_page(&state, &req, lang, StatusCode::NOT_FOUND, key);
    let Ok(code) = AreaCode::parse_any(&code) else { return not_found("error_no_area") };
    // An empty `meting` (the form's "every wave") reports every response.
    let wave = match query.get("meting").map(|w| w.trim()).filter(|w| !w.is_empty()) {
        None => None,
        Some(w) => match w.parse::<i32>() {
            Ok(id) => Some(id),
            Err(_) => return not_found("error_no_wave"),
        },
    };
    let set = match load_results(&state, &req, lang, &slug).await {
        Ok(set) => set,
        Err(res) => return res,
    };
    let title =
        state.catalog().current(&slug).map(|p| p.definition.title.get(lang.lang).to_owned()).unwrap_or_default();
    let report = match build(&set, code.as_str(), wave, &title, lang.lang) {
        Ok(r) => r,
        Err(ReportError::UnknownArea(_)) => return not_found("error_no_area"),
        Err(ReportError::UnknownWave(_)) => return not_found("error_no_wave"),
    };
    let mut ctx = tera::Context::new();
    ctx.insert("title", &title);
    ctx.insert("r", &report);
    page(&state, &req, lang, StatusCode::OK, "results/report.html", ctx)
}
