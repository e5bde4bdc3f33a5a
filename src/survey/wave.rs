//! Waves (metingen): periods in which a questionnaire is open, for all
//! buurten or a chosen set. Waves of one questionnaire never overlap in days
//! and buurten, so a response's date and buurt say which wave it belongs to
//! without storing anything more about it.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::area::AreaCode;
use crate::db::schema::{wave_buurten as wb, waves as w};
use crate::db::{AnyConnection, DbError};
use crate::questionnaire::Slug;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Wave {
    pub id: i32,
    pub slug: String,
    pub name: String,
    pub opens_on: NaiveDate,
    /// Last day included; None: open until closed.
    pub closes_on: Option<NaiveDate>,
    /// Closed early: no more responses (the closing day still counts).
    pub stopped: bool,
    /// Empty: every buurt.
    pub buurten: BTreeSet<String>,
    /// Responses only through a personal invitation, not the open link.
    pub invitation_only: bool,
}

impl Wave {
    /// Whether a response given on `day` in `buurt` belongs to this wave.
    pub fn covers(&self, day: NaiveDate, buurt: &str) -> bool {
        day >= self.opens_on
            && self.closes_on.is_none_or(|c| day <= c)
            && (self.buurten.is_empty() || self.buurten.contains(buurt))
    }

    /// "Januari (2026-01-01 – 2026-01-31)": the wave as lists and reports name it.
    pub fn label(&self) -> String {
        let until = self.closes_on.map(|c| c.to_string()).unwrap_or_default();
        format!("{} ({} – {until})", self.name, self.opens_on)
    }

    /// Whether the wave takes responses today.
    pub fn accepts(&self, today: NaiveDate, buurt: &str) -> bool {
        !self.stopped && self.covers(today, buurt)
    }

    fn overlaps(&self, other: &Wave) -> bool {
        let days = self.opens_on <= other.closes_on.unwrap_or(NaiveDate::MAX)
            && other.opens_on <= self.closes_on.unwrap_or(NaiveDate::MAX);
        let places = self.buurten.is_empty() || other.buurten.is_empty() || !self.buurten.is_disjoint(&other.buurten);
        days && places
    }
}

/// A wave as a professional asks for it, checked.
#[derive(Debug, Clone)]
pub struct NewWave {
    pub slug: Slug,
    pub name: String,
    pub opens_on: NaiveDate,
    pub closes_on: Option<NaiveDate>,
    pub buurten: Vec<AreaCode>,
    pub invitation_only: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum WaveError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("give the wave a name of 1 to 100 characters")]
    Name,
    #[error("the last day ({closes}) is before the first day ({opens})")]
    ClosesBeforeOpens { opens: NaiveDate, closes: NaiveDate },
    #[error("this wave overlaps wave {0:?} in days and buurten; a response must belong to one wave")]
    Overlaps(String),
    #[error("there is no such wave")]
    NotFound,
}

impl From<diesel::result::Error> for WaveError {
    fn from(e: diesel::result::Error) -> WaveError {
        WaveError::Db(e.into())
    }
}

/// Every wave of a questionnaire, oldest first.
pub fn list(conn: &mut AnyConnection, slug: &str) -> Result<Vec<Wave>, DbError> {
    type Row = (i32, String, String, NaiveDate, Option<NaiveDate>, bool, bool);
    let rows: Vec<Row> = w::table
        .filter(w::slug.eq(slug))
        .order((w::opens_on.asc(), w::id.asc()))
        .select((w::id, w::slug, w::name, w::opens_on, w::closes_on, w::stopped, w::invitation_only))
        .load(conn)?;
    let ids: Vec<i32> = rows.iter().map(|r| r.0).collect();
    let places: Vec<(i32, String)> =
        wb::table.filter(wb::wave_id.eq_any(&ids)).select((wb::wave_id, wb::buurt)).load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, slug, name, opens_on, closes_on, stopped, invitation_only)| Wave {
            id,
            slug,
            name,
            opens_on,
            closes_on,
            stopped,
            invitation_only,
            buurten: places.iter().filter(|(w, _)| *w == id).map(|(_, b)| b.clone()).collect(),
        })
        .collect())
}

pub fn find(conn: &mut AnyConnection, slug: &str, id: i32) -> Result<Option<Wave>, DbError> {
    Ok(list(conn, slug)?.into_iter().find(|w| w.id == id))
}

