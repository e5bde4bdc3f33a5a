//! A resident on a phone: headless Chromium at 390×844 fills in /s/geluk,
//! and the answer shows up in the results API. Screenshots of each page go
//! to target/screenshots/.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::helpers::*;
use crate::on_both_backends;

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn chromium_binary() -> String {
    // Debian's /usr/bin/chromium is a wrapper script; drive the binary itself.
    let real = "/usr/lib/chromium/chromium";
    if std::path::Path::new(real).exists() {
        return real.into();
    }
    std::env::var("BUURTPEIL_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

async fn phone() -> (Driver, Client, tempfile::TempDir) {
    let chromedriver = std::env::var("BUURTPEIL_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let port = free_port();
    let child = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start {chromedriver} ({e}): run the tests with scripts/test.sh, which installs it")
        });
    let driver = Driver(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium_binary(),
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-quic", "--lang=nl-NL",
                format!("--user-data-dir={}", profile.path().display()),
            ],
            "prefs": { "intl.accept_languages": "nl-NL,nl" },
            "mobileEmulation": { "deviceMetrics": { "width": 390, "height": 844, "pixelRatio": 2.0, "touch": true } },
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session");
    (driver, client, profile)
}

fn shot_dir() -> PathBuf {
    let dir = manifest_dir().join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(shot_dir().join(format!("{name}.png")), png).unwrap();
}

async fn fits_the_screen(c: &Client) {
    let widths = c
        .execute("return [document.documentElement.scrollWidth, document.documentElement.clientWidth];", vec![])
        .await
        .unwrap();
    let (scroll, client) = (widths[0].as_i64().unwrap(), widths[1].as_i64().unwrap());
    assert!(scroll <= client, "the page scrolls sideways: {scroll} > {client}");
    assert_eq!(client, 390, "a phone viewport");
}

async fn a_resident_fills_in_geluk_on_a_phone(backend: Backend) {
    let app = spawn_app(backend).await;
    // Ten neighbours answered before, so Witte Dame passes the threshold.
    app.submit_many("BU07721130", 10, 5).await;
    let tag = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let (_driver, c, _profile) = phone().await;

    c.goto(&app.url("/s/geluk")).await.unwrap();
    assert_eq!(c.find(Locator::Css("h1")).await.unwrap().text().await.unwrap(), "Hoe gaat het met u?");
    fits_the_screen(&c).await;
    shot(&c, &format!("{tag}-1-start")).await;

    c.find(Locator::Css("#zoek")).await.unwrap().send_keys("witte").await.unwrap();
    c.find(Locator::Css("form.search button")).await.unwrap().click().await.unwrap();
    c.wait().for_url(url::Url::parse(&app.url("/s/geluk?zoek=witte")).unwrap()).await.unwrap();
    let select = c.wait().for_element(Locator::Css("select#buurt")).await.unwrap();
    assert_eq!(select.prop("value").await.unwrap().as_deref(), Some("BU07721130"));
    shot(&c, &format!("{tag}-2-search")).await;
    c.find(Locator::Css("form[action='/s/geluk/vragen'] button")).await.unwrap().click().await.unwrap();

    c.wait().for_element(Locator::Css("form[method='post']")).await.unwrap();
    assert!(c.source().await.unwrap().contains("Witte Dame"));
    fits_the_screen(&c).await;
    shot(&c, &format!("{tag}-3-form")).await;

    // Sending without the required answers shows a message per field.
    c.find(Locator::Css("form[method='post'] button[type='submit']")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("div.error")).await.unwrap();
    assert!(c.source().await.unwrap().contains("Deze vraag is verplicht."));
    shot(&c, &format!("{tag}-4-errors")).await;

    c.find(Locator::Css("input[name='q_tevredenheid_leven'][value='10'] + span")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("input[name='q_geluk'][value='9'] + span")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("input[name='q_gezondheid'][value='goed']")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("textarea[name='q_idee_buurt']"))
        .await
        .unwrap()
        .send_keys("Meer groen op het plein")
        .await
        .unwrap();
    shot(&c, &format!("{tag}-5-filled")).await;
    c.find(Locator::Css("form[method='post'] button[type='submit']")).await.unwrap().click().await.unwrap();

    c.wait().for_url(url::Url::parse(&app.url("/s/geluk/bedankt")).unwrap()).await.unwrap();
    assert_eq!(c.find(Locator::Css("h1")).await.unwrap().text().await.unwrap(), "Bedankt!");
    shot(&c, &format!("{tag}-6-thanks")).await;

    c.find(Locator::Css("a.button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("table.areas")).await.unwrap();
    shot(&c, &format!("{tag}-7-results")).await;
    c.close().await.unwrap();

    let results = app.results("buurt").await;
    let witte_dame = area(&results, "BU07721130");
    assert_eq!(witte_dame["n"], 11);
    let q = &witte_dame["questions"]["tevredenheid_leven"];
    assert_eq!(q["distribution"][10], 9, "one in eleven scored 10: {q}");
    assert_eq!(q["distribution"][5], 91);
    assert_eq!(
        witte_dame["questions"]["gezondheid"],
        json!({ "suppressed": true }),
        "one health answer is too few to show"
    );
}
on_both_backends!(a_resident_fills_in_geluk_on_a_phone);
