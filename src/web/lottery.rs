//! The council's pages for a draw by lot: upload a register and draw
//! (`/beheer/loting`), read and download the protocol, invite the people
//! drawn and print their letters. The same domain calls as the CLI.

use actix_multipart::Multipart;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::lang::{t, LangChoice};
use super::render::page;
use super::session::{no_store, refusal, Professional};
use super::state::{blocking_or_refuse, AppState};
use super::upload::{Upload, UploadError};
use crate::area::{load_tree, Level};
use crate::auth::Role;
use crate::db::{AnyConnection, DbError};
use crate::invite::{self, BaseUrl, CampaignName, InviteError, Invitee, LetterTemplate};
use crate::lottery::{
    draw_campaign, load_protocol, parse_register, parse_register_known, selected_people, verify, Allocation,
    CampaignDraw, CampaignError, DrawParams, Person, Protocol, Seed,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/beheer/controleren", web::get().to(verify_form))
        .route("/beheer/controleren", web::post().to(verify_draw))
        .route("/beheer/loting", web::get().to(new_draw))
        .route("/beheer/loting", web::post().to(run_draw))
        .route("/beheer/loting/{name}", web::get().to(protocol_page))
        .route("/beheer/loting/{name}/protocol.json", web::get().to(protocol_json))
        .route("/beheer/loting/{name}/uitnodigen", web::post().to(invite_drawn))
        .route("/beheer/loting/{name}/brieven", web::post().to(letters));
}

const COUNCIL: [Role; 2] = [Role::Admin, Role::Council];
const MAX_REGISTER: usize = 64 * 1024 * 1024;

type Result<T> = std::result::Result<T, actix_web::Error>;

async fn db<T: Send + 'static>(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    job: impl FnOnce(&mut AnyConnection) -> std::result::Result<T, DbError> + Send + 'static,
) -> Result<T> {
    blocking_or_refuse(state, req, job).await
}

/// The draw form as filled in, kept when something is wrong.
#[derive(Serialize, Default)]
struct DrawForm {
    campagne: String,
    aantal: String,
    zaad: String,
    zaadbron: String,
    verdeling: String,
    minimumleeftijd: String,
    een_per_adres: bool,
    uitsluiten_maanden: String,
}

fn form_page(
    user: &Professional,
    state: &AppState,
    req: &HttpRequest,
    lang: LangChoice,
    form: &DrawForm,
    problem: Option<String>,
    status: StatusCode,
) -> HttpResponse {
    let mut ctx = user.context();
    ctx.insert("f", form);
    ctx.insert("problem", &problem);
    no_store(page(state, req, lang, status, "lottery/new.html", ctx))
}

async fn new_draw(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
) -> Result<HttpResponse> {
    user.require_role(&req, &COUNCIL)?;
    let form = DrawForm { verdeling: "proportional".into(), minimumleeftijd: "16".into(), ..DrawForm::default() };
    Ok(form_page(&user, &state, &req, lang, &form, None, StatusCode::OK))
}

