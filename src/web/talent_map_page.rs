//! `/talentkaart`: the talent map for professionals — per area, how many
//! residents offer or want to learn each kind of skill, anonymous counts
//! under the same disclosure rules as every result (`insight::talent_map`).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::lang::LangChoice;
use super::render::page;
use super::session::{no_store, refusal, Professional};
use super::state::{blocking_or_refuse, AppState};
use crate::area::Level;
use crate::insight::talent_map::{talent_set, TALENT_QUESTIONS};
use crate::insight::QuestionFigures;
use crate::survey::identified_responses;
use crate::talent::profile::SLUG;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/talentkaart", web::get().to(talent_map));
}

#[derive(Serialize)]
struct Row {
    name: String,
    /// None: suppressed.
    n: Option<u64>,
    /// Per option: residents who chose it.
    counts: Vec<u64>,
}

async fn talent_map(
    state: web::Data<AppState>,
    user: Professional,
    req: HttpRequest,
    lang: LangChoice,
    query: web::Query<BTreeMap<String, String>>,
) -> actix_web::Result<HttpResponse> {
    let l = lang.lang;
    let question = query.get("vraag").map(String::as_str).unwrap_or(TALENT_QUESTIONS[0]);
    if !TALENT_QUESTIONS.contains(&question) {
        return Err(refusal(&req, StatusCode::NOT_FOUND, "error_no_results"));
    }
    let level = match query.get("niveau").map(String::as_str).unwrap_or("buurt") {
        "buurt" => Level::Buurt,
        "wijk" => Level::Wijk,
        "gemeente" => Level::Gemeente,
        _ => return Err(refusal(&req, StatusCode::NOT_FOUND, "error_no_results")),
    };
    let catalog = state.catalog();
    let Some(current) = catalog.current(SLUG).cloned() else {
        return Err(refusal(&req, StatusCode::NOT_FOUND, "error_no_questionnaire"));
    };
    let versions = catalog.versions(SLUG).to_vec();
    let ids: Vec<i32> = versions.iter().map(|v| v.id).collect();
    let responses = blocking_or_refuse(&state, &req, move |conn| identified_responses(conn, &ids)).await?;
    let set = talent_set(&state.areas(), &current, &versions, &responses, state.publication.min_cell);
    let table = &set.all;
    let Some(qi) = table.question_index(question) else {
        return Err(refusal(&req, StatusCode::NOT_FOUND, "error_no_results"));
    };
    let options: Vec<String> = table.questions[qi].kind.choices().iter().map(|c| c.label.get(l).to_owned()).collect();
    let rows: Vec<Row> = table
        .at_level(level)
        .map(|a| match table.figures(a.code.as_str(), qi) {
            Some(QuestionFigures::Choice(c)) => Row {
                name: a.name.clone(),
                n: Some(c.n),
                counts: c.options.iter().map(|s| (s.exact.estimate * c.n as f64).round() as u64).collect(),
            },
            _ => Row { name: a.name.clone(), n: None, counts: Vec::new() },
        })
        .collect();
    let questions: Vec<(&str, String)> = TALENT_QUESTIONS
        .iter()
        .filter_map(|q| Some((*q, table.questions[table.question_index(q)?].text.get(l).to_owned())))
        .collect();
    let mut ctx = user.context();
    ctx.insert("question", question);
    ctx.insert("questions", &questions);
    ctx.insert("level", level.as_str());
    ctx.insert("options", &options);
    ctx.insert("rows", &rows);
    ctx.insert("min_cell", &table.min_cell);
    ctx.insert("respondents", &responses.len());
    Ok(no_store(page(&state, &req, lang, StatusCode::OK, "results/talent_map.html", ctx)))
}
