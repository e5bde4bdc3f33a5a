//! The map page for professionals: one question's figure per buurt as a
//! choropleth, a table with the same figures (the text alternative), the
//! buurten ranked with their intervals, and the trend over waves. Every
//! figure is cut from the safe table; what the table hides stays hidden.
//! Glue only: the pictures are drawn by `insight::chart` and
//! `insight::choropleth`.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::lang::LangChoice;
use super::render::{error_page, page};
use super::session::{no_store, Professional};
use super::state::AppState;
use crate::area::{AreaCode, Level};
use crate::insight::chart::{ranking, trend, Axis, Estimate, Figure};
use crate::insight::choropleth::{choropleth, MapEntry, MapValue};
use crate::insight::{QuestionFigures, SafeTable};
use crate::map::{load_boundaries, project, Boundary};
use crate::questionnaire::QuestionKind;
use crate::survey::Wave;

/// Width of the map in SVG units: about a phone's width, so its text reads.
const MAP_WIDTH: f64 = 400.0;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/resultaten/{slug}/kaart", web::get().to(map_page));
}

/// One question's figure in one area, as the safe table shows it.
struct Shown {
    /// The mean, or the share of the chosen answer in %.
    estimate: f64,
    low: f64,
    high: f64,
    n: u64,
}

impl Shown {
    fn figure(&self) -> Figure {
        Figure::Shown { estimate: self.estimate, low: self.low, high: self.high }
    }
}

/// The chosen question's figure for an area; None when the table hides it.
fn shown(table: &SafeTable, code: &str, qi: usize, option: usize) -> Option<Shown> {
    let (_, figures) = table.get(code)?.figures.as_ref()?;
    match figures.get(qi)? {
        QuestionFigures::Scale(s) => Some(Shown { estimate: s.mean, low: s.ci95[0], high: s.ci95[1], n: s.n }),
        QuestionFigures::Number(s) => Some(Shown { estimate: s.mean, low: s.ci95[0], high: s.ci95[1], n: s.n }),
        QuestionFigures::Choice(c) => {
            let share = c.options.get(option)?;
            Some(Shown { estimate: f64::from(share.percent), low: share.ci95[0], high: share.ci95[1], n: c.n })
        }
        QuestionFigures::Suppressed => None,
    }
}

fn figure(table: &SafeTable, code: &str, qi: usize, option: usize) -> Figure {
    shown(table, code, qi, option).map_or(Figure::Suppressed, |s| s.figure())
}

#[derive(Serialize)]
struct Row {
    code: String,
    name: String,
    wijk: String,
    /// "7,4" or "45%"; empty when suppressed.
    value: String,
    interval: String,
    n: Option<u64>,
    suppressed: bool,
}

