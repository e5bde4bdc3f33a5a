//! The resident's pages: choose a buurt (and, for identified questionnaires,
//! give consent), answer page by page, leave and resume, thank you.
//! Server-rendered, no JavaScript needed, small. Nothing here records who the
//! resident is; the resume code in the cookie finds the unfinished answers.

use std::collections::BTreeMap;

use actix_web::cookie::{time::Duration, Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use diesel::Connection;
use serde::Serialize;

use super::lang::LangChoice;
use super::render::{error_page, page};
use super::state::{blocking, knows_buurt, AppState};
use crate::area::{AreaCode, AreaTree, Level};
use crate::db::DbError;
use crate::i18n::Lang;
use crate::questionnaire::{
    other_key, AnswerErrors, Definition, Kind, Published, Question, QuestionKind, RawAnswer, TextFormat,
};
use crate::survey::{
    answers_json, partial, store_identified, wave, FormValues, Opening, Partial, ResumeCode, Submission,
};
use crate::talent;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/s/{slug}", web::get().to(start))
        .route("/s/{slug}/start", web::post().to(begin))
        .route("/s/{slug}/p/{page}", web::get().to(show_page))
        .route("/s/{slug}/p/{page}", web::post().to(answer_page))
        .route("/s/{slug}/verder", web::get().to(resume_form))
        .route("/s/{slug}/verder", web::post().to(resume))
        .route("/s/{slug}/bedankt", web::get().to(thanks));
}

/// Forms hold answers: never cache them, never let a shared phone's back
/// button show someone else's.
pub(super) fn no_store(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    res
}

fn see_other(location: String) -> HttpResponse {
    no_store(HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish())
}

fn lang_query(lang: LangChoice) -> &'static str {
    if lang.lang == Lang::Nl {
        ""
    } else {
        "?lang=en"
    }
}

/// The resume cookie of a questionnaire: only sent back to its own pages.
fn resume_cookie(req: &HttpRequest, slug: &str, code: Option<&ResumeCode>) -> Cookie<'static> {
    let mut c = Cookie::build(format!("bp_{slug}"), code.map(|c| c.as_str().to_owned()).unwrap_or_default())
        .path(format!("/s/{slug}"))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(super::origin::is_https(req))
        .finish();
    match code {
        Some(_) => c.set_max_age(Duration::days(partial::RETENTION_DAYS as i64)),
        None => c.make_removal(),
    }
    c
}

