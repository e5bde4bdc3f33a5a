//! HTTP: the actix-web application, thin handlers over the domain modules.

mod accounts;
mod api;
mod campaign;
mod design;
mod error;
mod free_text_page;
mod invite;
mod lang;
mod log_path;
mod lottery;
mod map_page;
mod origin;
mod panel;
mod public;
mod render;
mod report_page;
mod resident;
mod results_page;
mod sending;
mod server;
pub mod session;
mod state;
mod talent;
mod talent_link;
mod talent_map_page;
mod upload;

pub use api::results_json;
pub use origin::Site;
pub use server::{Application, StartError};
pub use state::AppState;
