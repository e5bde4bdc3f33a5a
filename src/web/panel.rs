//! The council's panel selection (`/beheer/campagnes/{name}/panel`): from the
//! sign-ups of an identified questionnaire (e.g. `panelaanmelding`) to a
//! LEXIMIN panel, its probabilities and protocol, and replacements. The
//! selection runs on a thread of its own (LEXIMIN can take a minute) and is
//! stored (`panel::store`), so its page survives a reload; while it runs the
//! page reloads itself (an HTTP `Refresh` header: no script; it can be
//! turned off).

use std::collections::{BTreeMap, BTreeSet};

use actix_multipart::Multipart;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::campaign::{campaign_name, form_field, known_campaign, see_other, COUNCIL};
use super::lang::{t, LangChoice};
use super::lottery::upload_refusal;
use super::render::{auto_refresh_on, page, with_refresh};
use super::session::{no_store, refusal, Professional};
use super::state::{blocking_or_refuse, AppState};
use super::upload::Upload;
use crate::i18n::Lang;
use crate::invite::CampaignName;
use crate::panel::store::{self, NewSelection, Settings, Status, StoredSelection};
use crate::panel::{self, Algorithm, Feature, Features, Protocol, Quota, Seed};
use crate::questionnaire::{Kind, Published, QuestionKind};
use crate::survey::{identified_responses, IdentifiedResponse};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/beheer/campagnes/{name}/panel", web::get().to(form))
        .route("/beheer/campagnes/{name}/panel", web::post().to(start))
        .route("/beheer/campagnes/{name}/panel/{id}", web::get().to(selection))
        .route("/beheer/campagnes/{name}/panel/{id}/vervangen", web::post().to(replace))
        .route("/beheer/campagnes/{name}/panel/{id}/{file}", web::get().to(download));
}

type Result<T> = std::result::Result<T, actix_web::Error>;

/// A features file or form is small; anything larger is refused.
const MAX_FEATURES: usize = 1024 * 1024;
const MAX_PANEL: u32 = 1000;

/// The panel form as filled in.
#[derive(Serialize, Default, Clone)]
struct PanelForm {
    vragenlijst: String,
    grootte: String,
    zaad: String,
    methode: String,
    huishouden: String,
    /// Quota fields as typed: `min.FEATURE.VALUE`, `max.FEATURE.VALUE`.
    quota: BTreeMap<String, String>,
    /// Features with a quota (`gebruik`).
    used: BTreeSet<String>,
}

#[derive(Serialize)]
struct QuotaRow {
    value: String,
    label: String,
    volunteers: usize,
    min_field: String,
    max_field: String,
    min: String,
    max: String,
}

#[derive(Serialize)]
struct FeatureBlock {
    name: String,
    label: String,
    used: bool,
    rows: Vec<QuotaRow>,
}

/// A feature of the sign-up questionnaire: its name (the people file's
/// column), label and values with labels.
struct FeatureDef {
    name: String,
    label: String,
    values: Vec<(String, String)>,
}

/// The quota features of a sign-up questionnaire, as `volunteer_columns`
/// makes them: `buurt` (the buurten of the sign-ups), then every single
/// choice and yes/no question.
fn feature_defs(state: &AppState, p: &Published, signups: &[IdentifiedResponse], lang: Lang) -> Vec<FeatureDef> {
    let areas = state.areas();
    let buurten: BTreeSet<&str> = signups.iter().map(|s| s.buurt.as_str()).collect();
    let mut defs = vec![FeatureDef {
        name: "buurt".into(),
        label: lang.text("campaign_buurt"),
        values: buurten
            .into_iter()
            .map(|b| (b.to_owned(), areas.get(b).map(|a| format!("{} ({b})", a.name)).unwrap_or_else(|| b.to_owned())))
            .collect(),
    }];
    let (features, _) = panel::volunteer_columns(&p.definition);
    for q in p.definition.questions().filter(|q| features.contains(&q.id.to_string())) {
        if matches!(q.kind, QuestionKind::SingleChoice { .. } | QuestionKind::YesNo) {
            defs.push(FeatureDef {
                name: q.id.to_string(),
                label: q.text.get(lang).to_owned(),
                values: q.kind.choices().into_iter().map(|c| (c.value, c.label.get(lang).to_owned())).collect(),
            });
        }
    }
    defs
}