/// Upload and draw: every field checked, the register read with all its
/// problems, then one `draw_campaign`.
async fn run_draw(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    payload: Multipart,
) -> Result<HttpResponse> {
    user.require_role(&req, &COUNCIL)?;
    let mut upload = match Upload::read(payload, &["register"], MAX_REGISTER).await {
        Ok(u) => u,
        Err(e) => {
            let (key, status) = upload_refusal(e);
            return Ok(form_page(&user, &state, &req, lang, &DrawForm::default(), Some(t(lang, key)), status));
        }
    };
    let text = |name: &str| upload.field(name).chars().take(1000).collect::<String>();
    let form = DrawForm {
        campagne: text("campagne"),
        aantal: text("aantal"),
        zaad: text("zaad"),
        zaadbron: text("zaadbron"),
        verdeling: text("verdeling"),
        minimumleeftijd: text("minimumleeftijd"),
        een_per_adres: !upload.field("een_per_adres").is_empty(),
        uitsluiten_maanden: text("uitsluiten_maanden"),
    };
    let csrf = upload.field("csrf").to_owned();
    let register = upload.take_file("register").map(|f| (f.name, f.bytes));
    user.check_csrf(&req, &csrf)?;
    let fail = |key: &str, status| Ok(form_page(&user, &state, &req, lang, &form, Some(t(lang, key)), status));
    let Ok(size) = form.aantal.parse::<u64>() else { return fail("l_error_size", StatusCode::UNPROCESSABLE_ENTITY) };
    let Ok(min_age) = form.minimumleeftijd.parse::<u32>() else {
        return fail("l_error_age", StatusCode::UNPROCESSABLE_ENTITY);
    };
    let exclude_months = match form.uitsluiten_maanden.as_str() {
        "" => None,
        m => match m.parse::<u32>() {
            Ok(m) => Some(m),
            Err(_) => return fail("l_error_months", StatusCode::UNPROCESSABLE_ENTITY),
        },
    };
    let allocation = match form.verdeling.as_str() {
        "equal" => Allocation::Equal,
        _ => Allocation::Proportional,
    };
    let Ok(seed) = Seed::parse(&form.zaad) else { return fail("l_error_seed", StatusCode::UNPROCESSABLE_ENTITY) };
    let Some((file, bytes)) = register else {
        return fail("d_error_no_file", StatusCode::UNPROCESSABLE_ENTITY);
    };
    let today = crate::clock::today();
    let params = DrawParams {
        size,
        allocation,
        min_age,
        reference_date: today,
        one_per_address: form.een_per_adres,
        exclude_months,
        excluded: vec![],
    };
    let (campaign, seed_source) = (form.campagne.clone(), form.zaadbron.clone());
    let s = state.clone();
    let outcome = web::block(move || -> std::result::Result<std::result::Result<String, String>, DbError> {
        let mut conn = s.pool.get()?;
        let tree = load_tree(&mut conn)?;
        if tree.at_level(Level::Buurt).next().is_none() {
            return Ok(Err("no buurten are known yet: import the areas first".into()));
        }
        let people: Vec<Person> = match parse_register_known(&file, bytes.as_slice(), &tree) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let request = CampaignDraw { campaign: &campaign, people: &people, params, seed, seed_source: &seed_source };
        match draw_campaign(&mut conn, request, today, chrono::Utc::now(), &mut |_| {}) {
            Ok(o) => Ok(Ok(o.protocol.campaign)),
            Err(CampaignError::Store(crate::lottery::StoreError::Db(e))) => Err(e),
            Err(e) => Ok(Err(e.to_string())),
        }
    })
    .await;
    match outcome {
        Ok(Ok(Ok(name))) => Ok(no_store(
            HttpResponse::SeeOther().insert_header((header::LOCATION, format!("/beheer/loting/{name}"))).finish(),
        )),
        Ok(Ok(Err(problem))) => {
            Ok(form_page(&user, &state, &req, lang, &form, Some(problem), StatusCode::UNPROCESSABLE_ENTITY))
        }
        _ => Err(refusal(&req, StatusCode::SERVICE_UNAVAILABLE, "error_unavailable")),
    }
}

async fn load(state: &web::Data<AppState>, req: &HttpRequest, name: &str) -> Result<Protocol> {
    let Ok(name) = CampaignName::parse(name) else {
        return Err(refusal(req, StatusCode::NOT_FOUND, "campaign_unknown"));
    };
    let found = db(state, req, move |conn| {
        load_protocol(conn, name.as_str()).or_else(|e| match e {
            crate::lottery::StoreError::Db(db) => Err(db),
            _ => Ok(None),
        })
    })
    .await?;
    found.ok_or_else(|| refusal(req, StatusCode::NOT_FOUND, "campaign_unknown"))
}

/// A buurt of a draw's protocol, with its name, for the protocol pages
/// (the council's and the public one).
#[derive(Serialize)]
pub(super) struct StratumRow {
    code: String,
    name: String,
    register: u64,
    eligible: u64,
    allocated: u64,
    selected: u64,
}

pub(super) fn strata_rows(areas: &crate::area::AreaTree, protocol: &Protocol) -> Vec<StratumRow> {
    protocol
        .strata
        .iter()
        .map(|(code, s)| StratumRow {
            code: code.clone(),
            name: areas.get(code).map(|a| a.name.clone()).unwrap_or_default(),
            register: s.register,
            eligible: s.eligible,
            allocated: s.allocated,
            selected: s.selected,
        })
        .collect()
}

