//! The printable report of one area: the same figures as the API, the
//! comparison, position, trend and change, a hidden buurt that says so and
//! shows no number, and a clear 404 for what does not exist.

use chrono::NaiveDate;

use crate::helpers::*;
use crate::on_both_backends;
use crate::results::{open_wave, seed};

/// Two waves in Centrum (as in `results::waves_are_suppressed_together_and_compared`):
/// Bergen has 3 answers in January, so it and one sibling are hidden in every table.
/// Returns the app and the id of the second wave.
async fn two_waves(backend: Backend) -> (TestApp, i32) {
    let app = spawn_app(backend).await;
    let today = buurtpeil::clock::today();
    let jan = |d| NaiveDate::from_ymd_opt(2026, 1, d).unwrap();
    open_wave(&app, "Januari", jan(1), Some(jan(31)));
    let second = open_wave(&app, "Nu", today - chrono::Days::new(3), None);
    seed(&app, "BU07721110", jan(15), 20, 6);
    seed(&app, "BU07721120", jan(15), 3, 5);
    seed(&app, "BU07721130", jan(15), 25, 7);
    seed(&app, "BU07722110", jan(15), 15, 7);
    let app = app.restart().await;
    app.submit_many("BU07721110", 20, 9).await;
    app.submit_many("BU07721120", 12, 8).await;
    app.submit_many("BU07721130", 25, 7).await;
    app.submit_many("BU07722110", 15, 7).await;
    // A choice question answered in two buurten of Centrum.
    for buurt in ["BU07721110", "BU07721130"] {
        for _ in 0..12 {
            let body = serde_json::json!({ "buurt": buurt, "answers": {
                "tevredenheid_leven": 8, "geluk": 7, "gezondheid": "goed" } });
            assert_eq!(app.submit("geluk", &body).await.0, 201);
        }
    }
    (app, second)
}

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let res = app.get(path).await;
    (res.status().as_u16(), res.text().await.unwrap())
}

/// "7,5": a figure as the Dutch pages write it.
fn dutch(x: f64) -> String {
    format!("{x:.1}").replace('.', ",")
}

