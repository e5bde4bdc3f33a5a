//! The error policy of the JSON API: bad input gets a clear message and the
//! right status; the unexpected gets a bare 500 and its cause goes to the log.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("the request body is larger than {0} KB")]
    TooLarge(usize),
    #[error("send the body as application/json")]
    UnsupportedMediaType,
    #[error("{message}")]
    Invalid { message: String, fields: BTreeMap<String, String> },
    #[error("too many responses from this address for this buurt through the open link; try again in {0} seconds")]
    TooManyRequests(u64),
    #[error("the database cannot take requests just now; nothing was stored; try again in a few seconds")]
    Unavailable,
    #[error("internal error: {0}")]
    Internal(String),
}

/// Seconds a client is asked to wait when the database is unavailable.
const RETRY_UNAVAILABLE: &str = "5";

impl ApiError {
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(e.to_string())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let body = match self {
            ApiError::Invalid { message, fields } => json!({ "error": message, "fields": fields }),
            ApiError::Internal(detail) => {
                tracing::error!("{detail}");
                json!({ "error": "internal error; it has been logged" })
            }
            other => json!({ "error": other.to_string() }),
        };
        let mut res = HttpResponse::build(self.status_code());
        match self {
            ApiError::TooManyRequests(secs) => {
                res.insert_header((actix_web::http::header::RETRY_AFTER, secs.to_string()));
            }
            ApiError::Unavailable => {
                res.insert_header((actix_web::http::header::RETRY_AFTER, RETRY_UNAVAILABLE));
            }
            _ => {}
        }
        res.json(body)
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> ApiError {
        ApiError::internal(e)
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> ApiError {
        match e {
            e if e.is_unavailable() => {
                tracing::error!("{e}");
                ApiError::Unavailable
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<crate::survey::SubmitError> for ApiError {
    fn from(e: crate::survey::SubmitError) -> ApiError {
        match e {
            crate::survey::SubmitError::Db(db) => db.into(),
            other => ApiError::internal(other),
        }
    }
}