async fn protocol_page(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    name: web::Path<String>,
) -> Result<HttpResponse> {
    user.require_role(&req, &COUNCIL)?;
    let protocol = load(&state, &req, &name).await?;
    let strata = strata_rows(&state.areas(), &protocol);
    let catalog = state.catalog();
    let questionnaires: Vec<(String, String)> = catalog
        .all_current()
        .filter(|p| catalog.open(p.definition.slug.as_str()).is_some())
        .map(|p| (p.definition.slug.to_string(), p.definition.title.get(lang.lang).to_owned()))
        .collect();
    let mut ctx = user.context();
    ctx.insert("p", &protocol);
    ctx.insert("strata", &strata);
    ctx.insert("questionnaires", &questionnaires);
    ctx.insert("base_url", state.site.public_url.as_str());
    Ok(no_store(page(&state, &req, lang, StatusCode::OK, "lottery/protocol.html", ctx)))
}

/// The protocol as published: the file `buurtpeil draw verify` reads.
async fn protocol_json(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
) -> Result<HttpResponse> {
    user.require_role(&req, &COUNCIL)?;
    let protocol = load(&state, &req, &name).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"protocol-{}.json\"", protocol.campaign),
        ))
        .body(protocol.to_json()))
}

fn form_field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).unwrap_or("")
}

async fn invite_drawn(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    user.require_role(&req, &COUNCIL)?;
    user.check_csrf(&req, form_field(&form, "csrf"))?;
    let protocol = load(&state, &req, &name).await?;
    let slug = form_field(&form, "vragenlijst").to_owned();
    if state.catalog().open(&slug).is_none() {
        return Err(refusal(&req, StatusCode::UNPROCESSABLE_ENTITY, "error_no_questionnaire"));
    }
    let Ok(base_url) = BaseUrl::parse(form_field(&form, "basis")) else {
        return Err(refusal(&req, StatusCode::UNPROCESSABLE_ENTITY, "l_error_base_url"));
    };
    let Ok(campaign) = CampaignName::parse(&protocol.campaign) else {
        return Err(refusal(&req, StatusCode::NOT_FOUND, "campaign_unknown"));
    };
    let c = campaign.clone();
    let created = db(&state, &req, move |conn| {
        let people = selected_people(conn, c.as_str()).map_err(|e| DbError::Connect(e.to_string()))?;
        let invitees: Vec<Invitee> =
            people.iter().map(Invitee::of_person).collect::<std::result::Result<_, _>>().map_err(DbError::Connect)?;
        invite::create_invitations(conn, &c, &slug, &base_url, &invitees, crate::clock::today())
            .map_err(|e| DbError::Connect(e.to_string()))
    })
    .await?;
    tracing::info!("campaign {campaign}: {} invitations added", created.added);
    Ok(no_store(
        HttpResponse::SeeOther().insert_header((header::LOCATION, format!("/beheer/campagnes/{campaign}"))).finish(),
    ))
}

/// Letters for every invitation without one: one PDF, new codes.
async fn letters(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    user.require_role(&req, &COUNCIL)?;
    user.check_csrf(&req, form_field(&form, "csrf"))?;
    let Ok(campaign) = CampaignName::parse(&name) else {
        return Err(refusal(&req, StatusCode::NOT_FOUND, "campaign_unknown"));
    };
    let dir = tempfile_dir()?;
    let out = dir.join(format!("brieven-{campaign}.pdf"));
    let (c, path) = (campaign.clone(), out.clone());
    // Database trouble is a 503; everything else print_letters refuses is
    // the council's to fix, and said as such.
    let printed = db(&state, &req, move |conn| {
        match invite::print_letters(conn, &c, &LetterTemplate::default_template(), &path, crate::clock::today()) {
            Err(InviteError::Db(e)) => Err(e),
            other => Ok(other),
        }
    })
    .await;
    let result = match printed {
        Ok(Err(InviteError::UnknownCampaign(_))) => Err(refusal(&req, StatusCode::CONFLICT, "l_no_invitations")),
        Ok(Err(e)) => {
            tracing::warn!("printing the letters of {campaign} failed: {e}");
            Err(refusal(&req, StatusCode::SERVICE_UNAVAILABLE, "error_unavailable"))
        }
        Ok(Ok(0)) => Err(refusal(&req, StatusCode::CONFLICT, "l_no_letters")),
        Ok(Ok(_)) => match std::fs::read(&out) {
            Ok(pdf) => Ok(no_store(
                HttpResponse::Ok()
                    .content_type("application/pdf")
                    .insert_header((
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"brieven-{campaign}.pdf\""),
                    ))
                    .body(pdf),
            )),
            Err(_) => Err(refusal(&req, StatusCode::SERVICE_UNAVAILABLE, "error_unavailable")),
        },
        Err(e) => Err(e),
    };
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// A verification as the page shows it.
#[derive(Serialize)]
struct VerifyOutcome {
    campaign: String,
    matches: bool,
    register_hash: String,
    selection_hash: Option<String>,
    differences: Vec<String>,
}

