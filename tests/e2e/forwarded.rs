//! Links come from the configured public URL, never from the request; the
//! forwarded headers count only from a trusted proxy.

use buurtpeil::auth::Role;
use reqwest::header::SET_COOKIE;

use crate::helpers::*;
use crate::on_both_backends;
use crate::talent::{profile_id_of, scan_as, verbinder_with, WITTE_DAME};

const PUBLIC: &str = "https://buurtpeil.gemeente.example";

/// Everything a client can send to pretend to be elsewhere.
const SPOOFED: &[(&str, &str)] = &[
    ("host", "evil.example"),
    ("x-forwarded-host", "evil.example"),
    ("x-forwarded-proto", "https"),
    ("x-forwarded-for", "203.0.113.66"),
    ("forwarded", "for=203.0.113.66;host=evil.example;proto=https"),
];

async fn wait_for_mail(out: &std::path::Path, subject: &str) -> serde_json::Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let found = received(out).into_iter().find(|m| m["subject"].as_str().unwrap_or("").starts_with(subject));
        if let Some(m) = found {
            return m;
        }
        assert!(std::time::Instant::now() < deadline, "no e-mail {subject:?}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

fn cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect()
}

/// What the spoofed headers could have changed, with `proxies` trusted:
/// the talent scan's e-mail and thanks page, a verbinder's proposal e-mail,
/// the resume link, the council's default base URL and the cookies' Secure
/// flag.
async fn links_and_scheme(backend: Backend, proxies: Option<&'static str>) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mail.jsonl");
    let smtp = Smtp::start(&out, None);
    let options = Options {
        mail: Some((smtp.url(), "Buurtpeil <noreply@example.nl>".into())),
        public_url: Some(PUBLIC),
        trusted_proxies: proxies,
        ..Options::default()
    };
    let app = spawn_app_with(backend, options).await;
    let https = proxies.is_some();
    let r = app.resident_with(SPOOFED);

    // The talent scan: the thanks page and the e-mail with the private link.
    let (token, thanks) = scan_as(&r, WITTE_DAME, "Jan Doorgestuurd", "jan@example.nl", &["koken"], "wekelijks").await;
    let shown = format!("{PUBLIC}/mijn-talent/{token}").replace('/', "&#x2F;");
    assert!(thanks.contains(&shown) && !thanks.contains("evil"), "{thanks}");
    let mail = wait_for_mail(&out, "").await;
    let text = mail["text"].as_str().unwrap();
    assert!(text.contains(&format!("{PUBLIC}/mijn-talent/{token}")), "{text}");
    assert!(!text.contains("evil") && !mail["html"].as_str().unwrap().contains("evil"), "{text}");

    // The resume link, and the resume cookie's flags.
    let res = r.post("/s/geluk/start", &[("buurt", "BU07721110"), ("toestemming", "ja")]).await;
    assert_eq!(res.status().as_u16(), 303);
    let resume = cookies(&res).into_iter().find(|c| c.starts_with("bp_geluk=")).expect("a resume cookie");
    assert_eq!(resume.contains("Secure"), https, "{resume}");
    let later = r.act("geluk", 1, "bewaar", &[("q_geluk", "4")]).await;
    assert_eq!(later.status().as_u16(), 200);
    let html = later.text().await.unwrap();
    assert!(html.contains(&format!("{}&#x2F;s&#x2F;geluk&#x2F;verder?code=", PUBLIC.replace('/', "&#x2F;"))), "{html}");
    assert!(!html.contains("evil"));

    // A verbinder's proposal e-mail.
    let admin = app.logged_in("beheer@example.nl", Role::Admin).await;
    let v = verbinder_with(&app, &admin, "verbinder@example.nl", &["WK077211"], SPOOFED).await;
    let fields = [("naam", "Soepcafé"), ("buurt", WITTE_DAME), ("soort", "activiteit"), ("talenten", "koken")];
    assert_eq!(v.post_from("/talent/initiatieven/nieuw", "/talent/initiatieven", &fields).await.status().as_u16(), 303);
    let ini: i32 = {
        use buurtpeil::db::schema::talent_initiatives as ti;
        use diesel::prelude::*;
        ti::table.select(ti::id).first(&mut app.db.connect()).unwrap()
    };
    let path = format!("/talent/profielen/{}", profile_id_of(&app, "Jan Doorgestuurd"));
    let res = v.post_from(&path, &format!("{path}/voorstel"), &[("initiatief", &ini.to_string())]).await;
    assert_eq!(res.status().as_u16(), 303);
    let proposal = wait_for_mail(&out, "Een voorstel").await;
    let text = proposal["text"].as_str().unwrap();
    assert!(text.contains(&format!("{PUBLIC}/voorstel/")) && !text.contains("evil"), "{text}");

    // The council's default base URL of invitations.
    {
        use buurtpeil::questionnaire::{load_catalog, load_dir};
        let mut conn = app.db.connect();
        let catalog = load_catalog(&mut conn, &load_dir(&manifest_dir().join("questionnaires")).unwrap()).unwrap();
        let tree = buurtpeil::area::load_tree(&mut conn).unwrap();
        let base = buurtpeil::invite::BaseUrl::parse(PUBLIC).unwrap();
        let signup = catalog.current("panelaanmelding").unwrap();
        buurtpeil::demo::seed_campaign(&mut conn, &tree, signup, &base, 772).unwrap().unwrap();
    }
    let council = app.logged_in_with("griffie@example.nl", Role::Council, SPOOFED).await;
    let page = council.get("/beheer/loting/demo-burgerpanel").await.text().await.unwrap();
    assert!(
        page.contains(&format!(
            "name=\"basis\" type=\"text\" maxlength=\"200\" value=\"{}\"",
            PUBLIC.replace('/', "&#x2F;")
        )),
        "{page}"
    );
    assert!(!page.contains("evil"));

    // The session cookie is Secure only when a trusted proxy says HTTPS.
    let browser = app.resident_with(SPOOFED);
    add_user(&app, "wijk@example.nl", Role::Professional);
    let csrf = csrf_of(&browser.get("/inloggen").await.text().await.unwrap());
    let res = browser.post("/inloggen", &[("email", "wijk@example.nl"), ("password", PASSWORD), ("csrf", &csrf)]).await;
    assert_eq!(res.status().as_u16(), 303);
    let session = cookies(&res).into_iter().find(|c| c.starts_with("buurtpeil_sessie=")).unwrap();
    assert_eq!(session.contains("Secure"), https, "{session}");
}

