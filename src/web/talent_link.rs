//! The resident's own pages for their talent profile, reached by the
//! private link shown once after the scan (`/mijn-talent/{token}`): see,
//! change, download, confirm, withdraw consent, erase. The token in the path
//! is the only key, so these forms need no other CSRF protection: a site
//! that does not know the token cannot post to its path. The token is never
//! logged (`web::log_path`), and pages are never cached.

use std::collections::BTreeMap;

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::lang::LangChoice;
use super::render::{error_page, page};
use super::resident::{no_store, today, unavailable};
use super::state::{blocking, AppState};
use crate::i18n::Lang;
use crate::questionnaire::{other_key, AnswerErrors, Definition, QuestionKind, RawAnswer, OTHER};
use crate::survey::answers_json;
use crate::talent::audit::Action;
use crate::talent::{self, profile, Profile, ProfileToken};

pub const PREFIX: &str = "/mijn-talent";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(PREFIX, web::get().to(code_form))
        .route(PREFIX, web::post().to(code_typed))
        .route("/mijn-talent/{token}", web::get().to(show))
        .route("/mijn-talent/{token}/gegevens.json", web::get().to(download_json))
        .route("/mijn-talent/{token}/gegevens.html", web::get().to(download_html))
        .route("/mijn-talent/{token}/wijzigen", web::get().to(edit_form))
        .route("/mijn-talent/{token}/wijzigen", web::post().to(edit))
        .route("/mijn-talent/{token}/bevestigen", web::post().to(confirm))
        .route("/mijn-talent/{token}/intrekken", web::post().to(withdraw))
        .route("/mijn-talent/{token}/wissen", web::post().to(erase))
        .route("/voorstel/{token}", web::get().to(proposal_page))
        .route("/voorstel/{token}", web::post().to(proposal_answer));
}

/// The absolute link of a proposal without its token.
pub fn proposal_base(state: &AppState) -> String {
    state.site.public_url.join("/voorstel/")
}

async fn find_proposal(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    lang: LangChoice,
    raw: &str,
) -> Result<talent::proposal::Proposal, HttpResponse> {
    let Some(token) = ProfileToken::parse(raw) else { return Err(unknown_link(state, req, lang)) };
    match blocking(state, move |conn| talent::proposal::find(conn, &token)).await {
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(unknown_link(state, req, lang)),
        Err(e) => Err(unavailable(state, req, lang, e)),
    }
}

fn proposal_view(
    state: &AppState,
    req: &HttpRequest,
    lang: LangChoice,
    token: &str,
    p: &talent::proposal::Proposal,
    status: StatusCode,
) -> HttpResponse {
    let mut ctx = tera::Context::new();
    ctx.insert("identified", &true);
    ctx.insert("token", token);
    ctx.insert("initiative", &p.initiative);
    ctx.insert("offers", &p.offers);
    ctx.insert("answer", &p.answer);
    no_store(page(state, req, lang, status, "talent/proposal.html", ctx))
}

/// The proposal and two buttons; a GET never answers it (mail scanners
/// follow links).
async fn proposal_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    raw: web::Path<String>,
) -> HttpResponse {
    match find_proposal(&state, &req, lang, &raw).await {
        Ok(p) => proposal_view(&state, &req, lang, &raw, &p, StatusCode::OK),
        Err(res) => res,
    }
}

async fn proposal_answer(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    raw: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let mut p = match find_proposal(&state, &req, lang, &raw).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let yes = match form.iter().find(|(k, _)| k == "antwoord").map(|(_, v)| v.as_str()) {
        Some("ja") => true,
        Some("nee") => false,
        _ => return error_page(&state, &req, lang, StatusCode::BAD_REQUEST, "error_form_unreadable"),
    };
    let kept = p.clone();
    match blocking(&state, move |conn| talent::proposal::answer(conn, &kept, yes, today())).await {
        Ok(true) => {
            p.answer = Some(if yes { "ja" } else { "nee" }.to_owned());
            proposal_view(&state, &req, lang, &raw, &p, StatusCode::OK)
        }
        // Answered before: the page shows that answer.
        Ok(false) => proposal_view(&state, &req, lang, &raw, &p, StatusCode::CONFLICT),
        Err(e) => unavailable(&state, &req, lang, e),
    }
}

/// Whether the server e-mails residents their link (SMTP configured).
#[derive(Debug, Clone, Copy)]
pub struct MailSwitch(pub bool);

