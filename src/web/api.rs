//! JSON API under /api/v1 (documented in docs/api.md) and /healthz.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde_json::{json, Map, Value};

use super::error::ApiError;
use super::state::{knows_buurt, AppState};
use crate::area::{AreaCode, Level};
use crate::i18n::Lang;
use crate::insight::{AreaResult, QuestionFigures, SafeTable};
use crate::questionnaire::{Kind, Published, RawAnswer};
use crate::survey::{wave, Opening, Submission};

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
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(ApiError::NotFound("no such API endpoint".into()))
            })),
    );
}

async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let ok = web::block(move || state.pool.get().map(|_| ()).is_ok()).await.unwrap_or(false);
    if ok {
        HttpResponse::Ok().json(json!({ "status": "ok" }))
    } else {
        HttpResponse::ServiceUnavailable().json(json!({ "status": "unavailable" }))
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
                let today = chrono::Local::now().date_naive();
                web::block(move || wave::opening(&mut *state.pool.get()?, &slug, today, &buurt)).await??
            };
            if opening == Opening::Closed {
                return Err(ApiError::Forbidden(format!(
                    "{slug} is not open in {buurt} today: no wave takes responses"
                )));
            }
            state.writer.submit(Submission { version_id: published.id, buurt, answers }).await?;
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

async fn results(
    state: web::Data<AppState>,
    slug: web::Path<String>,
    query: web::Query<BTreeMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let level = match query.get("level").map(String::as_str) {
        None => Level::Buurt,
        Some(l) => Level::parse(l).ok_or_else(|| {
            invalid("unknown level", BTreeMap::from([("level".to_string(), "use buurt, wijk or gemeente".to_string())]))
        })?,
    };
    if find(&state, &slug)?.definition.kind == Kind::Identified {
        return Err(ApiError::NotFound(format!(
            "{slug} is answered with consent by name; its answers are never public"
        )));
    }
    let wave_id = match query.get("wave") {
        None => None,
        Some(w) => Some(w.parse::<i32>().map_err(|_| {
            invalid("unknown wave", BTreeMap::from([("wave".to_string(), "must be a wave id".to_string())]))
        })?),
    };
    let table = {
        let (state, slug) = (state.clone(), slug.clone());
        web::block(move || -> Result<_, ApiError> {
            let wave = match wave_id {
                None => None,
                Some(id) => Some(
                    wave::find(&mut *state.pool.get().map_err(crate::db::DbError::from)?, &slug, id)?
                        .ok_or_else(|| ApiError::NotFound(format!("{slug} has no wave {id}")))?,
                ),
            };
            Ok(state.safe_table(&slug, wave.as_ref())?)
        })
        .await??
    }
    .ok_or_else(|| ApiError::NotFound(format!("there is no questionnaire {slug:?}")))?;
    Ok(HttpResponse::Ok().json(results_json(&table, level)))
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
        "areas": areas,
    })
}

fn area_json(table: &SafeTable, a: &AreaResult) -> Value {
    let Some((n, figures)) = &a.figures else {
        return json!({ "code": a.code, "name": a.name, "parent": a.parent, "suppressed": true });
    };
    let mut questions = Map::new();
    for (meta, fig) in table.questions.iter().zip(figures) {
        let v = match (fig, &meta.kind) {
            (QuestionFigures::Scale(s), _) => {
                let mut v = serde_json::to_value(s).unwrap_or(Value::Null);
                v["type"] = json!("scale");
                v
            }
            (QuestionFigures::Choice(c), kind) => {
                let shares: Map<String, Value> =
                    kind.choice_values().iter().zip(&c.shares).map(|(v, s)| ((*v).to_owned(), json!(s))).collect();
                json!({ "type": kind.type_name(), "n": c.n, "shares": shares })
            }
            _ => json!({ "suppressed": true }),
        };
        questions.insert(meta.id.clone(), v);
    }
    json!({ "code": a.code, "name": a.name, "parent": a.parent, "n": n, "suppressed": false, "questions": questions })
}