fn code_from_cookie(req: &HttpRequest, slug: &str) -> Option<ResumeCode> {
    req.cookie(&format!("bp_{slug}")).and_then(|c| ResumeCode::parse(c.value()))
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

/// The start page's problems: which buurt, consent.
#[derive(Default)]
struct StartErrors {
    buurt: Option<&'static str>,
    consent: bool,
    closed: bool,
    /// The buurt chosen, shown chosen again (only consent was missing).
    chosen: Option<AreaCode>,
}

fn start_page(
    state: &AppState,
    req: &HttpRequest,
    lang: LangChoice,
    p: &Published,
    search: &str,
    errors: StartErrors,
) -> HttpResponse {
    let tree = state.areas();
    let found = groups(&tree, search);
    let def = &p.definition;
    let l = lang.lang;
    let mut ctx = tera::Context::new();
    ctx.insert("slug", def.slug.as_str());
    ctx.insert("title", def.title.get(l));
    ctx.insert("intro", &def.intro.as_ref().map(|t| t.get(l)));
    ctx.insert("identified", &(def.kind == Kind::Identified));
    ctx.insert("purpose", &def.purpose.as_ref().map(|t| t.get(l)));
    ctx.insert("search", search);
    ctx.insert("single", &(found.len() == 1 && found[0].buurten.len() == 1));
    ctx.insert("groups", &found);
    ctx.insert("error_key", &errors.buurt);
    ctx.insert("consent_error", &errors.consent);
    ctx.insert("closed", &errors.closed);
    ctx.insert("chosen", errors.chosen.as_ref().map(|c| c.as_str()).unwrap_or(""));
    ctx.insert("has_progress", &code_from_cookie(req, def.slug.as_str()).is_some());
    let status = if errors.closed {
        StatusCode::FORBIDDEN
    } else if errors.buurt.is_some() || errors.consent {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    no_store(page(state, req, lang, status, "survey/start.html", ctx))
}

/// The questionnaire residents may answer now, by slug.
fn open(state: &AppState, slug: &str) -> Option<Published> {
    state.catalog().open(slug).cloned()
}

async fn start(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    slug: web::Path<String>,
    query: web::Query<BTreeMap<String, String>>,
) -> HttpResponse {
    let Some(p) = open(&state, &slug) else {
        return error_page(&state, &req, lang, StatusCode::NOT_FOUND, "error_no_questionnaire");
    };
    if p.definition.invitation_only {
        return error_page(&state, &req, lang, StatusCode::FORBIDDEN, "error_invitation_only");
    }
    let search: String = query.get("zoek").map(|s| s.chars().take(100).collect()).unwrap_or_default();
    start_page(&state, &req, lang, &p, &search, StartErrors::default())
}

/// A buurt code from the resident's input, if it names a known buurt.
async fn known_buurt(state: &web::Data<AppState>, raw: &str) -> Option<AreaCode> {
    let code = AreaCode::parse(Level::Buurt, raw).ok()?;
    knows_buurt(state, &code).await.ok()?.then_some(code)
}

pub(super) fn unavailable(state: &AppState, req: &HttpRequest, lang: LangChoice, e: DbError) -> HttpResponse {
    tracing::error!("resident page: {e}");
    error_page(state, req, lang, StatusCode::SERVICE_UNAVAILABLE, "error_try_later")
}

pub(super) fn today() -> chrono::NaiveDate {
    crate::clock::today()
}

/// Starts a response: checks buurt, consent and the wave, keeps an empty
/// partial response and sends the resident to the first page.
async fn begin(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    slug: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let Some(p) = open(&state, &slug) else {
        return error_page(&state, &req, lang, StatusCode::NOT_FOUND, "error_no_questionnaire");
    };
    if p.definition.invitation_only {
        return error_page(&state, &req, lang, StatusCode::FORBIDDEN, "error_invitation_only");
    }
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("");
    let identified = p.definition.kind == Kind::Identified;
    let consent = !identified || field("toestemming") == "ja";
    let buurt = match (known_buurt(&state, field("buurt")).await, consent) {
        (Some(buurt), true) => buurt,
        (buurt, _) => {
            let errors = StartErrors {
                buurt: buurt.is_none().then_some("error_choose_buurt"),
                consent: !consent,
                closed: false,
                chosen: buurt,
            };
            return start_page(&state, &req, lang, &p, "", errors);
        }
    };
    let new = new_partial(&p, buurt.clone());
    let slug_owned = p.definition.slug.to_string();
    let client = super::origin::client_ip(&req);
    let limit = state.clone();
    let started = blocking(&state, move |conn| {
        let opening = wave::opening(conn, &slug_owned, today(), buurt.as_str())?;
        Ok(match opening {
            Opening::Closed => Start::Closed,
            o if o.by_invitation_only() => Start::InvitationOnly,
            _ => match limit.open_links.admit(client, buurt.as_str(), std::time::Instant::now()) {
                Err(wait) => Start::Throttled(wait.retry_after_secs()),
                Ok(()) => Start::Started(partial::start(conn, &new, today())?),
            },
        })
    })
    .await;
    match started {
        Ok(Start::Started(code)) => to_first_page(&req, lang, &p.definition, &code),
        Ok(Start::Closed) => {
            start_page(&state, &req, lang, &p, "", StartErrors { closed: true, ..StartErrors::default() })
        }
        Ok(Start::InvitationOnly) => {
            error_page(&state, &req, lang, StatusCode::FORBIDDEN, "error_wave_invitation_only")
        }
        Ok(Start::Throttled(secs)) => {
            let mut res = error_page(&state, &req, lang, StatusCode::TOO_MANY_REQUESTS, "error_open_link_throttled");
            if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert(actix_web::http::header::RETRY_AFTER, v);
            }
            res
        }
        Err(e) => unavailable(&state, &req, lang, e),
    }
}

/// What starting a response through the open link came to.
enum Start {
    Started(ResumeCode),
    Closed,
    InvitationOnly,
    /// Too many from this address in this buurt: wait this many seconds.
    Throttled(u64),
}

/// A new, empty partial response for a buurt (consent given today for
/// identified questionnaires): what `begin` and an invitation start.
pub(super) fn new_partial(p: &Published, buurt: AreaCode) -> Partial {
    let identified = p.definition.kind == Kind::Identified;
    Partial { version_id: p.id, buurt, page: 0, given: BTreeMap::new(), consent_on: identified.then(today) }
}

/// After a partial response was stored under `code`: the resume cookie and
/// a redirect to the first page shown.
pub(super) fn to_first_page(req: &HttpRequest, lang: LangChoice, def: &Definition, code: &ResumeCode) -> HttpResponse {
    let first = def.shown_pages(&BTreeMap::new()).iter().position(|s| *s).unwrap_or(0);
    let mut res = see_other(format!("/s/{}/p/{}{}", def.slug, first + 1, lang_query(lang)));
    let _ = res.add_cookie(&resume_cookie(req, def.slug.as_str(), Some(code)));
    res
}

/// The form values kept so far, as answers to check.
pub fn raw_answers(def: &Definition, given: &FormValues) -> BTreeMap<String, RawAnswer> {
    given
        .iter()
        .filter_map(|(k, v)| {
            let multiple = def.question(k).is_some_and(|q| matches!(q.kind, QuestionKind::MultipleChoice { .. }));
            // A repeated field for a one-answer question is kept as a list,
            // which the check refuses.
            let raw =
                if multiple || v.len() > 1 { RawAnswer::List(v.clone()) } else { RawAnswer::Text(v.first()?.clone()) };
            Some((k.clone(), raw))
        })
        .collect()
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
    min: Option<i32>,
    max: Option<i32>,
    unit: Option<&'a str>,
    options: Vec<(String, String)>,
    other: bool,
    other_text: String,
    max_length: usize,
    input_type: &'static str,
    autocomplete: &'static str,
    given: Vec<String>,
    error: Option<String>,
}

fn form_question<'a>(q: &'a Question, l: Lang, given: &FormValues, errors: &AnswerErrors) -> FormQuestion<'a> {
    let mut fq = FormQuestion {
        id: q.id.as_str(),
        kind: q.kind.type_name(),
        text: q.text.get(l),
        help: q.help.as_ref().map(|h| h.get(l)),
        required: q.required,
        values: Vec::new(),
        min_label: None,
        max_label: None,
        min: None,
        max: None,
        unit: None,
        options: q.kind.choices().into_iter().map(|c| (c.value, c.label.get(l).to_owned())).collect(),
        other: false,
        other_text: given.get(&other_key(q.id.as_str())).and_then(|v| v.first()).cloned().unwrap_or_default(),
        max_length: 0,
        input_type: "text",
        autocomplete: "off",
        given: given.get(q.id.as_str()).cloned().unwrap_or_default(),
        error: errors.get(q.id.as_str()).map(|e| e.message(l)),
    };
    match &q.kind {
        QuestionKind::Scale { min, max, min_label, max_label } => {
            fq.values = (*min..=*max).collect();
            fq.min_label = Some(min_label.get(l));
            fq.max_label = Some(max_label.get(l));
        }
        QuestionKind::Number { min, max, unit } => {
            fq.min = Some(*min);
            fq.max = Some(*max);
            fq.unit = unit.as_ref().map(|u| u.get(l));
        }
        QuestionKind::SingleChoice { other, .. } | QuestionKind::MultipleChoice { other, .. } => fq.other = *other,
        QuestionKind::Text { max_length, format, .. } => {
            fq.max_length = *max_length;
            (fq.input_type, fq.autocomplete) = match format {
                Some(TextFormat::Email) => ("email", "email"),
                Some(TextFormat::Phone) => ("tel", "tel"),
                None => ("text", "off"),
            };
        }
        QuestionKind::YesNo | QuestionKind::Statement | QuestionKind::Consent => {}
    }
    fq
}