fn verify_page(
    user: &Professional,
    state: &AppState,
    req: &HttpRequest,
    lang: LangChoice,
    outcome: Option<&VerifyOutcome>,
    problem: Option<String>,
    status: StatusCode,
) -> HttpResponse {
    let mut ctx = user.context();
    ctx.insert("outcome", &outcome);
    ctx.insert("problem", &problem);
    no_store(page(state, req, lang, status, "lottery/verify.html", ctx))
}

/// `GET /beheer/controleren`: upload a protocol and a register to re-run a draw.
async fn verify_form(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
) -> Result<HttpResponse> {
    user.require_role(&req, &COUNCIL)?;
    Ok(verify_page(&user, &state, &req, lang, None, None, StatusCode::OK))
}

/// `POST /beheer/controleren`: the same check as `buurtpeil draw verify`.
/// A mismatch is an answer, not an error: 200 with what differs.
async fn verify_draw(
    user: Professional,
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    payload: Multipart,
) -> Result<HttpResponse> {
    user.require_role(&req, &COUNCIL)?;
    let fail = |problem: String, status| Ok(verify_page(&user, &state, &req, lang, None, Some(problem), status));
    let mut upload = match Upload::read(payload, &["protocol", "register"], MAX_REGISTER).await {
        Ok(u) => u,
        Err(e) => {
            let (key, status) = upload_refusal(e);
            return fail(t(lang, key), status);
        }
    };
    user.check_csrf(&req, upload.field("csrf"))?;
    let (Some(protocol_file), Some(register)) = (upload.take_file("protocol"), upload.take_file("register")) else {
        return fail(t(lang, "verify_error_files"), StatusCode::UNPROCESSABLE_ENTITY);
    };
    let protocol = match std::str::from_utf8(&protocol_file.bytes)
        .map_err(|e| e.to_string())
        .and_then(Protocol::from_json)
    {
        Ok(p) => p,
        Err(e) => return fail(format!("{}: {e}", t(lang, "verify_error_protocol")), StatusCode::UNPROCESSABLE_ENTITY),
    };
    // Re-running a draw of a large register takes a while: off the async threads.
    let checked = web::block(move || {
        parse_register(&register.name, register.bytes.as_slice())
            .map(|people| verify(&protocol, &people))
            .map(|v| (protocol.campaign, v))
            .map_err(|e| e.to_string())
    })
    .await;
    match checked {
        Ok(Ok((campaign, v))) => {
            let outcome = VerifyOutcome {
                campaign,
                matches: v.is_match(),
                register_hash: v.register_hash.clone(),
                selection_hash: v.selection_hash.clone(),
                differences: v.differences.iter().map(ToString::to_string).collect(),
            };
            Ok(verify_page(&user, &state, &req, lang, Some(&outcome), None, StatusCode::OK))
        }
        Ok(Err(e)) => fail(format!("{}: {e}", t(lang, "verify_error_register")), StatusCode::UNPROCESSABLE_ENTITY),
        Err(_) => Err(refusal(&req, StatusCode::SERVICE_UNAVAILABLE, "error_unavailable")),
    }
}

/// The message and status for a form that could not be read.
pub(super) fn upload_refusal(e: UploadError) -> (&'static str, StatusCode) {
    match e {
        UploadError::Broken => ("d_error_upload", StatusCode::BAD_REQUEST),
        UploadError::TooLarge => ("l_error_too_large", StatusCode::PAYLOAD_TOO_LARGE),
    }
}

pub(super) fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("buurtpeil-letters-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).map_err(|_| actix_web::error::ErrorServiceUnavailable("no temporary space"))?;
    Ok(dir)
}