fn status_label(lang: Lang, status: Status) -> String {
    lang.text(match status {
        Status::Running => "panel_status_running",
        Status::Done => "panel_status_done",
        Status::Infeasible => "panel_status_infeasible",
        Status::Failed => "panel_status_failed",
    })
}

fn answer(s: &IdentifiedResponse, feature: &str) -> String {
    if feature == "buurt" {
        return s.buurt.clone();
    }
    match s.answers.get(feature) {
        Some(Value::String(v)) => v.clone(),
        _ => String::new(),
    }
}

fn blocks(defs: &[FeatureDef], signups: &[IdentifiedResponse], f: &PanelForm) -> Vec<FeatureBlock> {
    defs.iter()
        .map(|d| FeatureBlock {
            name: d.name.clone(),
            label: d.label.clone(),
            used: f.used.contains(&d.name),
            rows: d
                .values
                .iter()
                .map(|(value, label)| {
                    let (min_field, max_field) = (format!("min.{}.{value}", d.name), format!("max.{}.{value}", d.name));
                    QuotaRow {
                        value: value.clone(),
                        label: label.clone(),
                        volunteers: signups.iter().filter(|s| &answer(s, &d.name) == value).count(),
                        min: f.quota.get(&min_field).cloned().unwrap_or_default(),
                        max: f.quota.get(&max_field).cloned().unwrap_or_default(),
                        min_field,
                        max_field,
                    }
                })
                .collect(),
        })
        .collect()
}

/// The sign-up questionnaires: every identified one.
fn signup_questionnaires(state: &AppState, lang: Lang) -> Vec<(String, String)> {
    state
        .catalog()
        .all_current()
        .filter(|p| p.definition.kind == Kind::Identified)
        .map(|p| (p.definition.slug.to_string(), p.definition.title.get(lang).to_owned()))
        .collect()
}

async fn signups(state: &web::Data<AppState>, req: &HttpRequest, slug: &str) -> Result<Vec<IdentifiedResponse>> {
    let ids: Vec<i32> = state.catalog().versions(slug).iter().map(|v| v.id).collect();
    blocking_or_refuse(state, req, move |conn| identified_responses(conn, &ids)).await
}

async fn selections(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    name: &CampaignName,
) -> Result<Vec<StoredSelection>> {
    let n = name.as_str().to_owned();
    blocking_or_refuse(state, req, move |conn| store::list(conn, &n)).await
}

#[derive(Serialize)]
struct SelectionLine {
    id: i32,
    created_on: String,
    status_label: String,
    replacement: bool,
    size: u32,
}

#[allow(clippy::too_many_arguments)]
async fn form_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    lang: LangChoice,
    user: &Professional,
    name: &CampaignName,
    f: &PanelForm,
    problem: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse> {
    let catalog = state.catalog();
    let signups_of = match catalog.current(&f.vragenlijst) {
        Some(p) if p.definition.kind == Kind::Identified => Some(p.clone()),
        _ => None,
    };
    let (features, count) = match &signups_of {
        Some(p) => {
            let list = signups(state, req, &f.vragenlijst).await?;
            (blocks(&feature_defs(state, p, &list, lang.lang), &list, f), list.len())
        }
        None => (Vec::new(), 0),
    };
    let earlier: Vec<SelectionLine> = selections(state, req, name)
        .await?
        .into_iter()
        .map(|s| SelectionLine {
            id: s.id,
            created_on: s.created_on.to_string(),
            status_label: status_label(lang.lang, s.status),
            replacement: s.previous_id.is_some(),
            size: s.settings.size,
        })
        .collect();
    let mut ctx = user.context();
    ctx.insert("campaign", name.as_str());
    ctx.insert("f", f);
    ctx.insert("questionnaires", &signup_questionnaires(state, lang.lang));
    ctx.insert("features", &features);
    ctx.insert("signups", &count);
    ctx.insert("earlier", &earlier);
    ctx.insert("problem", &problem);
    Ok(no_store(page(state, req, lang, status, "panel/new.html", ctx)))
}

#[derive(Deserialize)]
struct FormQuery {
    vragenlijst: Option<String>,
}