/// Everything a questionnaire page needs, for residents and for the
/// designer's preview alike.
pub struct PageView<'a> {
    pub def: &'a Definition,
    /// 0-based page index.
    pub page: usize,
    pub given: &'a FormValues,
    pub errors: &'a AnswerErrors,
    /// Where the form posts to.
    pub action: String,
    pub buurt_name: Option<String>,
    pub resume_code: Option<String>,
    pub preview: bool,
    pub save_failed: bool,
    /// A professional's form (the designer's preview) carries a CSRF token.
    pub csrf: Option<String>,
}

impl PageView<'_> {
    pub fn render(&self, state: &AppState, req: &HttpRequest, lang: LangChoice) -> HttpResponse {
        let l = lang.lang;
        let shown = self.def.shown_pages(&raw_answers(self.def, self.given));
        let step = shown.iter().take(self.page + 1).filter(|s| **s).count();
        // Later pages count when shown, or when their condition waits for
        // answers not given yet (the resident has not got there).
        let undecided = |i: usize| {
            self.def.pages[i].show_if.as_ref().is_some_and(|c| {
                c.references().iter().any(|(q, _, _)| self.def.page_of(q.as_str()).is_some_and(|p| p >= self.page))
            })
        };
        let total = step + (self.page + 1..shown.len()).filter(|&i| shown[i] || undecided(i)).count();
        let page = &self.def.pages[self.page];
        let questions: Vec<FormQuestion> = page
            .questions
            .iter()
            .filter(|q| q.show_if.as_ref().is_none_or(|c| c.holds(&self.def.answers_so_far(self.given))))
            .map(|q| form_question(q, l, self.given, self.errors))
            .collect();
        let mut ctx = tera::Context::new();
        ctx.insert("slug", self.def.slug.as_str());
        ctx.insert("title", self.def.title.get(l));
        ctx.insert("identified", &(self.def.kind == Kind::Identified));
        ctx.insert("page_title", &page.title.as_ref().map(|t| t.get(l)));
        ctx.insert("step", &step);
        ctx.insert("total", &total);
        ctx.insert("first", &(step <= 1));
        ctx.insert("last", &(step >= total));
        ctx.insert("questions", &questions);
        ctx.insert("error_count", &self.errors.len());
        ctx.insert("action", &self.action);
        ctx.insert("page_number", &(self.page + 1));
        ctx.insert("buurt_name", &self.buurt_name);
        ctx.insert("resume_code", &self.resume_code);
        ctx.insert("preview", &self.preview);
        ctx.insert("save_failed", &self.save_failed);
        ctx.insert("csrf", &self.csrf);
        let status = if self.save_failed {
            StatusCode::SERVICE_UNAVAILABLE
        } else if self.errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        no_store(page_html(state, req, lang, status, ctx))
    }
}

