//! The questionnaire designer for professionals: create, edit, reorder,
//! conditions and translations, preview as a resident sees it, publish,
//! clone, archive, import (TOML, XLSForm) and export, and waves. Works
//! without JavaScript: every change is a small form.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use actix_multipart::Multipart;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Serialize;

use super::lang::{t, LangChoice};
use super::render::page;
use super::resident::{merge_page, neighbour, raw_answers, PageView};
use super::session::{no_store, refusal, Professional};
use super::state::{blocking_or_refuse, AppState};
use crate::area::{AreaCode, Level};
use crate::auth::Role;
use crate::db::{AnyConnection, DbError};
use crate::questionnaire::draft::{self, blank_question, Draft};
use crate::questionnaire::{
    from_xlsx, parse_json, parse_toml, publish, set_archived, AnswerErrors, Approval, Kind, LocalText, PrivacyChange,
    PublishError, QuestionKind, RawChoice, RawQuestion, Slug, TextFormat, MAX_RETENTION_MONTHS,
};
use crate::survey::{wave, FormValues, NewWave};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/ontwerp", web::get().to(list))
        .route("/ontwerp/nieuw", web::post().to(create))
        .route("/ontwerp/importeer", web::post().to(import))
        .route("/ontwerp/{slug}", web::get().to(editor))
        .route("/ontwerp/{slug}/bewerk", web::post().to(start_draft))
        .route("/ontwerp/{slug}/algemeen", web::post().to(save_general))
        .route("/ontwerp/{slug}/actie", web::post().to(action))
        .route("/ontwerp/{slug}/pagina/{id}", web::get().to(page_form))
        .route("/ontwerp/{slug}/pagina/{id}", web::post().to(save_page))
        .route("/ontwerp/{slug}/vraag/{id}", web::get().to(question_form))
        .route("/ontwerp/{slug}/vraag/{id}", web::post().to(save_question))
        .route("/ontwerp/{slug}/voorbeeld/{n}", web::get().to(preview))
        .route("/ontwerp/{slug}/voorbeeld/{n}", web::post().to(preview_answer))
        .route("/ontwerp/{slug}/publiceer", web::post().to(publish_draft))
        .route("/ontwerp/{slug}/kloon", web::post().to(clone))
        .route("/ontwerp/{slug}/archief", web::post().to(archive))
        .route("/ontwerp/{slug}/bestand.toml", web::get().to(export))
        .route("/ontwerp/{slug}/metingen", web::get().to(waves))
        .route("/ontwerp/{slug}/metingen", web::post().to(create_wave))
        .route("/ontwerp/{slug}/metingen/{id}/sluit", web::post().to(close_wave));
}

/// Who may design: administrators and professionals.
const DESIGNERS: &[Role] = &[Role::Admin, Role::Professional];

/// Preview answers per user and questionnaire, held only in memory.
#[derive(Default)]
pub struct PreviewStore(Mutex<HashMap<(i32, String), FormValues>>);

type Result<T> = std::result::Result<T, actix_web::Error>;

/// The form as sent, each field once (the first value), plus repeated ones.
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).unwrap_or("")
    }

    fn opt(&self, name: &str) -> Option<String> {
        Some(self.get(name)).filter(|v| !v.is_empty()).map(str::to_owned)
    }

    /// Whether the form had this field at all (an unticked box has none).
    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    fn checked(&self, name: &str) -> bool {
        !self.get(name).is_empty()
    }

    /// `{name}_nl` and `{name}_en`; None when both are empty.
    fn text(&self, name: &str) -> Option<LocalText> {
        let (nl, en) = (self.get(&format!("{name}_nl")), self.get(&format!("{name}_en")));
        (!nl.is_empty() || !en.is_empty()).then(|| LocalText { nl: nl.into(), en: en.into() })
    }
}

/// A designer with a valid CSRF token in the form.
fn authorise(user: &Professional, req: &HttpRequest, form: Option<&Fields>) -> Result<()> {
    user.require_role(req, DESIGNERS)?;
    if let Some(f) = form {
        user.check_csrf(req, f.get("csrf"))?;
    }
    Ok(())
}

async fn db<T: Send + 'static>(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    job: impl FnOnce(&mut AnyConnection) -> std::result::Result<T, DbError> + Send + 'static,
) -> Result<T> {
    blocking_or_refuse(state, req, job).await
}

fn slug_of(req: &HttpRequest, raw: &str) -> Result<Slug> {
    Slug::parse(raw).ok_or_else(|| refusal(req, StatusCode::NOT_FOUND, "error_no_questionnaire"))
}

fn see_other(to: String) -> HttpResponse {
    no_store(HttpResponse::SeeOther().insert_header((header::LOCATION, to)).finish())
}

fn today() -> chrono::NaiveDate {
    crate::clock::today()
}

async fn reload(state: &web::Data<AppState>, req: &HttpRequest) -> Result<()> {
    let s = state.clone();
    db(state, req, move |_| s.reload_catalog().map(|_| ())).await
}

#[derive(Serialize)]
struct Row {
    slug: String,
    title: String,
    version: Option<i32>,
    kind: &'static str,
    archived: bool,
    draft: bool,
}

async fn list(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
) -> Result<HttpResponse> {
    authorise(&user, &req, None)?;
    list_page(&user, &state, &req, lang, StatusCode::OK, None).await
}