/// `GET …/panel`: the form, its quota table prefilled from the features of
/// the chosen sign-up questionnaire (`?vragenlijst=`), and earlier selections.
async fn form(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    user: Professional,
    name: web::Path<String>,
    query: web::Query<FormQuery>,
) -> Result<HttpResponse> {
    user.require_role(&req, &COUNCIL)?;
    let name = campaign_name(&req, &name)?;
    known_campaign(&state, &req, &name).await?;
    let choices = signup_questionnaires(&state, lang.lang);
    let slug = match query.vragenlijst.as_deref() {
        Some(s) if choices.iter().any(|(c, _)| c == s) => s.to_owned(),
        _ => choices
            .iter()
            .find(|(c, _)| c == "panelaanmelding")
            .or(choices.first())
            .map(|(c, _)| c.clone())
            .unwrap_or_default(),
    };
    let mut f = PanelForm { vragenlijst: slug, methode: "leximin".into(), ..PanelForm::default() };
    f.used.insert("buurt".into());
    if let Some(p) = state.catalog().current(&f.vragenlijst) {
        f.used.extend(panel::volunteer_columns(&p.definition).0.into_iter().filter(|c| {
            p.definition
                .questions()
                .any(|q| q.id.to_string() == *c && matches!(q.kind, QuestionKind::SingleChoice { .. }))
        }));
    }
    form_page(&state, &req, lang, &user, &name, &f, None, StatusCode::OK).await
}

/// What the form asks for, checked: the inputs of `panel::run_job`.
struct Checked {
    size: u32,
    seed: Seed,
    algorithm: Algorithm,
    households: Vec<String>,
    features_csv: String,
    people_csv: String,
}

/// A problem with the form, as the text to show.
struct Invalid(String);

fn check(
    lang: Lang,
    f: &PanelForm,
    uploaded: Option<(String, Vec<u8>)>,
    defs: &[FeatureDef],
    p: &Published,
    list: &[IdentifiedResponse],
) -> std::result::Result<Checked, Invalid> {
    let bad = |key: &str| Invalid(lang.text(key));
    if list.is_empty() {
        return Err(bad("panel_error_no_signups"));
    }
    let size =
        f.grootte.parse::<u32>().ok().filter(|s| (1..=MAX_PANEL).contains(s)).ok_or_else(|| bad("panel_error_size"))?;
    if size as usize > list.len() {
        return Err(Invalid(format!("{} ({})", lang.text("panel_error_size_signups"), list.len())));
    }
    if f.zaad.chars().count() > 1000 || f.zaad.chars().any(char::is_control) {
        return Err(bad("panel_error_seed"));
    }
    let seed = Seed::parse(&f.zaad).map_err(|_| bad("panel_error_seed"))?;
    let algorithm = match f.methode.as_str() {
        "leximin" => Algorithm::Leximin,
        "legacy" => Algorithm::Legacy,
        _ => return Err(bad("panel_error_method")),
    };
    let (features, others) = panel::volunteer_columns(&p.definition);
    let households: Vec<String> =
        f.huishouden.split(',').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect();
    if let Some(c) = households.iter().find(|c| !features.contains(c) && !others.contains(c)) {
        return Err(Invalid(format!("{} {c:?} ({})", lang.text("panel_error_household"), others.join(", "))));
    }
    let (features_name, features_csv) = match uploaded {
        Some((file, bytes)) => (file, crate::csv_text::utf8_or_windows1252(bytes)),
        None => ("features.csv".to_owned(), quotas_from_form(lang, f, defs, size)?.to_csv()),
    };
    // Read both files as the selection will, so that a bad file, or a quota
    // on a column or value the sign-ups do not have, is reported now.
    let people_csv = panel::volunteers_csv(&p.definition, list);
    let quotas = Features::parse(&features_name, features_csv.as_bytes()).map_err(|e| Invalid(e.to_string()))?;
    panel::Pool::parse("people.csv", people_csv.as_bytes(), &quotas, "id", &households)
        .map_err(|e| Invalid(e.to_string()))?;
    Ok(Checked { size, seed, algorithm, households, features_csv, people_csv })
}

