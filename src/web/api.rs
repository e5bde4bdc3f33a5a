//! JSON API under /api/v1 (documented in docs/api.md) and /healthz.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde_json::{json, Map, Value};

use super::error::ApiError;
use super::state::{knows_buurt, AppState};
use crate::area::{AreaCode, Level};
use crate::i18n::Lang;
use crate::insight::compare::{changes, ranking as ranking_of, Measure, QuestionChange};
use crate::insight::stats::Share;
use crate::insight::weighted::{AreaWeighting, WeightedEstimates, WeightedFigures};
use crate::insight::{export, AreaResult, Output, QuestionFigures, ResultSet, SafeTable};
use crate::questionnaire::{Kind, Published, QuestionKind, RawAnswer};
use crate::spreadsheet::{to_csv, to_xlsx};
use crate::survey::{wave, Opening, Submission, SubmissionKey};

pub const MAX_BODY: usize = 64 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz)).service(
        web::scope("/api/v1")
            .route("/areas", web::get().to(areas))
            .route("/me", web::get().to(super::accounts::me))
            .route("/questionnaires", web::get().to(questionnaires))
            .route("/questionnaires/{slug}", web::get().to(questionnaire))
            .route("/questionnaires/{slug}/responses", web::post().to(submit))
            .route("/questionnaires/{slug}/results", web::get().to(results))
            .route("/questionnaires/{slug}/results.csv", web::get().to(results_csv))
            .route("/questionnaires/{slug}/results.xlsx", web::get().to(results_xlsx))
            .route("/questionnaires/{slug}/results/change", web::get().to(change))
            .route("/questionnaires/{slug}/results/ranking", web::get().to(ranking))
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(ApiError::NotFound("no such API endpoint".into()))
            })),
    );
}

/// 200 once the database takes writes (a tiny committed write, not only a
/// connection), 503 with `Retry-After` otherwise.
async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let probe = web::block(move || crate::db::probe_write(&mut *state.pool.get()?)).await;
    match probe {
        Ok(Ok(())) => HttpResponse::Ok().json(json!({ "status": "ok" })),
        Ok(Err(e)) => {
            tracing::warn!("health check: the database takes no writes: {e}");
            HttpResponse::ServiceUnavailable()
                .insert_header((header::RETRY_AFTER, "5"))
                .json(json!({ "status": "unavailable", "error": "the database takes no writes now" }))
        }
        Err(_) => HttpResponse::ServiceUnavailable().json(json!({ "status": "unavailable" })),
    }
}

async fn areas(state: web::Data<AppState>) -> HttpResponse {
    let tree = state.areas();
    let list: Vec<Value> =
        tree.all().map(|a| json!({ "code": a.code, "name": a.name, "level": a.level(), "parent": a.parent })).collect();
    HttpResponse::Ok().json(list)
}

fn describe(p: &Published) -> Value {
    let mut v = p.definition.canonical_json();
    if let Value::Object(m) = &mut v {
        m.insert("version".into(), json!(p.version));
        m.insert("content_hash".into(), json!(p.content_hash));
    }
    v
}

fn find(state: &AppState, slug: &str) -> Result<Published, ApiError> {
    state
        .catalog()
        .current(slug)
        .cloned()
        .ok_or_else(|| ApiError::NotFound(format!("there is no questionnaire {slug:?}")))
}

async fn questionnaires(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(state.catalog().all_current().map(describe).collect::<Vec<_>>())
}

async fn questionnaire(state: web::Data<AppState>, slug: web::Path<String>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(describe(&find(&state, &slug)?)))
}

/// Reads at most `MAX_BODY` bytes; a larger body is refused whole.
async fn read_body(req: &HttpRequest, mut payload: web::Payload) -> Result<Vec<u8>, ApiError> {
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return Err(ApiError::TooLarge(MAX_BODY / 1024));
    }
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("the request body could not be read: {e}")))?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(ApiError::TooLarge(MAX_BODY / 1024));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

