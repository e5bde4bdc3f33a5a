//! Professional accounts: login, logout, sessions, CSRF, throttling, roles,
//! and the `user` command. Never a 500.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use buurtpeil::auth::{authenticate, set_disabled, set_password, EmailAddress, LoginOutcome, NewPassword, Role};
use reqwest::header::{HeaderMap, COOKIE, LOCATION, RETRY_AFTER, SET_COOKIE};

use crate::helpers::*;
use crate::on_both_backends;

/// A client with its own cookie jar (another browser).
fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap()
}

/// A client that keeps no cookies: every cookie is sent by hand.
fn bare() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn login_token(app: &TestApp, client: &reqwest::Client) -> String {
    let res = client.get(app.url("/inloggen")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    csrf_of(&res.text().await.unwrap())
}

async fn post_login(
    app: &TestApp,
    client: &reqwest::Client,
    email: &str,
    password: &str,
    csrf: &str,
) -> reqwest::Response {
    client
        .post(app.url("/inloggen"))
        .form(&[("email", email), ("password", password), ("csrf", csrf)])
        .send()
        .await
        .unwrap()
}

async fn log_in(app: &TestApp, client: &reqwest::Client, email: &str) -> reqwest::Response {
    let token = login_token(app, client).await;
    post_login(app, client, email, PASSWORD, &token).await
}

fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers.get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect()
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    set_cookies(headers).into_iter().find(|c| c.starts_with("buurtpeil_sessie=") && !c.contains("Max-Age=0"))
}

/// `name=value` of a Set-Cookie line.
fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