async fn list_page(
    user: &Professional,
    state: &web::Data<AppState>,
    req: &HttpRequest,
    lang: LangChoice,
    status: StatusCode,
    problem: Option<String>,
) -> Result<HttpResponse> {
    let drafts = db(state, req, draft::draft_slugs).await?;
    let catalog = state.catalog();
    let mut rows: BTreeMap<String, Row> = catalog
        .all_current()
        .map(|p| {
            let slug = p.definition.slug.to_string();
            let row = Row {
                title: p.definition.title.get(lang.lang).to_owned(),
                version: Some(p.version),
                kind: kind_name(p.definition.kind),
                archived: catalog.is_archived(&slug),
                draft: drafts.contains(&slug),
                slug: slug.clone(),
            };
            (slug, row)
        })
        .collect();
    for slug in drafts {
        rows.entry(slug.clone()).or_insert(Row {
            title: slug.clone(),
            version: None,
            kind: "anonymous",
            archived: false,
            draft: true,
            slug,
        });
    }
    let mut ctx = user.context();
    ctx.insert("rows", &rows.into_values().collect::<Vec<_>>());
    ctx.insert("problem", &problem);
    Ok(no_store(page(state, req, lang, status, "design/list.html", ctx)))
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Anonymous => "anonymous",
        Kind::Identified => "identified",
    }
}

/// The draft of a slug, or None when there is none.
async fn load(state: &web::Data<AppState>, req: &HttpRequest, slug: &Slug) -> Result<Option<Draft>> {
    let s = slug.clone();
    db(state, req, move |conn| draft::load_draft(conn, &s)).await
}

async fn store(state: &web::Data<AppState>, req: &HttpRequest, d: Draft) -> Result<()> {
    db(state, req, move |conn| draft::save_draft(conn, &d, today())).await
}

/// The draft to change, or a 404 page when there is none.
async fn must_load(state: &web::Data<AppState>, req: &HttpRequest, slug: &Slug) -> Result<Draft> {
    load(state, req, slug).await?.ok_or_else(|| refusal(req, StatusCode::NOT_FOUND, "d_error_no_draft"))
}

async fn create(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    let f = Fields(form.into_inner());
    authorise(&user, &req, Some(&f))?;
    let Some(slug) = Slug::parse(f.get("slug")) else {
        return list_page(&user, &state, &req, lang, StatusCode::UNPROCESSABLE_ENTITY, Some(t(lang, "d_error_slug")))
            .await;
    };
    let taken = state.catalog().current(slug.as_str()).is_some() || load(&state, &req, &slug).await?.is_some();
    if taken {
        return list_page(&user, &state, &req, lang, StatusCode::CONFLICT, Some(t(lang, "d_error_slug_taken"))).await;
    }
    let kind = if f.get("kind") == "identified" { Kind::Identified } else { Kind::Anonymous };
    let title = f.text("title").unwrap_or(LocalText { nl: slug.to_string(), en: slug.to_string() });
    store(&state, &req, Draft::new(slug.clone(), kind, title)).await?;
    Ok(see_other(format!("/ontwerp/{slug}")))
}

const MAX_UPLOAD: usize = 5 * 1024 * 1024;

/// A questionnaire file (TOML) or an XLSForm workbook becomes a draft: of a
/// new questionnaire, or the next version of an existing one.
async fn import(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    mut payload: Multipart,
) -> Result<HttpResponse> {
    user.require_role(&req, DESIGNERS)?;
    let mut csrf = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = payload.next().await {
        let Ok(mut field) = field else {
            return list_page(&user, &state, &req, lang, StatusCode::BAD_REQUEST, Some(t(lang, "d_error_upload")))
                .await;
        };
        let name = field.name().unwrap_or("").to_owned();
        let file_name = field.content_disposition().and_then(|d| d.get_filename()).unwrap_or("").to_owned();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let Ok(chunk) = chunk else {
                return list_page(&user, &state, &req, lang, StatusCode::BAD_REQUEST, Some(t(lang, "d_error_upload")))
                    .await;
            };
            if bytes.len() + chunk.len() > MAX_UPLOAD {
                return list_page(
                    &user,
                    &state,
                    &req,
                    lang,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    Some(t(lang, "d_error_too_large")),
                )
                .await;
            }
            bytes.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "csrf" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "bestand" => file = Some((file_name, bytes)),
            _ => {}
        }
    }
    user.check_csrf(&req, &csrf)?;
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return list_page(
            &user,
            &state,
            &req,
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(t(lang, "d_error_no_file")),
        )
        .await;
    };
    let name: String = name.chars().filter(|c| !c.is_control()).take(100).collect();
    // Parsing a workbook or file is CPU work on untrusted input: off the
    // async workers, so one upload never stalls other requests.
    let raw = web::block(move || parse_import(&name, &bytes, lang))
        .await
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()))?;
    let raw = match raw {
        Ok(raw) => raw,
        Err(message) => {
            return list_page(&user, &state, &req, lang, StatusCode::UNPROCESSABLE_ENTITY, Some(message)).await;
        }
    };
    let Some(slug) = Slug::parse(&raw.slug) else {
        return list_page(&user, &state, &req, lang, StatusCode::UNPROCESSABLE_ENTITY, Some(t(lang, "d_error_slug")))
            .await;
    };
    let based_on = state.catalog().current(slug.as_str()).map(|p| p.id);
    store(&state, &req, Draft { slug: slug.clone(), raw, based_on }).await?;
    Ok(see_other(format!("/ontwerp/{slug}")))
}

