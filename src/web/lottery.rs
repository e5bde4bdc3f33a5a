//! The council's pages for a draw by lot: upload a register and draw
//! (`/beheer/loting`), read and download the protocol, invite the people
//! drawn and print their letters. The same domain calls as the CLI.

use actix_multipart::Multipart;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Serialize;

use super::lang::LangChoice;
use super::render::page;
use super::session::{no_store, refusal, Professional};
use super::state::{blocking_or_refuse, AppState};
use crate::area::{load_tree, Level};
use crate::auth::Role;
use crate::db::{AnyConnection, DbError};
use crate::invite::{self, BaseUrl, CampaignName, Invitee, LetterTemplate};
use crate::lottery::{
    draw_campaign, load_protocol, parse_register_known, selected_people, Allocation, CampaignDraw, CampaignError,
    DrawParams, Person, Protocol, Seed,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/beheer/loting", web::get().to(new_draw))
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

fn t(lang: LangChoice, key: &str) -> String {
    lang.lang.texts().get(key).cloned().unwrap_or_else(|| key.to_owned())
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
    mut payload: Multipart,
) -> Result<HttpResponse> {
    user.require_role(&req, &COUNCIL)?;
    let mut form = DrawForm::default();
    let mut csrf = String::new();
    let mut register: Option<(String, Vec<u8>)> = None;
    while let Some(field) = payload.next().await {
        let Ok(mut field) = field else {
            return Ok(form_page(
                &user,
                &state,
                &req,
                lang,
                &form,
                Some(t(lang, "d_error_upload")),
                StatusCode::BAD_REQUEST,
            ));
        };
        let name = field.name().unwrap_or("").to_owned();
        let file_name = field.content_disposition().and_then(|d| d.get_filename()).unwrap_or("").to_owned();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let Ok(chunk) = chunk else {
                return Ok(form_page(
                    &user,
                    &state,
                    &req,
                    lang,
                    &form,
                    Some(t(lang, "d_error_upload")),
                    StatusCode::BAD_REQUEST,
                ));
            };
            if bytes.len() + chunk.len() > MAX_REGISTER {
                let problem = Some(t(lang, "l_error_too_large"));
                return Ok(form_page(&user, &state, &req, lang, &form, problem, StatusCode::PAYLOAD_TOO_LARGE));
            }
            bytes.extend_from_slice(&chunk);
        }
        let text = || String::from_utf8_lossy(&bytes).trim().chars().take(1000).collect::<String>();
        match name.as_str() {
            "csrf" => csrf = text(),
            "campagne" => form.campagne = text(),
            "aantal" => form.aantal = text(),
            "zaad" => form.zaad = text(),
            "zaadbron" => form.zaadbron = text(),
            "verdeling" => form.verdeling = text(),
            "minimumleeftijd" => form.minimumleeftijd = text(),
            "een_per_adres" => form.een_per_adres = !bytes.is_empty(),
            "uitsluiten_maanden" => form.uitsluiten_maanden = text(),
            "register" => register = Some((file_name.chars().filter(|c| !c.is_control()).take(100).collect(), bytes)),
            _ => {}
        }
    }
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
    let Some((file, bytes)) = register.filter(|(_, b)| !b.is_empty()) else {
        return fail("d_error_no_file", StatusCode::UNPROCESSABLE_ENTITY);
    };
    let today = chrono::Local::now().date_naive();
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

#[derive(Serialize)]
struct StratumRow {
    code: String,
    name: String,
    register: u64,
    eligible: u64,
    allocated: u64,
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
    let areas = state.areas();
    let strata: Vec<StratumRow> = protocol
        .strata
        .iter()
        .map(|(code, s)| StratumRow {
            code: code.clone(),
            name: areas.get(code).map(|a| a.name.clone()).unwrap_or_default(),
            register: s.register,
            eligible: s.eligible,
            allocated: s.allocated,
        })
        .collect();
    let catalog = state.catalog();
    let questionnaires: Vec<(String, String)> = catalog
        .all_current()
        .filter(|p| catalog.open(p.definition.slug.as_str()).is_some())
        .map(|p| (p.definition.slug.to_string(), p.definition.title.get(lang.lang).to_owned()))
        .collect();
    let host = req.connection_info().host().to_owned();
    let scheme = req.connection_info().scheme().to_owned();
    let mut ctx = user.context();
    ctx.insert("p", &protocol);
    ctx.insert("strata", &strata);
    ctx.insert("questionnaires", &questionnaires);
    ctx.insert("base_url", &format!("{scheme}://{host}"));
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
        invite::create_invitations(conn, &c, &slug, &base_url, &invitees, chrono::Local::now().date_naive())
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
    let printed = db(&state, &req, move |conn| {
        invite::print_letters(conn, &c, &LetterTemplate::default_template(), &path, chrono::Local::now().date_naive())
            .map_err(|e| DbError::Connect(e.to_string()))
    })
    .await;
    let result = match printed {
        Ok(0) => Err(refusal(&req, StatusCode::CONFLICT, "l_no_letters")),
        Ok(_) => match std::fs::read(&out) {
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

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("buurtpeil-letters-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).map_err(|_| actix_web::error::ErrorServiceUnavailable("no temporary space"))?;
    Ok(dir)
}
