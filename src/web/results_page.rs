//! The public results page: anonymised figures per buurt, wijk and gemeente
//! with charts, intervals, the change since the previous wave and the
//! comparison with the gemeente, cut from the same safe tables as the API.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::lang::LangChoice;
use super::render::{error_page, page};
use super::state::AppState;
use crate::area::Level;
use crate::insight::chart::{distribution, interval, BarChart, Interval};
use crate::insight::compare::{changes, ranking, Difference, Measure, QuestionChange};
use crate::insight::weighted::Shown;
use crate::insight::{QuestionFigures, ResultSet};
use crate::questionnaire::QuestionKind;

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
    quartiles: [f64; 2],
    share_7_plus: Option<u32>,
    share_7_plus_ci: Option<[f64; 2]>,
    share_0_4: Option<u32>,
    interval: Option<Interval>,
    shares: Vec<(u32, [f64; 2])>,
    /// Since the previous wave, in the measure shown.
    change: Option<Difference>,
    /// The same between the weighted figures, where weighted in both waves.
    weighted_change: Option<Difference>,
    vs_gemeente: Option<Difference>,
    selected: bool,
    weighted: Option<Shown>,
    /// Why the area's figures are unweighted.
    weighting_notice: Option<String>,
}

/// The weighted figures shown beside the unweighted ones: the mean (or the
/// share of the option compared) with its interval, and on 0–10 scales the
/// shares 7–10 and 0–4.
/// A share in whole per cent and its interval.
type ShareShown = (u32, [f64; 2]);

#[derive(Serialize)]
struct Focus {
    name: String,
    suppressed: bool,
    n: u64,
    chart: Option<BarChart>,
    mean: Option<f64>,
    ci: Option<[f64; 2]>,
    median: Option<f64>,
    quartiles: Option<[f64; 2]>,
    share_7_plus: Option<u32>,
    share_0_4: Option<u32>,
    /// Per option: label, share, interval, and the weighted share and interval.
    options: Vec<(String, u32, [f64; 2], Option<ShareShown>)>,
    weighted: Option<Shown>,
    weighting_notice: Option<String>,
}

/// What kind of table the question gets.
#[derive(Serialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
enum Shape {
    Scale,
    Number,
    Choice,
}

/// The result set of a questionnaire for a page, or the error page: 404
/// for an unknown or identified questionnaire, 503 when it cannot be read.
pub(super) async fn load_results(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    lang: LangChoice,
    slug: &str,
) -> Result<Arc<ResultSet>, HttpResponse> {
    let loaded = {
        let (state, slug) = (state.clone(), slug.to_owned());
        web::block(move || state.results(&slug)).await
    };
    match loaded {
        Ok(Ok(Some(set))) => Ok(set),
        Ok(Ok(None)) => Err(error_page(state, req, lang, StatusCode::NOT_FOUND, "error_no_questionnaire")),
        Ok(Err(e)) => {
            tracing::error!("results of {slug:?}: {e}");
            Err(error_page(state, req, lang, StatusCode::SERVICE_UNAVAILABLE, "error_results_unavailable"))
        }
        Err(e) => {
            tracing::error!("results of {slug:?}: {e}");
            Err(error_page(state, req, lang, StatusCode::INTERNAL_SERVER_ERROR, "error_results_unavailable"))
        }
    }
}