/// An uploaded questionnaire (XLSForm workbook or TOML file) as a draft, or
/// the problems found, for the person who uploaded it.
fn parse_import(
    name: &str,
    bytes: &[u8],
    lang: LangChoice,
) -> std::result::Result<crate::questionnaire::RawDefinition, String> {
    if name.to_lowercase().ends_with(".xlsx") {
        match from_xlsx(name, bytes) {
            Ok(json) => {
                serde_json::from_value::<crate::questionnaire::RawDefinition>(json).map_err(|e| format!("{name}: {e}"))
            }
            Err(errors) => Err(errors.to_string()),
        }
    } else {
        match std::str::from_utf8(bytes) {
            Ok(text) => parse_toml(name, text).map(|d| d.to_raw()).map_err(|e| e.to_string()),
            Err(_) => Err(format!("{name}: {}", t(lang, "d_error_not_utf8"))),
        }
    }
}

#[derive(Serialize)]
struct QuestionRow {
    id: String,
    kind: String,
    text: String,
    required: bool,
    show_if: Option<String>,
}

#[derive(Serialize)]
struct PageRow {
    id: String,
    title: Option<String>,
    show_if: Option<String>,
    questions: Vec<QuestionRow>,
}

const TYPES: [&str; 9] = QuestionKind::TYPE_NAMES;

/// (type, its name in the interface language), for a type choice.
fn type_options(lang: LangChoice) -> Vec<(&'static str, String)> {
    TYPES.iter().map(|ty| (*ty, t(lang, &format!("d_type_{ty}")))).collect()
}

async fn editor(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    slug: web::Path<String>,
) -> Result<HttpResponse> {
    authorise(&user, &req, None)?;
    let slug = slug_of(&req, &slug)?;
    editor_page(&user, &state, &req, lang, &slug, StatusCode::OK, None).await
}

async fn editor_page(
    user: &Professional,
    state: &web::Data<AppState>,
    req: &HttpRequest,
    lang: LangChoice,
    slug: &Slug,
    status: StatusCode,
    problem: Option<String>,
) -> Result<HttpResponse> {
    let draft = load(state, req, slug).await?;
    let catalog = state.catalog();
    let current = catalog.current(slug.as_str());
    if draft.is_none() && current.is_none() {
        return Err(refusal(req, StatusCode::NOT_FOUND, "error_no_questionnaire"));
    }
    let mut ctx = user.context();
    ctx.insert("slug", slug.as_str());
    ctx.insert("version", &current.map(|p| p.version));
    ctx.insert("archived", &catalog.is_archived(slug.as_str()));
    ctx.insert("problem", &problem);
    ctx.insert("types", &type_options(lang));
    ctx.insert("has_draft", &draft.is_some());
    let shown = draft.clone().unwrap_or_else(|| Draft::from_definition(&current.expect("checked").definition, None));
    let l = lang.lang;
    let pages: Vec<PageRow> = shown
        .pages()
        .iter()
        .map(|p| PageRow {
            id: p.id.clone(),
            title: p.title.as_ref().map(|t| t.get(l).to_owned()),
            show_if: p.show_if.clone(),
            questions: p
                .questions
                .iter()
                .map(|q| QuestionRow {
                    id: q.id.clone(),
                    kind: q.kind.clone(),
                    text: q.text.get(l).to_owned(),
                    required: q.required,
                    show_if: q.show_if.clone(),
                })
                .collect(),
        })
        .collect();
    ctx.insert("pages", &pages);
    ctx.insert("raw", &shown.raw);
    ctx.insert("kind", kind_name(shown.raw.kind));
    let check = draft.as_ref().map(|d| d.check());
    ctx.insert("check_error", &check.as_ref().and_then(|c| c.as_ref().err().map(|e| e.to_string())));
    ctx.insert("ready", &check.as_ref().is_some_and(|c| c.is_ok()));
    Ok(no_store(page(state, req, lang, status, "design/edit.html", ctx)))
}

async fn start_draft(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    let f = Fields(form.into_inner());
    authorise(&user, &req, Some(&f))?;
    let slug = slug_of(&req, &slug)?;
    if load(&state, &req, &slug).await?.is_none() {
        let catalog = state.catalog();
        let current = catalog
            .current(slug.as_str())
            .ok_or_else(|| refusal(&req, StatusCode::NOT_FOUND, "error_no_questionnaire"))?;
        store(&state, &req, Draft::from_definition(&current.definition, Some(current.id))).await?;
    }
    Ok(see_other(format!("/ontwerp/{slug}")))
}

async fn save_general(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    let f = Fields(form.into_inner());
    authorise(&user, &req, Some(&f))?;
    let slug = slug_of(&req, &slug)?;
    let mut d = must_load(&state, &req, &slug).await?;
    d.raw.kind = if f.get("kind") == "identified" { Kind::Identified } else { Kind::Anonymous };
    d.raw.title = f.text("title").unwrap_or(LocalText { nl: String::new(), en: String::new() });
    d.raw.intro = f.text("intro");
    d.raw.purpose = f.text("purpose");
    d.raw.invitation_only = f.checked("invitation_only").then_some(true);
    d.raw.retention_months = match f.get("retention_months").trim() {
        "" => None,
        months => Some(
            months
                .parse::<u32>()
                .ok()
                .filter(|m| (1..=MAX_RETENTION_MONTHS).contains(m))
                .ok_or_else(|| refusal(&req, StatusCode::BAD_REQUEST, "error_retention_months"))?,
        ),
    };
    store(&state, &req, d).await?;
    Ok(see_other(format!("/ontwerp/{slug}")))
}