fn page_html(
    state: &AppState,
    req: &HttpRequest,
    lang: LangChoice,
    status: StatusCode,
    ctx: tera::Context,
) -> HttpResponse {
    page(state, req, lang, status, "survey/page.html", ctx)
}

impl Definition {
    /// The checked answers of the pages so far (invalid ones left out), for
    /// deciding which questions of a page to show.
    fn answers_so_far(&self, given: &FormValues) -> crate::questionnaire::Answers {
        self.checked_leniently(&raw_answers(self, given))
    }
}

/// Applies a page's form to the kept values: the page's own fields are
/// replaced (an unticked box sends nothing), every other page is kept.
pub fn merge_page(def: &Definition, page: usize, given: &mut FormValues, form: &[(String, String)]) {
    let Some(p) = def.pages.get(page) else { return };
    for q in &p.questions {
        given.remove(q.id.as_str());
        given.remove(&other_key(q.id.as_str()));
    }
    for (k, v) in form {
        let (id, key) = if let Some(id) = k.strip_prefix("q_") {
            (id, id.to_owned())
        } else if let Some(id) = k.strip_prefix("o_") {
            (id, other_key(id))
        } else {
            continue;
        };
        if p.questions.iter().any(|q| q.id.as_str() == id && q.kind.is_answerable()) {
            let values = given.entry(key).or_default();
            // A form can repeat a field; more values than options is hostile.
            if values.len() < 64 {
                values.push(v.chars().take(20_000).collect());
            }
        }
    }
}