pub fn mail_enabled(req: &HttpRequest) -> bool {
    req.app_data::<web::Data<MailSwitch>>().is_some_and(|m| m.0)
}

/// The mail thread: drops what a stopped sender left half-sent, then sends
/// the queue every few seconds.
pub fn mail_loop(state: &AppState, mailer: &dyn crate::invite::Mailer) {
    match state.pool.get().map_err(crate::db::DbError::from).and_then(|mut c| talent::mail::drop_stale(&mut c)) {
        Ok(0) => {}
        Ok(n) => tracing::warn!("dropped {n} talent link e-mails a stopped sender left half-sent"),
        Err(e) => tracing::warn!("talent mail: {e}"),
    }
    loop {
        let round = state
            .pool
            .get()
            .map_err(crate::db::DbError::from)
            .and_then(|mut c| talent::mail::send_pending(&mut c, mailer));
        match round {
            Ok(r) if r.sent + r.retry + r.given_up > 0 => {
                tracing::info!("talent link e-mails: {} sent, {} to retry, {} given up", r.sent, r.retry, r.given_up)
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("sending talent link e-mails failed: {e}"),
        }
        std::thread::sleep(std::time::Duration::from_secs(2));
    }
}

/// The absolute private link without its token.
pub fn link_base(state: &AppState) -> String {
    state.site.public_url.join(&format!("{PREFIX}/"))
}

/// The absolute private link, as shown.
fn link(state: &AppState, token: &ProfileToken) -> String {
    format!("{}{}", link_base(state), token.as_str())
}

const LINK_COOKIE: &str = "bp_talentlink";

/// Carries a new profile's token from the last page to the thanks page
/// only (`HttpOnly`, path of that page, 30 minutes); removed once shown.
pub fn link_cookie(req: &HttpRequest, slug: &str, token: Option<&ProfileToken>) -> Cookie<'static> {
    let mut c = Cookie::build(LINK_COOKIE, token.map(|t| t.as_str().to_owned()).unwrap_or_default())
        .path(format!("/s/{slug}/bedankt"))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(super::origin::is_https(req))
        .finish();
    match token {
        Some(_) => c.set_max_age(CookieDuration::minutes(30)),
        None => c.make_removal(),
    }
    c
}

pub fn token_from_cookie(req: &HttpRequest) -> Option<ProfileToken> {
    req.cookie(LINK_COOKIE).and_then(|c| ProfileToken::parse(c.value()))
}

/// Shown once, right after the scan: the private link and its code.
pub fn first_view(state: &AppState, req: &HttpRequest, lang: LangChoice, token: &ProfileToken) -> HttpResponse {
    let mut ctx = tera::Context::new();
    ctx.insert("link", &link(state, token));
    ctx.insert("code", &token.display());
    ctx.insert("identified", &true);
    no_store(page(state, req, lang, StatusCode::OK, "talent/created.html", ctx))
}

fn unknown_link(state: &AppState, req: &HttpRequest, lang: LangChoice) -> HttpResponse {
    no_store(error_page(state, req, lang, StatusCode::NOT_FOUND, "talent_link_unknown"))
}

/// The profile behind a link, or the page to show instead.
async fn profile_of(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    lang: LangChoice,
    raw: &str,
) -> Result<(ProfileToken, Profile), HttpResponse> {
    let Some(token) = ProfileToken::parse(raw) else { return Err(unknown_link(state, req, lang)) };
    let t = token.clone();
    match blocking(state, move |conn| profile::find_by_token(conn, &t)).await {
        Ok(Some(p)) => Ok((token, p)),
        Ok(None) => Err(unknown_link(state, req, lang)),
        Err(e) => Err(unavailable(state, req, lang, e)),
    }
}

/// Labels of option values, in the resident's language.
fn labels(def: Option<&Definition>, question: &str, values: &[String], l: Lang) -> Vec<String> {
    let options = def.and_then(|d| d.question(question)).map(|q| q.kind.choices()).unwrap_or_default();
    values
        .iter()
        .map(|v| options.iter().find(|c| &c.value == v).map(|c| c.label.get(l).to_owned()).unwrap_or_else(|| v.clone()))
        .collect()
}

