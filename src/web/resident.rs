//! The resident's pages: choose a buurt, answer, thank you. Server-rendered,
//! no JavaScript, small. Nothing here records who the resident is.

use std::collections::BTreeMap;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::lang::LangChoice;
use super::render::{error_page, page};
use super::state::{knows_buurt, AppState};
use crate::area::{AreaCode, AreaTree, Level};
use crate::i18n::Lang;
use crate::questionnaire::{AnswerError, Kind, Published, QuestionKind, RawAnswer};
use crate::survey::Submission;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/s/{slug}", web::get().to(start))
        .route("/s/{slug}", web::post().to(submit))
        .route("/s/{slug}/vragen", web::get().to(form))
        .route("/s/{slug}/bedankt", web::get().to(thanks));
}

/// Forms hold answers: never cache them, never let a shared phone's back
/// button show someone else's.
fn no_store(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    res
}

fn published<'a>(state: &'a AppState, slug: &str) -> Option<&'a Published> {
    state.catalog.current(slug).filter(|p| p.definition.kind == Kind::Anonymous)
}

#[derive(Serialize)]
struct BuurtOption<'a> {
    code: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
struct WijkGroup<'a> {
    name: &'a str,
    buurten: Vec<BuurtOption<'a>>,
}

/// Buurten grouped by wijk, filtered by a search on buurt or wijk name.
fn groups<'a>(tree: &'a AreaTree, search: &str) -> Vec<WijkGroup<'a>> {
    let needle = search.trim().to_lowercase();
    tree.at_level(Level::Wijk)
        .filter_map(|w| {
            let wijk_hit = needle.is_empty() || w.name.to_lowercase().contains(&needle);
            let buurten: Vec<_> = tree
                .children(w.code.as_str())
                .filter(|b| {
                    wijk_hit || b.name.to_lowercase().contains(&needle) || b.code.as_str().eq_ignore_ascii_case(&needle)
                })
                .map(|b| BuurtOption { code: b.code.as_str(), name: &b.name })
                .collect();
            (!buurten.is_empty()).then_some(WijkGroup { name: &w.name, buurten })
        })
        .collect()
}

fn start_page(
    state: &AppState,
    req: &HttpRequest,
    lang: LangChoice,
    p: &Published,
    search: &str,
    error: Option<&str>,
) -> HttpResponse {
    let tree = state.areas();
    let found = groups(&tree, search);
    let mut ctx = tera::Context::new();
    ctx.insert("slug", p.definition.slug.as_str());
    ctx.insert("title", p.definition.title.get(lang.lang));
    ctx.insert("intro", &p.definition.intro.as_ref().map(|t| t.get(lang.lang)));
    ctx.insert("search", search);
    ctx.insert("single", &(found.len() == 1 && found[0].buurten.len() == 1));
    ctx.insert("groups", &found);
    ctx.insert("error_key", &error);
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    no_store(page(state, req, lang, status, "survey/start.html", ctx))
}

async fn start(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    slug: web::Path<String>,
    query: web::Query<BTreeMap<String, String>>,
) -> HttpResponse {
    let Some(p) = published(&state, &slug) else {
        return error_page(&state, &req, lang, StatusCode::NOT_FOUND, "error_no_questionnaire");
    };
    let search: String = query.get("zoek").map(|s| s.chars().take(100).collect()).unwrap_or_default();
    start_page(&state, &req, lang, p, &search, None)
}

/// What the resident sent, and what went wrong with it.
#[derive(Default)]
struct FormInput {
    given: BTreeMap<String, String>,
    errors: BTreeMap<String, AnswerError>,
    /// Storing failed (not the resident's fault): show the answers again.
    save_failed: bool,
}

#[derive(Serialize)]
struct FormQuestion<'a> {
    id: &'a str,
    kind: &'static str,
    text: &'a str,
    help: Option<&'a str>,
    required: bool,
    values: Vec<i32>,
    min_label: Option<&'a str>,
    max_label: Option<&'a str>,
    options: Vec<(&'a str, &'a str)>,
    max_length: usize,
    given: String,
    error: Option<String>,
}