async fn submit(
    state: web::Data<AppState>,
    slug: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let published = find(&state, &slug)?;
    if published.definition.invitation_only {
        return Err(ApiError::Forbidden("this questionnaire is answered through a personal invitation only".into()));
    }
    if state.catalog().is_archived(&slug) {
        return Err(ApiError::Forbidden("this questionnaire is archived and takes no more responses".into()));
    }
    if published.definition.kind == Kind::Identified {
        return Err(ApiError::Forbidden(
            "this questionnaire asks for consent first; answer it through its own page".into(),
        ));
    }
    // A client that retries sends the same key: stored once, answered alike.
    let key = match req.headers().get("idempotency-key") {
        None => None,
        Some(raw) => Some(
            raw.to_str()
                .ok()
                .and_then(|k| SubmissionKey::parse(k, published.id).ok())
                .ok_or_else(|| ApiError::BadRequest(crate::survey::SubmissionKeyError.to_string()))?,
        ),
    };
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json")));
    if !is_json {
        return Err(ApiError::UnsupportedMediaType);
    }
    let body = read_body(&req, payload).await?;
    let value: Value =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))?;
    let Value::Object(object) = value else {
        return Err(invalid("the body must be a JSON object", BTreeMap::new()));
    };
    let buurt_raw = object.get("buurt").and_then(Value::as_str).unwrap_or("").to_owned();
    let mut fields = BTreeMap::new();
    let raw_answers = match object.get("answers") {
        Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), RawAnswer::from(v))).collect(),
        _ => {
            fields.insert("answers".into(), "must be an object of question id to answer".into());
            BTreeMap::new()
        }
    };
    for key in object.keys().filter(|k| *k != "buurt" && *k != "answers") {
        fields.insert(key.chars().take(64).collect(), "unknown field".into());
    }
    let buurt = match AreaCode::parse(Level::Buurt, &buurt_raw) {
        Ok(code) => {
            let known = knows_buurt(&state, &code).await?;
            if !known {
                fields.insert("buurt".into(), format!("{code} is not a known buurt"));
            }
            Some(code)
        }
        Err(e) => {
            fields.insert("buurt".into(), e.to_string());
            None
        }
    };
    let answers = match published.definition.check_answers(&raw_answers) {
        Ok(a) => Some(a),
        Err(errors) => {
            fields.extend(errors.into_iter().map(|(id, e)| (id, e.message(Lang::En))));
            None
        }
    };
    match (buurt, answers) {
        (Some(buurt), Some(answers)) if fields.is_empty() => {
            let opening = {
                let (state, slug, buurt) = (state.clone(), slug.clone(), buurt.to_string());
                let today = crate::clock::today();
                web::block(move || wave::opening(&mut *state.pool.get()?, &slug, today, &buurt)).await??
            };
            if opening == Opening::Closed {
                return Err(ApiError::Forbidden(format!(
                    "{slug} is not open in {buurt} today: no wave takes responses"
                )));
            }
            if opening.by_invitation_only() {
                return Err(ApiError::Forbidden(format!(
                    "the current wave of {slug} takes responses through a personal invitation only"
                )));
            }
            let client = super::origin::client_ip(&req);
            state
                .open_links
                .admit(client, buurt.as_str(), std::time::Instant::now())
                .map_err(|t| ApiError::TooManyRequests(t.retry_after_secs()))?;
            let mut submission = Submission::new(&published, buurt, answers);
            submission.key = key;
            state.writer.submit(submission).await?;
            Ok(HttpResponse::Created().json(
                json!({ "status": "stored", "questionnaire": published.definition.slug, "version": published.version }),
            ))
        }
        _ => Err(invalid("the response is not valid; see fields", fields)),
    }
}

fn invalid(message: &str, fields: BTreeMap<String, String>) -> ApiError {
    ApiError::Invalid { message: message.into(), fields }
}

fn field_error(message: &str, field: &str, problem: &str) -> ApiError {
    invalid(message, BTreeMap::from([(field.to_string(), problem.to_string())]))
}

fn parse_level(query: &BTreeMap<String, String>) -> Result<Level, ApiError> {
    match query.get("level").map(String::as_str) {
        None => Ok(Level::Buurt),
        Some(l) => Level::parse(l).ok_or_else(|| field_error("unknown level", "level", "use buurt, wijk or gemeente")),
    }
}

fn parse_wave(query: &BTreeMap<String, String>, name: &str) -> Result<Option<i32>, ApiError> {
    query
        .get(name)
        .map(|w| w.parse::<i32>().map_err(|_| field_error("unknown wave", name, "must be a wave id")))
        .transpose()
}

/// Every safe table of an anonymous questionnaire, from the kept results.
async fn result_set(state: &web::Data<AppState>, slug: &str) -> Result<Arc<ResultSet>, ApiError> {
    if find(state, slug)?.definition.kind == Kind::Identified {
        return Err(ApiError::NotFound(format!(
            "{slug} is answered with consent by name; its answers are never public"
        )));
    }
    let (state, owned) = (state.clone(), slug.to_owned());
    web::block(move || state.results(&owned))
        .await
        .map_err(ApiError::internal)??
        .ok_or_else(|| ApiError::NotFound(format!("there is no questionnaire {slug:?}")))
}