fn view_context(state: &AppState, p: &Profile, token: &ProfileToken, l: Lang) -> tera::Context {
    let catalog = state.catalog();
    let def = catalog.version_by_id(p.version_id).map(|v| &*v.definition);
    let one =
        |q: &str, v: &str| if v.is_empty() { String::new() } else { labels(def, q, &[v.to_owned()], l).remove(0) };
    let mut ctx = tera::Context::new();
    ctx.insert("token", token.as_str());
    ctx.insert("identified", &true);
    ctx.insert("name", &p.name);
    ctx.insert("email", &p.email);
    ctx.insert("phone", &p.phone);
    ctx.insert("buurt", &state.areas().get(&p.buurt).map(|a| a.name.clone()).unwrap_or_else(|| p.buurt.clone()));
    ctx.insert("happy", &labels(def, "blij_van", &p.happy, l));
    ctx.insert("proud", &p.proud);
    ctx.insert("best", &p.best);
    ctx.insert("skills", &labels(def, "talenten", &p.skills, l));
    ctx.insert("learn", &labels(def, "leren", &p.learn, l));
    ctx.insert("languages", &labels(def, "talen_welke", &p.languages, l));
    ctx.insert("activities", &labels(def, "doen_buurt", &p.activities, l));
    ctx.insert("audience", &labels(def, "voor_wie", &p.audience, l));
    ctx.insert("time", &one("tijd", &p.time));
    ctx.insert("together", &one("samen", &p.together));
    ctx.insert("approach", &labels(def, "benaderen", &p.approach, l));
    ctx.insert("created_on", &p.created_on.to_string());
    ctx.insert("confirmed_on", &p.confirmed_on.to_string());
    ctx.insert("renewal_due_on", &p.renewal_due_on.map(|d| d.to_string()));
    ctx
}

async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    raw: web::Path<String>,
    query: web::Query<BTreeMap<String, String>>,
) -> HttpResponse {
    let (token, p) = match profile_of(&state, &req, lang, &raw).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let mut ctx = view_context(&state, &p, &token, lang.lang);
    let done = match query.get("klaar").map(String::as_str) {
        Some("gewijzigd") => Some("talent_saved"),
        Some("bevestigd") => Some("talent_confirmed"),
        _ => None,
    };
    ctx.insert("done_key", &done);
    ctx.insert("download", &false);
    ctx.insert("erase_error", &false);
    no_store(page(&state, &req, lang, StatusCode::OK, "talent/mine.html", ctx))
}

fn attachment(mut res: HttpResponse, file: &str) -> HttpResponse {
    if let Ok(v) = header::HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    no_store(res)
}

async fn download_json(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    raw: web::Path<String>,
) -> HttpResponse {
    match profile_of(&state, &req, lang, &raw).await {
        Ok((_, p)) => attachment(HttpResponse::Ok().json(p.export()), "mijn-talentprofiel.json"),
        Err(res) => res,
    }
}

async fn download_html(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    raw: web::Path<String>,
) -> HttpResponse {
    let (token, p) = match profile_of(&state, &req, lang, &raw).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let mut ctx = view_context(&state, &p, &token, lang.lang);
    ctx.insert("download", &true);
    ctx.insert("erase_error", &false);
    attachment(page(&state, &req, lang, StatusCode::OK, "talent/mine.html", ctx), "mijn-talentprofiel.html")
}

/// The questions a resident can change on their profile page, in order.
const EDITABLE: [&str; 11] = [
    "naam",
    "email",
    "telefoon",
    "talenten",
    "talent_best",
    "leren",
    "doen_buurt",
    "voor_wie",
    "tijd",
    "samen",
    "benaderen",
];

#[derive(Serialize)]
struct EditQuestion {
    id: String,
    text: String,
    kind: &'static str,
    options: Vec<(String, String, bool)>,
    value: String,
    input_type: &'static str,
    max_length: usize,
    error: Option<String>,
}