/// Small edits of the structure: add, move and remove pages and questions,
/// or throw the draft away.
async fn action(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    slug: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    let f = Fields(form.into_inner());
    authorise(&user, &req, Some(&f))?;
    let slug = slug_of(&req, &slug)?;
    let mut d = must_load(&state, &req, &slug).await?;
    let (what, id) = (f.get("doe"), f.get("id"));
    let anchor = if id.is_empty() { String::new() } else { format!("#{id}") };
    let outcome = match what {
        "pagina_erbij" => d.add_page().map(|id| format!("#{id}")),
        "vraag_erbij" => {
            let kind = Some(f.get("type")).filter(|k| TYPES.contains(k)).unwrap_or("scale");
            d.add_question(id, kind).map(|q| format!("#{q}"))
        }
        "pagina_op" | "pagina_neer" => d.move_page(id, what == "pagina_op").map(|_| anchor),
        "vraag_op" | "vraag_neer" => d.move_question(id, what == "vraag_op").map(|_| anchor),
        "pagina_weg" => d.remove_page(id).map(|_| String::new()),
        "vraag_weg" => d.remove_question(id).map(|_| String::new()),
        "weggooien" => {
            db(&state, &req, move |conn| draft::delete_draft(conn, &slug)).await?;
            return Ok(see_other("/ontwerp".into()));
        }
        _ => {
            return editor_page(
                &user,
                &state,
                &req,
                lang,
                &slug,
                StatusCode::BAD_REQUEST,
                Some(t(lang, "error_form_unreadable")),
            )
            .await
        }
    };
    match outcome {
        Ok(anchor) => {
            store(&state, &req, d).await?;
            Ok(see_other(format!("/ontwerp/{slug}{anchor}")))
        }
        Err(e) => {
            editor_page(&user, &state, &req, lang, &slug, StatusCode::UNPROCESSABLE_ENTITY, Some(e.to_string())).await
        }
    }
}

async fn page_form(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    authorise(&user, &req, None)?;
    let (slug, id) = path.into_inner();
    let slug = slug_of(&req, &slug)?;
    let d = must_load(&state, &req, &slug).await?;
    let Some(p) = d.pages().iter().find(|p| p.id == id) else {
        return Err(refusal(&req, StatusCode::NOT_FOUND, "error_not_found"));
    };
    let mut ctx = user.context();
    ctx.insert("slug", slug.as_str());
    ctx.insert("page_id", &p.id);
    ctx.insert("p", p);
    ctx.insert("problem", &Option::<String>::None);
    Ok(no_store(page(&state, &req, lang, StatusCode::OK, "design/page.html", ctx)))
}

async fn save_page(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    let f = Fields(form.into_inner());
    authorise(&user, &req, Some(&f))?;
    let (slug, id) = path.into_inner();
    let slug = slug_of(&req, &slug)?;
    let mut d = must_load(&state, &req, &slug).await?;
    let new_id = f.get("id").to_owned();
    match d.set_page(&id, &new_id, f.text("title"), f.opt("show_if")) {
        Ok(()) => {
            store(&state, &req, d).await?;
            Ok(see_other(format!("/ontwerp/{slug}#{new_id}")))
        }
        Err(e) => {
            let Some(p) = d.pages().iter().find(|p| p.id == id) else {
                return Err(refusal(&req, StatusCode::NOT_FOUND, "error_not_found"));
            };
            let mut ctx = user.context();
            ctx.insert("slug", slug.as_str());
            ctx.insert("page_id", &id);
            ctx.insert("p", p);
            ctx.insert("problem", &Some(e.to_string()));
            Ok(no_store(page(&state, &req, lang, StatusCode::UNPROCESSABLE_ENTITY, "design/page.html", ctx)))
        }
    }
}

/// The fields each type uses; the form shows these only.
fn fields_of(kind: &str) -> &'static [&'static str] {
    match kind {
        "scale" => &["min", "max", "labels"],
        "single_choice" => &["options", "other"],
        "multiple_choice" => &["options", "other", "max_choices"],
        "number" => &["min", "max", "unit"],
        "short_text" => &["max_length", "format"],
        "long_text" => &["max_length"],
        _ => &[],
    }
}

#[derive(Serialize, Default)]
struct QuestionFormView {
    id: String,
    kind: String,
    text_nl: String,
    text_en: String,
    help_nl: String,
    help_en: String,
    required: bool,
    show_if: String,
    min: String,
    max: String,
    min_label_nl: String,
    min_label_en: String,
    max_label_nl: String,
    max_label_en: String,
    options: String,
    other: bool,
    max_choices: String,
    unit_nl: String,
    unit_en: String,
    max_length: String,
    format: String,
    uses: Vec<&'static str>,
}

fn view_of(q: &RawQuestion) -> QuestionFormView {
    let lt = |t: &Option<LocalText>| t.as_ref().map(|t| (t.nl.clone(), t.en.clone())).unwrap_or_default();
    let num = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    let (help_nl, help_en) = lt(&q.help);
    let (min_label_nl, min_label_en) = lt(&q.min_label);
    let (max_label_nl, max_label_en) = lt(&q.max_label);
    let (unit_nl, unit_en) = lt(&q.unit);
    QuestionFormView {
        id: q.id.clone(),
        kind: q.kind.clone(),
        text_nl: q.text.nl.clone(),
        text_en: q.text.en.clone(),
        help_nl,
        help_en,
        required: q.required,
        show_if: q.show_if.clone().unwrap_or_default(),
        min: num(q.min.map(i64::from)),
        max: num(q.max.map(i64::from)),
        min_label_nl,
        min_label_en,
        max_label_nl,
        max_label_en,
        options: q
            .options
            .iter()
            .flatten()
            .map(|o| format!("{} | {} | {}", o.value, o.label.nl, o.label.en))
            .collect::<Vec<_>>()
            .join("\n"),
        other: q.other.unwrap_or(false),
        max_choices: num(q.max_choices.map(|n| n as i64)),
        unit_nl,
        unit_en,
        max_length: num(q.max_length.map(|n| n as i64)),
        format: match q.format {
            Some(TextFormat::Email) => "email".into(),
            Some(TextFormat::Phone) => "phone".into(),
            None => String::new(),
        },
        uses: fields_of(&q.kind).to_vec(),
    }
}

