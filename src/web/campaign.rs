//! The council's page of one campaign (`/beheer/campagnes/{name}`): the
//! response per buurt, the outbox, and what the council does next — send
//! the e-mails, remind, select the panel, publish, purge. Thin handlers over
//! `invite`, `lottery` and `panel`.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::lang::{t, LangChoice};
use super::render::{auto_refresh_on, page, with_refresh};
use super::session::{no_store, refusal, Professional};
use super::state::{blocking_or_refuse, AppState};
use crate::auth::Role;
use crate::db::{AnyConnection, DbError};
use crate::invite::{self, CampaignName, CampaignStatus, InviteError, LetterTemplate, MailTexts};
use crate::lottery;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/beheer/campagnes/{name}", web::get().to(show))
        .route("/beheer/campagnes/{name}/versturen", web::post().to(send))
        .route("/beheer/campagnes/{name}/herinneren", web::post().to(remind))
        .route("/beheer/campagnes/{name}/publiceren", web::post().to(publish))
        .route("/beheer/campagnes/{name}/wissen", web::get().to(purge_confirm))
        .route("/beheer/campagnes/{name}/wissen", web::post().to(purge));
}

pub(super) const COUNCIL: [Role; 2] = [Role::Admin, Role::Council];

type Result<T> = std::result::Result<T, actix_web::Error>;

pub(super) fn form_field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).unwrap_or("")
}

/// The campaign of a path, or 404.
pub(super) fn campaign_name(req: &HttpRequest, raw: &str) -> Result<CampaignName> {
    CampaignName::parse(raw).map_err(|_| refusal(req, StatusCode::NOT_FOUND, "campaign_unknown"))
}

pub(super) fn see_other(location: String) -> HttpResponse {
    no_store(HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish())
}

fn invite_db(e: InviteError) -> DbError {
    match e {
        InviteError::Db(db) => db,
        other => DbError::Connect(other.to_string()),
    }
}

#[derive(Serialize)]
struct RateRow {
    code: String,
    name: String,
    invitations: i64,
    invited: i64,
    used: i64,
    rate: String,
}

fn rate_text(used: i64, invited: i64) -> String {
    if invited == 0 {
        "–".into()
    } else {
        format!("{:.0} %", 100.0 * used as f64 / invited as f64)
    }
}

/// The reminder form as filled in.
#[derive(Serialize, Default)]
struct RemindForm {
    dagen: String,
    ronde: String,
    brieven: bool,
}

/// A message at the top of the page.
#[derive(Serialize)]
struct Notice {
    error: bool,
    text: String,
}

/// What the page shows besides the counts.
struct Extras {
    published_on: Option<chrono::NaiveDate>,
    drawn: bool,
}

async fn status_of(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    name: &CampaignName,
) -> Result<(CampaignStatus, Extras)> {
    let n = name.clone();
    let found = blocking_or_refuse(state, req, move |conn| {
        let status = invite::campaign_status(conn, &n).map_err(invite_db)?;
        let published_on = lottery::published_on(conn, n.as_str()).map_err(lottery_db)?;
        let drawn = lottery::find_campaign(conn, n.as_str()).map_err(lottery_db)?.is_some();
        Ok(status.map(|s| (s, Extras { published_on, drawn })))
    })
    .await?;
    found.ok_or_else(|| refusal(req, StatusCode::NOT_FOUND, "campaign_unknown"))
}

pub(super) fn lottery_db(e: lottery::StoreError) -> DbError {
    match e {
        lottery::StoreError::Db(db) => db,
        other => DbError::Connect(other.to_string()),
    }
}

#[allow(clippy::too_many_arguments)]
async fn render(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    lang: LangChoice,
    user: &Professional,
    name: &CampaignName,
    notice: Option<Notice>,
    remind_form: &RemindForm,
    status: StatusCode,
) -> Result<HttpResponse> {
    let (s, extras) = status_of(state, req, name).await?;
    let areas = state.areas();
    let row = |b: &invite::BuurtRate, code: String, name: String| RateRow {
        code,
        name,
        invitations: b.invitations,
        invited: b.invited,
        used: b.used,
        rate: rate_text(b.used, b.invited),
    };
    let rows: Vec<RateRow> = s
        .buurten
        .iter()
        .map(|b| row(b, b.buurt.clone(), areas.get(&b.buurt).map(|a| a.name.clone()).unwrap_or_default()))
        .collect();
    let mail_problem = match state.mail.mailer() {
        Ok(_) => None,
        Err(super::sending::MailProblem::NotConfigured(key)) => Some(t(lang, key)),
        Err(super::sending::MailProblem::Invalid(why)) => Some(format!("{} {why}", t(lang, "mail_invalid"))),
    };
    let run = state.send_runs.get(name.as_str());
    let mut ctx = user.context();
    ctx.insert("campaign", &s.campaign);
    ctx.insert("questionnaire", &s.questionnaire);
    ctx.insert("rows", &rows);
    ctx.insert("total", &row(&s.total, String::new(), String::new()));
    ctx.insert("outbox", &s.outbox);
    ctx.insert("purged", &s.purged);
    ctx.insert("mail_problem", &mail_problem);
    ctx.insert("run", &run);
    let running = run.as_ref().is_some_and(|r| r.running);
    let refresh = running && auto_refresh_on(req);
    ctx.insert("running", &running);
    ctx.insert("refresh", &refresh);
    ctx.insert("notice", &notice);
    ctx.insert("r", remind_form);
    ctx.insert("published_on", &extras.published_on.map(|d| d.to_string()));
    ctx.insert("drawn", &extras.drawn);
    Ok(with_refresh(no_store(page(state, req, lang, status, "invite/campaign.html", ctx)), refresh))
}

