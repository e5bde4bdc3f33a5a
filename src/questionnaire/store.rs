//! Published versions: immutable, identified by content hash, numbered per slug.

use std::collections::BTreeMap;
use std::sync::Arc;

use diesel::prelude::*;

use super::model::Definition;
use super::parse::parse_json;
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

/// The questionnaires served: per slug the current version (from the files)
/// and every earlier version, whose answers still count where they fit.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    current: BTreeMap<String, Published>,
    history: BTreeMap<String, Vec<Published>>,
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
}

/// Stores a definition as a new version unless that exact content is known.
pub fn publish(conn: &mut AnyConnection, def: &Definition) -> Result<Published, DbError> {
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
                let last: Option<i32> =
                    qv::table.filter(qv::slug.eq(slug)).select(diesel::dsl::max(qv::version)).first(conn)?;
                let version = last.unwrap_or(0) + 1;
                diesel::insert_into(qv::table)
                    .values((
                        qv::slug.eq(slug),
                        qv::version.eq(version),
                        qv::content_hash.eq(&hash),
                        qv::definition.eq(def.canonical_json().to_string()),
                        qv::published_on.eq(chrono::Local::now().date_naive()),
                    ))
                    .execute(conn)?;
                let id = qv::table.filter(qv::slug.eq(slug).and(qv::version.eq(version))).select(qv::id).first(conn)?;
                (id, version)
            }
        };
        Ok(Published { id, version, content_hash: hash.clone(), definition: Arc::new(def.clone()) })
    })
}

/// Publishes the given definitions and loads all versions of their slugs.
pub fn load_catalog(conn: &mut AnyConnection, defs: &[Definition]) -> Result<Catalog, DbError> {
    let mut catalog = Catalog::default();
    for def in defs {
        let published = publish(conn, def)?;
        let rows: Vec<(i32, i32, String, String)> = qv::table
            .filter(qv::slug.eq(def.slug.as_str()))
            .order(qv::version.asc())
            .select((qv::id, qv::version, qv::content_hash, qv::definition))
            .load(conn)?;
        let history = rows
            .into_iter()
            .filter_map(|(id, version, content_hash, json)| match parse_json("database", &json) {
                Ok(d) => Some(Published { id, version, content_hash, definition: Arc::new(d) }),
                Err(e) => {
                    tracing::warn!("stored version {version} of {} is unreadable and left out: {e}", def.slug);
                    None
                }
            })
            .collect();
        catalog.history.insert(def.slug.to_string(), history);
        catalog.current.insert(def.slug.to_string(), published);
    }
    Ok(catalog)
}