async fn results(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: LangChoice,
    slug: web::Path<String>,
    query: web::Query<BTreeMap<String, String>>,
) -> HttpResponse {
    let wave_id: Option<i32> = query.get("meting").and_then(|w| w.parse().ok());
    let set = match load_results(&state, &req, lang, &slug).await {
        Ok(set) => set,
        Err(res) => return res,
    };
    // An unknown wave shows every response, as the form's first choice does.
    let table = set.table(wave_id).unwrap_or(&set.all);
    let chosen = table.wave.as_ref().map(|w| w.id);
    let previous = chosen.and_then(|id| set.previous(id));
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

    let (shape, labels, high_from, range) = match &meta.kind {
        QuestionKind::Scale { min, max, .. } => (
            Shape::Scale,
            (*min..=*max).map(|v| v.to_string()).collect::<Vec<_>>(),
            (*min == 0 && *max == 10).then_some(7),
            (f64::from(*min), f64::from(*max)),
        ),
        QuestionKind::Number { min, max, .. } => (Shape::Number, Vec::new(), None, (f64::from(*min), f64::from(*max))),
        kind => (Shape::Choice, kind.choices().iter().map(|o| o.label.get(l).to_owned()).collect(), None, (0.0, 100.0)),
    };
    // Choices are ranked and compared by the share of one option.
    let option = match shape {
        Shape::Choice => {
            let values = meta.kind.choice_values();
            query.get("optie").and_then(|o| values.iter().position(|v| v == o)).unwrap_or(0)
        }
        _ => 0,
    };
    let measure = if shape == Shape::Choice { Measure::Share(option) } else { Measure::Mean };

    let focus = table.get(&focus_code).map(|a| {
        let mut f = Focus {
            name: a.name.clone(),
            suppressed: true,
            n: 0,
            chart: None,
            mean: None,
            ci: None,
            median: None,
            quartiles: None,
            share_7_plus: None,
            share_0_4: None,
            options: Vec::new(),
            weighted: table.weighted(&focus_code, qi).map(|w| Shown::of(w, option, l)),
            weighting_notice: a.weighting.as_ref().and_then(|w| w.notice(l)),
        };
        match table.figures(&focus_code, qi) {
            Some(QuestionFigures::Scale(s)) => {
                f = Focus {
                    suppressed: false,
                    n: s.n,
                    chart: Some(distribution(&s.distribution, &labels, high_from)),
                    mean: Some(s.mean),
                    ci: Some(s.ci95),
                    median: Some(s.median),
                    share_7_plus: s.share_7_plus,
                    share_0_4: s.share_0_4,
                    ..f
                };
            }
            Some(QuestionFigures::Number(s)) => {
                f = Focus {
                    suppressed: false,
                    n: s.n,
                    mean: Some(s.mean),
                    ci: Some(s.ci95),
                    median: Some(s.median),
                    quartiles: Some(s.quartiles),
                    ..f
                };
            }
            Some(QuestionFigures::Choice(c)) => {
                let weighted = f.weighted.as_ref().map(|w| w.options.clone()).unwrap_or_default();
                let options = labels
                    .iter()
                    .zip(&c.options)
                    .enumerate()
                    .map(|(i, (label, o))| (label.clone(), o.percent, o.ci95, weighted.get(i).copied()));
                f = Focus { suppressed: false, n: c.n, options: options.collect(), ..f };
            }
            _ => {}
        }
        f
    });

    // The change since the previous wave, per area, in the measure shown:
    // unweighted, and weighted where the area is weighted in both waves.
    let measured = |c: Option<&QuestionChange>| match c? {
        QuestionChange::Mean { mean, .. } => Some(*mean),
        QuestionChange::Shares { shares } => shares.get(option).copied().flatten(),
        QuestionChange::Suppressed { .. } => None,
    };
    let change_of: HashMap<String, (Option<Difference>, Option<Difference>)> = previous
        .map(|before| {
            changes(before, table, level)
                .into_iter()
                .map(|a| {
                    let plain = measured(a.questions.as_ref().and_then(|q| q.get(qi)));
                    let weighted = measured(a.weighted.get(qi).and_then(Option::as_ref));
                    (a.code.to_string(), (plain, weighted))
                })
                .collect()
        })
        .unwrap_or_default();
    let ranked = ranking(table, qi, measure, level);
    let sort_by_estimate = query.get("volgorde").is_some_and(|v| v == "uitkomst");
    let order: Vec<String> = if sort_by_estimate {
        ranked.iter().map(|r| r.code.to_string()).collect()
    } else {
        table.at_level(level).map(|a| a.code.to_string()).collect()
    };
    let vs_gemeente: HashMap<String, Difference> =
        ranked.iter().filter_map(|r| r.vs_gemeente.map(|d| (r.code.to_string(), d))).collect();

    let rows: Vec<Row> = order
        .iter()
        .filter_map(|code| table.get(code))
        .map(|a| {
            let code = a.code.to_string();
            let mut row = Row {
                parent: a
                    .parent
                    .as_ref()
                    .and_then(|p| table.get(p.as_str()))
                    .map(|p| p.name.clone())
                    .unwrap_or_default(),
                name: a.name.clone(),
                suppressed: true,
                selected: code == focus_code,
                change: change_of.get(&code).and_then(|c| c.0),
                weighted_change: change_of.get(&code).and_then(|c| c.1),
                vs_gemeente: vs_gemeente.get(&code).copied(),
                code,
                ..Row::default()
            };
            let strip = |ci: [f64; 2], estimate: f64| Some(interval(ci, estimate, range.0, range.1, 120.0));
            row.weighted = table.weighted(a.code.as_str(), qi).map(|w| Shown::of(w, option, l));
            row.weighting_notice = a.weighting.as_ref().and_then(|w| w.notice(l));
            match table.figures(a.code.as_str(), qi) {
                Some(QuestionFigures::Scale(s)) => {
                    row.suppressed = false;
                    row.n = s.n;
                    row.mean = s.mean;
                    row.ci = s.ci95;
                    row.median = s.median;
                    row.share_7_plus = s.share_7_plus;
                    row.share_7_plus_ci = s.share_7_plus_ci95;
                    row.share_0_4 = s.share_0_4;
                    row.interval = strip(s.ci95, s.mean);
                }
                Some(QuestionFigures::Number(s)) => {
                    row.suppressed = false;
                    row.n = s.n;
                    row.mean = s.mean;
                    row.ci = s.ci95;
                    row.median = s.median;
                    row.quartiles = s.quartiles;
                    row.interval = strip(s.ci95, s.mean);
                }
                Some(QuestionFigures::Choice(c)) => {
                    row.suppressed = false;
                    row.n = c.n;
                    row.shares = c.options.iter().map(|o| (o.percent, o.ci95)).collect();
                    if let Some(o) = c.options.get(option) {
                        row.interval = strip(o.ci95, o.exact.estimate * 100.0);
                    }
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
    let wave_options: Vec<_> = set
        .waves
        .iter()
        .filter_map(|t| t.wave.as_ref())
        .map(|w| {
            let until = w.closes_on.map(|c| c.to_string()).unwrap_or_default();
            (w.id, format!("{} ({} – {until})", w.name, w.opens_on))
        })
        .collect();
    let option_values: Vec<(&str, &String)> = meta.kind.choice_values().into_iter().zip(&labels).collect();
    ctx.insert("waves", &wave_options);
    ctx.insert("released_at", &crate::clock::local(table.released_at).format("%Y-%m-%d %H:%M").to_string());
    ctx.insert("invitation_only", &table.wave.as_ref().is_some_and(|w| w.invitation_only));
    ctx.insert("wave_id", &chosen);
    ctx.insert("previous_wave", &previous.and_then(|t| t.wave.as_ref()).map(|w| w.name.clone()));
    ctx.insert("questions", &questions);
    ctx.insert("question_id", &meta.id);
    ctx.insert("question_text", meta.text.get(l));
    ctx.insert("shape", &shape);
    ctx.insert("is_scale", &(shape == Shape::Scale));
    ctx.insert("option_labels", &labels);
    ctx.insert("option_values", &option_values);
    ctx.insert("option", &meta.kind.choice_values().get(option).copied().unwrap_or_default());
    ctx.insert("option_label", &labels.get(option).cloned().unwrap_or_default());
    ctx.insert("level", level.as_str());
    ctx.insert("by_estimate", &sort_by_estimate);
    ctx.insert("compare_gemeente", &(level != Level::Gemeente));
    ctx.insert("focus", &focus);
    ctx.insert("focus_code", &focus_code);
    ctx.insert("rows", &rows);
    let span = match shape {
        Shape::Scale => 6,
        Shape::Number => 5,
        Shape::Choice => labels.len() + 2,
    } + 1
        + usize::from(previous.is_some())
        + usize::from(level != Level::Gemeente);
    ctx.insert("span", &span);
    ctx.insert("suppressed_count", &rows.iter().filter(|r| r.suppressed).count());
    page(&state, &req, lang, StatusCode::OK, "results/page.html", ctx)
}
