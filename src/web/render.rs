//! Page rendering: tera templates built once from files embedded in the
//! binary, with the language and interface texts every page needs.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};

use super::lang::LangChoice;
use super::state::AppState;

const TEMPLATES: &[(&str, &str)] = &[
    ("index.html", include_str!("../../templates/index.html")),
    ("base.html", include_str!("../../templates/base.html")),
    ("macros.html", include_str!("../../templates/macros.html")),
    ("error.html", include_str!("../../templates/error.html")),
    ("survey/start.html", include_str!("../../templates/survey/start.html")),
    ("survey/page.html", include_str!("../../templates/survey/page.html")),
    ("survey/saved.html", include_str!("../../templates/survey/saved.html")),
    ("survey/resume.html", include_str!("../../templates/survey/resume.html")),
    ("survey/thanks.html", include_str!("../../templates/survey/thanks.html")),
    ("results/page.html", include_str!("../../templates/results/page.html")),
    ("results/map.html", include_str!("../../templates/results/map.html")),
    ("results/report.html", include_str!("../../templates/results/report.html")),
    ("results/free_text.html", include_str!("../../templates/results/free_text.html")),
    ("results/talent_map.html", include_str!("../../templates/results/talent_map.html")),
    ("lottery/new.html", include_str!("../../templates/lottery/new.html")),
    ("lottery/protocol.html", include_str!("../../templates/lottery/protocol.html")),
    ("lottery/verify.html", include_str!("../../templates/lottery/verify.html")),
    ("panel/new.html", include_str!("../../templates/panel/new.html")),
    ("panel/selection.html", include_str!("../../templates/panel/selection.html")),
    ("public/campaign.html", include_str!("../../templates/public/campaign.html")),
    ("design/list.html", include_str!("../../templates/design/list.html")),
    ("design/edit.html", include_str!("../../templates/design/edit.html")),
    ("design/page.html", include_str!("../../templates/design/page.html")),
    ("design/question.html", include_str!("../../templates/design/question.html")),
    ("design/waves.html", include_str!("../../templates/design/waves.html")),
    ("design/preview_done.html", include_str!("../../templates/design/preview_done.html")),
    ("accounts/login.html", include_str!("../../templates/accounts/login.html")),
    ("accounts/home.html", include_str!("../../templates/accounts/home.html")),
    ("accounts/list.html", include_str!("../../templates/accounts/list.html")),
];

pub const STYLESHEET: &str = include_str!("../../templates/static/buurtpeil.css");

pub fn templates() -> Result<tera::Tera, tera::Error> {
    let mut tera = tera::Tera::default();
    tera.add_raw_templates(TEMPLATES.iter().copied())?;
    super::invite::add_templates(&mut tera)?;
    super::talent::add_templates(&mut tera)?;
    tera.autoescape_on(vec![".html"]);
    tera.register_filter("num", number_filter);
    Ok(tera)
}

/// `{{ x | num(lang=lang) }}`: one decimal, with a decimal comma in Dutch.
fn number_filter(
    value: &tera::Value,
    args: &std::collections::HashMap<String, tera::Value>,
) -> tera::Result<tera::Value> {
    let x = value.as_f64().ok_or_else(|| tera::Error::msg("num expects a number"))?;
    let lang = args.get("lang").and_then(|l| l.as_str()).and_then(crate::i18n::Lang::parse).unwrap_or_default();
    Ok(tera::Value::String(lang.decimal(x)))
}

/// The current URL with the other language chosen: the language switch.
fn switch_href(req: &HttpRequest, lang: LangChoice) -> String {
    let mut query: Vec<&str> =
        req.query_string().split('&').filter(|kv| !kv.is_empty() && !kv.starts_with("lang=")).collect();
    let other = format!("lang={}", lang.lang.other().code());
    query.push(&other);
    format!("{}?{}", req.path(), query.join("&"))
}

/// Renders a page; a template failure is logged and becomes a plain 500.
pub fn page(
    state: &AppState,
    req: &HttpRequest,
    lang: LangChoice,
    status: StatusCode,
    template: &str,
    mut ctx: tera::Context,
) -> HttpResponse {
    ctx.insert("lang", lang.lang.code());
    ctx.insert("other_lang", lang.lang.other().code());
    ctx.insert("switch_href", &switch_href(req, lang));
    ctx.insert("t", lang.lang.texts());
    ctx.insert("min_cell", &state.publication.min_cell);
    match state.tera.render(template, &ctx) {
        Ok(body) => {
            let mut res = HttpResponse::build(status);
            res.content_type("text/html; charset=utf-8");
            if let Some(cookie) = lang.cookie() {
                res.cookie(cookie);
            }
            res.insert_header((header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.lang.code())));
            res.body(body)
        }
        Err(e) => {
            let mut cause = String::new();
            let mut source: Option<&dyn std::error::Error> = Some(&e);
            while let Some(s) = source {
                cause.push_str(&format!(": {s}"));
                source = s.source();
            }
            tracing::error!("rendering {template} failed{cause}");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("Er ging iets mis. / Something went wrong.")
        }
    }
}

/// A friendly error page; `message` is a key of the interface texts.
pub fn error_page(
    state: &AppState,
    req: &HttpRequest,
    lang: LangChoice,
    status: StatusCode,
    message: &str,
) -> HttpResponse {
    let mut ctx = tera::Context::new();
    ctx.insert("message_key", message);
    ctx.insert("status", &status.as_u16());
    page(state, req, lang, status, "error.html", ctx)
}

/// Seconds between reloads of a page that shows work in progress.
const REFRESH_SECONDS: u32 = 3;

/// Whether a page showing work in progress reloads itself: yes, unless the
/// user turned it off with `?verversen=nee` (WCAG 2.2.1: a timed reload can
/// be stopped).
pub fn auto_refresh_on(req: &HttpRequest) -> bool {
    !req.query_string().split('&').any(|kv| kv == "verversen=nee")
}

/// Adds the reload as an HTTP `Refresh` header: no script (the CSP allows
/// none) and no `<meta>` refresh, which can not be turned off.
pub fn with_refresh(mut res: HttpResponse, on: bool) -> HttpResponse {
    if on {
        res.headers_mut().insert(
            header::REFRESH,
            HeaderValue::from_str(&REFRESH_SECONDS.to_string()).expect("digits are a valid header"),
        );
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reload_can_be_turned_off() {
        let on = actix_web::test::TestRequest::with_uri("/beheer/campagnes/x/panel/1").to_http_request();
        let off = actix_web::test::TestRequest::with_uri("/beheer/campagnes/x/panel/1?verversen=nee").to_http_request();
        assert!(auto_refresh_on(&on) && !auto_refresh_on(&off));
        let res = with_refresh(HttpResponse::Ok().finish(), true);
        assert_eq!(res.headers().get(header::REFRESH).unwrap(), "3");
        assert!(with_refresh(HttpResponse::Ok().finish(), false).headers().get(header::REFRESH).is_none());
    }
}
