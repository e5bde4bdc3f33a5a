//! Builds the application in one place, so the binary and the tests run the
//! same server (tests on port 0).

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::http::{header, StatusCode};
use actix_web::middleware::{self, Compress, DefaultHeaders, Logger};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

use super::api;
use super::error::ApiError;
use super::lang::LangChoice;
use super::render::{error_page, page, templates, STYLESHEET};
use super::session::AuthState;
use super::state::AppState;
use crate::area::load_tree;
use crate::config::Config;
use crate::db::{connect, DbError};
use crate::questionnaire::{load_catalog, load_dir, DefinitionError, Kind};
use crate::survey::Writer;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("questionnaire: {0}")]
    Questionnaire(#[from] DefinitionError),
    #[error(
        "questionnaire {0} (from the questionnaire folder: a file may not make this change; restore the file, or have \
         an administrator import it in the designer and publish it there)"
    )]
    Publish(crate::questionnaire::PublishError),
    #[error("templates: {0}")]
    Templates(#[from] tera::Error),
    #[error("cannot start a background thread: {0}")]
    Thread(std::io::Error),
    #[error("e-mail: {0}")]
    Mail(#[from] crate::invite::InviteError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
}

/// How often the area list is re-read, so imports reach a running server.
const AREA_REFRESH: std::time::Duration = std::time::Duration::from_secs(30);

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    pub fn build(config: &Config) -> Result<Application, StartError> {
        config.check()?;
        let listener = TcpListener::bind(config.bind)
            .map_err(|source| StartError::Bind { addr: config.bind.to_string(), source })?;
        let port =
            listener.local_addr().map_err(|source| StartError::Bind { addr: config.bind.to_string(), source })?.port();
        // Every date from here on is decided in the municipality's zone.
        crate::clock::install(crate::clock::Clock::system(config.time_zone));
        let pool = connect(&config.database_url, config.pool_size)?;
        let defs = load_dir(&config.questionnaires_dir)?;
        let (catalog, tree) = {
            let mut conn = pool.get().map_err(DbError::from)?;
            let catalog = load_catalog(&mut conn, &defs).map_err(|e| match e {
                crate::questionnaire::PublishError::Db(e) => StartError::Db(e),
                e => StartError::Publish(e),
            })?;
            let placed = crate::insight::weighting::fill_pending_cells(&mut conn, &catalog)?;
            if placed > 0 {
                tracing::info!("the weighting cells of {placed} earlier responses were stored with their answers");
            }
            (catalog, load_tree(&mut conn)?)
        };
        if tree.is_empty() {
            tracing::warn!("no areas are known yet: import them with `buurtpeil areas import FILE.csv`");
        }
        let writer = Writer::start(pool.clone()).map_err(StartError::Thread)?;
        let mail = super::sending::MailSettings(config.mail.clone());
        // Without a public URL, links point where this server listens (port
        // 0 resolved).
        let mut listening = config.clone();
        listening.bind.set_port(port);
        let site = super::origin::Site { public_url: listening.links_base(), proxies: config.trusted_proxies.clone() };
        let publication = super::state::Publication {
            min_cell: config.min_cell,
            perturbation: config.perturbation.clone(),
            release_every: config.release_every,
            open_link_per_hour: config.open_link_per_hour,
        };
        let state = web::Data::new(AppState::new(pool, writer, catalog, templates()?, publication, tree, mail, site));
        let previews = web::Data::new(super::design::PreviewStore::default());
        let auth = web::Data::new(AuthState::new(config.session_key.as_ref()));
        let mail = super::talent_link::MailSwitch(config.mail.is_some());
        if let Some(settings) = &config.mail {
            let mailer = crate::invite::SmtpMailer::new(&settings.smtp_url, &settings.from)?;
            let sender = state.clone();
            std::thread::Builder::new()
                .name("talent-mail".into())
                .spawn(move || super::talent_link::mail_loop(&sender, &mailer))
                .map_err(StartError::Thread)?;
        }
        let mail = web::Data::new(mail);
        let watcher = state.clone();
        let renewal = config.talent_renewal;
        std::thread::Builder::new()
            .name("housekeeping".into())
            .spawn(move || {
                for round in 0u64.. {
                    // Unfinished responses and identified answers past their retention:
                    // at start, then hourly.
                    if round % (3600 / AREA_REFRESH.as_secs()) == 0 {
                        let purged = watcher
                            .pool
                            .get()
                            .map_err(DbError::from)
                            .and_then(|mut c| crate::survey::partial::purge(&mut c, crate::clock::today()));
                        match purged {
                            Ok(0) => {}
                            Ok(n) => tracing::info!("deleted {n} unfinished responses past their retention"),
                            Err(e) => tracing::warn!("deleting old unfinished responses failed: {e}"),
                        }
                        let expired = watcher.pool.get().map_err(DbError::from).and_then(|mut c| {
                            crate::survey::purge_expired(&mut c, &watcher.catalog(), crate::clock::today())
                        });
                        match expired {
                            Ok(0) => {}
                            Ok(n) => tracing::info!("deleted {n} identified responses past their retention"),
                            Err(e) => tracing::warn!("deleting identified responses past their retention failed: {e}"),
                        }
                        let renewed =
                            watcher.pool.get().map_err(DbError::from).and_then(|mut c| {
                                crate::talent::profile::renew(&mut c, renewal, crate::clock::today())
                            });
                        match renewed {
                            Ok(r) if r.flagged + r.erased > 0 => tracing::info!(
                                "talent profiles: {} asked to renew, {} erased after not renewing",
                                r.flagged,
                                r.erased
                            ),
                            Ok(_) => {}
                            Err(e) => tracing::warn!("renewing talent profiles failed: {e}"),
                        }
                    }
                    std::thread::sleep(AREA_REFRESH);
                    if let Err(e) = watcher.refresh_areas() {
                        tracing::warn!("re-reading the areas failed: {e}");
                    }
                }
            })
            .map_err(StartError::Thread)?;
        AppState::follow_catalog_in_background(state.clone()).map_err(StartError::Thread)?;
        // Selections whose instance died are taken over (panel::jobs).
        crate::panel::jobs::follow(state.pool.clone(), state.instance.clone()).map_err(StartError::Thread)?;
        // Results are read from the database once per questionnaire, then
        // kept current; reading them now spares the first visitor the wait.
        let warming = state.clone();
        std::thread::Builder::new()
            .name("results-warm-up".into())
            .spawn(move || {
                let catalog = warming.catalog();
                for slug in catalog.all_current().map(|p| p.definition.slug.to_string()).collect::<Vec<_>>() {
                    if let Err(e) = warming.results(&slug) {
                        tracing::warn!("reading the results of {slug} failed: {e}");
                    }
                }
            })
            .map_err(StartError::Thread)?;
        let server = HttpServer::new(move || {
            App::new()
                // Path and status only: no IP address, no query, no body,
                // and no token (`/i/{token}` is logged as `/i/…`, however spelled).
                .wrap(
                    Logger::new("%{path}xi %s %b %Dms")
                        .custom_request_replace("path", |req| super::log_path::loggable_path(req.path())),
                )
                .wrap(Compress::default())
                .wrap(
                    DefaultHeaders::new()
                        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                        .add((header::REFERRER_POLICY, "no-referrer"))
                        .add((header::X_FRAME_OPTIONS, "DENY"))
                        .add((header::CONTENT_SECURITY_POLICY, "default-src 'self'; img-src 'self' data:; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")),
                )
                // HTTPS as a trusted proxy says: browsers keep to it for a year.
                .wrap(middleware::from_fn(super::origin::strict_transport_security))
                .app_data(state.clone())
                .app_data(auth.clone())
                .app_data(previews.clone())
                .app_data(mail.clone())
                .app_data(web::FormConfig::default().limit(api::MAX_BODY).error_handler(|e, _| {
                    let status = match e {
                        actix_web::error::UrlencodedError::Overflow { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                        _ => StatusCode::BAD_REQUEST,
                    };
                    actix_web::error::InternalError::from_response(e, HttpResponse::build(status).content_type("text/plain; charset=utf-8").body("Het formulier kon niet worden gelezen. / The form could not be read.")).into()
                }))
                .app_data(web::QueryConfig::default().error_handler(|e, _| ApiError::BadRequest(format!("the query string is not valid: {e}")).into()))
                .app_data(web::PathConfig::default().error_handler(|e, _| ApiError::BadRequest(format!("the path is not valid: {e}")).into()))
                .configure(api::routes)
                .configure(super::resident::routes)
                .configure(super::results_page::routes)
                .configure(super::map_page::routes)
                .configure(super::report_page::routes)
                .configure(super::free_text_page::routes)
                .configure(super::talent_map_page::routes)
                .configure(super::accounts::routes)
                .configure(super::design::routes)
                .configure(super::invite::routes)
                .configure(super::campaign::routes)
                .configure(super::panel::routes)
                .configure(super::public::routes)
                .configure(super::lottery::routes)
                .configure(super::talent::routes)
                .configure(super::talent_link::routes)
                .route("/", web::get().to(index))
                .route("/static/buurtpeil.css", web::get().to(stylesheet))
                .default_service(web::to(not_found))
        })
        .listen(listener)
        .map_err(|source| StartError::Bind { addr: config.bind.to_string(), source })?
        .run();
        Ok(Application { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

async fn index(state: web::Data<AppState>, req: HttpRequest, lang: LangChoice) -> HttpResponse {
    let catalog = state.catalog();
    let list: Vec<_> = catalog
        .all_current()
        .filter(|p| !catalog.is_archived(p.definition.slug.as_str()))
        .map(|p| {
            let public_results = p.definition.kind == Kind::Anonymous;
            (p.definition.slug.as_str(), p.definition.title.get(lang.lang), public_results)
        })
        .collect();
    let mut ctx = tera::Context::new();
    ctx.insert("questionnaires", &list);
    page(&state, &req, lang, StatusCode::OK, "index.html", ctx)
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(STYLESHEET)
}

async fn not_found(state: web::Data<AppState>, req: HttpRequest, lang: LangChoice) -> HttpResponse {
    error_page(&state, &req, lang, StatusCode::NOT_FOUND, "error_not_found")
}