/// The next (or previous) shown page after `from`, if any.
pub fn neighbour(def: &Definition, given: &FormValues, from: usize, forward: bool) -> Option<usize> {
    let shown = def.shown_pages(&raw_answers(def, given));
    if forward {
        (from + 1..shown.len()).find(|&i| shown[i])
    } else {
        (0..from).rev().find(|&i| shown[i])
    }
}

/// The resident's partial response and its questionnaire, from the cookie.
async fn current(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    slug: &str,
) -> Result<Option<(ResumeCode, Partial, Published)>, DbError> {
    let Some(code) = code_from_cookie(req, slug) else { return Ok(None) };
    let c = code.clone();
    let Some(partial) = blocking(state, move |conn| partial::load(conn, &c)).await? else { return Ok(None) };
    // The version the resident started with, even if a newer one appeared
    // since: a published version never changes under their feet.
    let catalog = state.catalog();
    let Some(p) = catalog.version_by_id(partial.version_id).filter(|p| p.definition.slug.as_str() == slug) else {
        return Ok(None);
    };
    Ok(Some((code, partial, p.clone())))
}

fn page_index(def: &Definition, raw: &str) -> Option<usize> {
    raw.parse::<usize>().ok().filter(|n| (1..=def.pages.len()).contains(n)).map(|n| n - 1)
}

fn expired(state: &AppState, req: &HttpRequest, lang: LangChoice, slug: &str) -> HttpResponse {
    let mut res = error_page(state, req, lang, StatusCode::NOT_FOUND, "error_no_progress");
    let _ = res.add_cookie(&resume_cookie(req, slug, None));
    no_store(res)
}

async fn show_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (slug, raw_page) = path.into_inner();
    let (code, partial, p) = match current(&state, &req, &slug).await {
        Ok(Some(found)) => found,
        Ok(None) => return expired(&state, &req, lang, &slug),
        Err(e) => return unavailable(&state, &req, lang, e),
    };
    let def = &p.definition;
    let shown = def.shown_pages(&raw_answers(def, &partial.given));
    let page = match page_index(def, &raw_page) {
        Some(i) if shown[i] => i,
        // A page that does not exist or is hidden: the first shown one.
        _ => {
            let first = shown.iter().position(|s| *s).unwrap_or(0);
            return see_other(format!("/s/{slug}/p/{}{}", first + 1, lang_query(lang)));
        }
    };
    view(&state, def, page, &partial, &code, &AnswerErrors::new(), false).render(&state, &req, lang)
}

fn view<'a>(
    state: &AppState,
    def: &'a Definition,
    page: usize,
    partial: &'a Partial,
    code: &ResumeCode,
    errors: &'a AnswerErrors,
    save_failed: bool,
) -> PageView<'a> {
    PageView {
        def,
        page,
        given: &partial.given,
        errors,
        action: format!("/s/{}/p/{}", def.slug, page + 1),
        buurt_name: state.areas().get(partial.buurt.as_str()).map(|a| a.name.clone()),
        resume_code: Some(code.display()),
        preview: false,
        save_failed,
        csrf: None,
    }
}