async fn login_and_logout(backend: Backend) {
    let app = spawn_app(backend).await;
    add_user(&app, "wijkmanager@eindhoven.nl", Role::Professional);

    // Not logged in: pages go to the login form, the API says 401.
    let res = app.get("/beheer").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[LOCATION], "/inloggen");
    let res = app.get("/beheer/accounts").await;
    assert_eq!(res.headers()[LOCATION], "/inloggen?terug=/beheer/accounts");
    let (status, body) = app.get_json("/api/v1/me").await;
    assert_eq!(status, 401);
    assert!(body["error"].is_string());

    // The form: Dutch by default, English by choice, accessible.
    let res = app.get("/inloggen").await;
    assert_eq!(res.headers()["cache-control"], "no-store");
    let anon = set_cookies(res.headers());
    assert!(anon.iter().any(|c| c.starts_with("buurtpeil_csrf=") && c.contains("HttpOnly")), "{anon:?}");
    let html = res.text().await.unwrap();
    assert!(html.contains("<h1>Inloggen</h1>"));
    for needle in [
        "<label for=\"email\">",
        "<label for=\"password\">",
        "autocomplete=\"username\"",
        "autocomplete=\"current-password\"",
        "type=\"hidden\" name=\"csrf\"",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    let html = app.get("/inloggen?lang=en").await.text().await.unwrap();
    assert!(html.contains("<h1>Log in</h1>"));
    // (The switch is remembered; back to Dutch.)
    assert!(app.get("/inloggen?lang=nl").await.text().await.unwrap().contains("<h1>Inloggen</h1>"));

    // Logging in: e-mail in any case, cookie with the right flags.
    let token = login_token(&app, &app.client).await;
    let res = post_login(&app, &app.client, "WijkManager@Eindhoven.nl ", PASSWORD, &token).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[LOCATION], "/beheer");
    let cookie = session_cookie(res.headers()).expect("a session cookie");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=28800"] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: no Secure flag ({cookie})");
    assert!(!cookie.contains("wijkmanager"), "the cookie is encrypted: {cookie}");

    let res = app.get("/beheer").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("wijkmanager@eindhoven.nl") && html.contains("professional"), "{html}");
    let (status, me) = app.get_json("/api/v1/me").await;
    assert_eq!(
        (status, me["email"].as_str(), me["role"].as_str()),
        (200, Some("wijkmanager@eindhoven.nl"), Some("professional"))
    );
    // Logged in already: the form sends you on.
    assert_eq!(app.get("/inloggen").await.headers()[LOCATION], "/beheer");

    // Logout by GET does not exist; by POST it needs the token.
    let res = app.get("/uitloggen").await;
    assert!(matches!(res.status().as_u16(), 404 | 405), "{}", res.status());
    assert_eq!(app.get("/beheer").await.status(), 200, "still logged in");
    let res = app.client.post(app.url("/uitloggen")).form(&[("x", "y")]).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let html = res.text().await.unwrap();
    assert!(html.contains("formulier is verlopen"), "{html}");
    let res = app.client.post(app.url("/uitloggen")).form(&[("csrf", "00ff")]).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let token = csrf_of(&app.get("/beheer").await.text().await.unwrap());
    let res = app.client.post(app.url("/uitloggen")).form(&[("csrf", token.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert!(set_cookies(res.headers()).iter().any(|c| c.starts_with("buurtpeil_sessie=;") && c.contains("Max-Age=0")));
    assert_eq!(app.get("/beheer").await.status(), 303);
    assert!(app.get("/inloggen?uitgelogd=1").await.text().await.unwrap().contains("U bent uitgelogd"));

    // X-Forwarded-Proto from a peer that is not a trusted proxy changes
    // nothing (behind a trusted one the cookie is Secure: forwarded.rs).
    let client = browser();
    let token = login_token(&app, &client).await;
    let res = client
        .post(app.url("/inloggen"))
        .header("x-forwarded-proto", "https")
        .form(&[("email", "wijkmanager@eindhoven.nl"), ("password", PASSWORD), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(!session_cookie(res.headers()).unwrap().contains("Secure"));

    // Back to where you were going, but never off-site.
    let client = browser();
    let token = login_token(&app, &client).await;
    let form = [("email", "wijkmanager@eindhoven.nl"), ("password", PASSWORD), ("csrf", &token), ("terug", "/s/geluk")];
    let res = client.post(app.url("/inloggen")).form(&form).send().await.unwrap();
    assert_eq!(res.headers()[LOCATION], "/s/geluk");
    let client = browser();
    let token = login_token(&app, &client).await;
    let form =
        [("email", "wijkmanager@eindhoven.nl"), ("password", PASSWORD), ("csrf", &token), ("terug", "//evil.example/")];
    let res = client.post(app.url("/inloggen")).form(&form).send().await.unwrap();
    assert_eq!(res.headers()[LOCATION], "/beheer");
    for odd in ["/é", "/a b", "https://evil.example/", "/\r\nSet-Cookie: x=y"] {
        let client = browser();
        let token = login_token(&app, &client).await;
        let form = [("email", "wijkmanager@eindhoven.nl"), ("password", PASSWORD), ("csrf", &token), ("terug", odd)];
        let res = client.post(app.url("/inloggen")).form(&form).send().await.unwrap();
        assert_eq!(res.status(), 303, "{odd:?}");
        assert_eq!(res.headers()[LOCATION], "/beheer", "{odd:?}");
        let res = client
            .get(app.url(&format!(
                "/inloggen?terug={}",
                url::form_urlencoded::byte_serialize(odd.as_bytes()).collect::<String>()
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()[LOCATION], "/beheer", "{odd:?}");
    }
}
on_both_backends!(login_and_logout);

async fn bad_logins_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    add_user(&app, "verbinder@eindhoven.nl", Role::Professional);
    let client = &app.client;
    let token = login_token(&app, client).await;

    // Wrong password and unknown address: the same answer, no session.
    let mut pages = Vec::new();
    for (email, password) in [
        ("verbinder@eindhoven.nl", "niet het wachtwoord"),
        ("niemand@eindhoven.nl", PASSWORD),
        ("geen adres", PASSWORD),
    ] {
        let res = post_login(&app, client, email, password, &token).await;
        assert_eq!(res.status(), 401, "{email}");
        assert!(session_cookie(res.headers()).is_none());
        let html = res.text().await.unwrap();
        assert!(html.contains("Het e-mailadres of het wachtwoord klopt niet."), "{html}");
        assert!(!html.contains(password), "the password is never echoed");
        pages.push(html.replace(email, ""));
    }
    assert_eq!(app.get("/beheer").await.status(), 303);

    // Missing fields: 422 with the message beside each field.
    let res = client.post(app.url("/inloggen")).form(&[("csrf", token.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"email-error\"") && html.contains("aria-describedby=\"email-error\""), "{html}");
    assert!(html.contains("id=\"password-error\"") && html.contains("aria-describedby=\"password-error\""));
    let res = client
        .post(app.url("/inloggen"))
        .form(&[("csrf", token.as_str()), ("email", "verbinder@eindhoven.nl")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("value=\"verbinder@eindhoven.nl\"") && !html.contains("id=\"email-error\""), "input is kept");
    // Over-long fields within the body limit: 422, not echoed.
    let long = "x".repeat(5000);
    let res = post_login(&app, client, &format!("{long}@x.nl"), &long, &token).await;
    assert_eq!(res.status(), 422);
    assert!(!res.text().await.unwrap().contains(&long));

    // No, forged, or someone else's CSRF token: 403.
    let res = client
        .post(app.url("/inloggen"))
        .form(&[("email", "verbinder@eindhoven.nl"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("Het formulier was verlopen"));
    for forged in ["0".repeat(128), "zz".into(), token.to_uppercase().replace('A', "B")] {
        let res = post_login(&app, client, "verbinder@eindhoven.nl", PASSWORD, &forged).await;
        assert_eq!(res.status(), 403, "{forged}");
        assert!(session_cookie(res.headers()).is_none());
    }
    let other = browser();
    let other_token = login_token(&app, &other).await;
    let res = post_login(&app, client, "verbinder@eindhoven.nl", PASSWORD, &other_token).await;
    assert_eq!(res.status(), 403, "a token from another browser");
    // A token but no cookie (a cross-site form in a fresh browser): 403.
    let res = post_login(&app, &bare(), "verbinder@eindhoven.nl", PASSWORD, &token).await;
    assert_eq!(res.status(), 403);

    // Hostile bodies: too large, not UTF-8, not a form.
    let big = format!("email=a%40b.nl&password={}&csrf={token}", "x".repeat(1_100_000));
    let res = client
        .post(app.url("/inloggen"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let mut body = b"email=verbinder%40eindhoven.nl&password=".to_vec();
    body.extend_from_slice(&[0xff, 0xfe, 0xc3, 0x28]);
    body.extend_from_slice(format!("&csrf={token}").as_bytes());
    let res = client
        .post(app.url("/inloggen"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    let res = client
        .post(app.url("/inloggen"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=%FF%FE&password=%C3%28&csrf=%FF")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    let res = client.post(app.url("/inloggen")).json(&serde_json::json!({ "email": "x" })).send().await.unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    let res = client
        .post(app.url("/inloggen"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=a&email=b")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());

    // A disabled account: refused even with the right password.
    set_disabled(&mut app.db.connect(), &EmailAddress::parse("verbinder@eindhoven.nl").unwrap(), true).unwrap();
    let token = login_token(&app, client).await;
    let res = post_login(&app, client, "verbinder@eindhoven.nl", PASSWORD, &token).await;
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("uitgeschakeld"));
}
on_both_backends!(bad_logins_are_refused);

async fn failed_logins_are_throttled(backend: Backend) {
    let app = spawn_app(backend).await;
    add_user(&app, "griffier@eindhoven.nl", Role::Council);
    add_user(&app, "beheer@eindhoven.nl", Role::Admin);
    let client = &app.client;
    let token = login_token(&app, client).await;
    for _ in 0..5 {
        let res = post_login(&app, client, "griffier@eindhoven.nl", "verkeerd wachtwoord", &token).await;
        assert_eq!(res.status(), 401);
    }
    // The sixth try is refused even with the right password.
    let res = post_login(&app, client, "GRIFFIER@eindhoven.nl", PASSWORD, &token).await;
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()[RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((800..=900).contains(&retry), "{retry}");
    assert!(session_cookie(res.headers()).is_none());
    let html = res.text().await.unwrap();
    assert!(html.contains("Te veel mislukte pogingen") && html.contains("15 minuten"), "{html}");
    let res = client
        .post(app.url("/inloggen?lang=en"))
        .form(&[("email", "griffier@eindhoven.nl"), ("password", PASSWORD), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.text().await.unwrap().contains("Too many failed attempts"));

    // Another account from the same address still works…
    assert_eq!(log_in(&app, &browser(), "beheer@eindhoven.nl").await.status(), 303);
    // …until the address has 20 failures in all.
    for i in 0..15 {
        let res = post_login(&app, client, &format!("gok{i}@eindhoven.nl"), "verkeerd wachtwoord", &token).await;
        assert_eq!(res.status(), 401, "{i}");
    }
    let res = log_in(&app, &browser(), "beheer@eindhoven.nl").await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key(RETRY_AFTER));
}
on_both_backends!(failed_logins_are_throttled);

/// 29 wrong passwords and the right one, all at once, for one account from
/// one address: each attempt is counted before its password is hashed, so
/// at most 5 wrong ones are evaluated (401) and the rest get 429 — the
/// right one included, when the five places were already taken.
async fn parallel_guesses_are_counted_before_they_are_checked(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut evaluated_total = 0;
    for round in 0..3 {
        let email = format!("doelwit{round}@eindhoven.nl");
        add_user(&app, &email, Role::Professional);
        let client = browser();
        let token = login_token(&app, &client).await;
        // The right password is sent last, first, and in between.
        let right_at = [29, 0, 3][round];
        let tries = (0..30).map(|i| {
            let (app, client, token, email) = (&app, &client, &token, &email);
            async move {
                let password = if i == right_at { PASSWORD.to_owned() } else { format!("verkeerd wachtwoord {i}") };
                (i == right_at, post_login(app, client, email, &password, token).await.status().as_u16())
            }
        });
        let outcomes = futures::future::join_all(tries).await;
        let count = |status: u16| outcomes.iter().filter(|(_, s)| *s == status).count();
        let (wrong, right, throttled) = (count(401), count(303), count(429));
        eprintln!("round {round}: {wrong} × 401, {right} × 303, {throttled} × 429");
        assert_eq!(wrong + right + throttled, 30, "{outcomes:?}");
        // At most 5 wrong passwords are ever checked. The right one, when it
        // got one of the five places, gives it back as soon as it is done,
        // so a guess still arriving may take it: 6 checked at most.
        assert!(wrong <= 5, "at most the limit of wrong ones evaluated: {outcomes:?}");
        assert!(wrong + right <= 6 && throttled >= 24, "{outcomes:?}");
        let right_status = outcomes.iter().find(|(r, _)| *r).unwrap().1;
        assert!(right_status == 303 || right_status == 429, "{right_status}");
        // What is left is consistent: the right password from this address
        // gets in exactly when fewer than 5 wrong ones were counted.
        let fresh = browser();
        let again = post_login(&app, &fresh, &email, PASSWORD, &login_token(&app, &fresh).await).await;
        assert_eq!(again.status().as_u16(), if wrong < 5 { 303 } else { 429 }, "{outcomes:?}");
        evaluated_total += wrong + right;
    }
    assert!(evaluated_total <= 18);
}
on_both_backends!(parallel_guesses_are_counted_before_they_are_checked);

/// An attacker who fails 5 times from one address is refused, but the
/// account's owner, from an address without failures, still logs in; a
/// fresh address that guesses wrong is refused from then on.
async fn the_owner_logs_in_while_an_attacker_is_throttled(backend: Backend) {
    let app = spawn_app_with(backend, Options { trusted_proxies: Some("127.0.0.0/8"), ..Options::default() }).await;
    add_user(&app, "wijkmanager@eindhoven.nl", Role::Professional);
    let from = |ip: &str| app.resident_with(&[("x-forwarded-for", ip)]);
    async fn attempt(r: &Resident<'_>, password: &str) -> u16 {
        let csrf = csrf_of(&r.get("/inloggen").await.text().await.unwrap());
        r.post("/inloggen", &[("email", "wijkmanager@eindhoven.nl"), ("password", password), ("csrf", &csrf)])
            .await
            .status()
            .as_u16()
    }
    let attacker = from("198.51.100.66");
    for i in 0..5 {
        assert_eq!(attempt(&attacker, &format!("gok {i}")).await, 401, "{i}");
    }
    assert_eq!(attempt(&attacker, "gok 5").await, 429);
    assert_eq!(attempt(&attacker, PASSWORD).await, 429, "not even the right one from the attacker's address");

    let owner = from("203.0.113.10");
    assert_eq!(attempt(&owner, PASSWORD).await, 303, "the owner from home");
    let elsewhere = from("203.0.113.11");
    assert_eq!(attempt(&elsewhere, "nog een gok").await, 401);
    assert_eq!(attempt(&elsewhere, PASSWORD).await, 429, "an address that failed is refused");
}
on_both_backends!(the_owner_logs_in_while_an_attacker_is_throttled);

async fn sessions_cannot_be_forged(backend: Backend) {
    let app = spawn_app(backend).await;
    add_user(&app, "beheer@eindhoven.nl", Role::Admin);
    let res = log_in(&app, &bare(), "beheer@eindhoven.nl").await;
    // (bare() keeps no csrf cookie, so log in with a cookie-keeping client.)
    assert_eq!(res.status(), 403);
    let res = log_in(&app, &app.client, "beheer@eindhoven.nl").await;
    let cookie = pair(&session_cookie(res.headers()).unwrap());
    let get = |c: String| {
        let client = bare();
        let url = app.url("/beheer");
        async move { client.get(url).header(COOKIE, c).send().await.unwrap() }
    };
    assert_eq!(get(cookie.clone()).await.status(), 200, "the genuine cookie works");

    // Any change to the cookie logs you out (and removes it).
    let (name, value) = cookie.split_once('=').unwrap();
    for i in [0, value.len() / 2, value.len() - 2] {
        let mut bytes = value.as_bytes().to_vec();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let tampered = format!("{name}={}", String::from_utf8(bytes).unwrap());
        let res = get(tampered).await;
        assert_eq!(res.status(), 303, "tampered at {i}");
        assert!(set_cookies(res.headers()).iter().any(|c| c.contains("Max-Age=0")));
    }
    for forged in
        ["buurtpeil_sessie=v1.1.0.00.00", "buurtpeil_sessie=", "buurtpeil_sessie=%00%ff", "buurtpeil_sessie=\u{7f}"]
    {
        let client = bare();
        let res = client.get(app.url("/beheer")).header(COOKIE, forged.as_bytes()).send().await;
        if let Ok(res) = res {
            assert_eq!(res.status(), 303, "{forged}");
        }
    }
    // A cookie made by another server (another key) is worthless here.
    let other = spawn_app(backend).await;
    add_user(&other, "beheer@eindhoven.nl", Role::Admin);
    let res = log_in(&other, &other.client, "beheer@eindhoven.nl").await;
    let foreign = pair(&session_cookie(res.headers()).unwrap());
    assert_eq!(get(foreign).await.status(), 303);

    // A new password or a disabled account ends the session at once.
    let email = EmailAddress::parse("beheer@eindhoven.nl").unwrap();
    set_disabled(&mut app.db.connect(), &email, true).unwrap();
    assert_eq!(get(cookie.clone()).await.status(), 303);
    set_disabled(&mut app.db.connect(), &email, false).unwrap();
    assert_eq!(get(cookie.clone()).await.status(), 200);
    let new = NewPassword::parse("een ander lang wachtwoord", &email).unwrap();
    set_password(&mut app.db.connect(), &email, &new).unwrap();
    assert_eq!(get(cookie).await.status(), 303);
}
on_both_backends!(sessions_cannot_be_forged);

async fn roles_are_checked(backend: Backend) {
    let app = spawn_app(backend).await;
    add_user(&app, "beheer@eindhoven.nl", Role::Admin);
    add_user(&app, "wijk@eindhoven.nl", Role::Professional);
    add_user(&app, "raad@eindhoven.nl", Role::Council);

    for (email, status) in [("wijk@eindhoven.nl", 403), ("raad@eindhoven.nl", 403), ("beheer@eindhoven.nl", 200)] {
        let client = browser();
        assert_eq!(log_in(&app, &client, email).await.status(), 303);
        let home = client.get(app.url("/beheer")).send().await.unwrap().text().await.unwrap();
        assert_eq!(home.contains("/beheer/accounts"), status == 200, "{email}");
        let res = client.get(app.url("/beheer/accounts")).send().await.unwrap();
        assert_eq!(res.status().as_u16(), status, "{email}");
        let html = res.text().await.unwrap();
        if status == 403 {
            assert!(html.contains("U heeft geen toegang"), "{html}");
        } else {
            for e in ["beheer@eindhoven.nl", "wijk@eindhoven.nl", "raad@eindhoven.nl"] {
                assert!(html.contains(e), "{e}");
            }
        }
    }
}
on_both_backends!(roles_are_checked);

fn buurtpeil(db: &TestDb, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_buurtpeil"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("BUURTPEIL_QUESTIONNAIRES", manifest_dir().join("questionnaires"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

async fn user_command_checks_its_input(backend: Backend) {
    let db = TestDb::new(backend);
    let create = |email: &str, role: &str, stdin: &[u8]| {
        buurtpeil(&db, &["user", "create", "--email", email, "--role", role], stdin)
    };

    let out = create("Eerste.Beheerder@Eindhoven.nl", "admin", b"een lange zin als wachtwoord\n");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("created admin account eerste.beheerder@eindhoven.nl"), "{}", text(&out));

    for (email, role, stdin, expected) in [
        ("eerste.beheerder@eindhoven.nl", "admin", &b"nog een lange zin hier\n"[..], "already an account"),
        ("geen-adres", "admin", b"een lange zin als wachtwoord\n", "not an e-mail address"),
        ("", "admin", b"een lange zin als wachtwoord\n", "e-mail address is empty"),
        ("twee@eindhoven.nl", "root", b"een lange zin als wachtwoord\n", "unknown role"),
        ("twee@eindhoven.nl", "professional", b"te kort\n", "too short"),
        ("twee@eindhoven.nl", "professional", b"twee@eindhoven.nl\n", "must not be the e-mail address"),
        ("twee@eindhoven.nl", "professional", b"", "no password given"),
        ("twee@eindhoven.nl", "professional", b"\n", "no password given"),
        ("twee@eindhoven.nl", "professional", b"\xff\xfe ongeldige tekens\n", "not valid UTF-8"),
        ("twee@eindhoven.nl", "professional", &[b'x'; 6000][..], "too long"),
    ] {
        let out = create(email, role, stdin);
        assert!(!out.status.success(), "{email} {role}: {}", text(&out));
        assert!(text(&out).contains(expected), "{email} {role}: expected {expected:?} in {}", text(&out));
    }
    // Only the first line counts; a CRLF ending is fine.
    let out = create("twee@eindhoven.nl", "council", b"tweede lange wachtwoord\r\nrest\n");
    assert!(out.status.success(), "{}", text(&out));

    let out = buurtpeil(&db, &["user", "list"], b"");
    assert!(out.status.success());
    let listing = text(&out);
    assert!(listing.contains("eerste.beheerder@eindhoven.nl\tadmin\tenabled"), "{listing}");
    assert!(listing.contains("twee@eindhoven.nl\tcouncil\tenabled"), "{listing}");
    assert!(!listing.contains("argon2"), "no hashes in the listing");

    let mut conn = db.connect();
    let ok = authenticate(&mut conn, "twee@eindhoven.nl", "tweede lange wachtwoord").unwrap();
    assert!(matches!(ok, LoginOutcome::LoggedIn(u) if u.role == Role::Council));

    let out = buurtpeil(&db, &["user", "disable", "--email", "twee@eindhoven.nl"], b"");
    assert!(out.status.success(), "{}", text(&out));
    assert!(matches!(
        authenticate(&mut conn, "twee@eindhoven.nl", "tweede lange wachtwoord").unwrap(),
        LoginOutcome::Disabled
    ));
    let out = buurtpeil(&db, &["user", "disable", "--email", "niemand@eindhoven.nl"], b"");
    assert!(!out.status.success() && text(&out).contains("no account"), "{}", text(&out));
    let out = buurtpeil(&db, &["user", "password", "--email", "twee@eindhoven.nl"], b"een nieuw lang wachtwoord\n");
    assert!(out.status.success(), "{}", text(&out));
    assert!(buurtpeil(&db, &["user", "enable", "--email", "twee@eindhoven.nl"], b"").status.success());
    assert!(matches!(
        authenticate(&mut conn, "twee@eindhoven.nl", "een nieuw lang wachtwoord").unwrap(),
        LoginOutcome::LoggedIn(_)
    ));
}
on_both_backends!(user_command_checks_its_input);

#[test]
fn demo_admin_gets_a_new_random_password_each_start() {
    let db = TestDb::new(Backend::Sqlite);
    let password_of = |out: &Output| {
        let t = text(out);
        let line = t.lines().find(|l| l.starts_with("demo login: ")).unwrap_or_else(|| panic!("{t}")).to_owned();
        let (email, password) = line["demo login: ".len()..].split_once(" / ").unwrap();
        assert_eq!(email, "demo@buurtpeil.local");
        password.to_owned()
    };
    let first = buurtpeil(&db, &["demo"], b"");
    assert!(first.status.success(), "{}", text(&first));
    let first = password_of(&first);
    assert!(first.chars().count() >= 16, "{first}");
    let second = password_of(&buurtpeil(&db, &["demo"], b""));
    assert_ne!(first, second);
    let mut conn = db.connect();
    assert!(
        matches!(authenticate(&mut conn, "demo@buurtpeil.local", &second).unwrap(), LoginOutcome::LoggedIn(u) if u.role == Role::Admin)
    );
    assert!(matches!(authenticate(&mut conn, "demo@buurtpeil.local", &first).unwrap(), LoginOutcome::WrongCredentials));
}

#[test]
fn a_bad_session_key_stops_the_server_with_a_message() {
    let db = TestDb::new(Backend::Sqlite);
    for (key, expected) in [
        ("abc", "holds 2 bytes"),
        ("kein Schlüssel!", "neither hex nor base64"),
        (&"ab".repeat(32)[..], "holds 32 bytes; it needs at least 64"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_buurtpeil"))
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("DATABASE_URL", &db.url)
            .env("BUURTPEIL_SESSION_KEY", key)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(text(&out).contains(expected), "{}", text(&out));
        assert!(!text(&out).contains(key) || key.len() < 8, "the key is not echoed");
    }
}