fn edit_questions(
    def: &Definition,
    answers: &BTreeMap<String, RawAnswer>,
    errors: &AnswerErrors,
    l: Lang,
) -> Vec<EditQuestion> {
    EDITABLE
        .iter()
        .filter_map(|id| def.question(id))
        .map(|q| {
            let given: Vec<String> = match answers.get(q.id.as_str()) {
                Some(RawAnswer::Text(t)) => vec![t.clone()],
                Some(RawAnswer::List(l)) => l.clone(),
                Some(RawAnswer::Number(n)) => vec![n.to_string()],
                _ => Vec::new(),
            };
            let (kind, input_type, max_length) = match &q.kind {
                QuestionKind::MultipleChoice { .. } => ("multiple", "", 0),
                QuestionKind::SingleChoice { .. } => ("single", "", 0),
                QuestionKind::Text { max_length, format, .. } => (
                    "text",
                    match format {
                        Some(crate::questionnaire::TextFormat::Email) => "email",
                        Some(crate::questionnaire::TextFormat::Phone) => "tel",
                        None => "text",
                    },
                    *max_length,
                ),
                _ => ("text", "text", 200),
            };
            EditQuestion {
                id: q.id.to_string(),
                text: q.text.get(l).to_owned(),
                kind,
                options: q
                    .kind
                    .choices()
                    .into_iter()
                    .filter(|c| c.value != OTHER)
                    .map(|c| (c.value.clone(), c.label.get(l).to_owned(), given.contains(&c.value)))
                    .collect(),
                value: given.first().cloned().unwrap_or_default(),
                input_type,
                max_length,
                error: errors.get(q.id.as_str()).map(|e| e.message(l)),
            }
        })
        .collect()
}

fn stored_raw(p: &Profile) -> BTreeMap<String, RawAnswer> {
    p.answers.as_object().map(|m| m.iter().map(|(k, v)| (k.clone(), RawAnswer::from(v))).collect()).unwrap_or_default()
}

fn edit_page(
    state: &AppState,
    req: &HttpRequest,
    lang: LangChoice,
    token: &ProfileToken,
    def: &Definition,
    answers: &BTreeMap<String, RawAnswer>,
    errors: &AnswerErrors,
) -> HttpResponse {
    let mut ctx = tera::Context::new();
    ctx.insert("token", token.as_str());
    ctx.insert("identified", &true);
    ctx.insert("questions", &edit_questions(def, answers, errors, lang.lang));
    ctx.insert("error_count", &errors.len());
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    no_store(page(state, req, lang, status, "talent/edit.html", ctx))
}

async fn edit_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    raw: web::Path<String>,
) -> HttpResponse {
    let (token, p) = match profile_of(&state, &req, lang, &raw).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let catalog = state.catalog();
    let Some(version) = catalog.version_by_id(p.version_id) else {
        return error_page(&state, &req, lang, StatusCode::NOT_FOUND, "error_no_questionnaire");
    };
    edit_page(&state, &req, lang, &token, &version.definition, &stored_raw(&p), &AnswerErrors::new())
}

/// Changes are checked by the questionnaire's own rules (the version the
/// resident answered), then replace the stored answers.
async fn edit(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    raw: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let (token, p) = match profile_of(&state, &req, lang, &raw).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let catalog = state.catalog();
    let Some(version) = catalog.version_by_id(p.version_id) else {
        return error_page(&state, &req, lang, StatusCode::NOT_FOUND, "error_no_questionnaire");
    };
    let def = &version.definition;
    let mut answers = stored_raw(&p);
    for id in EDITABLE {
        let Some(q) = def.question(id) else { continue };
        let had_other = matches!(answers.get(id), Some(RawAnswer::List(l)) if l.iter().any(|v| v == OTHER))
            || matches!(answers.get(id), Some(RawAnswer::Text(v)) if v == OTHER);
        let mut given: Vec<String> = form
            .iter()
            .filter(|(k, _)| k.strip_prefix("q_") == Some(id))
            .take(64)
            .map(|(_, v)| v.chars().take(20_000).collect())
            .collect();
        // "Anders" is not on this form: what the resident wrote stays.
        if had_other && matches!(q.kind, QuestionKind::MultipleChoice { .. }) {
            given.push(OTHER.to_owned());
        } else if !had_other {
            answers.remove(&other_key(id));
        }
        answers.remove(id);
        match (&q.kind, given.len()) {
            (_, 0) => {}
            (QuestionKind::MultipleChoice { .. }, _) => {
                answers.insert(id.to_owned(), RawAnswer::List(given));
            }
            (_, 1) => {
                let v = given.remove(0);
                if !v.trim().is_empty() {
                    answers.insert(id.to_owned(), RawAnswer::Text(v));
                }
            }
            _ => {
                answers.insert(id.to_owned(), RawAnswer::List(given));
            }
        }
    }
    let checked = match def.check_answers(&def.drop_hidden(&answers)) {
        Ok(a) => a,
        Err(errors) => return edit_page(&state, &req, lang, &token, def, &answers, &errors),
    };
    let stored = answers_json(&checked);
    let id = p.id;
    match blocking(&state, move |conn| profile::update_answers(conn, id, &stored, today())).await {
        Ok(()) => back_to_profile(lang, &token, "gewijzigd"),
        Err(e) => unavailable(&state, &req, lang, e),
    }
}