/// The quotas typed in the form; an empty minimum is 0, an empty maximum
/// the panel size.
fn quotas_from_form(
    lang: Lang,
    f: &PanelForm,
    defs: &[FeatureDef],
    size: u32,
) -> std::result::Result<Features, Invalid> {
    let mut features = Vec::new();
    for d in defs.iter().filter(|d| f.used.contains(&d.name)) {
        let mut values = Vec::new();
        for (value, label) in &d.values {
            let number = |field: String, default: u32| -> std::result::Result<u32, Invalid> {
                match f.quota.get(&field).map(|v| v.trim()).unwrap_or("") {
                    "" => Ok(default),
                    raw => raw.parse::<u32>().ok().filter(|n| *n <= MAX_PANEL).ok_or_else(|| {
                        Invalid(format!("{}: {}: {}", d.label, label, lang.text("panel_error_quota_number")))
                    }),
                }
            };
            let min = number(format!("min.{}.{value}", d.name), 0)?;
            let max = number(format!("max.{}.{value}", d.name), size)?;
            if min > max {
                return Err(Invalid(format!("{}: {}: {}", d.label, label, lang.text("panel_error_quota_order"))));
            }
            values.push(Quota { value: value.clone(), min, max, min_flex: None, max_flex: None });
        }
        features.push(Feature { name: d.name.clone(), values });
    }
    if features.is_empty() {
        return Err(Invalid(lang.text("panel_error_no_features")));
    }
    Ok(Features { features })
}

/// Claims a selection just stored and runs it on this instance; if that
/// fails, another instance's follower takes it over (`panel::jobs`).
fn run_here(state: &AppState, id: i32) {
    if let Err(e) = panel::jobs::start(&state.pool, &state.instance, id) {
        tracing::warn!("panel selection {id}: not started here ({e}); another instance will take it over");
    }
}