/// Reads the question form into the file format; field problems by name.
fn question_from(f: &Fields, kind: &str) -> std::result::Result<RawQuestion, BTreeMap<&'static str, String>> {
    let mut errors = BTreeMap::new();
    let uses = fields_of(kind);
    // A field the form did not show (the type just changed) keeps the new
    // type's starting value, so a changed type is valid at once.
    let mut q = blank_question(f.get("id"), kind);
    q.text = LocalText { nl: f.get("text_nl").into(), en: f.get("text_en").into() };
    q.help = f.text("help");
    q.required = f.checked("required") && kind != "statement";
    q.show_if = f.opt("show_if");
    let shown = |name: &str| uses.contains(&name) && f.has(name);
    let mut number = |name: &'static str| -> Option<i64> {
        let v = f.get(name);
        if v.is_empty() {
            return None;
        }
        match v.parse::<i64>() {
            Ok(n) if n.abs() <= 1_000_000_000 => Some(n),
            _ => {
                errors.insert(name, "d_error_whole_number".to_owned());
                None
            }
        }
    };
    if shown("min") {
        q.min = number("min").and_then(|n| i32::try_from(n).ok());
        q.max = number("max").and_then(|n| i32::try_from(n).ok());
    }
    if shown("max_choices") {
        q.max_choices = number("max_choices").and_then(|n| usize::try_from(n).ok());
    }
    if shown("max_length") {
        q.max_length = number("max_length").and_then(|n| usize::try_from(n).ok());
    }
    if uses.contains(&"labels") && f.has("min_label_nl") {
        q.min_label = f.text("min_label");
        q.max_label = f.text("max_label");
    }
    if uses.contains(&"unit") && f.has("unit_nl") {
        q.unit = f.text("unit");
    }
    if shown("format") {
        q.format = match f.get("format") {
            "email" => Some(TextFormat::Email),
            "phone" => Some(TextFormat::Phone),
            _ => None,
        };
    }
    if shown("options") {
        q.other = f.checked("other").then_some(true);
        let mut options = Vec::new();
        for line in f.get("options").lines().map(str::trim).filter(|l| !l.is_empty()) {
            let parts: Vec<&str> = line.split('|').map(str::trim).collect();
            match parts.as_slice() {
                [value, nl, en] => options.push(RawChoice {
                    value: (*value).into(),
                    label: LocalText { nl: (*nl).into(), en: (*en).into() },
                }),
                _ => {
                    errors.insert("options", "d_error_option_line".to_owned());
                }
            }
        }
        q.options = Some(options);
    }
    if errors.is_empty() {
        Ok(q)
    } else {
        Err(errors)
    }
}

/// The question form as shown: the values, the problems, the status.
struct QuestionEdit<'a> {
    slug: &'a Slug,
    original_id: &'a str,
    view: QuestionFormView,
    errors: BTreeMap<&'static str, String>,
    problem: Option<String>,
    status: StatusCode,
}

fn question_page(
    user: &Professional,
    state: &AppState,
    req: &HttpRequest,
    lang: LangChoice,
    e: QuestionEdit,
) -> HttpResponse {
    let mut ctx = user.context();
    ctx.insert("slug", e.slug.as_str());
    ctx.insert("original_id", e.original_id);
    ctx.insert("q", &e.view);
    ctx.insert("types", &type_options(lang));
    let errors: BTreeMap<&str, String> = e.errors.into_iter().map(|(k, v)| (k, t(lang, &v))).collect();
    ctx.insert("errors", &errors);
    ctx.insert("problem", &e.problem);
    no_store(page(state, req, lang, e.status, "design/question.html", ctx))
}

async fn question_form(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    authorise(&user, &req, None)?;
    let (slug, id) = path.into_inner();
    let slug = slug_of(&req, &slug)?;
    let d = must_load(&state, &req, &slug).await?;
    let q = d.question(&id).ok_or_else(|| refusal(&req, StatusCode::NOT_FOUND, "error_not_found"))?;
    Ok(question_page(
        &user,
        &state,
        &req,
        lang,
        QuestionEdit {
            slug: &slug,
            original_id: &id,
            view: view_of(q),
            errors: BTreeMap::new(),
            problem: None,
            status: StatusCode::OK,
        },
    ))
}