async fn a_report_shows_the_figures_of_a_buurt(backend: Backend) {
    let (app, second) = two_waves(backend).await;
    let (status, api) = app.get_json(&format!("/api/v1/questionnaires/geluk/results?level=buurt&wave={second}")).await;
    assert_eq!(status, 200);
    // The buurt of Centrum that secondary suppression left shown.
    let shown = ["BU07721110", "BU07721130"].into_iter().find(|c| area(&api, c)["suppressed"] == false).unwrap();
    let hidden = ["BU07721110", "BU07721130"].into_iter().find(|c| *c != shown).unwrap();
    let a = area(&api, shown);
    let q = &a["questions"]["tevredenheid_leven"];
    let (status, html) = page(&app, &format!("/resultaten/geluk/rapport/{shown}?meting={second}")).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains(&format!("<h1>Rapport: {}</h1>", a["name"].as_str().unwrap())), "{html}");
    assert!(html.contains(&format!("<strong>{}</strong> deelnemers", a["n"])), "respondents");
    let key = format!(
        "<strong>{}</strong> gemiddeld (95%-interval {}–{})",
        dutch(q["mean"].as_f64().unwrap()),
        dutch(q["ci95"][0].as_f64().unwrap()),
        dutch(q["ci95"][1].as_f64().unwrap())
    );
    assert!(html.contains(&key), "{key} in {html}");
    // Compared with Centrum and Eindhoven, placed among the buurten, the
    // change since January, the trend drawn, the method explained.
    assert!(html.contains("<th scope=\"row\">Centrum</th>") && html.contains("<th scope=\"row\">Eindhoven</th>"));
    assert!(html.contains("buurten in Eindhoven met een cijfer"), "position");
    assert!(html.contains("Verschil met Januari"), "change");
    assert!(html.contains("class=\"chart trend\""), "trend");
    assert!(html.contains("Drempel (minimum aantal respondenten per gebied)</dt><dd>10</dd>"), "method");
    assert!(html.contains("Centraal Bureau voor de Statistiek, CC BY 4.0"), "source");
    assert!(html.contains("/resultaten/geluk/rapport/WK077211?meting="), "a link to the wijk's report");
    // A choice question: shares per answer, beside the wijk's and gemeente's.
    let choice = html.split("Aandeel per antwoord").nth(1).expect("a table of shares");
    assert!(choice.contains("<th scope=\"row\">Goed</th><td class=\"num\">100%"), "{choice}");

    // The hidden buurten say so and show no figure at all.
    for code in ["BU07721120", hidden] {
        for wave in [String::new(), format!("?meting={second}")] {
            let (status, html) = page(&app, &format!("/resultaten/geluk/rapport/{code}{wave}")).await;
            assert_eq!(status, 200);
            assert!(html.contains("De cijfers van dit gebied zijn verborgen"), "{code}{wave}: {html}");
            for figure in [
                "class=\"key\"",
                "</strong> deelnemers",
                "gemiddeld (95%-interval",
                "Cijfers per vraag",
                "class=\"chart",
            ] {
                assert!(!html.contains(figure), "{code}{wave} shows {figure}: {html}");
            }
        }
    }

    // The wijk and the gemeente have reports too; in English on request.
    let (status, html) = page(&app, "/resultaten/geluk/rapport/WK077211").await;
    assert_eq!(status, 200);
    assert!(html.contains("wijken in Eindhoven"), "{html}");
    let (status, html) = page(&app, "/resultaten/geluk/rapport/GM0772?lang=en").await;
    assert_eq!(status, 200);
    assert!(html.contains("Figures per question") && html.contains("About these figures"), "{html}");

    // The results page and its focus link to the report.
    let (_, html) = page(&app, &format!("/r/geluk?niveau=buurt&gebied={shown}&meting={second}")).await;
    assert!(html.contains(&format!("/resultaten/geluk/rapport/{shown}?meting={second}")), "{html}");
}
on_both_backends!(a_report_shows_the_figures_of_a_buurt);

async fn unknown_reports_are_a_clear_404(backend: Backend) {
    let app = spawn_app(backend).await;
    app.submit_many("BU07721110", 12, 8).await;
    for (path, message) in [
        ("/resultaten/geluk/rapport/BU99999999", "Dit gebied staat niet in deze uitkomsten"),
        ("/resultaten/geluk/rapport/rommel", "Dit gebied staat niet in deze uitkomsten"),
        ("/resultaten/geluk/rapport/%3Cscript%3E", "Dit gebied staat niet in deze uitkomsten"),
        ("/resultaten/bestaat-niet/rapport/BU07721110", "Deze vragenlijst bestaat niet"),
        // Identified answers never make results.
        ("/resultaten/talentenscan/rapport/BU07721110", "Deze vragenlijst bestaat niet"),
        ("/resultaten/geluk/rapport/BU07721110?meting=999", "Deze meting bestaat niet"),
        ("/resultaten/geluk/rapport/BU07721110?meting=abc", "Deze meting bestaat niet"),
    ] {
        let (status, html) = page(&app, path).await;
        assert_eq!(status, 404, "{path}: {html}");
        assert!(html.contains(message), "{path}: {html}");
        assert!(!html.contains("<script>"), "{path}");
    }
    let (status, _) = page(&app, "/resultaten/geluk/rapport/BU07721110?meting=").await;
    assert_eq!(status, 200, "an empty wave is every response");
    let (status, html) = page(&app, "/resultaten/geluk/rapport/BU07721110").await;
    assert_eq!(status, 200);
    assert!(html.contains("<strong>12</strong> deelnemers"), "{html}");
    assert!(!html.contains("Verschil met"), "no waves, no change: {html}");
}
on_both_backends!(unknown_reports_are_a_clear_404);