fn table_of<'a>(set: &'a ResultSet, slug: &str, wave: Option<i32>) -> Result<&'a SafeTable, ApiError> {
    set.table(wave).ok_or_else(|| ApiError::NotFound(format!("{slug} has no wave {}", wave.unwrap_or_default())))
}

/// A JSON answer with an ETag over its body: a client that sends the same
/// tag in `If-None-Match` gets `304 Not Modified` without the body. Bodies
/// are rendered once per result set (`ResultSet::output`).
pub fn cacheable_json(req: &HttpRequest, output: &Output) -> HttpResponse {
    cacheable(req, &output.tag, "application/json", None, output.body.clone().into_bytes())
}

/// A body with an ETag (`tag`) that `If-None-Match` turns into a 304, and
/// optionally a file name to save it as.
fn cacheable(req: &HttpRequest, tag: &str, content_type: &str, file: Option<&str>, body: Vec<u8>) -> HttpResponse {
    let tag = format!("\"{tag}\"");
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').map(|t| t.trim().trim_start_matches("W/")).any(|t| t == tag || t == "*"));
    let mut response = if matches { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response.insert_header((header::ETAG, tag)).insert_header((header::CACHE_CONTROL, "no-cache"));
    if let Some(name) = file {
        response.insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")));
    }
    if matches {
        response.finish()
    } else {
        response.content_type(content_type).body(body)
    }
}

/// The download name of an export: `geluk-alle.csv`, `geluk-3.xlsx`.
fn export_name(slug: &str, wave: Option<i32>, extension: &str) -> String {
    format!("{slug}-{}.{extension}", wave.map_or_else(|| "alle".to_owned(), |w| w.to_string()))
}

/// `GET …/results.csv?wave=&lang=`: every level in one long table (area ×
/// question × measure), cut from the same safe table as the page and JSON.
async fn results_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: super::lang::LangChoice,
    slug: web::Path<String>,
    query: web::Query<BTreeMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let wave = parse_wave(&query, "wave")?;
    let set = result_set(&state, &slug).await?;
    let table = table_of(&set, &slug, wave)?;
    let l = lang.lang;
    let output = set.output(&format!("csv {wave:?} {l:?}"), || to_csv(&export::results_sheet(table, l)));
    let name = export_name(&slug, wave, "csv");
    Ok(cacheable(&req, &output.tag, "text/csv; charset=utf-8", Some(&name), output.body.clone().into_bytes()))
}

/// `GET …/results.xlsx?wave=&lang=`: the same rows as the CSV, and a sheet
/// on the method (threshold, suppression symbol, intervals, source). Its
/// ETag is the CSV's: the workbook changes exactly when the figures do.
async fn results_xlsx(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: super::lang::LangChoice,
    slug: web::Path<String>,
    query: web::Query<BTreeMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let wave = parse_wave(&query, "wave")?;
    let set = result_set(&state, &slug).await?;
    let table = table_of(&set, &slug, wave)?;
    let l = lang.lang;
    let sheet = export::results_sheet(table, l);
    let csv = set.output(&format!("csv {wave:?} {l:?}"), || to_csv(&sheet));
    let title = find(&state, &slug)?.definition.title.get(l).to_owned();
    let book = to_xlsx(&[sheet, export::method_sheet(table, &title, l)]).map_err(ApiError::internal)?;
    let name = export_name(&slug, wave, "xlsx");
    let kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    Ok(cacheable(&req, &format!("{}-xlsx", csv.tag), kind, Some(&name), book))
}

async fn results(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
    query: web::Query<BTreeMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let level = parse_level(&query)?;
    let wave = parse_wave(&query, "wave")?;
    let set = result_set(&state, &slug).await?;
    let table = table_of(&set, &slug, wave)?;
    let output = set.output(&format!("results {wave:?} {level:?}"), || results_json(table, level).to_string());
    Ok(cacheable_json(&req, &output))
}

