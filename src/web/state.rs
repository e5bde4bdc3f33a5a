use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use actix_web::web;

use super::error::ApiError;
use crate::area::{load_tree, AreaCode, AreaTree};
use crate::db::{DbError, Pool};
use crate::insight::live::Context;
use crate::insight::perturbation::PerturbationTable;
use crate::insight::{LiveResults, ResultSet};
use crate::questionnaire::{catalog_mark, read_catalog, Catalog, CatalogMark};
use crate::survey::open_link::OpenLinkLimit;
use crate::survey::{wave, Writer};

/// What every handler shares. Built once at start.
pub struct AppState {
    pub pool: Pool,
    pub writer: Writer,
    pub tera: tera::Tera,
    /// How public figures are perturbed and released.
    pub publication: Publication,
    pub mail: super::sending::MailSettings,
    /// Responses one address may start per buurt through an open link.
    pub open_links: OpenLinkLimit,
    /// This server process's name, shown beside the jobs it runs.
    pub instance: String,
    pub send_runs: Arc<super::sending::SendRuns>,
    /// The public URL and the trusted proxies.
    pub site: super::origin::Site,
    catalog: RwLock<Arc<Catalog>>,
    /// What the kept catalog was read from (None: not yet known).
    catalog_mark: std::sync::Mutex<Option<CatalogMark>>,
    areas: RwLock<CachedAreas>,
    results: LiveResults,
}

/// How public figures are protected: k, the perturbation table, and how
/// often new responses are released.
#[derive(Debug, Clone)]
pub struct Publication {
    pub min_cell: u64,
    pub perturbation: PerturbationTable,
    pub release_every: Duration,
    /// Responses one address may start per buurt and hour (open links).
    pub open_link_per_hour: usize,
}

/// The area list, when it was last read, and a counter of its changes.
#[derive(Clone)]
struct CachedAreas {
    tree: Arc<AreaTree>,
    read_at: Instant,
    generation: u64,
}

const AREA_RELOAD_PAUSE: Duration = Duration::from_secs(1);

/// How often the catalog in the database is compared with the kept one.
pub const CATALOG_FOLLOW: Duration = Duration::from_millis(500);

impl AppState {
    #[allow(clippy::too_many_arguments)] // built once, in `Application::build`
    pub fn new(
        pool: Pool,
        writer: Writer,
        catalog: Catalog,
        tera: tera::Tera,
        publication: Publication,
        areas: AreaTree,
        mail: super::sending::MailSettings,
        site: super::origin::Site,
    ) -> AppState {
        AppState {
            site,
            pool,
            results: LiveResults::new(&writer),
            writer,
            mail,
            open_links: OpenLinkLimit::per_hour(publication.open_link_per_hour),
            instance: crate::panel::jobs::instance_name(),
            send_runs: Arc::default(),
            catalog: RwLock::new(Arc::new(catalog)),
            catalog_mark: std::sync::Mutex::default(),
            tera,
            publication,
            areas: RwLock::new(CachedAreas { tree: Arc::new(areas), read_at: Instant::now(), generation: 0 }),
        }
    }

    /// The questionnaires as they are now; the designer may publish more.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Re-reads every version after a publish or an archive. Blocking.
    pub fn reload_catalog(&self) -> Result<Arc<Catalog>, DbError> {
        let mut conn = self.pool.get()?;
        let mark = catalog_mark(&mut conn)?;
        let fresh = Arc::new(read_catalog(&mut conn)?);
        *self.catalog.write().unwrap_or_else(|e| e.into_inner()) = fresh.clone();
        *self.catalog_mark.lock().unwrap_or_else(|e| e.into_inner()) = Some(mark);
        Ok(fresh)
    }

    /// Re-reads the catalog when the database holds another one than kept:
    /// another server process published or archived. Blocking; returns
    /// whether it changed.
    pub fn follow_catalog(&self) -> Result<bool, DbError> {
        let mark = catalog_mark(&mut *self.pool.get()?)?;
        let kept = self.catalog_mark.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if kept.as_ref() == Some(&mark) {
            return Ok(false);
        }
        let first = kept.is_none();
        self.reload_catalog()?;
        Ok(!first)
    }