async fn map_page(
    state: web::Data<AppState>,
    user: Professional,
    req: HttpRequest,
    lang: LangChoice,
    slug: web::Path<String>,
    query: web::Query<BTreeMap<String, String>>,
) -> HttpResponse {
    let wave_id: Option<i32> = query.get("meting").and_then(|w| w.parse().ok());
    let loaded = {
        let (state, slug) = (state.clone(), slug.clone());
        web::block(move || -> Result<_, crate::db::DbError> {
            let Some(set) = state.results(&slug)? else { return Ok(None) };
            let boundaries = load_boundaries(&mut *state.pool.get()?)?;
            Ok(Some((set, boundaries)))
        })
        .await
    };
    let (set, boundaries) = match loaded {
        Ok(Ok(Some(t))) => t,
        Ok(Ok(None)) => return error_page(&state, &req, lang, StatusCode::NOT_FOUND, "error_no_questionnaire"),
        Ok(Err(e)) => {
            tracing::error!("map of {:?}: {e}", slug.as_str());
            return error_page(&state, &req, lang, StatusCode::SERVICE_UNAVAILABLE, "error_results_unavailable");
        }
        Err(e) => {
            tracing::error!("map of {:?}: {e}", slug.as_str());
            return error_page(&state, &req, lang, StatusCode::INTERNAL_SERVER_ERROR, "error_results_unavailable");
        }
    };
    // One safe set serves the map, the table, the ranking and the trend.
    let waves: Vec<Wave> = set.waves.iter().filter_map(|t| t.wave.clone()).collect();
    let chosen = waves.iter().find(|w| Some(w.id) == wave_id).cloned();
    let Some(table) = set.table(chosen.as_ref().map(|w| w.id)) else {
        return error_page(&state, &req, lang, StatusCode::NOT_FOUND, "error_no_results");
    };
    let per_wave: Vec<&SafeTable> = if set.waves.len() > 1 { set.waves.iter().collect() } else { Vec::new() };
    let l = lang.lang;
    let qi = query.get("vraag").and_then(|q| table.question_index(q)).unwrap_or(0);
    let Some(meta) = table.questions.get(qi) else {
        return error_page(&state, &req, lang, StatusCode::NOT_FOUND, "error_no_results");
    };
    let (axis, options) = match &meta.kind {
        QuestionKind::Scale { min, max, .. } | QuestionKind::Number { min, max, .. } => {
            (Axis { min: f64::from(*min), max: f64::from(*max), percent: false }, Vec::new())
        }
        kind => (
            Axis { min: 0.0, max: 100.0, percent: true },
            kind.choices().iter().map(|o| (o.value.clone(), o.label.get(l).to_owned())).collect::<Vec<_>>(),
        ),
    };
    let option = query.get("optie").and_then(|o| options.iter().position(|(v, _)| v == o)).unwrap_or(0);

    // The gemeente: the one asked for, else the first with a boundary.
    let gemeente_of = |code: &AreaCode| code.parent().and_then(|w| w.parent());
    let gemeente = query
        .get("gemeente")
        .and_then(|g| AreaCode::parse(Level::Gemeente, g).ok())
        .filter(|g| table.get(g.as_str()).is_some())
        .or_else(|| boundaries.iter().find_map(|b| gemeente_of(&b.code).filter(|g| table.get(g.as_str()).is_some())))
        .or_else(|| table.at_level(Level::Gemeente).next().map(|g| g.code.clone()));
    let Some(gemeente) = gemeente else {
        return error_page(&state, &req, lang, StatusCode::NOT_FOUND, "error_no_results");
    };
    let buurten: Vec<_> =
        table.at_level(Level::Buurt).filter(|b| gemeente_of(&b.code).as_ref() == Some(&gemeente)).collect();
    let drawn: Vec<Boundary> = boundaries.into_iter().filter(|b| buurten.iter().any(|a| a.code == b.code)).collect();

    let question = meta.text.get(l).to_owned();
    let subject = match options.get(option) {
        Some((_, label)) => format!("{question} – {} {label}", l.text("map_share")),
        None => question.clone(),
    };
    let mut entries = Vec::with_capacity(buurten.len());
    let mut rows = Vec::with_capacity(buurten.len());
    let mut ranked = Vec::with_capacity(buurten.len());
    for b in &buurten {
        let wijk = b.parent.as_ref().and_then(|p| table.get(p.as_str())).map(|w| w.name.clone()).unwrap_or_default();
        let figures = shown(table, b.code.as_str(), qi, option);
        let value = figures.as_ref().map(|s| axis.format(s.estimate, l)).unwrap_or_default();
        entries.push(MapEntry {
            code: b.code.to_string(),
            name: b.name.clone(),
            value: match &figures {
                Some(s) => MapValue::Shown { value: s.estimate, label: format!("{value} (n = {})", s.n) },
                None => MapValue::Suppressed,
            },
        });
        ranked.push(Estimate {
            label: b.name.clone(),
            figure: figures.as_ref().map_or(Figure::Suppressed, Shown::figure),
        });
        rows.push(Row {
            code: b.code.to_string(),
            name: b.name.clone(),
            wijk,
            value,
            interval: figures
                .as_ref()
                .map(|s| format!("{}–{}", axis.format(s.low, l), axis.format(s.high, l)))
                .unwrap_or_default(),
            n: figures.as_ref().map(|s| s.n),
            suppressed: figures.is_none(),
        });
    }
    let gemeente_name = table.get(gemeente.as_str()).map(|g| g.name.clone()).unwrap_or_default();
    let map_svg = (!drawn.is_empty()).then(|| {
        let title = format!("{} {gemeente_name}: {subject}", l.text("map_svg_title"));
        choropleth(&project(&drawn, MAP_WIDTH), &entries, &axis, l, "kaart", &title)
    });
    let ranking_svg = Some({
        let reference = Estimate { label: gemeente_name.clone(), figure: figure(table, gemeente.as_str(), qi, option) };
        ranking(&ranked, Some(&reference), &axis, l, "rangorde", &format!("{}: {subject}", l.text("map_ranking_title")))
    });
    let trend_svg = (!per_wave.is_empty()).then(|| {
        let points: Vec<Estimate> = per_wave
            .iter()
            .map(|t| Estimate {
                label: t.wave.as_ref().map(|w| w.name.clone()).unwrap_or_default(),
                figure: t
                    .question_index(&meta.id)
                    .map(|q| figure(t, gemeente.as_str(), q, option))
                    .unwrap_or(Figure::Suppressed),
            })
            .collect();
        trend(&points, &axis, l, "verloop", &format!("{} {gemeente_name}: {subject}", l.text("map_trend_title")))
    });

    let mut ctx = user.context();
    ctx.insert("slug", &table.slug);
    ctx.insert(
        "title",
        &state.catalog().current(&table.slug).map(|p| p.definition.title.get(l).to_owned()).unwrap_or_default(),
    );
    let questions: Vec<_> = table.questions.iter().map(|q| (q.id.as_str(), q.text.get(l))).collect();
    ctx.insert("questions", &questions);
    ctx.insert("question_id", &meta.id);
    ctx.insert("subject", &subject);
    ctx.insert("options", &options);
    ctx.insert("option_value", &options.get(option).map(|(v, _)| v.clone()));
    let wave_options: Vec<_> = waves.iter().map(|w| (w.id, w.label())).collect();
    ctx.insert("waves", &wave_options);
    ctx.insert("wave_id", &chosen.as_ref().map(|w| w.id));
    ctx.insert("gemeente", &gemeente_name);
    ctx.insert("gemeente_code", gemeente.as_str());
    let gemeenten: Vec<_> = table.at_level(Level::Gemeente).map(|g| (g.code.to_string(), g.name.clone())).collect();
    ctx.insert("gemeenten", &gemeenten);
    ctx.insert("map_svg", &map_svg);
    ctx.insert("ranking_svg", &ranking_svg);
    ctx.insert("trend_svg", &trend_svg);
    ctx.insert("rows", &rows);
    ctx.insert("percent", &axis.percent);
    ctx.insert("suppressed_count", &rows.iter().filter(|r| r.suppressed).count());
    no_store(page(&state, &req, lang, StatusCode::OK, "results/map.html", ctx))
}