async fn save_question(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    let f = Fields(form.into_inner());
    authorise(&user, &req, Some(&f))?;
    let (slug, id) = path.into_inner();
    let slug = slug_of(&req, &slug)?;
    let mut d = must_load(&state, &req, &slug).await?;
    let old = d.question(&id).ok_or_else(|| refusal(&req, StatusCode::NOT_FOUND, "error_not_found"))?.clone();
    let kind = Some(f.get("type")).filter(|k| TYPES.contains(k)).unwrap_or(&old.kind).to_owned();
    let q = match question_from(&f, &kind) {
        // The form has no weighting fields: a declaration from the file stays
        // while the type does (docs/weighting.md).
        Ok(mut q) => {
            q.weighting = old.weighting.clone().filter(|_| kind == old.kind);
            q
        }
        Err(errors) => {
            let mut view = view_of(&old);
            view.kind = kind;
            return Ok(question_page(
                &user,
                &state,
                &req,
                lang,
                QuestionEdit {
                    slug: &slug,
                    original_id: &id,
                    view,
                    errors,
                    problem: None,
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                },
            ));
        }
    };
    if let Err(e) = d.set_question(&id, q.clone()) {
        return Ok(question_page(
            &user,
            &state,
            &req,
            lang,
            QuestionEdit {
                slug: &slug,
                original_id: &id,
                view: view_of(&q),
                errors: BTreeMap::new(),
                problem: Some(e.to_string()),
                status: StatusCode::UNPROCESSABLE_ENTITY,
            },
        ));
    }
    store(&state, &req, d.clone()).await?;
    // Saved; a problem with this very question is shown beside it at once.
    match d.check() {
        Err(e) if e.question.as_deref() == Some(q.id.as_str()) => Ok(question_page(
            &user,
            &state,
            &req,
            lang,
            QuestionEdit {
                slug: &slug,
                original_id: &q.id,
                view: view_of(&q),
                errors: BTreeMap::new(),
                problem: Some(e.to_string()),
                status: StatusCode::UNPROCESSABLE_ENTITY,
            },
        )),
        _ if kind != old.kind => Ok(see_other(format!("/ontwerp/{slug}/vraag/{}", q.id))),
        _ => Ok(see_other(format!("/ontwerp/{slug}#{}", q.id))),
    }
}

/// The draft (or the current version) exactly as a resident sees it;
/// answers are kept in memory for this user only and never stored.
async fn preview(
    user: Professional,
    state: web::Data<AppState>,
    previews: web::Data<PreviewStore>,
    req: HttpRequest,
    lang: LangChoice,
    path: web::Path<(String, usize)>,
) -> Result<HttpResponse> {
    authorise(&user, &req, None)?;
    let (slug, n) = path.into_inner();
    let slug = slug_of(&req, &slug)?;
    let def = previewed(&state, &req, &slug).await?;
    let key = (user.user.id.0, slug.to_string());
    let mut store = previews.0.lock().unwrap_or_else(|e| e.into_inner());
    if n <= 1 {
        store.remove(&key);
    }
    let given = store.get(&key).cloned().unwrap_or_default();
    drop(store);
    let page = n.clamp(1, def.pages.len()) - 1;
    Ok(preview_view(&user, &def, page, &given, &AnswerErrors::new()).render(&state, &req, lang))
}

fn preview_view<'a>(
    user: &Professional,
    def: &'a crate::questionnaire::Definition,
    page: usize,
    given: &'a FormValues,
    errors: &'a AnswerErrors,
) -> PageView<'a> {
    PageView {
        def,
        page,
        given,
        errors,
        action: format!("/ontwerp/{}/voorbeeld/{}", def.slug, page + 1),
        buurt_name: None,
        resume_code: None,
        preview: true,
        save_failed: false,
        csrf: Some(user.csrf_token()),
    }
}

/// What a preview shows: the draft when it is complete, else the current
/// version.
async fn previewed(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    slug: &Slug,
) -> Result<crate::questionnaire::Definition> {
    match load(state, req, slug).await? {
        Some(d) => d.check().map_err(|_| refusal(req, StatusCode::UNPROCESSABLE_ENTITY, "d_error_not_ready")),
        None => state
            .catalog()
            .current(slug.as_str())
            .map(|p| (*p.definition).clone())
            .ok_or_else(|| refusal(req, StatusCode::NOT_FOUND, "error_no_questionnaire")),
    }
}

async fn preview_answer(
    user: Professional,
    state: web::Data<AppState>,
    previews: web::Data<PreviewStore>,
    req: HttpRequest,
    lang: LangChoice,
    path: web::Path<(String, usize)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    let f = Fields(form.into_inner());
    authorise(&user, &req, Some(&f))?;
    let (slug, n) = path.into_inner();
    let slug = slug_of(&req, &slug)?;
    let def = previewed(&state, &req, &slug).await?;
    let page = n.clamp(1, def.pages.len()) - 1;
    let key = (user.user.id.0, slug.to_string());
    let mut given = previews.0.lock().unwrap_or_else(|e| e.into_inner()).get(&key).cloned().unwrap_or_default();
    merge_page(&def, page, &mut given, &f.0);
    previews.0.lock().unwrap_or_else(|e| e.into_inner()).insert(key, given.clone());
    let raw = raw_answers(&def, &given);
    let back = f.get("actie") == "terug";
    if !back {
        if let Err(errors) = def.check_page(page, &raw) {
            return Ok(preview_view(&user, &def, page, &given, &errors).render(&state, &req, lang));
        }
    }
    match neighbour(&def, &given, page, !back) {
        Some(next) => Ok(see_other(format!("/ontwerp/{slug}/voorbeeld/{}", next + 1))),
        None if back => Ok(see_other(format!("/ontwerp/{slug}/voorbeeld/1"))),
        None => {
            let mut ctx = user.context();
            ctx.insert("slug", slug.as_str());
            Ok(no_store(page_of(&state, &req, lang, "design/preview_done.html", ctx)))
        }
    }
}

fn page_of(state: &AppState, req: &HttpRequest, lang: LangChoice, template: &str, ctx: tera::Context) -> HttpResponse {
    page(state, req, lang, StatusCode::OK, template, ctx)
}

