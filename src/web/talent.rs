//! The verbinder's pages: profiles and initiatives of their own area,
//! match suggestions both ways with reasons, outcomes, the initiatives
//! catalogue (form and CSV import); and for administrators the areas of each
//! account and the audit log. Anything outside one's area is refused (403)
//! and logged.

use actix_multipart::Multipart;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, Result};
use serde::Serialize;

use super::lang::LangChoice;
use super::render::page;
use super::resident::today;
use super::session::{no_store, refusal, Professional};
use super::state::{blocking_or_refuse, AppState};
use super::upload::{Upload, UploadError};
use crate::area::{AreaCode, AreaTree};
use crate::auth::{find_by_id, Role, UserId};
use crate::i18n::Lang;
use crate::talent::audit::{self, Action};
use crate::talent::initiative::{self, FieldErrors, InitiativeKind, Status};
use crate::talent::outcome::{self, Outcome};
use diesel::Connection;

use crate::talent::{
    access, mail, matching, profile, proposal, Initiative, InitiativeFields, NewInitiative, Profile, Reason, Scope,
    Suggestion, Vocabulary,
};

/// Who may use the talent pages (each within their own area).
const VERBINDERS: [Role; 2] = [Role::Admin, Role::Professional];
const MAX_IMPORT: usize = 2 * 1024 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/talent", web::get().to(overview))
        .route("/talent/profielen/{id}", web::get().to(show_profile))
        .route("/talent/profielen/{id}/uitkomst", web::post().to(record_outcome))
        .route("/talent/profielen/{id}/voorstel", web::post().to(propose))
        .route("/talent/initiatieven", web::post().to(create_initiative))
        .route("/talent/initiatieven/nieuw", web::get().to(new_initiative))
        .route("/talent/initiatieven/import", web::get().to(import_form))
        .route("/talent/initiatieven/import", web::post().to(import))
        .route("/talent/initiatieven/{id}", web::get().to(show_initiative))
        .route("/talent/initiatieven/{id}", web::post().to(update_initiative))
        .route("/talent/initiatieven/{id}/wijzigen", web::get().to(edit_initiative))
        .route("/beheer/audit", web::get().to(audit_log))
        .route("/beheer/accounts/{id}/gebieden", web::get().to(areas_form))
        .route("/beheer/accounts/{id}/gebieden", web::post().to(assign_areas));
}

/// The template context of a talent page: the form token, the user, and
/// the footer for pages with personal data.
fn context(user: &Professional) -> tera::Context {
    let mut ctx = user.context();
    ctx.insert("identified", &true);
    ctx
}

fn t(lang: LangChoice, key: &str) -> String {
    lang.lang.texts().get(key).cloned().unwrap_or_else(|| key.to_owned())
}

/// The buurten this user may see.
async fn scope_of(state: &web::Data<AppState>, req: &HttpRequest, user: &Professional) -> Result<Scope> {
    let id = user.user.id;
    let assigned = blocking_or_refuse(state, req, move |conn| access::assigned(conn, id)).await?;
    Ok(Scope::new(&assigned, &state.areas()))
}

/// 403, written to the audit log first.
async fn refuse(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    user: &Professional,
    subject: String,
) -> actix_web::Error {
    refuse_with(state, req, user, subject, "talent_outside_area").await
}

/// 403 with this message (a key of the interface texts), written to the
/// audit log first.
pub(super) async fn refuse_with(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    user: &Professional,
    subject: String,
    message_key: &str,
) -> actix_web::Error {
    let id = user.user.id;
    tracing::warn!("account {} was refused {}", id.0, req.path());
    if let Err(e) =
        blocking_or_refuse(state, req, move |conn| audit::record(conn, Some(id), Action::Refused, &subject)).await
    {
        return e;
    }
    refusal(req, StatusCode::FORBIDDEN, message_key)
}

fn vocabulary(state: &AppState, l: Lang) -> Vocabulary {
    state.catalog().current(profile::SLUG).map(|p| Vocabulary::new(&p.definition, l)).unwrap_or_default()
}

fn area_name(tree: &AreaTree, code: &str) -> String {
    tree.get(code).map(|a| a.name.clone()).unwrap_or_else(|| code.to_owned())
}