fn form_page(
    state: &AppState,
    req: &HttpRequest,
    lang: LangChoice,
    p: &Published,
    buurt: &AreaCode,
    input: &FormInput,
) -> HttpResponse {
    let FormInput { given, errors, save_failed } = input;
    let tree = state.areas();
    let l = lang.lang;
    let questions: Vec<FormQuestion> = p
        .definition
        .questions
        .iter()
        .map(|q| {
            let mut fq = FormQuestion {
                id: q.id.as_str(),
                kind: q.kind.type_name(),
                text: q.text.get(l),
                help: q.help.as_ref().map(|h| h.get(l)),
                required: q.required,
                values: Vec::new(),
                min_label: None,
                max_label: None,
                options: Vec::new(),
                max_length: 0,
                given: given.get(q.id.as_str()).cloned().unwrap_or_default(),
                error: errors.get(q.id.as_str()).map(|e| e.message(l)),
            };
            match &q.kind {
                QuestionKind::Scale { min, max, min_label, max_label } => {
                    fq.values = (*min..=*max).collect();
                    fq.min_label = Some(min_label.get(l));
                    fq.max_label = Some(max_label.get(l));
                }
                QuestionKind::SingleChoice { options } => {
                    fq.options = options.iter().map(|o| (o.value.as_str(), o.label.get(l))).collect();
                }
                QuestionKind::Text { max_length, .. } => fq.max_length = *max_length,
            }
            fq
        })
        .collect();
    let mut ctx = tera::Context::new();
    ctx.insert("slug", p.definition.slug.as_str());
    ctx.insert("title", p.definition.title.get(l));
    ctx.insert("buurt_code", buurt.as_str());
    ctx.insert("buurt_name", &tree.get(buurt.as_str()).map(|a| a.name.as_str()).unwrap_or(buurt.as_str()));
    ctx.insert("questions", &questions);
    ctx.insert("error_count", &errors.len());
    ctx.insert("save_failed", save_failed);
    let status = match (*save_failed, errors.is_empty()) {
        (true, _) => StatusCode::SERVICE_UNAVAILABLE,
        (false, true) => StatusCode::OK,
        (false, false) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    no_store(page(state, req, lang, status, "survey/form.html", ctx))
}

/// A buurt code from the resident's input, if it names a known buurt.
async fn known_buurt(state: &web::Data<AppState>, raw: &str) -> Option<AreaCode> {
    let code = AreaCode::parse(Level::Buurt, raw).ok()?;
    knows_buurt(state, &code).await.ok()?.then_some(code)
}

async fn form(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    slug: web::Path<String>,
    query: web::Query<BTreeMap<String, String>>,
) -> HttpResponse {
    let Some(p) = published(&state, &slug) else {
        return error_page(&state, &req, lang, StatusCode::NOT_FOUND, "error_no_questionnaire");
    };
    match known_buurt(&state, query.get("buurt").map(String::as_str).unwrap_or("")).await {
        Some(buurt) => form_page(&state, &req, lang, p, &buurt, &FormInput::default()),
        None => start_page(&state, &req, lang, p, "", Some("error_choose_buurt")),
    }
}

async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    slug: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let Some(p) = published(&state, &slug) else {
        return error_page(&state, &req, lang, StatusCode::NOT_FOUND, "error_no_questionnaire");
    };
    let mut buurt_raw = "";
    let mut given = BTreeMap::new();
    for (k, v) in form.iter() {
        if k == "buurt" {
            buurt_raw = v;
        } else if let Some(id) = k.strip_prefix("q_").filter(|id| p.definition.question(id).is_some()) {
            given.insert(id.to_owned(), v.clone());
        }
    }
    let Some(buurt) = known_buurt(&state, buurt_raw).await else {
        return start_page(&state, &req, lang, p, "", Some("error_choose_buurt"));
    };
    let raw: BTreeMap<String, RawAnswer> = given.iter().map(|(k, v)| (k.clone(), RawAnswer::Text(v.clone()))).collect();
    match p.definition.check_answers(&raw) {
        Ok(answers) => {
            match state.writer.submit(Submission { version_id: p.id, buurt: buurt.clone(), answers }).await {
                Ok(()) => {
                    let lang_q = if lang.lang == Lang::Nl { "" } else { "?lang=en" };
                    HttpResponse::SeeOther()
                        .insert_header((header::LOCATION, format!("/s/{}/bedankt{lang_q}", p.definition.slug)))
                        .finish()
                }
                Err(e) => {
                    tracing::error!("storing a response failed: {e}");
                    // Show the form again with every answer in it: nothing to retype.
                    form_page(
                        &state,
                        &req,
                        lang,
                        p,
                        &buurt,
                        &FormInput { given, save_failed: true, ..FormInput::default() },
                    )
                }
            }
        }
        Err(errors) => form_page(&state, &req, lang, p, &buurt, &FormInput { given, errors, save_failed: false }),
    }
}

async fn thanks(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    slug: web::Path<String>,
) -> HttpResponse {
    let Some(p) = published(&state, &slug) else {
        return error_page(&state, &req, lang, StatusCode::NOT_FOUND, "error_no_questionnaire");
    };
    let mut ctx = tera::Context::new();
    ctx.insert("slug", p.definition.slug.as_str());
    ctx.insert("title", p.definition.title.get(lang.lang));
    page(&state, &req, lang, StatusCode::OK, "survey/thanks.html", ctx)
}