async fn publish_draft(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    slug: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    let f = Fields(form.into_inner());
    authorise(&user, &req, Some(&f))?;
    let slug = slug_of(&req, &slug)?;
    let d = must_load(&state, &req, &slug).await?;
    let def = match d.check() {
        Ok(def) => def,
        Err(e) => {
            return editor_page(&user, &state, &req, lang, &slug, StatusCode::UNPROCESSABLE_ENTITY, Some(e.to_string()))
                .await
        }
    };
    // The published text is exactly what the database gives back: check it
    // reads again before the draft goes.
    let canonical = def.canonical_json().to_string();
    if parse_json("published", &canonical).is_err() {
        return Err(refusal(&req, StatusCode::UNPROCESSABLE_ENTITY, "d_error_not_ready"));
    }
    let s = slug.clone();
    let approval = if user.role() == Role::Admin { Approval::Administrator } else { Approval::Designer };
    let refused = db(&state, &req, move |conn| {
        use diesel::Connection;
        conn.transaction(|conn| match publish(conn, &def, approval) {
            Ok(_) => draft::delete_draft(conn, &s).map(|()| None),
            Err(PublishError::Db(e)) => Err(e),
            Err(PublishError::NeedsAdministrator { changes, .. }) => Ok(Some(changes)),
        })
    })
    .await?;
    if let Some(changes) = refused {
        let message = privacy_refusal(lang, &changes);
        return editor_page(&user, &state, &req, lang, &slug, StatusCode::UNPROCESSABLE_ENTITY, Some(message)).await;
    }
    reload(&state, &req).await?;
    Ok(see_other(format!("/ontwerp/{slug}?gepubliceerd=1")))
}

/// Why a designer who is not an administrator may not publish a version,
/// in the interface language.
fn privacy_refusal(lang: LangChoice, changes: &[PrivacyChange]) -> String {
    let kind = |k: Kind| t(lang, &format!("d_kind_name_{k}"));
    let items: Vec<String> = changes
        .iter()
        .map(|c| match c {
            PrivacyChange::Kind { from, to } => {
                t(lang, "d_privacy_kind").replace("{from}", &kind(*from)).replace("{to}", &kind(*to))
            }
            PrivacyChange::PurposeRemoved => t(lang, "d_privacy_purpose"),
            PrivacyChange::LongerRetention { from, to } => {
                t(lang, "d_privacy_retention").replace("{from}", &from.to_string()).replace("{to}", &to.to_string())
            }
        })
        .collect();
    format!("{} {}.", t(lang, "d_error_needs_admin"), items.join("; "))
}

async fn clone(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    slug: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    let f = Fields(form.into_inner());
    authorise(&user, &req, Some(&f))?;
    let slug = slug_of(&req, &slug)?;
    let Some(new_slug) = Slug::parse(f.get("slug")) else {
        return editor_page(
            &user,
            &state,
            &req,
            lang,
            &slug,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(t(lang, "d_error_slug")),
        )
        .await;
    };
    if state.catalog().current(new_slug.as_str()).is_some() || load(&state, &req, &new_slug).await?.is_some() {
        return editor_page(
            &user,
            &state,
            &req,
            lang,
            &slug,
            StatusCode::CONFLICT,
            Some(t(lang, "d_error_slug_taken")),
        )
        .await;
    }
    let source = match load(&state, &req, &slug).await? {
        Some(d) => d,
        None => {
            let catalog = state.catalog();
            let p = catalog
                .current(slug.as_str())
                .ok_or_else(|| refusal(&req, StatusCode::NOT_FOUND, "error_no_questionnaire"))?;
            Draft::from_definition(&p.definition, None)
        }
    };
    store(&state, &req, source.cloned_as(new_slug.clone())).await?;
    Ok(see_other(format!("/ontwerp/{new_slug}")))
}

async fn archive(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    let f = Fields(form.into_inner());
    authorise(&user, &req, Some(&f))?;
    let slug = slug_of(&req, &slug)?;
    if state.catalog().current(slug.as_str()).is_none() {
        return Err(refusal(&req, StatusCode::NOT_FOUND, "error_no_questionnaire"));
    }
    let archived = f.get("archief") == "ja";
    let s = slug.to_string();
    db(&state, &req, move |conn| set_archived(conn, &s, archived)).await?;
    reload(&state, &req).await?;
    Ok(see_other(format!("/ontwerp/{slug}")))
}

/// The questionnaire file: the draft when there is one, else the current
/// version.
async fn export(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
) -> Result<HttpResponse> {
    authorise(&user, &req, None)?;
    let slug = slug_of(&req, &slug)?;
    let d = match load(&state, &req, &slug).await? {
        Some(d) => d,
        None => {
            let catalog = state.catalog();
            let p = catalog
                .current(slug.as_str())
                .ok_or_else(|| refusal(&req, StatusCode::NOT_FOUND, "error_no_questionnaire"))?;
            Draft::from_definition(&p.definition, None)
        }
    };
    Ok(no_store(
        HttpResponse::Ok()
            .content_type("application/toml; charset=utf-8")
            .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{slug}.toml\"")))
            .body(d.to_toml()),
    ))
}

#[derive(Serialize)]
struct WaveRow {
    id: i32,
    name: String,
    opens_on: String,
    closes_on: String,
    buurten: Vec<String>,
    open_now: bool,
    stopped: bool,
}

async fn waves(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    slug: web::Path<String>,
) -> Result<HttpResponse> {
    authorise(&user, &req, None)?;
    let slug = slug_of(&req, &slug)?;
    waves_page(&user, &state, &req, lang, &slug, StatusCode::OK, None, &Fields(Vec::new())).await
}

