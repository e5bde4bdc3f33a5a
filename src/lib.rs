//! buurtpeil: measure and grow brede welvaart buurt by buurt.
//!
//! Domain modules (area, questionnaire, survey, insight) own their rules and
//! know nothing of HTTP; `web` maps them to pages and status codes.

pub mod area;
pub mod auth;
pub mod clock;
pub mod code;
pub mod config;
pub mod csv_text;
pub mod db;
pub mod demo;
pub mod i18n;
pub mod insight;
pub mod invite;
pub mod lottery;
pub mod map;
pub mod panel;
pub mod questionnaire;
pub mod rate_limit;
pub mod spreadsheet;
pub mod survey;
pub mod talent;
pub mod web;
