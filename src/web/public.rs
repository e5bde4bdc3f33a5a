//! The public page of a campaign (`/campagnes/{name}`, no login), once the
//! council has published it: how the draw was done (hashes, counts per
//! buurt, seed and how it was chosen) and each panel selection with the
//! selection probabilities per pseudonymous volunteer (`panel::public`).
//! Nothing here holds a name, an address, contact details or answers.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::campaign::{campaign_name, lottery_db};
use super::lang::LangChoice;
use super::lottery::strata_rows;
use super::render::page;
use super::session::refusal;
use super::state::{blocking_or_refuse, AppState};
use crate::invite::CampaignName;
use crate::lottery::{self, Protocol};
use crate::panel::store::{self, Status};
use crate::panel::PublicSelection;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/campagnes/{name}", web::get().to(show))
        .route("/campagnes/{name}/loting.json", web::get().to(draw_json))
        .route("/campagnes/{name}/panel-{id}.json", web::get().to(panel_json));
}

type Result<T> = std::result::Result<T, actix_web::Error>;

/// What is published of a campaign; 404 (as for an unknown campaign) when
/// it is not published.
struct Published {
    draw: Option<Protocol>,
    /// Done selections, newest first, with their ids.
    selections: Vec<(i32, PublicSelection)>,
    published_on: chrono::NaiveDate,
}

async fn published(state: &web::Data<AppState>, req: &HttpRequest, name: &CampaignName) -> Result<Published> {
    let n = name.as_str().to_owned();
    let found = blocking_or_refuse(state, req, move |conn| {
        let Some(published_on) = lottery::published_on(conn, &n).map_err(lottery_db)? else { return Ok(None) };
        let draw = match lottery::find_campaign(conn, &n).map_err(lottery_db)? {
            Some(_) => lottery::load_protocol(conn, &n).map_err(lottery_db)?,
            None => None,
        };
        let selections = store::list(conn, &n)?
            .into_iter()
            .filter(|s| s.status == Status::Done)
            .filter_map(|s| s.public().map(|p| (s.id, p)))
            .collect();
        Ok(Some(Published { draw, selections, published_on }))
    })
    .await?;
    found.ok_or_else(|| refusal(req, StatusCode::NOT_FOUND, "campaign_unknown"))
}

#[derive(Serialize)]
struct SelectionBlock<'a> {
    id: i32,
    s: &'a PublicSelection,
    min_probability: String,
    volunteers: usize,
    probabilities: Vec<(String, String)>,
}

async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    name: web::Path<String>,
) -> Result<HttpResponse> {
    let name = campaign_name(&req, &name)?;
    let p = published(&state, &req, &name).await?;
    let strata = p.draw.as_ref().map(|d| strata_rows(&state.areas(), d)).unwrap_or_default();
    let blocks: Vec<SelectionBlock> = p
        .selections
        .iter()
        .map(|(id, s)| SelectionBlock {
            id: *id,
            s,
            min_probability: format!("{:.4}", s.min_probability),
            volunteers: s.probabilities.len(),
            probabilities: s
                .probabilities
                .iter()
                .map(|v| (v.volunteer.clone(), format!("{:.4}", v.probability)))
                .collect(),
        })
        .collect();
    let mut ctx = tera::Context::new();
    ctx.insert("campaign", name.as_str());
    ctx.insert("published_on", &p.published_on.to_string());
    ctx.insert("draw", &p.draw);
    ctx.insert("strata", &strata);
    ctx.insert("selections", &blocks);
    Ok(page(&state, &req, lang, StatusCode::OK, "public/campaign.html", ctx))
}

fn json_file(name: String, body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .body(body)
}

/// The draw's protocol: the file `buurtpeil draw verify` reads.
async fn draw_json(state: web::Data<AppState>, req: HttpRequest, name: web::Path<String>) -> Result<HttpResponse> {
    let name = campaign_name(&req, &name)?;
    let p = published(&state, &req, &name).await?;
    let draw = p.draw.ok_or_else(|| refusal(&req, StatusCode::NOT_FOUND, "error_not_found"))?;
    Ok(json_file(format!("protocol-{name}.json"), draw.to_json()))
}

/// A selection's protocol with pseudonyms and probabilities.
async fn panel_json(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let name = campaign_name(&req, &path.0)?;
    let p = published(&state, &req, &name).await?;
    let id: Option<i32> = path.1.parse().ok();
    let (id, s) = p
        .selections
        .into_iter()
        .find(|(i, _)| Some(*i) == id)
        .ok_or_else(|| refusal(&req, StatusCode::NOT_FOUND, "error_not_found"))?;
    Ok(json_file(format!("panel-{name}-{id}.json"), s.to_json()))
}