async fn answer_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let (slug, raw_page) = path.into_inner();
    let (code, mut partial, p) = match current(&state, &req, &slug).await {
        Ok(Some(found)) => found,
        Ok(None) => return expired(&state, &req, lang, &slug),
        Err(e) => return unavailable(&state, &req, lang, e),
    };
    let def = p.definition.clone();
    let Some(page) = page_index(&def, &raw_page) else {
        return see_other(format!("/s/{slug}/p/1{}", lang_query(lang)));
    };
    // Only a form of this very page replaces its answers: a stray or
    // garbled post must not wipe what the resident gave.
    if !form.iter().any(|(k, v)| k == "pagina" && *v == (page + 1).to_string()) {
        return error_page(&state, &req, lang, StatusCode::BAD_REQUEST, "error_form_unreadable");
    }
    merge_page(&def, page, &mut partial.given, &form);
    let action = form.iter().find(|(k, _)| k == "actie").map(|(_, v)| v.as_str()).unwrap_or("verder");
    let errors = match action {
        "terug" | "bewaar" => AnswerErrors::new(),
        _ => def.check_page(page, &raw_answers(&def, &partial.given)).err().unwrap_or_default(),
    };
    let next = match action {
        "terug" => Some(neighbour(&def, &partial.given, page, false).unwrap_or(page)),
        "bewaar" => Some(page),
        _ if !errors.is_empty() => Some(page),
        _ => neighbour(&def, &partial.given, page, true),
    };
    partial.page = next.unwrap_or(page);
    let (c, kept) = (code.clone(), partial.clone());
    match blocking(&state, move |conn| partial::save(conn, &c, &kept, today())).await {
        Ok(true) => {}
        Ok(false) => return expired(&state, &req, lang, &slug),
        Err(e) => return view(&state, &def, page, &partial, &code, &errors, true).render_failed(&state, &req, lang, e),
    }
    if !errors.is_empty() {
        return view(&state, &def, page, &partial, &code, &errors, false).render(&state, &req, lang);
    }
    match (action, next) {
        ("bewaar", _) => saved_page(&state, &req, lang, &def, &code),
        (_, Some(n)) => see_other(format!("/s/{slug}/p/{}{}", n + 1, lang_query(lang))),
        (_, None) => finish(&state, &req, lang, &p, code, partial).await,
    }
}

impl PageView<'_> {
    fn render_failed(&self, state: &AppState, req: &HttpRequest, lang: LangChoice, e: DbError) -> HttpResponse {
        tracing::error!("saving a resident's progress failed: {e}");
        self.render(state, req, lang)
    }
}

/// "Saved: this is your code." The code and a link to come back with.
fn saved_page(
    state: &AppState,
    req: &HttpRequest,
    lang: LangChoice,
    def: &Definition,
    code: &ResumeCode,
) -> HttpResponse {
    let mut ctx = tera::Context::new();
    ctx.insert("slug", def.slug.as_str());
    ctx.insert("title", def.title.get(lang.lang));
    ctx.insert("code", &code.display());
    let link = state.site.public_url.join(&format!("/s/{}/verder?code={}", def.slug, code.as_str()));
    ctx.insert("link", &link);
    ctx.insert("retention_days", &partial::RETENTION_DAYS);
    no_store(page(state, req, lang, StatusCode::OK, "survey/saved.html", ctx))
}

