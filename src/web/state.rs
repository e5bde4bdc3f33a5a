use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use actix_web::web;

use super::error::ApiError;
use crate::area::{load_tree, AreaCode, AreaTree};
use crate::db::{DbError, Pool};
use crate::insight::{build_table, fetch_counts, SafeTable};
use crate::questionnaire::{read_catalog, Catalog, Kind};
use crate::survey::{Wave, Writer};

/// What every handler shares. Built once at start.
pub struct AppState {
    pub pool: Pool,
    pub writer: Writer,
    pub tera: tera::Tera,
    pub min_cell: u64,
    pub mail: super::sending::MailSettings,
    pub send_runs: Arc<super::sending::SendRuns>,
    catalog: RwLock<Arc<Catalog>>,
    areas: RwLock<CachedAreas>,
    tables: Mutex<HashMap<(String, Option<i32>), CachedTable>>,
}

/// The area list, when it was last read, and a counter of its changes.
#[derive(Clone)]
struct CachedAreas {
    tree: Arc<AreaTree>,
    read_at: Instant,
    generation: u64,
}

/// A safe table and what it was computed from.
struct CachedTable {
    responses: u64,
    areas: u64,
    version_id: i32,
    wave: Option<Wave>,
    table: Arc<SafeTable>,
}

const AREA_RELOAD_PAUSE: Duration = Duration::from_secs(1);

impl AppState {
    pub fn new(
        pool: Pool,
        writer: Writer,
        catalog: Catalog,
        tera: tera::Tera,
        min_cell: u64,
        areas: AreaTree,
        mail: super::sending::MailSettings,
    ) -> AppState {
        AppState {
            pool,
            writer,
            mail,
            send_runs: Arc::default(),
            catalog: RwLock::new(Arc::new(catalog)),
            tera,
            min_cell,
            areas: RwLock::new(CachedAreas { tree: Arc::new(areas), read_at: Instant::now(), generation: 0 }),
            tables: Mutex::new(HashMap::new()),
        }
    }

    /// The questionnaires as they are now; the designer may publish more.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Re-reads every version after a publish or an archive. Blocking.
    pub fn reload_catalog(&self) -> Result<Arc<Catalog>, DbError> {
        let fresh = Arc::new(read_catalog(&mut *self.pool.get()?)?);
        *self.catalog.write().unwrap_or_else(|e| e.into_inner()) = fresh.clone();
        Ok(fresh)
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

    /// The safe table of a questionnaire, of all its responses or of one
    /// wave, recomputed only after new responses, areas or versions arrived.
    /// Blocking: call from a blocking context.
    pub fn safe_table(&self, slug: &str, wave: Option<&Wave>) -> Result<Option<Arc<SafeTable>>, DbError> {
        let catalog = self.catalog();
        // Identified answers (talent scan) are never part of public results.
        let Some(current) = catalog.current(slug).filter(|p| p.definition.kind == Kind::Anonymous) else {
            return Ok(None);
        };
        let generation = self.writer.generation();
        let area_generation = self.areas.read().unwrap_or_else(|e| e.into_inner()).generation;
        let key = (slug.to_owned(), wave.map(|w| w.id));
        if let Some(cached) = self.tables.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            if cached.responses == generation
                && cached.areas == area_generation
                && cached.version_id == current.id
                && cached.wave.as_ref() == wave
            {
                return Ok(Some(cached.table.clone()));
            }
        }
        let versions = catalog.versions(slug);
        let ids: Vec<i32> = versions.iter().map(|v| v.id).collect();
        let counts = fetch_counts(&mut *self.pool.get()?, &ids, wave)?;
        let table = Arc::new(build_table(&self.areas(), current, versions, &counts, self.min_cell));
        self.tables.lock().unwrap_or_else(|e| e.into_inner()).insert(
            key,
            CachedTable {
                responses: generation,
                areas: area_generation,
                version_id: current.id,
                wave: wave.cloned(),
                table: table.clone(),
            },
        );
        Ok(Some(table))
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