async fn spoofed_headers_from_an_untrusted_peer_change_nothing(backend: Backend) {
    links_and_scheme(backend, None).await;
}
on_both_backends!(spoofed_headers_from_an_untrusted_peer_change_nothing);

async fn a_trusted_proxy_gives_the_scheme_but_links_stay_public(backend: Backend) {
    links_and_scheme(backend, Some("127.0.0.1, ::1")).await;
}
on_both_backends!(a_trusted_proxy_gives_the_scheme_but_links_stay_public);

/// 20 failed logins from one address block it; the address is the TCP peer
/// unless the peer is a trusted proxy.
async fn failures_from(app: &TestApp, client_ips: impl Fn(usize) -> String) -> u16 {
    let mut last = 0;
    for i in 0..21 {
        let ip = client_ips(i);
        let r = app.resident_with(&[("x-forwarded-for", &ip), ("forwarded", &format!("for={ip}"))]);
        let csrf = csrf_of(&r.get("/inloggen").await.text().await.unwrap());
        let email = format!("gok{i}@example.nl");
        last = r
            .post("/inloggen", &[("email", &email), ("password", "verkeerd"), ("csrf", &csrf)])
            .await
            .status()
            .as_u16();
    }
    last
}

async fn the_client_address_is_forwarded_only_by_a_trusted_proxy(backend: Backend) {
    let untrusted = spawn_app(backend).await;
    assert_eq!(failures_from(&untrusted, |i| format!("198.51.100.{i}")).await, 429, "one peer, however it poses");

    let behind_proxy =
        spawn_app_with(backend, Options { trusted_proxies: Some("127.0.0.0/8"), ..Options::default() }).await;
    assert_eq!(failures_from(&behind_proxy, |i| format!("198.51.100.{i}")).await, 401, "21 clients, one failure each");
    assert_eq!(failures_from(&behind_proxy, |_| "198.51.100.200".into()).await, 429, "one client behind the proxy");
}
on_both_backends!(the_client_address_is_forwarded_only_by_a_trusted_proxy);

/// `serve` refuses to start with mail but without a public URL, or with a
/// public URL or proxy list that is not one, and says which setting.
#[test]
fn serve_checks_the_addresses_at_start() {
    let db = TestDb::new(Backend::Sqlite);
    let serve = |env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_buurtpeil"));
        cmd.args(["serve", "--bind", "127.0.0.1:0"])
            .env("DATABASE_URL", &db.url)
            .env("BUURTPEIL_QUESTIONNAIRES", manifest_dir().join("questionnaires"))
            .env_remove("BUURTPEIL_PUBLIC_URL")
            .env_remove("BUURTPEIL_TRUSTED_PROXIES");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let mail = [("SMTP_URL", "smtp://127.0.0.1:9"), ("BUURTPEIL_MAIL_FROM", "Gemeente <noreply@gemeente.nl>")];
    let out = serve(&mail);
    assert!(!out.status.success());
    assert!(text(&out).contains("BUURTPEIL_PUBLIC_URL is not"), "{}", text(&out));
    let out = serve(&[("BUURTPEIL_PUBLIC_URL", "https://buurtpeil.gemeente.nl/pad?x=1")]);
    assert!(!out.status.success());
    assert!(text(&out).contains("BUURTPEIL_PUBLIC_URL \"https://buurtpeil.gemeente.nl/pad?x=1\""), "{}", text(&out));
    let out = serve(&[("BUURTPEIL_TRUSTED_PROXIES", "10.0.0.1, proxy.local")]);
    assert!(!out.status.success());
    assert!(text(&out).contains("BUURTPEIL_TRUSTED_PROXIES: \"proxy.local\""), "{}", text(&out));
}