/// The last page is done: check the whole response, store it, forget the
/// partial one. Answers to questions that later answers hid are dropped.
async fn finish(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    lang: LangChoice,
    p: &Published,
    code: ResumeCode,
    partial: Partial,
) -> HttpResponse {
    let def = &p.definition;
    let raw = def.drop_hidden(&raw_answers(def, &partial.given));
    let answers = match def.check_answers(&raw) {
        Ok(a) => a,
        Err(errors) => {
            // Should not happen page by page; show the first page at fault.
            let page = errors.keys().filter_map(|id| def.page_of(id)).min().unwrap_or(0);
            return view(state, def, page, &partial, &code, &errors, false).render(state, req, lang);
        }
    };
    let slug = def.slug.to_string();
    let buurt = partial.buurt.clone();
    let (c, kept) = (code.clone(), partial.clone());
    let identified = def.kind == Kind::Identified;
    let answers_for_identified = answers.clone();
    let version_id = p.id;
    let version = p.clone();
    // A new talent profile's link is e-mailed when the server can send mail.
    let link_mail = super::talent_link::mail_enabled(req).then(|| {
        let buurt_name = state.areas().get(partial.buurt.as_str()).map(|a| a.name.clone()).unwrap_or_default();
        (super::talent_link::link_base(state), buurt_name)
    });
    // Claim the partial first: of two simultaneous "send" clicks only one
    // stores. Identified responses are stored in the same transaction.
    let claimed = blocking(state, move |conn| {
        if wave::opening(conn, &slug, today(), buurt.as_str())? == Opening::Closed {
            return Ok(Claim::Closed);
        }
        conn.transaction(|conn| {
            if !partial::claim(conn, &c)? {
                return Ok(Claim::Gone);
            }
            let mut profile = None;
            if identified {
                let consent = kept.consent_on.unwrap_or_else(today);
                let id = store_identified(conn, version_id, &buurt, &answers_for_identified, consent, today())?;
                // A talent scan with consent for contact becomes a profile.
                if slug == talent::profile::SLUG {
                    let stored = answers_json(&answers_for_identified);
                    profile = talent::profile::create_for_response(conn, id, &stored, today())?;
                    let email = stored.get("email").and_then(|e| e.as_str()).unwrap_or("");
                    if let (Some(token), Some((base, buurt_name)), false) = (&profile, &link_mail, email.is_empty()) {
                        let name = stored.get("naam").and_then(|e| e.as_str()).unwrap_or("");
                        let link = format!("{base}{}", token.as_str());
                        talent::mail::queue_link(conn, id, email, name, buurt_name, &link, today())?;
                    }
                }
            }
            Ok(Claim::Claimed(profile))
        })
    })
    .await;
    let done = |state: &AppState| {
        let mut res = see_other(format!("/s/{}/bedankt{}", def.slug, lang_query(lang)));
        let _ = res.add_cookie(&resume_cookie(req, def.slug.as_str(), None));
        let _ = state;
        res
    };
    match claimed {
        // The private link is shown once, now; only its hash is kept.
        Ok(Claim::Claimed(Some(token))) => {
            let mut res = done(state);
            let _ = res.add_cookie(&super::talent_link::link_cookie(req, def.slug.as_str(), Some(&token)));
            res
        }
        Ok(Claim::Claimed(None)) if identified => done(state),
        Ok(Claim::Claimed(None)) => {
            match state.writer.submit(Submission::new(&version, partial.buurt.clone(), answers)).await {
                Ok(()) => done(state),
                Err(e) => {
                    tracing::error!("storing a response failed: {e}");
                    // Put the answers back so nothing is lost; the page says to try again.
                    let (c, kept) = (code.clone(), partial.clone());
                    if let Err(e) = blocking(state, move |conn| partial::restore(conn, &c, &kept, today())).await {
                        tracing::error!("restoring a partial response failed: {e}");
                    }
                    let last = def.pages.len() - 1;
                    view(state, def, partial.page.min(last), &partial, &code, &AnswerErrors::new(), true)
                        .render(state, req, lang)
                }
            }
        }
        // Sent already (a double click): the first one counted.
        Ok(Claim::Gone) => done(state),
        Ok(Claim::Closed) => error_page(state, req, lang, StatusCode::FORBIDDEN, "error_wave_closed"),
        Err(e) => view(state, def, partial.page, &partial, &code, &AnswerErrors::new(), true)
            .render_failed(state, req, lang, e),
    }
}

