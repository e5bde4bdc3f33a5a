//! A resident on a phone: headless Chromium at 390×844 searches a buurt,
//! answers /s/geluk page by page (first forgetting the required answers),
//! sees the thanks and the results, and the answer shows up in the results
//! API. Screenshots of each page go to target/screenshots/browser/.

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::chrome::*;
use crate::helpers::*;
use crate::on_both_backends;

async fn h1(c: &Client) -> String {
    c.find(Locator::Css("h1")).await.unwrap().text().await.unwrap()
}

async fn step(c: &Client, shot_name: &str) {
    fits_the_screen(c).await.unwrap_or_else(|e| panic!("{shot_name}: {e}"));
    shot(c, "browser", shot_name).await;
}

async fn a_resident_fills_in_geluk_on_a_phone(backend: Backend) {
    let app = spawn_app(backend).await;
    // Ten neighbours answered before, so Witte Dame passes the threshold.
    app.submit_many("BU07721130", 10, 5).await;
    let tag = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let phone = phone().await;
    let c = &phone.c;

    open(c, &app.url("/s/geluk")).await;
    assert_eq!(h1(c).await, "Hoe gaat het met u?");
    step(c, &format!("{tag}-1-start")).await;

    c.find(Locator::Css("#zoek")).await.unwrap().send_keys("witte").await.unwrap();
    click_and_wait(c, "form.search button").await;
    assert_eq!(path(c).await, "/s/geluk?zoek=witte");
    let select = c.find(Locator::Css("select#buurt")).await.unwrap();
    assert_eq!(select.prop("value").await.unwrap().as_deref(), Some("BU07721130"));
    step(c, &format!("{tag}-2-search")).await;
    click_and_wait(c, "form[action='/s/geluk/start'] button[type='submit']").await;

    assert_eq!(path(c).await, "/s/geluk/p/1");
    assert!(c.source().await.unwrap().contains("Witte Dame"), "the page names the buurt");
    assert!(c.source().await.unwrap().contains("Stap 1 van 3"));
    step(c, &format!("{tag}-3-page-1")).await;

    // Going on without the required answers shows what is missing.
    click_and_wait(c, "button[name='actie'][value='verder']").await;
    assert_eq!(path(c).await, "/s/geluk/p/1");
    let summary = c.find(Locator::Css("div.error[role='alert']")).await.unwrap().text().await.unwrap();
    assert!(summary.contains("Hoe tevreden bent u op dit moment met uw leven als geheel?"), "{summary}");
    assert_eq!(c.find_all(Locator::Css(".has-error .msg")).await.unwrap().len(), 2, "two required questions");
    assert!(c.source().await.unwrap().contains("Deze vraag is verplicht."));
    step(c, &format!("{tag}-4-errors")).await;

    c.find(Locator::Css("input[name='q_tevredenheid_leven'][value='10'] + span")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("input[name='q_geluk'][value='9'] + span")).await.unwrap().click().await.unwrap();
    step(c, &format!("{tag}-5-filled")).await;
    click_and_wait(c, "button[name='actie'][value='verder']").await;

    assert_eq!(path(c).await, "/s/geluk/p/2");
    answer(c, "q_gezondheid", "goed").await;
    step(c, &format!("{tag}-6-page-2")).await;
    click_and_wait(c, "button[name='actie'][value='verder']").await;

    assert_eq!(path(c).await, "/s/geluk/p/3");
    answer(c, "q_idee_buurt", "Meer groen op het plein").await;
    step(c, &format!("{tag}-7-page-3")).await;
    // The last page sends.
    let send = c.find(Locator::Css("button[name='actie'][value='verder']")).await.unwrap();
    assert_eq!(send.text().await.unwrap(), "Versturen");
    click_and_wait(c, "button[name='actie'][value='verder']").await;

    assert_eq!(path(c).await, "/s/geluk/bedankt");
    assert_eq!(h1(c).await, "Bedankt!");
    step(c, &format!("{tag}-8-thanks")).await;

    click_and_wait(c, "a.button").await;
    c.find(Locator::Css("table.areas")).await.unwrap();
    step(c, &format!("{tag}-9-results")).await;
    phone.c.clone().close().await.unwrap();

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
