//! The public results page: anonymised figures per buurt, wijk and gemeente
//! with charts, cut from the same safe table as the API.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::lang::LangChoice;
use super::render::{error_page, page};
use super::state::AppState;
use crate::area::Level;
use crate::insight::chart::{distribution, interval, BarChart, Interval};
use crate::insight::QuestionFigures;
use crate::questionnaire::QuestionKind;
use crate::survey::wave;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/r/{slug}", web::get().to(results));
}

#[derive(Serialize, Default)]
struct Row {
    code: String,
    name: String,
    parent: String,
    suppressed: bool,
    n: u64,
    mean: f64,
    ci: [f64; 2],
    median: f64,
    share_7_plus: Option<u32>,
    interval: Option<Interval>,
    shares: Vec<u32>,
    selected: bool,
}

#[derive(Serialize)]
struct Focus {
    name: String,
    suppressed: bool,
    n: u64,
    chart: Option<BarChart>,
    mean: Option<f64>,
    ci: Option<[f64; 2]>,
    share_7_plus: Option<u32>,
}

async fn results(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    slug: web::Path<String>,
    query: web::Query<BTreeMap<String, String>>,
) -> HttpResponse {
    let wave_id: Option<i32> = query.get("meting").and_then(|w| w.parse().ok());
    let loaded = {
        let (state, slug) = (state.clone(), slug.clone());
        web::block(move || -> Result<_, crate::db::DbError> {
            let waves = wave::list(&mut *state.pool.get()?, &slug)?;
            let chosen = waves.iter().find(|w| Some(w.id) == wave_id).cloned();
            Ok(state.safe_table(&slug, chosen.as_ref())?.map(|t| (t, waves, chosen)))
        })
        .await
    };
    let (table, waves, chosen) = match loaded {
        Ok(Ok(Some(t))) => t,
        Ok(Ok(None)) => return error_page(&state, &req, lang, StatusCode::NOT_FOUND, "error_no_questionnaire"),
        Ok(Err(e)) => {
            tracing::error!("results of {:?}: {e}", slug.as_str());
            return error_page(&state, &req, lang, StatusCode::SERVICE_UNAVAILABLE, "error_results_unavailable");
        }
        Err(e) => {
            tracing::error!("results of {:?}: {e}", slug.as_str());
            return error_page(&state, &req, lang, StatusCode::INTERNAL_SERVER_ERROR, "error_results_unavailable");
        }
    };
    let level = query.get("niveau").and_then(|l| Level::parse(l)).unwrap_or(Level::Wijk);
    let qi = query.get("vraag").and_then(|q| table.question_index(q)).unwrap_or(0);
    let Some(meta) = table.questions.get(qi) else {
        return error_page(&state, &req, lang, StatusCode::NOT_FOUND, "error_no_results");
    };
    let l = lang.lang;
    let focus_code = query
        .get("gebied")
        .filter(|c| table.get(c).is_some())
        .cloned()
        .or_else(|| table.at_level(Level::Gemeente).next().map(|g| g.code.to_string()))
        .unwrap_or_default();

    let (labels, high_from, scale) = match &meta.kind {
        QuestionKind::Scale { min, max, .. } | QuestionKind::Number { min, max, .. } => (
            (*min..=*max).map(|v| v.to_string()).collect::<Vec<_>>(),
            (*min == 0 && *max == 10).then_some(7),
            Some((*min, *max)),
        ),
        kind => (kind.choices().iter().map(|o| o.label.get(l).to_owned()).collect(), None, None),
    };
    let figures = |code: &str| -> Option<(u64, &QuestionFigures)> {
        table.get(code).and_then(|a| a.figures.as_ref()).map(|(n, f)| (*n, &f[qi]))
    };

    let focus = table.get(&focus_code).map(|a| {
        let mut f = Focus {
            name: a.name.clone(),
            suppressed: true,
            n: 0,
            chart: None,
            mean: None,
            ci: None,
            share_7_plus: None,
        };
        if let Some((_, fig)) = figures(&focus_code) {
            match fig {
                QuestionFigures::Scale(s) => {
                    f = Focus {
                        suppressed: false,
                        n: s.n,
                        chart: Some(distribution(&s.distribution, &labels, high_from)),
                        mean: Some(s.mean),
                        ci: Some(s.ci95),
                        share_7_plus: s.share_7_plus,
                        ..f
                    };
                }
                QuestionFigures::Choice(c) => {
                    f = Focus { suppressed: false, n: c.n, chart: Some(distribution(&c.shares, &labels, None)), ..f };
                }
                QuestionFigures::Suppressed => {}
            }
        }
        f
    });

    let rows: Vec<Row> = table
        .at_level(level)
        .map(|a| {
            let mut row = Row {
                code: a.code.to_string(),
                name: a.name.clone(),
                parent: a
                    .parent
                    .as_ref()
                    .and_then(|p| table.get(p.as_str()))
                    .map(|p| p.name.clone())
                    .unwrap_or_default(),
                suppressed: true,
                selected: a.code.as_str() == focus_code,
                ..Row::default()
            };
            match figures(a.code.as_str()).map(|(_, f)| f) {
                Some(QuestionFigures::Scale(s)) => {
                    let (min, max) = scale.unwrap_or((0, 10));
                    row.suppressed = false;
                    row.n = s.n;
                    row.mean = s.mean;
                    row.ci = s.ci95;
                    row.median = s.median;
                    row.share_7_plus = s.share_7_plus;
                    row.interval = Some(interval(s.ci95, s.mean, f64::from(min), f64::from(max), 120.0));
                }
                Some(QuestionFigures::Choice(c)) => {
                    row.suppressed = false;
                    row.n = c.n;
                    row.shares = c.shares.clone();
                }
                _ => {}
            }
            row
        })
        .collect();

    let questions: Vec<_> = table.questions.iter().map(|q| (q.id.as_str(), q.text.get(l))).collect();
    let mut ctx = tera::Context::new();
    ctx.insert("slug", &table.slug);
    ctx.insert("version", &table.version);
    ctx.insert(
        "title",
        &state.catalog().current(&table.slug).map(|p| p.definition.title.get(l).to_owned()).unwrap_or_default(),
    );
    let wave_options: Vec<_> = waves
        .iter()
        .map(|w| {
            let until = w.closes_on.map(|c| c.to_string()).unwrap_or_default();
            (w.id, format!("{} ({} – {until})", w.name, w.opens_on))
        })
        .collect();
    ctx.insert("waves", &wave_options);
    ctx.insert("wave_id", &chosen.as_ref().map(|w| w.id));
    ctx.insert("questions", &questions);
    ctx.insert("question_id", &meta.id);
    ctx.insert("question_text", meta.text.get(l));
    ctx.insert("is_scale", &scale.is_some());
    ctx.insert("option_labels", &labels);
    ctx.insert("level", level.as_str());
    ctx.insert("focus", &focus);
    ctx.insert("focus_code", &focus_code);
    ctx.insert("rows", &rows);
    ctx.insert("suppressed_count", &rows.iter().filter(|r| r.suppressed).count());
    page(&state, &req, lang, StatusCode::OK, "results/page.html", ctx)
}