/// `POST …/panel`: checks the form, stores the selection as running, starts
/// it, and goes to its page.
async fn start(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    user: Professional,
    name: web::Path<String>,
    payload: Multipart,
) -> Result<HttpResponse> {
    user.require_role(&req, &COUNCIL)?;
    let name = campaign_name(&req, &name)?;
    known_campaign(&state, &req, &name).await?;
    let mut upload = match Upload::read(payload, &["kenmerken"], MAX_FEATURES).await {
        Ok(u) => u,
        Err(e) => {
            let (_, status) = upload_refusal(e);
            let f = PanelForm { methode: "leximin".into(), ..PanelForm::default() };
            return form_page(&state, &req, lang, &user, &name, &f, Some(t(lang, "panel_error_upload")), status).await;
        }
    };
    user.check_csrf(&req, upload.field("csrf"))?;
    let uploaded = upload.take_file("kenmerken").map(|file| (file.name, file.bytes));
    let text = |field: &str, max: usize| upload.field(field).chars().take(max).collect::<String>();
    let mut f = PanelForm {
        vragenlijst: text("vragenlijst", 64),
        grootte: text("grootte", 20),
        zaad: text("zaad", 1001),
        methode: text("methode", 20),
        huishouden: text("huishouden", 300),
        ..PanelForm::default()
    };
    let Some(p) = state.catalog().current(&f.vragenlijst).filter(|p| p.definition.kind == Kind::Identified).cloned()
    else {
        f.vragenlijst.clear();
        let problem = Some(t(lang, "panel_error_questionnaire"));
        return form_page(&state, &req, lang, &user, &name, &f, problem, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let list = signups(&state, &req, &f.vragenlijst).await?;
    let defs = feature_defs(&state, &p, &list, lang.lang);
    for d in &defs {
        if !upload.field(&format!("gebruik.{}", d.name)).is_empty() {
            f.used.insert(d.name.clone());
        }
        for (value, _) in &d.values {
            for bound in ["min", "max"] {
                let field = format!("{bound}.{}.{value}", d.name);
                let typed = text(&field, 10);
                if !typed.is_empty() {
                    f.quota.insert(field, typed);
                }
            }
        }
    }
    let checked = match check(lang.lang, &f, uploaded, &defs, &p, &list) {
        Ok(c) => c,
        Err(Invalid(problem)) => {
            return form_page(&state, &req, lang, &user, &name, &f, Some(problem), StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
    };
    let settings = Settings {
        size: checked.size,
        seed: checked.seed.as_str().to_owned(),
        algorithm: checked.algorithm,
        household_columns: checked.households,
        dropped: Vec::new(),
        pseudonym_key: panel::new_pseudonym_key(),
    };
    let (n, slug, s, features, people) =
        (name.as_str().to_owned(), f.vragenlijst.clone(), settings.clone(), checked.features_csv, checked.people_csv);
    let (features2, people2) = (features.clone(), people.clone());
    let id = blocking_or_refuse(&state, &req, move |conn| {
        let new = NewSelection {
            campaign: &n,
            questionnaire: &slug,
            previous_id: None,
            settings: &s,
            features_csv: &features2,
            people_csv: &people2,
        };
        store::start(conn, &new, crate::clock::today())
    })
    .await?;
    run_here(&state, id);
    Ok(see_other(format!("/beheer/campagnes/{name}/panel/{id}")))
}

async fn stored(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    name: &CampaignName,
    raw_id: &str,
) -> Result<StoredSelection> {
    let unknown = || refusal(req, StatusCode::NOT_FOUND, "panel_unknown");
    let id: i32 = raw_id.parse().map_err(|_| unknown())?;
    let found = blocking_or_refuse(state, req, move |conn| store::load(conn, id)).await?;
    found.filter(|s| s.campaign == name.as_str()).ok_or_else(unknown)
}

#[derive(Serialize)]
struct Summary {
    algorithm: String,
    mode: String,
    panel_size: u32,
    volunteers: usize,
    min_probability: String,
    estimated: bool,
    seconds: String,
    seed: String,
}

/// The people file's header and the panel's rows (contact details: for
/// the council's eyes only).
fn members(panel_csv: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(panel_csv.as_bytes());
    let header = r.headers().map(|h| h.iter().map(str::to_owned).collect()).unwrap_or_default();
    let rows = r.records().flatten().map(|rec| rec.iter().map(str::to_owned).collect()).collect();
    (header, rows)
}

fn selection_page(
    state: &AppState,
    req: &HttpRequest,
    lang: LangChoice,
    user: &Professional,
    s: &StoredSelection,
    problem: Option<String>,
    status: StatusCode,
) -> HttpResponse {
    let protocol = s.protocol.as_deref().and_then(|p| Protocol::parse("protocol.json", p.as_bytes()).ok());
    let summary = protocol.as_ref().map(|p| Summary {
        algorithm: p.algorithm.to_string(),
        mode: p.mode.clone(),
        panel_size: p.panel_size,
        volunteers: s.probabilities_csv.as_deref().map(|c| c.lines().count().saturating_sub(1)).unwrap_or(0),
        min_probability: format!("{:.4}", p.min_probability),
        estimated: p.probabilities_estimated,
        seconds: format!("{:.1}", p.seconds),
        seed: p.seed.clone(),
    });
    let (header, rows) = s.panel_csv.as_deref().map(members).unwrap_or_default();
    let mut ctx = user.context();
    ctx.insert("campaign", &s.campaign);
    ctx.insert(
        "s",
        &SelectionView {
            id: s.id,
            status: s.status,
            status_label: status_label(lang.lang, s.status),
            problem: s.problem.clone(),
            misses: s.problem.as_deref().and_then(|p| serde_json::from_str::<panel::InfeasibleQuotas>(p).ok()).map(
                |i| {
                    // The lead continues "error: " on the command line; a page starts it.
                    let (lead, lines) = i.explain(lang.lang);
                    let mut chars = lead.chars();
                    (chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default(), lines)
                },
            ),
            purged: s.people_csv.is_none(),
        },
    );
    ctx.insert("summary", &summary);
    ctx.insert("header", &header);
    ctx.insert("rows", &rows);
    ctx.insert("problem", &problem);
    // Who runs it (panel::jobs) and when it last said so, for a running one.
    let runner = (s.status == Status::Running).then(|| {
        let beat = s.heartbeat_at.map(|b| {
            crate::clock::local(chrono::DateTime::<chrono::Utc>::from_naive_utc_and_offset(b, chrono::Utc))
                .format("%H:%M:%S")
                .to_string()
        });
        (s.runner.clone().unwrap_or_default(), beat.unwrap_or_default())
    });
    ctx.insert("runner", &runner);
    let refresh = s.status == Status::Running && auto_refresh_on(req);
    ctx.insert("refresh", &refresh);
    with_refresh(no_store(page(state, req, lang, status, "panel/selection.html", ctx)), refresh)
}

#[derive(Serialize)]
struct SelectionView {
    id: i32,
    status: Status,
    status_label: String,
    problem: Option<String>,
    /// Infeasible quotas in the reader's language: what to do, then one
    /// line per quota missed (None for a text stored before they were kept
    /// as JSON, shown as it is).
    misses: Option<(String, Vec<String>)>,
    purged: bool,
}

/// `GET …/panel/{id}`: running (refreshes itself), infeasible (which quotas
/// conflict), failed, or done: the members, the downloads, replacement.
async fn selection(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    user: Professional,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    user.require_role(&req, &COUNCIL)?;
    let name = campaign_name(&req, &path.0)?;
    let s = stored(&state, &req, &name, &path.1).await?;
    Ok(selection_page(&state, &req, lang, &user, &s, None, StatusCode::OK))
}

/// `GET …/panel/{id}/{panel.csv|probabilities.csv|reserves.csv|protocol.json}`: the files
/// as `buurtpeil panel select` writes them.
async fn download(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Professional,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse> {
    user.require_role(&req, &COUNCIL)?;
    let name = campaign_name(&req, &path.0)?;
    let s = stored(&state, &req, &name, &path.1).await?;
    let (body, kind) = match path.2.as_str() {
        "panel.csv" => (s.panel_csv.clone(), "text/csv; charset=utf-8"),
        "probabilities.csv" => (s.probabilities_csv.clone(), "text/csv; charset=utf-8"),
        "protocol.json" => (s.protocol.clone(), "application/json"),
        // Derived from the protocol, which holds the drawn reserve lists.
        "reserves.csv" => (
            s.protocol
                .as_deref()
                .and_then(|p| Protocol::parse("protocol", p.as_bytes()).ok())
                .map(|p| p.reserves_csv()),
            "text/csv; charset=utf-8",
        ),
        _ => return Err(refusal(&req, StatusCode::NOT_FOUND, "error_not_found")),
    };
    let Some(body) = body else {
        let status = if s.status == Status::Done { StatusCode::GONE } else { StatusCode::NOT_FOUND };
        return Err(refusal(&req, status, "panel_file_missing"));
    };
    Ok(no_store(
        HttpResponse::Ok()
            .content_type(kind)
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"panel-{}-{}-{}\"", s.campaign, s.id, path.2),
            ))
            .body(body),
    ))
}

/// `POST …/panel/{id}/vervangen`: replacements for the members who dropped
/// out (`uitgevallen`, repeated), drawn with a new seed.
async fn replace(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    user: Professional,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    user.require_role(&req, &COUNCIL)?;
    user.check_csrf(&req, form_field(&form, "csrf"))?;
    let name = campaign_name(&req, &path.0)?;
    let s = stored(&state, &req, &name, &path.1).await?;
    let fail = |key: &str| {
        Ok(selection_page(&state, &req, lang, &user, &s, Some(t(lang, key)), StatusCode::UNPROCESSABLE_ENTITY))
    };
    let (Some(protocol_json), Some(people_csv)) = (s.protocol.clone(), s.people_csv.clone()) else {
        return Ok(selection_page(
            &state,
            &req,
            lang,
            &user,
            &s,
            Some(t(lang, "panel_error_replace_state")),
            StatusCode::CONFLICT,
        ));
    };
    let Ok(protocol) = Protocol::parse("protocol.json", protocol_json.as_bytes()) else {
        return fail("panel_error_replace_state");
    };
    let dropped: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "uitgevallen")
        .map(|(_, v)| v.trim().to_owned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if dropped.is_empty() {
        return fail("panel_error_dropped_none");
    }
    if dropped.iter().any(|d| !protocol.panel.contains(d)) {
        return fail("panel_error_dropped_unknown");
    }
    let seed = form_field(&form, "zaad");
    if seed.chars().count() > 1000 || seed.chars().any(char::is_control) || Seed::parse(seed).is_err() {
        return fail("panel_error_seed");
    }
    let settings = Settings { size: dropped.len() as u32, seed: seed.to_owned(), dropped, ..s.settings.clone() };
    let (n, slug, st, features, people, previous_id) = (
        s.campaign.clone(),
        s.questionnaire.clone(),
        settings.clone(),
        s.features_csv.clone(),
        people_csv.clone(),
        s.id,
    );
    let id = blocking_or_refuse(&state, &req, move |conn| {
        let new = NewSelection {
            campaign: &n,
            questionnaire: &slug,
            previous_id: Some(previous_id),
            settings: &st,
            features_csv: &features,
            people_csv: &people,
        };
        store::start(conn, &new, crate::clock::today())
    })
    .await?;
    run_here(&state, id);
    Ok(see_other(format!("/beheer/campagnes/{name}/panel/{id}")))
}