/// Opens a new wave, unless it overlaps another wave of the questionnaire.
pub fn create(conn: &mut AnyConnection, new: &NewWave, today: NaiveDate) -> Result<Wave, WaveError> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(WaveError::Name);
    }
    if let Some(closes) = new.closes_on.filter(|c| *c < new.opens_on) {
        return Err(WaveError::ClosesBeforeOpens { opens: new.opens_on, closes });
    }
    conn.transaction(|conn| {
        let candidate = Wave {
            id: 0,
            slug: new.slug.to_string(),
            name: name.to_owned(),
            opens_on: new.opens_on,
            closes_on: new.closes_on,
            stopped: false,
            buurten: new.buurten.iter().map(|b| b.to_string()).collect(),
            invitation_only: new.invitation_only,
        };
        if let Some(other) = list(conn, new.slug.as_str())?.iter().find(|o| o.overlaps(&candidate)) {
            return Err(WaveError::Overlaps(other.name.clone()));
        }
        diesel::insert_into(w::table)
            .values((
                w::slug.eq(new.slug.as_str()),
                w::name.eq(name),
                w::opens_on.eq(new.opens_on),
                w::closes_on.eq(new.closes_on),
                w::created_on.eq(today),
                w::invitation_only.eq(new.invitation_only),
            ))
            .execute(conn)?;
        let id: i32 = w::table
            .filter(w::slug.eq(new.slug.as_str()))
            .select(diesel::dsl::max(w::id))
            .first::<Option<i32>>(conn)?
            .ok_or(WaveError::NotFound)?;
        for b in &candidate.buurten {
            diesel::insert_into(wb::table).values((wb::wave_id.eq(id), wb::buurt.eq(b))).execute(conn)?;
        }
        Ok(Wave { id, ..candidate })
    })
}

/// Closes a wave now: no more responses; today remains its last day.
pub fn close(conn: &mut AnyConnection, slug: &str, id: i32, today: NaiveDate) -> Result<Wave, WaveError> {
    conn.transaction(|conn| {
        let wave = find(conn, slug, id)?.ok_or(WaveError::NotFound)?;
        // A wave that has not opened yet ends before it starts: its last day
        // becomes its first, and it takes no responses.
        let last = today.max(wave.opens_on);
        let closes_on = Some(wave.closes_on.map_or(last, |c| c.min(last)));
        diesel::update(w::table.find(id)).set((w::closes_on.eq(closes_on), w::stopped.eq(true))).execute(conn)?;
        Ok(Wave { closes_on, stopped: true, ..wave })
    })
}

/// Whether a questionnaire takes a response today in a buurt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opening {
    /// No waves defined: open all the time.
    Continuous,
    Open(Wave),
    Closed,
}

impl Opening {
    /// Whether the open link may take a response now: not when closed, nor
    /// in a wave by invitation only.
    pub fn by_invitation_only(&self) -> bool {
        matches!(self, Opening::Open(w) if w.invitation_only)
    }
}

pub fn opening(conn: &mut AnyConnection, slug: &str, today: NaiveDate, buurt: &str) -> Result<Opening, DbError> {
    let waves = list(conn, slug)?;
    if waves.is_empty() {
        return Ok(Opening::Continuous);
    }
    Ok(waves.into_iter().find(|w| w.accepts(today, buurt)).map_or(Opening::Closed, Opening::Open))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wave(opens: &str, closes: Option<&str>, buurten: &[&str]) -> Wave {
        Wave {
            id: 1,
            slug: "s".into(),
            name: "w".into(),
            opens_on: opens.parse().unwrap(),
            closes_on: closes.map(|c| c.parse().unwrap()),
            stopped: false,
            buurten: buurten.iter().map(|b| (*b).to_owned()).collect(),
            invitation_only: false,
        }
    }

    #[test]
    fn overlap_needs_shared_days_and_buurten() {
        let a = wave("2026-01-01", Some("2026-01-31"), &["BU1"]);
        assert!(a.overlaps(&wave("2026-01-31", None, &[])));
        assert!(!a.overlaps(&wave("2026-02-01", None, &[])));
        assert!(!a.overlaps(&wave("2026-01-10", Some("2026-01-20"), &["BU2"])));
        assert!(a.overlaps(&wave("2025-12-01", Some("2026-01-01"), &["BU2", "BU1"])));
        assert!(wave("2026-01-01", None, &[]).overlaps(&wave("2030-01-01", None, &["BU9"])));
    }

    #[test]
    fn a_stopped_wave_still_covers_its_days_but_takes_nothing() {
        let mut w = wave("2026-01-01", Some("2026-01-31"), &[]);
        let day = "2026-01-15".parse().unwrap();
        assert!(w.accepts(day, "BU1"));
        w.stopped = true;
        assert!(w.covers(day, "BU1") && !w.accepts(day, "BU1"));
        assert!(!w.covers("2026-02-01".parse().unwrap(), "BU1"));
    }
}