/// `GET …/results/change?from=&to=&level=`: per area and question, the
/// change between two waves (default: the latest and the one before).
async fn change(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
    query: web::Query<BTreeMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let level = parse_level(&query)?;
    let (from, to) = (parse_wave(&query, "from")?, parse_wave(&query, "to")?);
    let set = result_set(&state, &slug).await?;
    let later = match to {
        Some(id) => table_of(&set, &slug, Some(id))?,
        None => set.waves.last().ok_or_else(|| ApiError::NotFound(format!("{slug} has no waves to compare")))?,
    };
    let later_id = later.wave.as_ref().map(|w| w.id).unwrap_or_default();
    let earlier = match from {
        Some(id) => table_of(&set, &slug, Some(id))?,
        None => set
            .previous(later_id)
            .ok_or_else(|| ApiError::NotFound(format!("{slug} has no wave before wave {later_id}")))?,
    };
    if earlier.wave == later.wave {
        return Err(field_error("compare two different waves", "from", "must differ from to"));
    }
    let areas: Vec<Value> = changes(earlier, later, level)
        .into_iter()
        .map(|a| {
            let mut v = json!({ "code": a.code, "name": a.name, "parent": a.parent });
            match a.questions {
                None => v["suppressed"] = json!(true),
                Some(qs) => {
                    v["suppressed"] = json!(false);
                    let per_question: Map<String, Value> = later
                        .questions
                        .iter()
                        .zip(qs)
                        .enumerate()
                        .map(|(qi, (meta, c))| {
                            let mut value = change_json(&meta.kind, &c);
                            if let Some(Some(w)) = a.weighted.get(qi) {
                                value["weighted"] = change_json(&meta.kind, w);
                            }
                            (meta.id.clone(), value)
                        })
                        .collect();
                    v["questions"] = Value::Object(per_question);
                }
            }
            v
        })
        .collect();
    let body = json!({
        "questionnaire": later.slug, "version": later.version, "level": level, "min_cell": later.min_cell,
        "released_at": later.released_at,
        "from": wave_json(earlier), "to": wave_json(later), "areas": areas,
    });
    let key =
        format!("change {:?} {:?} {level:?}", earlier.wave.as_ref().map(|w| w.id), later.wave.as_ref().map(|w| w.id));
    Ok(cacheable_json(&req, &set.output(&key, || body.to_string())))
}

/// `GET …/results/ranking?question=&level=&wave=&option=`: the areas of a
/// level by one question's estimate, each with its interval and its
/// difference from its wijk and the gemeente.
async fn ranking(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
    query: web::Query<BTreeMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let level = parse_level(&query)?;
    let wave = parse_wave(&query, "wave")?;
    let set = result_set(&state, &slug).await?;
    let table = table_of(&set, &slug, wave)?;
    let qi = match query.get("question") {
        None => 0,
        Some(q) => table
            .question_index(q)
            .ok_or_else(|| field_error("unknown question", "question", "must be the id of a closed question"))?,
    };
    let Some(meta) = table.questions.get(qi) else {
        return Err(ApiError::NotFound(format!("{slug} has no closed questions")));
    };
    let (measure, option) = match &meta.kind {
        QuestionKind::Scale { .. } | QuestionKind::Number { .. } => {
            if query.contains_key("option") {
                return Err(field_error("no options", "option", "only choice questions have options"));
            }
            (Measure::Mean, None)
        }
        kind => {
            let values = kind.choice_values();
            let i = match query.get("option") {
                None => 0,
                Some(o) => values
                    .iter()
                    .position(|v| v == o)
                    .ok_or_else(|| field_error("unknown option", "option", "must be one of the question's values"))?,
            };
            (Measure::Share(i), values.get(i).map(|v| (*v).to_owned()))
        }
    };
    let rows = ranking_of(table, qi, measure, level);
    let body = json!({
        "questionnaire": table.slug, "version": table.version, "level": level, "min_cell": table.min_cell,
        "released_at": table.released_at,
        "wave": wave_json(table), "question": meta.id, "type": meta.kind.type_name(),
        "measure": if option.is_some() { "share" } else { "mean" }, "option": option,
        "areas": rows.iter().map(|r| {
            let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
            v["suppressed"] = json!(r.estimate.is_none());
            // Beside the unweighted estimate the ranking orders by, as in `results`.
            if let Some(w) = table.weighted(r.code.as_str(), qi) {
                v["weighted"] = weighted_json(w, &meta.kind);
            }
            v
        }).collect::<Vec<_>>(),
    });
    let key = format!("ranking {wave:?} {level:?} {qi} {option:?}");
    Ok(cacheable_json(&req, &set.output(&key, || body.to_string())))
}

