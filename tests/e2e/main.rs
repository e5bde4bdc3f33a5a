//! End-to-end tests: the real server on port 0, over real SQLite and
//! PostgreSQL databases, a real headless Chromium, the real binary.

mod chrome;
mod helpers;

mod a11y;
mod access_log;
mod accounts;
mod api;
mod attacks;
mod bad_input;
mod browser;
mod campaign;
mod cli;
mod compose;
mod concurrency;
mod deep_input;
mod design;
mod forwarded;
mod free_text;
mod headers;
mod instances;
mod invite;
mod lottery;
mod map;
mod outage;
mod panel;
mod privacy;
mod report;
mod resident;
mod results;
mod schema;
mod talent;
mod weighting;