enum Claim {
    /// Stored; with the private link of a new talent profile.
    Claimed(Option<crate::talent::ProfileToken>),
    Gone,
    Closed,
}

fn resume_page(
    state: &AppState,
    req: &HttpRequest,
    lang: LangChoice,
    p: &Published,
    given: &str,
    error: bool,
) -> HttpResponse {
    let mut ctx = tera::Context::new();
    ctx.insert("slug", p.definition.slug.as_str());
    ctx.insert("title", p.definition.title.get(lang.lang));
    ctx.insert("given", given);
    ctx.insert("error", &error);
    let status = if error { StatusCode::NOT_FOUND } else { StatusCode::OK };
    no_store(page(state, req, lang, status, "survey/resume.html", ctx))
}

/// The form to type a resume code, or a resume link (`?code=`).
async fn resume_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    slug: web::Path<String>,
    query: web::Query<BTreeMap<String, String>>,
) -> HttpResponse {
    let Some(p) = open(&state, &slug) else {
        return error_page(&state, &req, lang, StatusCode::NOT_FOUND, "error_no_questionnaire");
    };
    match query.get("code") {
        Some(code) => resume_with(&state, &req, lang, &p, code).await,
        None => resume_page(&state, &req, lang, &p, "", false),
    }
}

async fn resume(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    slug: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let Some(p) = open(&state, &slug) else {
        return error_page(&state, &req, lang, StatusCode::NOT_FOUND, "error_no_questionnaire");
    };
    let code = form.iter().find(|(k, _)| k == "code").map(|(_, v)| v.as_str()).unwrap_or("");
    resume_with(&state, &req, lang, &p, code).await
}

async fn resume_with(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    lang: LangChoice,
    p: &Published,
    typed: &str,
) -> HttpResponse {
    let shown: String = typed.chars().take(40).collect();
    let Some(code) = ResumeCode::parse(typed) else {
        return resume_page(state, req, lang, p, &shown, true);
    };
    let c = code.clone();
    let found = match blocking(state, move |conn| partial::load(conn, &c)).await {
        Ok(f) => f,
        Err(e) => return unavailable(state, req, lang, e),
    };
    let catalog = state.catalog();
    let belongs = |partial: &Partial| {
        catalog.version_by_id(partial.version_id).is_some_and(|v| v.definition.slug == p.definition.slug)
    };
    match found.filter(belongs) {
        Some(partial) => {
            let mut res = see_other(format!("/s/{}/p/{}{}", p.definition.slug, partial.page + 1, lang_query(lang)));
            let _ = res.add_cookie(&resume_cookie(req, p.definition.slug.as_str(), Some(&code)));
            res
        }
        None => resume_page(state, req, lang, p, &shown, true),
    }
}

async fn thanks(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    slug: web::Path<String>,
) -> HttpResponse {
    let catalog = state.catalog();
    let Some(p) = catalog.current(&slug) else {
        return error_page(&state, &req, lang, StatusCode::NOT_FOUND, "error_no_questionnaire");
    };
    // A new talent profile: its private link, shown once.
    if let Some(token) = super::talent_link::token_from_cookie(&req) {
        let mut res = super::talent_link::first_view(&state, &req, lang, &token);
        let _ = res.add_cookie(&super::talent_link::link_cookie(&req, p.definition.slug.as_str(), None));
        return res;
    }
    let mut ctx = tera::Context::new();
    ctx.insert("slug", p.definition.slug.as_str());
    ctx.insert("title", p.definition.title.get(lang.lang));
    ctx.insert("identified", &(p.definition.kind == Kind::Identified));
    page(&state, &req, lang, StatusCode::OK, "survey/thanks.html", ctx)
}
