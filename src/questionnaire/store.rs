//! Published versions: immutable, identified by content hash, numbered per slug.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use diesel::prelude::*;

use super::model::{Definition, PrivacyChange};
use super::parse::parse_json;
use crate::db::schema::questionnaire_archive as qa;
use crate::db::schema::questionnaire_versions as qv;
use crate::db::{AnyConnection, DbError};

#[derive(Debug, Clone)]
pub struct Published {
    /// Database id; responses point to it.
    pub id: i32,
    /// 1, 2, 3… per slug.
    pub version: i32,
    pub content_hash: String,
    pub definition: Arc<Definition>,
}

/// The questionnaires served: per slug the current version (the highest
/// number, from a file or the designer) and every earlier version, whose
/// answers still count where they fit.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    current: BTreeMap<String, Published>,
    history: BTreeMap<String, Vec<Published>>,
    archived: BTreeSet<String>,
}

impl Catalog {
    pub fn current(&self, slug: &str) -> Option<&Published> {
        self.current.get(slug)
    }

    pub fn all_current(&self) -> impl Iterator<Item = &Published> {
        self.current.values()
    }

    /// Every published version of a slug, oldest first.
    pub fn versions(&self, slug: &str) -> &[Published] {
        self.history.get(slug).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every published version of every slug.
    pub fn all_versions(&self) -> impl Iterator<Item = &Published> {
        self.history.values().flatten()
    }

    /// A published version by its database id (a draft never has one).
    pub fn version_by_id(&self, id: i32) -> Option<&Published> {
        self.history.values().flatten().find(|p| p.id == id)
    }

    /// Archived questionnaires take no responses; their results remain.
    pub fn is_archived(&self, slug: &str) -> bool {
        self.archived.contains(slug)
    }

    /// The current version, if residents may answer it.
    pub fn open(&self, slug: &str) -> Option<&Published> {
        self.current(slug).filter(|_| !self.is_archived(slug))
    }
}

/// Who asks for a new version to be published: changes to the privacy
/// promise (kind, purpose, retention) need an administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    /// A designer who is not an administrator, or a questionnaire file
    /// loaded at start.
    Designer,
    /// A professional with the role `admin`, in the designer.
    Administrator,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(
        "{slug}: only an administrator may publish this version, because it changes what residents were promised: \
         {}",
        changes.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    NeedsAdministrator { slug: String, changes: Vec<PrivacyChange> },
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for PublishError {
    fn from(e: diesel::result::Error) -> PublishError {
        PublishError::Db(e.into())
    }
}

/// Stores a definition as a new version unless that exact content is known.
/// A new version that changes the kind, removes the purpose or keeps answers
/// longer than the current version is refused unless an administrator
/// approves it (checked in the same transaction that stores it).
pub fn publish(conn: &mut AnyConnection, def: &Definition, approval: Approval) -> Result<Published, PublishError> {
    let hash = def.content_hash();
    let slug = def.slug.as_str();
    conn.transaction(|conn| {
        let existing: Option<(i32, i32)> = qv::table
            .filter(qv::slug.eq(slug).and(qv::content_hash.eq(&hash)))
            .select((qv::id, qv::version))
            .first(conn)
            .optional()?;
        let (id, version) = match existing {
            Some(found) => found,
            None => {
                let last: Option<(i32, String)> = qv::table
                    .filter(qv::slug.eq(slug))
                    .order(qv::version.desc())
                    .select((qv::version, qv::definition))
                    .first(conn)
                    .optional()?;
                if approval != Approval::Administrator {
                    // A stored version that no longer reads is not served, so
                    // it promised nothing.
                    if let Some(previous) = last.as_ref().and_then(|(_, json)| parse_json("database", json).ok()) {
                        let changes = def.privacy_changes(&previous);
                        if !changes.is_empty() {
                            return Err(PublishError::NeedsAdministrator { slug: slug.to_owned(), changes });
                        }
                    }
                }
                let version = last.map_or(0, |(v, _)| v) + 1;
                diesel::insert_into(qv::table)
                    .values((
                        qv::slug.eq(slug),
                        qv::version.eq(version),
                        qv::content_hash.eq(&hash),
                        qv::definition.eq(def.canonical_json().to_string()),
                        qv::published_on.eq(crate::clock::today()),
                    ))
                    .execute(conn)?;
                let id = qv::table.filter(qv::slug.eq(slug).and(qv::version.eq(version))).select(qv::id).first(conn)?;
                (id, version)
            }
        };
        Ok(Published { id, version, content_hash: hash.clone(), definition: Arc::new(def.clone()) })
    })
}

/// Publishes the questionnaire files (a file whose content is already known
/// adds nothing) and loads every stored version. A file may not change the
/// privacy promise of its questionnaire: an administrator publishes such a
/// change in the designer.
pub fn load_catalog(conn: &mut AnyConnection, defs: &[Definition]) -> Result<Catalog, PublishError> {
    for def in defs {
        publish(conn, def, Approval::Designer)?;
    }
    Ok(read_catalog(conn)?)
}

/// Every stored version of every questionnaire.
pub fn read_catalog(conn: &mut AnyConnection) -> Result<Catalog, DbError> {
    let rows: Vec<(i32, String, i32, String, String)> = qv::table
        .order((qv::slug.asc(), qv::version.asc()))
        .select((qv::id, qv::slug, qv::version, qv::content_hash, qv::definition))
        .load(conn)?;
    let mut catalog = Catalog::default();
    for (id, slug, version, content_hash, json) in rows {
        match parse_json("database", &json) {
            Ok(d) => {
                let p = Published { id, version, content_hash, definition: Arc::new(d) };
                catalog.current.insert(slug.clone(), p.clone());
                catalog.history.entry(slug).or_default().push(p);
            }
            Err(e) => tracing::warn!("stored version {version} of {slug} is unreadable and left out: {e}"),
        }
    }
    catalog.archived = qa::table.select(qa::slug).load::<String>(conn)?.into_iter().collect();
    Ok(catalog)
}

/// What a catalog was read from, cheaply: how many versions, the newest
/// one's id, and the archived slugs. Versions never change once published,
/// so equal marks mean equal catalogs; another server process publishing or
/// archiving changes the mark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogMark {
    versions: i64,
    newest: Option<i32>,
    archived: Vec<String>,
}

pub fn catalog_mark(conn: &mut AnyConnection) -> Result<CatalogMark, DbError> {
    let (versions, newest): (i64, Option<i32>) =
        qv::table.select((diesel::dsl::count_star(), diesel::dsl::max(qv::id))).first(conn)?;
    let archived = qa::table.order(qa::slug.asc()).select(qa::slug).load::<String>(conn)?;
    Ok(CatalogMark { versions, newest, archived })
}

/// Archives a questionnaire (no more responses) or takes it back.
pub fn set_archived(conn: &mut AnyConnection, slug: &str, archived: bool) -> Result<(), DbError> {
    diesel::delete(qa::table.find(slug)).execute(conn)?;
    if archived {
        diesel::insert_into(qa::table)
            .values((qa::slug.eq(slug), qa::archived_on.eq(crate::clock::today())))
            .execute(conn)?;
    }
    Ok(())
}