/// "both: koken, elke week, Witte Dame": the reasons in words.
fn explain(reasons: &[Reason], vocab: &Vocabulary, tree: &AreaTree, lang: LangChoice) -> String {
    let words: Vec<String> = reasons
        .iter()
        .map(|r| match r {
            Reason::Skill(v) | Reason::Activity(v) | Reason::Audience(v) => vocab.label(v).to_lowercase(),
            Reason::Learn(v) => format!("{} {}", t(lang, "talent_reason_learn"), vocab.label(v).to_lowercase()),
            Reason::Time(time) => vocab.label(time.as_str()).to_lowercase(),
            Reason::SameBuurt(code) | Reason::SameWijk(code) => area_name(tree, code),
        })
        .collect();
    format!("{}: {}", t(lang, "talent_reason_both"), words.join(", "))
}

fn labels(values: &[String], vocab: &Vocabulary) -> Vec<String> {
    values.iter().map(|v| vocab.label(v).to_owned()).collect()
}

#[derive(Serialize)]
struct ProfileRow {
    id: i64,
    name: String,
    buurt: String,
    skills: Vec<String>,
    renewal_due: bool,
}

#[derive(Serialize)]
struct InitiativeRow {
    id: i32,
    name: String,
    buurt: String,
    kind_key: String,
    status_key: String,
}

fn initiative_row(i: &Initiative, tree: &AreaTree) -> InitiativeRow {
    InitiativeRow {
        id: i.id,
        name: i.name.clone(),
        buurt: area_name(tree, &i.buurt),
        kind_key: format!("talent_kind_{}", i.kind),
        status_key: format!("talent_status_{}", i.status),
    }
}

async fn overview(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
) -> Result<HttpResponse> {
    user.require_role(&req, &VERBINDERS)?;
    let scope = scope_of(&state, &req, &user).await?;
    let buurten = scope.buurten();
    let (profiles, initiatives, tally) = blocking_or_refuse(&state, &req, move |conn| {
        Ok((
            profile::in_buurten(conn, &buurten)?,
            initiative::in_buurten(conn, &buurten)?,
            outcome::tally(conn, &buurten)?,
        ))
    })
    .await?;
    let tree = state.areas();
    let vocab = vocabulary(&state, lang.lang);
    let id = user.user.id;
    let assigned = blocking_or_refuse(&state, &req, move |conn| access::assigned(conn, id)).await?;
    let mut ctx = context(&user);
    ctx.insert("areas", &assigned.iter().map(|a| area_name(&tree, a)).collect::<Vec<_>>());
    ctx.insert(
        "profiles",
        &profiles
            .iter()
            .map(|p| ProfileRow {
                id: p.id,
                name: p.name.clone(),
                buurt: area_name(&tree, &p.buurt),
                skills: labels(&p.skills, &vocab),
                renewal_due: p.renewal_due_on.is_some(),
            })
            .collect::<Vec<_>>(),
    );
    ctx.insert("initiatives", &initiatives.iter().map(|i| initiative_row(i, &tree)).collect::<Vec<_>>());
    ctx.insert("tally", &tally.iter().map(|(b, n)| (area_name(&tree, b), *n)).collect::<Vec<_>>());
    Ok(no_store(page(&state, &req, lang, StatusCode::OK, "talent/overview.html", ctx)))
}

/// A profile the user may see, or the refusal (403 + audit, or 404).
async fn visible_profile(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    user: &Professional,
    raw: &str,
) -> Result<(Profile, Scope)> {
    let Ok(id) = raw.parse::<i64>() else { return Err(refusal(req, StatusCode::NOT_FOUND, "error_not_found")) };
    let scope = scope_of(state, req, user).await?;
    match blocking_or_refuse(state, req, move |conn| profile::load(conn, id)).await? {
        None => Err(refusal(req, StatusCode::NOT_FOUND, "error_not_found")),
        Some(p) if !scope.contains(&p.buurt) => Err(refuse(state, req, user, audit::profile_subject(id)).await),
        Some(p) => Ok((p, scope)),
    }
}

async fn visible_initiative(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    user: &Professional,
    raw: &str,
) -> Result<(Initiative, Scope)> {
    let Ok(id) = raw.parse::<i32>() else { return Err(refusal(req, StatusCode::NOT_FOUND, "error_not_found")) };
    let scope = scope_of(state, req, user).await?;
    match blocking_or_refuse(state, req, move |conn| initiative::load(conn, id)).await? {
        None => Err(refusal(req, StatusCode::NOT_FOUND, "error_not_found")),
        Some(i) if !scope.contains(&i.buurt) => Err(refuse(state, req, user, audit::initiative_subject(id)).await),
        Some(i) => Ok((i, scope)),
    }
}