#[allow(clippy::too_many_arguments)]
async fn waves_page(
    user: &Professional,
    state: &web::Data<AppState>,
    req: &HttpRequest,
    lang: LangChoice,
    slug: &Slug,
    status: StatusCode,
    problem: Option<String>,
    given: &Fields,
) -> Result<HttpResponse> {
    if state.catalog().current(slug.as_str()).is_none() {
        return Err(refusal(req, StatusCode::NOT_FOUND, "error_no_questionnaire"));
    }
    let s = slug.to_string();
    let list = db(state, req, move |conn| wave::list(conn, &s)).await?;
    let tree = state.areas();
    let rows: Vec<WaveRow> = list
        .iter()
        .map(|w| WaveRow {
            id: w.id,
            name: w.name.clone(),
            opens_on: w.opens_on.to_string(),
            closes_on: w.closes_on.map(|c| c.to_string()).unwrap_or_default(),
            buurten: w
                .buurten
                .iter()
                .map(|b| tree.get(b).map(|a| a.name.clone()).unwrap_or_else(|| b.clone()))
                .collect(),
            open_now: !w.stopped && w.covers(today(), w.buurten.iter().next().map(String::as_str).unwrap_or("")),
            stopped: w.stopped,
        })
        .collect();
    let buurten: Vec<(String, String)> =
        tree.at_level(Level::Buurt).map(|b| (b.code.to_string(), b.name.clone())).collect();
    let mut ctx = user.context();
    ctx.insert("slug", slug.as_str());
    ctx.insert("waves", &rows);
    ctx.insert("buurten", &buurten);
    ctx.insert("problem", &problem);
    ctx.insert("today", &today().to_string());
    ctx.insert("given_name", given.get("naam"));
    ctx.insert("given_opens", given.get("van"));
    ctx.insert("given_closes", given.get("tot"));
    Ok(no_store(page(state, req, lang, status, "design/waves.html", ctx)))
}

async fn create_wave(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    slug: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    let f = Fields(form.into_inner());
    authorise(&user, &req, Some(&f))?;
    let slug = slug_of(&req, &slug)?;
    let date = |name: &str| chrono::NaiveDate::parse_from_str(f.get(name), "%Y-%m-%d").ok();
    let opens_on = date("van");
    let closes_on = date("tot");
    let tree = state.areas();
    let mut buurten = Vec::new();
    let mut unknown = false;
    for (k, v) in &f.0 {
        if k == "buurt" {
            match AreaCode::parse(Level::Buurt, v).ok().filter(|c| tree.buurt(c.as_str()).is_some()) {
                Some(c) => buurten.push(c),
                None => unknown = true,
            }
        }
    }
    let problem = match (opens_on, f.get("tot").is_empty() || closes_on.is_some(), unknown) {
        (None, _, _) => Some(t(lang, "d_error_date")),
        (_, false, _) => Some(t(lang, "d_error_date")),
        (_, _, true) => Some(t(lang, "error_choose_buurt")),
        _ => None,
    };
    if let Some(p) = problem {
        return waves_page(&user, &state, &req, lang, &slug, StatusCode::UNPROCESSABLE_ENTITY, Some(p), &f).await;
    }
    if state.catalog().current(slug.as_str()).is_none() {
        return Err(refusal(&req, StatusCode::NOT_FOUND, "error_no_questionnaire"));
    }
    let new = NewWave {
        slug: slug.clone(),
        name: f.get("naam").to_owned(),
        opens_on: opens_on.unwrap_or_default(),
        closes_on,
        buurten,
        invitation_only: f.checked("uitnodiging"),
    };
    let created = {
        let state2 = state.clone();
        web::block(move || -> std::result::Result<_, crate::survey::WaveError> {
            let mut conn = state2.pool.get().map_err(DbError::from)?;
            wave::create(&mut conn, &new, today())
        })
        .await
    };
    match created {
        Ok(Ok(_)) => Ok(see_other(format!("/ontwerp/{slug}/metingen"))),
        Ok(Err(crate::survey::WaveError::Db(e))) => {
            tracing::error!("creating a wave: {e}");
            Err(refusal(&req, StatusCode::SERVICE_UNAVAILABLE, "error_unavailable"))
        }
        Ok(Err(e)) => {
            waves_page(&user, &state, &req, lang, &slug, StatusCode::UNPROCESSABLE_ENTITY, Some(e.to_string()), &f)
                .await
        }
        Err(_) => Err(refusal(&req, StatusCode::SERVICE_UNAVAILABLE, "error_unavailable")),
    }
}

async fn close_wave(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, i32)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    let f = Fields(form.into_inner());
    authorise(&user, &req, Some(&f))?;
    let (slug, id) = path.into_inner();
    let slug = slug_of(&req, &slug)?;
    let s = slug.to_string();
    let closed = {
        let state2 = state.clone();
        web::block(move || -> std::result::Result<_, crate::survey::WaveError> {
            let mut conn = state2.pool.get().map_err(DbError::from)?;
            wave::close(&mut conn, &s, id, today())
        })
        .await
    };
    match closed {
        Ok(Ok(_)) => Ok(see_other(format!("/ontwerp/{slug}/metingen"))),
        Ok(Err(crate::survey::WaveError::NotFound)) => Err(refusal(&req, StatusCode::NOT_FOUND, "error_not_found")),
        _ => Err(refusal(&req, StatusCode::SERVICE_UNAVAILABLE, "error_unavailable")),
    }
}