/// `GET /beheer/campagnes/{name}`: invited and used per buurt (counts only),
/// the outbox and the sending in progress.
async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    user: Professional,
    name: web::Path<String>,
) -> Result<HttpResponse> {
    user.require_role(&req, &COUNCIL)?;
    let name = campaign_name(&req, &name)?;
    let form = RemindForm { dagen: "14".into(), ronde: "1".into(), brieven: false };
    render(&state, &req, lang, &user, &name, None, &form, StatusCode::OK).await
}

/// `POST …/versturen`: queues an e-mail for every invitation with an address
/// that has none, and drains the outbox in the background.
async fn send(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    user: Professional,
    name: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    user.require_role(&req, &COUNCIL)?;
    user.check_csrf(&req, form_field(&form, "csrf"))?;
    let name = campaign_name(&req, &name)?;
    let default_form = RemindForm { dagen: "14".into(), ronde: "1".into(), brieven: false };
    let mailer = match state.mail.mailer() {
        Ok(m) => m,
        Err(_) => {
            let notice = Notice { error: true, text: t(lang, "mail_cannot_send") };
            return render(
                &state,
                &req,
                lang,
                &user,
                &name,
                Some(notice),
                &default_form,
                StatusCode::SERVICE_UNAVAILABLE,
            )
            .await;
        }
    };
    let n = name.clone();
    let queued = blocking_or_refuse(&state, &req, move |conn| {
        if !invite::campaign_exists(conn, &n).map_err(invite_db)? {
            return Ok(None);
        }
        let today = crate::clock::today();
        invite::queue_invitation_emails(conn, &n, &MailTexts::default(), today).map(Some).map_err(invite_db)
    })
    .await?;
    let Some(queued) = queued else { return Err(refusal(&req, StatusCode::NOT_FOUND, "campaign_unknown")) };
    tracing::info!("campaign {name}: {queued} e-mails queued");
    super::sending::start(state.send_runs.clone(), state.pool.clone(), name.clone(), mailer);
    Ok(see_other(format!("/beheer/campagnes/{name}")))
}

/// Days after which an unused invitation is reminded: 0 to 365.
fn parse_days(raw: &str) -> Option<u32> {
    raw.trim().parse::<u32>().ok().filter(|d| *d <= 365)
}

/// A reminder round: 1 to 9.
fn parse_round(raw: &str) -> Option<i32> {
    raw.trim().parse::<i32>().ok().filter(|r| (1..=9).contains(r))
}

