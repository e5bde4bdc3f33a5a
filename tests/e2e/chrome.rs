//! Headless Chromium on a phone (390×844) through chromedriver, and small
//! helpers the browser tests share: screenshots, waiting for a new page,
//! filling in a questionnaire page.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::helpers::manifest_dir;

/// A running chromedriver in a process group of its own, stopped with every
/// Chromium it started when dropped (also when a test panics before closing
/// its session), so no browser outlives its test.
pub struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A browser session: the driver and the profile live as long as this.
pub struct Phone {
    pub c: Client,
    _driver: Driver,
    _profile: tempfile::TempDir,
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

/// A fresh headless Chromium emulating a phone, preferring Dutch.
pub async fn phone() -> Phone {
    let chromedriver = std::env::var("BUURTPEIL_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let port = free_port();
    let child = Command::new(&chromedriver)
        .process_group(0)
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
        tokio::time::sleep(Duration::from_millis(50)).await;
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
    let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session");
    Phone { c, _driver: driver, _profile: profile }
}

/// target/screenshots/`sub`, created when missing.
pub fn shot_dir(sub: &str) -> PathBuf {
    let dir = manifest_dir().join("target/screenshots").join(sub);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub async fn shot(c: &Client, sub: &str, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(shot_dir(sub).join(format!("{name}.png")), png).unwrap();
}

/// The page is 390 px wide and does not scroll sideways (WCAG 1.4.10).
pub async fn fits_the_screen(c: &Client) -> Result<(), String> {
    let widths = c
        .execute("return [document.documentElement.scrollWidth, document.documentElement.clientWidth];", vec![])
        .await
        .unwrap();
    let (scroll, client) = (widths[0].as_i64().unwrap(), widths[1].as_i64().unwrap());
    if client != 390 {
        return Err(format!("not a phone viewport: {client} px wide"));
    }
    if scroll > client {
        return Err(format!("the page scrolls sideways: {scroll} > {client}"));
    }
    Ok(())
}

/// Marks the current document, so that `wait_for_new_page` can tell when
/// another one (even at the same URL) has loaded.
pub async fn mark_page(c: &Client) {
    c.execute("window.__bp_old_page = true;", vec![]).await.unwrap();
}

/// Waits until a document other than the marked one is fully loaded.
pub async fn wait_for_new_page(c: &Client) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ready = c
            .execute("return document.readyState === 'complete' && !window.__bp_old_page;", vec![])
            .await
            .map(|v| v.as_bool() == Some(true))
            // Between two documents a script may fail: not there yet.
            .unwrap_or(false);
        if ready {
            return;
        }
        let url = c.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        assert!(Instant::now() < deadline, "no new page after 20 s (at {url})");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Clicks something that loads a new page and waits for it.
pub async fn click_and_wait(c: &Client, css: &str) {
    mark_page(c).await;
    c.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.unwrap();
    wait_for_new_page(c).await;
}

/// Opens a URL and waits for it.
pub async fn open(c: &Client, url: &str) {
    c.goto(url).await.unwrap();
    wait_for_new_page(c).await;
}

/// One answer on a questionnaire page: a form field name and a value.
/// Radio buttons and checkboxes are clicked (on their label, as a finger
/// would), text fields typed into.
pub async fn answer(c: &Client, name: &str, value: &str) {
    let css = format!("[name='{name}']");
    let first = c.find(Locator::Css(&css)).await.unwrap_or_else(|e| panic!("field {name}: {e}"));
    let kind = first.attr("type").await.unwrap().unwrap_or_default();
    if kind == "radio" || kind == "checkbox" {
        let xpath = format!("//input[@name='{name}' and @value='{value}']/ancestor::label");
        c.find(Locator::XPath(&xpath)).await.unwrap_or_else(|e| panic!("{name}={value}: {e}")).click().await.unwrap();
    } else {
        first.clear().await.unwrap();
        first.send_keys(value).await.unwrap();
    }
}

/// The current path and query, e.g. `/s/geluk/p/2?lang=en`.
pub async fn path(c: &Client) -> String {
    let url = c.current_url().await.unwrap();
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}