    /// Follows the catalog in the database from a thread of its own, every
    /// [`CATALOG_FOLLOW`]: what one instance publishes or archives, every
    /// instance serves within that bound (docs/deployment.md).
    pub fn follow_catalog_in_background(state: web::Data<AppState>) -> std::io::Result<()> {
        std::thread::Builder::new().name("catalog".into()).spawn(move || loop {
            match state.follow_catalog() {
                Ok(true) => tracing::info!("the questionnaires changed in the database: re-read"),
                Ok(false) => {}
                Err(e) => {
                    tracing::debug!("following the questionnaires failed: {e}");
                    std::thread::sleep(CATALOG_FOLLOW * 10);
                }
            }
            std::thread::sleep(CATALOG_FOLLOW);
        })?;
        Ok(())
    }

    pub fn areas(&self) -> Arc<AreaTree> {
        self.areas.read().unwrap_or_else(|e| e.into_inner()).tree.clone()
    }

    /// Re-reads the areas (they may be imported while the server runs);
    /// results are recomputed only when something changed. Blocking.
    pub fn refresh_areas(&self) -> Result<Arc<AreaTree>, DbError> {
        let fresh = load_tree(&mut *self.pool.get()?)?;
        let mut guard = self.areas.write().unwrap_or_else(|e| e.into_inner());
        guard.read_at = Instant::now();
        if *guard.tree != fresh {
            guard.tree = Arc::new(fresh);
            guard.generation += 1;
        }
        Ok(guard.tree.clone())
    }

    /// The area list, re-read first when a code is not known, at most every
    /// once a second. Blocking: call from a blocking context.
    pub fn areas_knowing(&self, code: &str) -> Result<Arc<AreaTree>, DbError> {
        let cached = self.areas.read().unwrap_or_else(|e| e.into_inner()).clone();
        if cached.tree.get(code).is_some() || cached.read_at.elapsed() < AREA_RELOAD_PAUSE {
            return Ok(cached.tree);
        }
        self.refresh_areas()
    }

    /// Every safe table of a questionnaire (per wave and over all
    /// responses), kept current as responses arrive; None for an unknown or
    /// identified questionnaire. Blocking: call from a blocking context.
    pub fn results(&self, slug: &str) -> Result<Option<Arc<ResultSet>>, DbError> {
        let waves = wave::list(&mut *self.pool.get()?, slug)?;
        let (tree, area_generation) = {
            let areas = self.areas.read().unwrap_or_else(|e| e.into_inner());
            (areas.tree.clone(), areas.generation)
        };
        let catalog = self.catalog();
        let cx = Context {
            catalog: &catalog,
            tree: &tree,
            area_generation,
            waves,
            min_cell: self.publication.min_cell,
            perturbation: &self.publication.perturbation,
            release_every: self.publication.release_every,
        };
        self.results.get(&self.pool, slug, cx)
    }
}

/// Whether a buurt is known; the area list is re-read first when the code is
/// not in the cached one (areas may be imported while the server runs).
pub async fn knows_buurt(state: &web::Data<AppState>, code: &AreaCode) -> Result<bool, ApiError> {
    if state.areas().buurt(code.as_str()).is_some() {
        return Ok(true);
    }
    let (state, code) = (state.clone(), code.to_string());
    Ok(web::block(move || state.areas_knowing(&code).map(|t| t.buurt(&code).is_some())).await??)
}

/// Runs a database job off the async threads: the one way handlers reach
/// the database.
pub async fn blocking<T: Send + 'static>(
    state: &web::Data<AppState>,
    job: impl FnOnce(&mut crate::db::AnyConnection) -> Result<T, DbError> + Send + 'static,
) -> Result<T, DbError> {
    let state = state.clone();
    web::block(move || job(&mut *state.pool.get()?)).await.map_err(|e| DbError::Connect(e.to_string()))?
}

/// `blocking` for the professionals' pages: a database failure becomes the
/// "unavailable" refusal (a page, or JSON under /api).
pub async fn blocking_or_refuse<T: Send + 'static>(
    state: &web::Data<AppState>,
    req: &actix_web::HttpRequest,
    job: impl FnOnce(&mut crate::db::AnyConnection) -> Result<T, DbError> + Send + 'static,
) -> Result<T, actix_web::Error> {
    blocking(state, job).await.map_err(|e| {
        tracing::error!("{}: {e}", req.path());
        super::session::refusal(req, actix_web::http::StatusCode::SERVICE_UNAVAILABLE, "error_unavailable")
    })
}