#[derive(Serialize)]
struct SuggestionRow {
    id: String,
    name: String,
    buurt: String,
    score: u32,
    why: String,
}

/// Suggestions as the pages list them; `find` gives the name and buurt of
/// an id.
fn suggestion_rows<Id: Copy + ToString>(
    suggestions: Vec<Suggestion<Id>>,
    vocab: &Vocabulary,
    tree: &AreaTree,
    lang: LangChoice,
    find: impl Fn(Id) -> Option<(String, String)>,
) -> Vec<SuggestionRow> {
    suggestions
        .into_iter()
        .filter_map(|s| {
            let (name, buurt) = find(s.id)?;
            Some(SuggestionRow {
                id: s.id.to_string(),
                name,
                buurt: area_name(tree, &buurt),
                score: s.score,
                why: explain(&s.reasons, vocab, tree, lang),
            })
        })
        .collect()
}

async fn show_profile(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    user.require_role(&req, &VERBINDERS)?;
    let (p, scope) = visible_profile(&state, &req, &user, &id).await?;
    profile_page(&user, &state, &req, lang, p, scope, None, StatusCode::OK).await
}

#[allow(clippy::too_many_arguments)]
async fn profile_page(
    user: &Professional,
    state: &web::Data<AppState>,
    req: &HttpRequest,
    lang: LangChoice,
    p: Profile,
    scope: Scope,
    problem: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse> {
    let (uid, pid, buurten) = (user.user.id, p.id, scope.buurten());
    let (initiatives, outcomes) = blocking_or_refuse(state, req, move |conn| {
        // Every view of a profile is logged.
        audit::record(conn, Some(uid), Action::ProfileViewed, &audit::profile_subject(pid))?;
        Ok((initiative::in_buurten(conn, &buurten)?, outcome::of(conn, Some(pid), None)?))
    })
    .await?;
    let tree = state.areas();
    let vocab = vocabulary(state, lang.lang);
    let open: Vec<_> =
        initiatives.iter().filter(|i| i.status == Status::Open.as_str()).map(|i| i.need(&tree)).collect();
    let suggestions = suggestion_rows(matching::initiatives_for(&p.talent(&tree), &open), &vocab, &tree, lang, |id| {
        initiatives.iter().find(|i| i.id == id).map(|i| (i.name.clone(), i.buurt.clone()))
    });
    let name_of = |id: i32| initiatives.iter().find(|i| i.id == id).map(|i| i.name.clone()).unwrap_or_default();
    let outcomes: Vec<_> = outcomes
        .iter()
        .map(|o| {
            serde_json::json!({
                "initiative": name_of(o.initiative_id), "outcome_key": format!("talent_outcome_{}", o.outcome),
                "note": o.note, "on": o.recorded_on,
            })
        })
        .collect();
    let mut ctx = context(user);
    ctx.insert("p", &p);
    ctx.insert("buurt", &area_name(&tree, &p.buurt));
    ctx.insert("skills", &labels(&p.skills, &vocab));
    ctx.insert("learn", &labels(&p.learn, &vocab));
    ctx.insert("activities", &labels(&p.activities, &vocab));
    ctx.insert("audience", &labels(&p.audience, &vocab));
    ctx.insert("time", vocab.label(&p.time));
    ctx.insert("suggestions", &suggestions);
    ctx.insert("outcomes", &outcomes);
    ctx.insert(
        "outcome_choices",
        &Outcome::ALL.iter().map(|o| (o.as_str(), format!("talent_outcome_{}", o.as_str()))).collect::<Vec<_>>(),
    );
    ctx.insert("problem", &problem);
    ctx.insert("can_propose", &(!p.email.is_empty() && super::talent_link::mail_enabled(req)));
    Ok(no_store(page(state, req, lang, status, "talent/profile.html", ctx)))
}

async fn record_outcome(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    user.require_role(&req, &VERBINDERS)?;
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("");
    user.check_csrf(&req, field("csrf"))?;
    let (p, scope) = visible_profile(&state, &req, &user, &id).await?;
    let (initiative, _) = visible_initiative(&state, &req, &user, field("initiatief")).await?;
    let (Some(outcome), Some(note)) = (Outcome::parse(field("uitkomst")), outcome::note(field("notitie"))) else {
        let problem = Some(t(lang, "talent_error_outcome"));
        return profile_page(&user, &state, &req, lang, p, scope, problem, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let (uid, pid, iid) = (user.user.id, p.id, initiative.id);
    blocking_or_refuse(&state, &req, move |conn| outcome::record(conn, uid, pid, iid, outcome, &note, today())).await?;
    Ok(see_other(format!("/talent/profielen/{pid}")))
}

/// Proposes an initiative to the resident by e-mail (a yes/no link).
async fn propose(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    user.require_role(&req, &VERBINDERS)?;
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("");
    user.check_csrf(&req, field("csrf"))?;
    let (p, scope) = visible_profile(&state, &req, &user, &id).await?;
    let (initiative, _) = visible_initiative(&state, &req, &user, field("initiatief")).await?;
    if p.email.is_empty() || !super::talent_link::mail_enabled(&req) {
        let problem = Some(t(lang, "talent_error_no_mail"));
        return profile_page(&user, &state, &req, lang, p, scope, problem, StatusCode::CONFLICT).await;
    }
    let (uid, pid) = (user.user.id, p.id);
    let base = super::talent_link::proposal_base(&state);
    blocking_or_refuse(&state, &req, move |conn| {
        conn.transaction(|conn| {
            let token = proposal::propose(conn, uid, pid, initiative.id, today())?;
            let link = format!("{base}{}", token.as_str());
            mail::queue_proposal(conn, &p, &initiative, &link, today())
        })
    })
    .await?;
    Ok(see_other(format!("/talent/profielen/{pid}")))
}

fn see_other(to: String) -> HttpResponse {
    no_store(HttpResponse::SeeOther().insert_header((header::LOCATION, to)).finish())
}

async fn show_initiative(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    user.require_role(&req, &VERBINDERS)?;
    let (i, scope) = visible_initiative(&state, &req, &user, &id).await?;
    let (buurten, iid) = (scope.buurten(), i.id);
    let (profiles, outcomes) = blocking_or_refuse(&state, &req, move |conn| {
        Ok((profile::in_buurten(conn, &buurten)?, outcome::of(conn, None, Some(iid))?))
    })
    .await?;
    let tree = state.areas();
    let vocab = vocabulary(&state, lang.lang);
    let talents: Vec<_> = profiles.iter().map(|p| p.talent(&tree)).collect();
    let suggestions = suggestion_rows(matching::residents_for(&i.need(&tree), &talents), &vocab, &tree, lang, |id| {
        profiles.iter().find(|p| p.id == id).map(|p| (p.name.clone(), p.buurt.clone()))
    });
    let mut ctx = context(&user);
    ctx.insert("i", &i);
    ctx.insert("row", &initiative_row(&i, &tree));
    ctx.insert("skills", &labels(&i.skills, &vocab));
    ctx.insert("teaches", &labels(&i.teaches, &vocab));
    ctx.insert("activities", &labels(&i.activities, &vocab));
    ctx.insert("audience", &labels(&i.audience, &vocab));
    ctx.insert("time", vocab.label(&i.time));
    ctx.insert("suggestions", &suggestions);
    ctx.insert("matched", &outcomes.iter().filter(|o| o.outcome == Outcome::Matched.as_str()).count());
    Ok(no_store(page(&state, &req, lang, StatusCode::OK, "talent/initiative.html", ctx)))
}

/// The initiative form, filled in as given, with a message per field.
#[allow(clippy::too_many_arguments)]
fn initiative_form(
    user: &Professional,
    state: &AppState,
    req: &HttpRequest,
    lang: LangChoice,
    scope: &Scope,
    action: &str,
    fields: &InitiativeFields,
    errors: &FieldErrors,
    status: StatusCode,
) -> HttpResponse {
    let tree = state.areas();
    let vocab = vocabulary(state, lang.lang);
    let ticks = |options: &[(String, String)], chosen: &[String]| -> Vec<(String, String, bool)> {
        options.iter().map(|(v, l)| (v.clone(), l.clone(), chosen.contains(v))).collect()
    };
    let mut ctx = context(user);
    ctx.insert("action", action);
    ctx.insert(
        "f",
        &serde_json::json!({
            "buurt": fields.buurt, "naam": fields.name, "soort": fields.kind, "aanbod": fields.offers,
            "tijd": fields.time, "contact": fields.contact, "status": fields.status,
        }),
    );
    ctx.insert("buurten", &scope.buurten().iter().map(|b| (b.clone(), area_name(&tree, b))).collect::<Vec<_>>());
    ctx.insert(
        "kinds",
        &InitiativeKind::ALL.iter().map(|k| (k.as_str(), format!("talent_kind_{}", k.as_str()))).collect::<Vec<_>>(),
    );
    ctx.insert(
        "statuses",
        &Status::ALL.iter().map(|s| (s.as_str(), format!("talent_status_{}", s.as_str()))).collect::<Vec<_>>(),
    );
    ctx.insert("skills", &ticks(&vocab.skills, &fields.skills));
    ctx.insert("teaches", &ticks(&vocab.skills, &fields.teaches));
    ctx.insert("activities", &ticks(&vocab.activities, &fields.activities));
    ctx.insert("audience", &ticks(&vocab.audience, &fields.audience));
    ctx.insert("times", &vocab.times);
    let messages: std::collections::BTreeMap<&str, String> =
        errors.iter().map(|(k, e)| (*k, e.message(lang.lang))).collect();
    ctx.insert("errors", &messages);
    ctx.insert("max_name", &initiative::MAX_NAME);
    ctx.insert("max_offers", &initiative::MAX_OFFERS);
    ctx.insert("max_contact", &initiative::MAX_CONTACT);
    no_store(page(state, req, lang, status, "talent/initiative_form.html", ctx))
}

fn fields_of(form: &[(String, String)]) -> InitiativeFields {
    let one = |name: &str| {
        form.iter().find(|(k, _)| k == name).map(|(_, v)| v.chars().take(5000).collect()).unwrap_or_default()
    };
    let many = |name: &str| form.iter().filter(|(k, _)| k == name).take(64).map(|(_, v)| v.clone()).collect();
    InitiativeFields {
        buurt: one("buurt"),
        name: one("naam"),
        kind: one("soort"),
        offers: one("aanbod"),
        skills: many("talenten"),
        teaches: many("leert"),
        activities: many("doen"),
        audience: many("voor_wie"),
        time: one("tijd"),
        contact: one("contact"),
        status: one("status"),
    }
}

async fn new_initiative(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
) -> Result<HttpResponse> {
    user.require_role(&req, &VERBINDERS)?;
    let scope = scope_of(&state, &req, &user).await?;
    let fields = InitiativeFields { status: Status::Open.as_str().into(), ..InitiativeFields::default() };
    Ok(initiative_form(
        &user,
        &state,
        &req,
        lang,
        &scope,
        "/talent/initiatieven",
        &fields,
        &FieldErrors::new(),
        StatusCode::OK,
    ))
}

async fn create_initiative(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    user.require_role(&req, &VERBINDERS)?;
    let csrf = form.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or("");
    user.check_csrf(&req, csrf)?;
    let scope = scope_of(&state, &req, &user).await?;
    let fields = fields_of(&form);
    let checked = NewInitiative::parse(&fields, &vocabulary(&state, lang.lang), &state.areas(), |b| scope.contains(b));
    match checked {
        Err(errors) => Ok(initiative_form(
            &user,
            &state,
            &req,
            lang,
            &scope,
            "/talent/initiatieven",
            &fields,
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        Ok(n) => {
            blocking_or_refuse(&state, &req, move |conn| initiative::insert(conn, &n, today())).await?;
            Ok(see_other("/talent".into()))
        }
    }
}

async fn edit_initiative(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    user.require_role(&req, &VERBINDERS)?;
    let (i, scope) = visible_initiative(&state, &req, &user, &id).await?;
    let action = format!("/talent/initiatieven/{}", i.id);
    Ok(initiative_form(&user, &state, &req, lang, &scope, &action, &i.fields(), &FieldErrors::new(), StatusCode::OK))
}

async fn update_initiative(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    user.require_role(&req, &VERBINDERS)?;
    let csrf = form.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or("");
    user.check_csrf(&req, csrf)?;
    let (i, scope) = visible_initiative(&state, &req, &user, &id).await?;
    let fields = fields_of(&form);
    let action = format!("/talent/initiatieven/{}", i.id);
    match NewInitiative::parse(&fields, &vocabulary(&state, lang.lang), &state.areas(), |b| scope.contains(b)) {
        Err(errors) => Ok(initiative_form(
            &user,
            &state,
            &req,
            lang,
            &scope,
            &action,
            &fields,
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        Ok(n) => {
            let iid = i.id;
            blocking_or_refuse(&state, &req, move |conn| initiative::update(conn, iid, &n, today())).await?;
            Ok(see_other(action))
        }
    }
}

/// What the import page shows besides the form.
#[derive(Default)]
struct ImportView<'a> {
    file: &'a str,
    problems: &'a [initiative::ImportProblem],
    message: Option<String>,
}

fn import_page(
    user: &Professional,
    state: &AppState,
    req: &HttpRequest,
    lang: LangChoice,
    view: ImportView,
    status: StatusCode,
) -> HttpResponse {
    let mut ctx = context(user);
    ctx.insert("file", view.file);
    ctx.insert(
        "problems",
        &view
            .problems
            .iter()
            .map(|p| serde_json::json!({"line": p.line, "field": p.field, "message": p.message}))
            .collect::<Vec<_>>(),
    );
    ctx.insert("message", &view.message);
    ctx.insert("columns", &initiative::CSV_COLUMNS.join(","));
    no_store(page(state, req, lang, status, "talent/import.html", ctx))
}

async fn import_form(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
) -> Result<HttpResponse> {
    user.require_role(&req, &VERBINDERS)?;
    Ok(import_page(&user, &state, &req, lang, ImportView::default(), StatusCode::OK))
}

/// A CSV file of initiatives: all rows checked; one bad row and nothing is
/// stored.
async fn import(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    payload: Multipart,
) -> Result<HttpResponse> {
    user.require_role(&req, &VERBINDERS)?;
    let mut upload = match Upload::read(payload, &["bestand"], MAX_IMPORT).await {
        Ok(p) => p,
        Err(UploadError::TooLarge) => {
            let m = Some(t(lang, "talent_error_too_large"));
            return Ok(import_page(
                &user,
                &state,
                &req,
                lang,
                ImportView { message: m, ..ImportView::default() },
                StatusCode::PAYLOAD_TOO_LARGE,
            ));
        }
        Err(UploadError::Broken) => {
            let m = Some(t(lang, "d_error_upload"));
            return Ok(import_page(
                &user,
                &state,
                &req,
                lang,
                ImportView { message: m, ..ImportView::default() },
                StatusCode::BAD_REQUEST,
            ));
        }
    };
    user.check_csrf(&req, upload.field("csrf"))?;
    let Some(file) = upload.take_file("bestand") else {
        let m = Some(t(lang, "d_error_no_file"));
        return Ok(import_page(
            &user,
            &state,
            &req,
            lang,
            ImportView { message: m, ..ImportView::default() },
            StatusCode::BAD_REQUEST,
        ));
    };
    let file_name = file.name;
    let scope = scope_of(&state, &req, &user).await?;
    let vocab = vocabulary(&state, lang.lang);
    match initiative::parse_csv(&file.bytes, &vocab, &state.areas(), |b| scope.contains(b), lang.lang) {
        Err(problems) => {
            let m = Some(t(lang, "talent_import_failed"));
            Ok(import_page(
                &user,
                &state,
                &req,
                lang,
                ImportView { file: &file_name, problems: &problems, message: m },
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
        Ok(list) => {
            let n = blocking_or_refuse(&state, &req, move |conn| initiative::insert_all(conn, &list, today())).await?;
            let m = Some(format!("{} {n}", t(lang, "talent_imported")));
            Ok(import_page(
                &user,
                &state,
                &req,
                lang,
                ImportView { file: &file_name, problems: &[], message: m },
                StatusCode::OK,
            ))
        }
    }
}

/// The audit log: administrators only.
async fn audit_log(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
) -> Result<HttpResponse> {
    user.require_role(&req, &[Role::Admin])?;
    let entries = blocking_or_refuse(&state, &req, |conn| audit::recent(conn, 500)).await?;
    let mut ctx = context(&user);
    ctx.insert("entries", &entries);
    Ok(no_store(page(&state, &req, lang, StatusCode::OK, "talent/audit.html", ctx)))
}

async fn account_of(state: &web::Data<AppState>, req: &HttpRequest, raw: &str) -> Result<crate::auth::User> {
    let Ok(id) = raw.parse::<i32>() else { return Err(refusal(req, StatusCode::NOT_FOUND, "error_not_found")) };
    blocking_or_refuse(state, req, move |conn| find_by_id(conn, UserId(id)))
        .await?
        .ok_or_else(|| refusal(req, StatusCode::NOT_FOUND, "error_not_found"))
}

fn areas_page(
    user: &Professional,
    state: &AppState,
    req: &HttpRequest,
    lang: LangChoice,
    account: &crate::auth::User,
    chosen: &[String],
    status: StatusCode,
) -> HttpResponse {
    let tree = state.areas();
    let wijken: Vec<_> = tree
        .at_level(crate::area::Level::Wijk)
        .map(|w| {
            serde_json::json!({
                "code": w.code.as_str(), "name": w.name, "chosen": chosen.iter().any(|c| c == w.code.as_str()),
                "buurten": tree.children(w.code.as_str()).map(|b| serde_json::json!({
                    "code": b.code.as_str(), "name": b.name, "chosen": chosen.iter().any(|c| c == b.code.as_str()),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut ctx = context(user);
    ctx.insert("account", &serde_json::json!({ "id": account.id.0, "email": account.email }));
    ctx.insert("wijken", &wijken);
    ctx.insert("saved", &(status == StatusCode::OK && req.method() == actix_web::http::Method::POST));
    no_store(page(state, req, lang, status, "talent/areas.html", ctx))
}

async fn areas_form(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    user.require_role(&req, &[Role::Admin])?;
    let account = account_of(&state, &req, &id).await?;
    let uid = account.id;
    let chosen = blocking_or_refuse(&state, &req, move |conn| access::assigned(conn, uid)).await?;
    Ok(areas_page(&user, &state, &req, lang, &account, &chosen, StatusCode::OK))
}

/// Replaces an account's areas with the wijken and buurten ticked.
async fn assign_areas(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    user.require_role(&req, &[Role::Admin])?;
    let csrf = form.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or("");
    user.check_csrf(&req, csrf)?;
    let account = account_of(&state, &req, &id).await?;
    let tree = state.areas();
    let mut areas = Vec::new();
    for (_, v) in form.iter().filter(|(k, _)| k == "gebied").take(2000) {
        match AreaCode::parse_any(v).ok().filter(|c| tree.get(c.as_str()).is_some()) {
            Some(code) if !areas.contains(&code) => areas.push(code),
            Some(_) => {}
            None => return Err(refusal(&req, StatusCode::BAD_REQUEST, "talent_error_area")),
        }
    }
    let chosen: Vec<String> = areas.iter().map(|a| a.to_string()).collect();
    let uid = account.id;
    blocking_or_refuse(&state, &req, move |conn| access::assign(conn, uid, &areas)).await?;
    Ok(areas_page(&user, &state, &req, lang, &account, &chosen, StatusCode::OK))
}

pub fn add_templates(tera: &mut tera::Tera) -> std::result::Result<(), tera::Error> {
    tera.add_raw_templates([
        ("talent/overview.html", include_str!("../../templates/talent/overview.html")),
        ("talent/profile.html", include_str!("../../templates/talent/profile.html")),
        ("talent/initiative.html", include_str!("../../templates/talent/initiative.html")),
        ("talent/initiative_form.html", include_str!("../../templates/talent/initiative_form.html")),
        ("talent/import.html", include_str!("../../templates/talent/import.html")),
        ("talent/audit.html", include_str!("../../templates/talent/audit.html")),
        ("talent/areas.html", include_str!("../../templates/talent/areas.html")),
        ("talent/created.html", include_str!("../../templates/talent/created.html")),
        ("talent/mine.html", include_str!("../../templates/talent/mine.html")),
        ("talent/edit.html", include_str!("../../templates/talent/edit.html")),
        ("talent/done.html", include_str!("../../templates/talent/done.html")),
        ("talent/code.html", include_str!("../../templates/talent/code.html")),
        ("talent/proposal.html", include_str!("../../templates/talent/proposal.html")),
    ])
}