fn back_to_profile(lang: LangChoice, token: &ProfileToken, done: &str) -> HttpResponse {
    let lang_q = if lang.lang == Lang::En { "&lang=en" } else { "" };
    no_store(
        HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("{PREFIX}/{}?klaar={done}{lang_q}", token.as_str())))
            .finish(),
    )
}

async fn confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    raw: web::Path<String>,
) -> HttpResponse {
    let (token, p) = match profile_of(&state, &req, lang, &raw).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let id = p.id;
    match blocking(&state, move |conn| profile::confirm(conn, id, today())).await {
        Ok(()) => back_to_profile(lang, &token, "bevestigd"),
        Err(e) => unavailable(&state, &req, lang, e),
    }
}

fn done_page(state: &AppState, req: &HttpRequest, lang: LangChoice, message: &str) -> HttpResponse {
    let mut ctx = tera::Context::new();
    ctx.insert("message_key", message);
    ctx.insert("identified", &true);
    no_store(page(state, req, lang, StatusCode::OK, "talent/done.html", ctx))
}

async fn withdraw(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    raw: web::Path<String>,
) -> HttpResponse {
    let (_, p) = match profile_of(&state, &req, lang, &raw).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let id = p.id;
    match blocking(&state, move |conn| profile::withdraw(conn, id)).await {
        Ok(_) => done_page(&state, &req, lang, "talent_withdrawn"),
        Err(e) => unavailable(&state, &req, lang, e),
    }
}

/// Erasing needs the box "yes, erase everything" ticked.
async fn erase(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    raw: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let (token, p) = match profile_of(&state, &req, lang, &raw).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    if !form.iter().any(|(k, v)| k == "zeker" && v == "ja") {
        let mut ctx = view_context(&state, &p, &token, lang.lang);
        ctx.insert("download", &false);
        ctx.insert("erase_error", &true);
        return no_store(page(&state, &req, lang, StatusCode::UNPROCESSABLE_ENTITY, "talent/mine.html", ctx));
    }
    let id = p.id;
    match blocking(&state, move |conn| profile::erase(conn, id, Action::ProfileErased)).await {
        Ok(_) => done_page(&state, &req, lang, "talent_erased"),
        Err(e) => unavailable(&state, &req, lang, e),
    }
}

fn code_page(state: &AppState, req: &HttpRequest, lang: LangChoice, given: &str, error: bool) -> HttpResponse {
    let mut ctx = tera::Context::new();
    ctx.insert("given", given);
    ctx.insert("error", &error);
    ctx.insert("identified", &true);
    let status = if error { StatusCode::NOT_FOUND } else { StatusCode::OK };
    no_store(page(state, req, lang, status, "talent/code.html", ctx))
}

async fn code_form(state: web::Data<AppState>, req: HttpRequest, lang: LangChoice) -> HttpResponse {
    code_page(&state, &req, lang, "", false)
}

/// A typed code: to the profile page when it is known.
async fn code_typed(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let typed = form.iter().find(|(k, _)| k == "code").map(|(_, v)| v.as_str()).unwrap_or("");
    let shown: String = typed.chars().take(40).collect();
    let Some(token) = ProfileToken::parse(typed) else { return code_page(&state, &req, lang, &shown, true) };
    let t = token.clone();
    match blocking(&state, move |conn| profile::find_by_token(conn, &t)).await {
        Ok(Some(_)) => no_store(
            HttpResponse::SeeOther().insert_header((header::LOCATION, format!("{PREFIX}/{}", token.as_str()))).finish(),
        ),
        Ok(None) => code_page(&state, &req, lang, &shown, true),
        Err(e) => unavailable(&state, &req, lang, e),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn tokens_never_reach_the_log() {
        assert_eq!(crate::web::log_path::loggable_path("/mijn-talent/ABCDEFGH"), "/mijn-talent/…");
        assert_eq!(crate::web::log_path::loggable_path("/mijn-talent/ABCDEFGH/wissen"), "/mijn-talent/…/wissen");
        assert_eq!(crate::web::log_path::loggable_path("/mijn-talent"), "/mijn-talent");
        assert_eq!(crate::web::log_path::loggable_path("/s/geluk"), "/s/geluk");
        assert_eq!(crate::web::log_path::loggable_path("/voorstel/ABCDEFGH"), "/voorstel/…");
    }
}