/// A question's change between two waves; a choice's per option by value.
fn change_json(kind: &QuestionKind, c: &QuestionChange) -> Value {
    let mut value = serde_json::to_value(c).unwrap_or(Value::Null);
    if let (QuestionChange::Shares { shares }, Value::Object(m)) = (c, &mut value) {
        let named: Map<String, Value> =
            kind.choice_values().iter().zip(shares).map(|(o, d)| ((*o).to_owned(), json!(d))).collect();
        m.insert("shares".into(), Value::Object(named));
    }
    value
}

fn wave_json(table: &SafeTable) -> Value {
    table.wave.as_ref().map_or(Value::Null, |w| {
        json!({
            "id": w.id, "name": w.name, "opens_on": w.opens_on, "closes_on": w.closes_on,
            "invitation_only": w.invitation_only,
        })
    })
}

/// The JSON view of a safe table at one level. Suppressed areas carry no n
/// and no figures; free text never appears.
pub fn results_json(table: &SafeTable, level: Level) -> Value {
    let areas: Vec<Value> = table.at_level(level).map(|a| area_json(table, a)).collect();
    json!({
        "questionnaire": table.slug,
        "version": table.version,
        "level": level,
        "min_cell": table.min_cell,
        "released_at": table.released_at,
        "wave": wave_json(table),
        "areas": areas,
    })
}

fn area_json(table: &SafeTable, a: &AreaResult) -> Value {
    let (Some((n, figures)), Some(weighting)) = (&a.figures, &a.weighting) else {
        return json!({ "code": a.code, "name": a.name, "parent": a.parent, "suppressed": true });
    };
    let mut questions = Map::new();
    for (qi, (meta, fig)) in table.questions.iter().zip(figures).enumerate() {
        let mut v = match (fig, &meta.kind) {
            (QuestionFigures::Scale(s), _) => {
                let mut v = serde_json::to_value(s).unwrap_or(Value::Null);
                v["type"] = json!("scale");
                v
            }
            (QuestionFigures::Number(s), _) => {
                let mut v = serde_json::to_value(s).unwrap_or(Value::Null);
                v["type"] = json!("number");
                v
            }
            (QuestionFigures::Choice(c), kind) => {
                let values = kind.choice_values();
                let shares: Map<String, Value> =
                    values.iter().zip(&c.options).map(|(v, s)| ((*v).to_owned(), json!(s.percent))).collect();
                let intervals: Map<String, Value> =
                    values.iter().zip(&c.options).map(|(v, s)| ((*v).to_owned(), json!(s.ci95))).collect();
                json!({ "type": kind.type_name(), "n": c.n, "shares": shares, "ci95": intervals })
            }
            _ => json!({ "suppressed": true }),
        };
        if let Some(w) = table.weighted(a.code.as_str(), qi) {
            v["weighted"] = weighted_json(w, &meta.kind);
        }
        questions.insert(meta.id.clone(), v);
    }
    json!({
        "code": a.code, "name": a.name, "parent": a.parent, "n": n, "suppressed": false,
        "weighting": weighting_json(weighting), "questions": questions,
    })
}

/// Whether an area's figures are weighted, and if not why (a stable code
/// and the notice in both languages). Never a count or a weight.
fn weighting_json(w: &AreaWeighting) -> Value {
    match w.reason() {
        None => json!({ "weighted": true }),
        Some(reason) => json!({
            "weighted": false,
            "reason": reason,
            "notice": { "nl": w.notice(Lang::Nl), "en": w.notice(Lang::En) },
        }),
    }
}

/// One question's weighted estimates, in the unweighted figures' shape.
fn weighted_json(w: &WeightedFigures, kind: &QuestionKind) -> Value {
    let mut v = json!({ "n_eff": w.n_eff, "deff": w.deff });
    match &w.estimates {
        WeightedEstimates::Mean { mean, ci95, share_7_plus, share_0_4, .. } => {
            v["mean"] = json!(mean);
            v["ci95"] = json!(ci95);
            for (name, share) in [("share_7_plus", share_7_plus), ("share_0_4", share_0_4)] {
                if let Some(s) = share {
                    v[name] = json!(s.percent);
                    v[format!("{name}_ci95")] = json!(s.ci95);
                }
            }
        }
        WeightedEstimates::Shares(options) => {
            let values = kind.choice_values();
            let named = |f: &dyn Fn(&Share) -> Value| -> Map<String, Value> {
                values.iter().zip(options).map(|(v, s)| ((*v).to_owned(), f(s))).collect()
            };
            v["shares"] = Value::Object(named(&|s| json!(s.percent)));
            v["ci95"] = Value::Object(named(&|s| json!(s.ci95)));
        }
    }
    v
}
