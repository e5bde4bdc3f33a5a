//! Security headers: HSTS only over HTTPS as a trusted proxy reports it,
//! the content security policy, and `nosniff` exactly once on downloads.

use buurtpeil::auth::Role;

use crate::helpers::*;
use crate::on_both_backends;

const HSTS: &str = "strict-transport-security";

async fn hsts_only_when_a_trusted_proxy_says_https(backend: Backend) {
    let direct = spawn_app(backend).await;
    for headers in [&[][..], &[("x-forwarded-proto", "https")], &[("forwarded", "proto=https")]] {
        let res = direct.resident_with(headers).get("/").await;
        assert_eq!(res.status().as_u16(), 200);
        assert!(res.headers().get(HSTS).is_none(), "{headers:?}: an untrusted peer's word is not HTTPS");
    }
    let proxied = spawn_app_with(backend, Options { trusted_proxies: Some("127.0.0.1"), ..Options::default() }).await;
    assert!(proxied.get("/").await.headers().get(HSTS).is_none(), "plain HTTP through the proxy");
    assert!(proxied.resident_with(&[("x-forwarded-proto", "http")]).get("/").await.headers().get(HSTS).is_none());
    for headers in [&[("x-forwarded-proto", "https")][..], &[("forwarded", "for=198.51.100.1;proto=https")]] {
        for path in ["/", "/healthz", "/static/buurtpeil.css", "/nergens"] {
            let res = proxied.resident_with(headers).get(path).await;
            let values: Vec<_> = res.headers().get_all(HSTS).iter().collect();
            assert_eq!(values, ["max-age=31536000"], "{path} {headers:?}");
        }
    }
}
on_both_backends!(hsts_only_when_a_trusted_proxy_says_https);

async fn pages_forbid_base_and_downloads_say_nosniff_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let csp = app.get("/").await.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("base-uri 'none'") && csp.contains("default-src 'self'"), "{csp}");
    app.submit_many("BU07721110", 12, 8).await;
    let designer = app.logged_in("ontwerper@eindhoven.nl", Role::Admin).await;
    for (path, content_type) in [
        ("/api/v1/questionnaires/geluk/results.csv", "text/csv"),
        (
            "/api/v1/questionnaires/geluk/results.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        ("/ontwerp/geluk/bestand.toml", "application/toml"),
    ] {
        let res = designer.get(path).await;
        assert_eq!(res.status().as_u16(), 200, "{path}");
        let got = res.headers()["content-type"].to_str().unwrap();
        assert!(got.starts_with(content_type), "{path}: {got}");
        assert!(res.headers().contains_key("content-disposition"), "{path}");
        let nosniff: Vec<_> = res.headers().get_all("x-content-type-options").iter().collect();
        assert_eq!(nosniff, ["nosniff"], "{path}");
    }
}
on_both_backends!(pages_forbid_base_and_downloads_say_nosniff_once);