/// `POST …/herinneren`: queues reminder e-mails for invitations unused after
/// N days (once per round) and sends them; with "brieven", the reminder
/// letters for those without an address come back as a PDF.
async fn remind(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    user: Professional,
    name: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    user.require_role(&req, &COUNCIL)?;
    user.check_csrf(&req, form_field(&form, "csrf"))?;
    let name = campaign_name(&req, &name)?;
    let filled = RemindForm {
        dagen: form_field(&form, "dagen").chars().take(20).collect(),
        ronde: form_field(&form, "ronde").chars().take(20).collect(),
        brieven: !form_field(&form, "brieven").is_empty(),
    };
    let fail = |key: &str| Notice { error: true, text: t(lang, key) };
    let (Some(days), Some(round)) = (parse_days(&filled.dagen), parse_round(&filled.ronde)) else {
        let key = if parse_days(&filled.dagen).is_none() { "remind_error_days" } else { "remind_error_round" };
        return render(&state, &req, lang, &user, &name, Some(fail(key)), &filled, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    };
    let mailer = state.mail.mailer();
    if mailer.is_err() && !filled.brieven {
        let notice = fail("mail_cannot_send");
        return render(&state, &req, lang, &user, &name, Some(notice), &filled, StatusCode::SERVICE_UNAVAILABLE).await;
    }
    let dir = super::lottery::tempfile_dir()?;
    let out = dir.join(format!("herinneringen-{name}.pdf"));
    let (n, path, letters) = (name.clone(), out.clone(), filled.brieven);
    let done = blocking_or_refuse(&state, &req, move |conn: &mut AnyConnection| {
        if !invite::campaign_exists(conn, &n).map_err(invite_db)? {
            return Ok(None);
        }
        let template = LetterTemplate::default_template();
        let letters = letters.then_some((&template, path.as_path()));
        let today = crate::clock::today();
        invite::remind(conn, &n, round, days, &MailTexts::default(), letters, today).map(Some).map_err(invite_db)
    })
    .await;
    let result = match done {
        Err(e) => Err(e),
        Ok(None) => Err(refusal(&req, StatusCode::NOT_FOUND, "campaign_unknown")),
        Ok(Some((emails, printed))) => {
            tracing::info!("campaign {name}: reminder round {round}: {emails} e-mails queued, {printed} letters");
            if let Ok(mailer) = mailer {
                super::sending::start(state.send_runs.clone(), state.pool.clone(), name.clone(), mailer);
            }
            match (printed, std::fs::read(&out)) {
                (1.., Ok(pdf)) => Ok(no_store(
                    HttpResponse::Ok()
                        .content_type("application/pdf")
                        .insert_header((
                            header::CONTENT_DISPOSITION,
                            format!("attachment; filename=\"herinneringen-{name}.pdf\""),
                        ))
                        .body(pdf),
                )),
                _ => Ok(see_other(format!("/beheer/campagnes/{name}"))),
            }
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// `POST …/publiceren`: makes the draw's and the panel's protocols public.
async fn publish(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Professional,
    name: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    user.require_role(&req, &COUNCIL)?;
    user.check_csrf(&req, form_field(&form, "csrf"))?;
    let name = campaign_name(&req, &name)?;
    let n = name.clone();
    let known = blocking_or_refuse(&state, &req, move |conn| {
        let known = lottery::find_campaign(conn, n.as_str()).map_err(lottery_db)?.is_some()
            || invite::campaign_exists(conn, &n).map_err(invite_db)?;
        if known {
            lottery::publish(conn, n.as_str(), crate::clock::today()).map_err(lottery_db)?;
        }
        Ok(known)
    })
    .await?;
    if !known {
        return Err(refusal(&req, StatusCode::NOT_FOUND, "campaign_unknown"));
    }
    Ok(see_other(format!("/campagnes/{name}")))
}

/// 404 unless the campaign has a register or invitations.
pub(super) async fn known_campaign(state: &web::Data<AppState>, req: &HttpRequest, name: &CampaignName) -> Result<()> {
    let n = name.clone();
    let known = blocking_or_refuse(state, req, move |conn| {
        Ok(lottery::find_campaign(conn, n.as_str()).map_err(lottery_db)?.is_some()
            || invite::campaign_exists(conn, &n).map_err(invite_db)?)
    })
    .await?;
    if known {
        Ok(())
    } else {
        Err(refusal(req, StatusCode::NOT_FOUND, "campaign_unknown"))
    }
}

fn purge_page(
    state: &AppState,
    req: &HttpRequest,
    lang: LangChoice,
    user: &Professional,
    name: &CampaignName,
    problem: Option<String>,
    status: StatusCode,
) -> HttpResponse {
    let mut ctx = user.context();
    ctx.insert("done", &(req.query_string() == "gewist=1"));
    ctx.insert("campaign", name.as_str());
    ctx.insert("problem", &problem);
    no_store(page(state, req, lang, status, "invite/purge.html", ctx))
}

/// `GET …/wissen`: what a purge erases and what stays; the council types the
/// campaign's name to confirm.
async fn purge_confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    user: Professional,
    name: web::Path<String>,
) -> Result<HttpResponse> {
    user.require_role(&req, &COUNCIL)?;
    let name = campaign_name(&req, &name)?;
    known_campaign(&state, &req, &name).await?;
    Ok(purge_page(&state, &req, lang, &user, &name, None, StatusCode::OK))
}

/// `POST …/wissen`: the same as `buurtpeil register purge`: the register,
/// the selection, the invitations' contacts, and the panel's people files.
async fn purge(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    user: Professional,
    name: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    user.require_role(&req, &COUNCIL)?;
    user.check_csrf(&req, form_field(&form, "csrf"))?;
    let name = campaign_name(&req, &name)?;
    known_campaign(&state, &req, &name).await?;
    if form_field(&form, "bevestig") != name.as_str() {
        let problem = Some(t(lang, "purge_error_confirm"));
        return Ok(purge_page(&state, &req, lang, &user, &name, problem, StatusCode::UNPROCESSABLE_ENTITY));
    }
    let n = name.clone();
    blocking_or_refuse(&state, &req, move |conn| {
        let today = crate::clock::today();
        if lottery::find_campaign(conn, n.as_str()).map_err(lottery_db)?.is_some() {
            lottery::purge(conn, n.as_str(), today).map_err(lottery_db)?;
        }
        invite::purge_contacts(conn, &n, today).map_err(invite_db)?;
        crate::panel::store::purge(conn, n.as_str())?;
        Ok(())
    })
    .await?;
    tracing::info!("campaign {name}: personal data purged from the web");
    Ok(see_other(format!("/beheer/campagnes/{name}/wissen?gewist=1")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reminder_fields_are_checked() {
        assert_eq!(parse_days("14"), Some(14));
        assert_eq!(parse_days(" 0 "), Some(0));
        for bad in ["", "-1", "366", "veertien", "1e3", "14 dagen"] {
            assert_eq!(parse_days(bad), None, "{bad}");
        }
        assert_eq!(parse_round("1"), Some(1));
        for bad in ["0", "10", "-1", "", "een"] {
            assert_eq!(parse_round(bad), None, "{bad}");
        }
    }
}
