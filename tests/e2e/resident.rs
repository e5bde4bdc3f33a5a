//! The resident's pages over HTTP: flow, language, weight.

use crate::helpers::*;
use crate::on_both_backends;

const MAX_PAGE_BYTES: usize = 30 * 1024;

async fn a_resident_answers_and_is_counted(backend: Backend) {
    let app = spawn_app(backend).await;
    let start = app.get("/s/geluk").await;
    assert_eq!(start.status().as_u16(), 200);
    assert_eq!(start.headers()["cache-control"], "no-store");
    let html = start.text().await.unwrap();
    assert!(html.contains("<optgroup label=\"Centrum\">"), "grouped by wijk");
    assert_eq!(html.matches("<option value=\"BU").count(), 116);

    // Searching narrows the list without JavaScript.
    let html = app.get("/s/geluk?zoek=witte").await.text().await.unwrap();
    assert_eq!(html.matches("<option value=\"BU").count(), 1);
    assert!(html.contains("Witte Dame"));
    let html = app.get("/s/geluk?zoek=strijp").await.text().await.unwrap();
    assert!(html.matches("<option value=\"BU").count() > 3, "a wijk name finds its buurten");
    let html = app.get("/s/geluk?zoek=qqqq").await.text().await.unwrap();
    assert!(html.contains("Geen buurt gevonden"));

    let form = app.get("/s/geluk/vragen?buurt=BU07721130").await.text().await.unwrap();
    assert!(form.contains("Witte Dame"));
    assert!(form.contains("Hoe tevreden bent u op dit moment met uw leven als geheel?"));
    assert!(form.contains("Helemaal niet tevreden"));

    for _ in 0..10 {
        let res = app
            .client
            .post(app.url("/s/geluk"))
            .form(&[
                ("buurt", "BU07721130"),
                ("q_tevredenheid_leven", "9"),
                ("q_geluk", "8"),
                ("q_gezondheid", "goed"),
                ("q_idee_buurt", "Een moestuin"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 303);
        assert_eq!(res.headers()["location"], "/s/geluk/bedankt");
    }
    let thanks = app.get("/s/geluk/bedankt").await.text().await.unwrap();
    assert!(thanks.contains("Bedankt!"));
    let results = app.results("buurt").await;
    let witte_dame = area(&results, "BU07721130");
    assert_eq!(witte_dame["n"], 10);
    assert_eq!(witte_dame["questions"]["gezondheid"]["shares"]["goed"], 100);
    // The free text was stored, apart from the aggregates.
    let mut conn = app.db.connect();
    assert_eq!(count(&mut conn, "text_answers"), 10);
}
on_both_backends!(a_resident_answers_and_is_counted);

async fn english_by_header_or_switch(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app.client.get(app.url("/s/geluk")).header("accept-language", "en-GB,en;q=0.9").send().await.unwrap();
    assert_eq!(res.headers()["content-language"], "en");
    let html = res.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("Which neighbourhood do you live in?"));
    assert!(html.contains(">Nederlands</a>"), "a visible switch back");

    // The switch is remembered in a cookie for the next pages.
    let html = app.get("/s/geluk?lang=en").await.text().await.unwrap();
    assert!(html.contains("How are you doing?"));
    let html = app.get("/s/geluk/vragen?buurt=BU07721110").await.text().await.unwrap();
    assert!(html.contains("Overall, how satisfied are you with life as a whole these days?"));
    let res = app.client.post(app.url("/s/geluk")).form(&[("buurt", "BU07721110")]).send().await.unwrap();
    assert!(res.text().await.unwrap().contains("This question is required."));
    let html = app.get("/s/geluk?lang=nl").await.text().await.unwrap();
    assert!(html.contains("In welke buurt woont u?"));
}
on_both_backends!(english_by_header_or_switch);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resident_pages_stay_small() {
    let app = spawn_app(Backend::Sqlite).await;
    let css = app.get("/static/buurtpeil.css").await.text().await.unwrap().len();
    for lang in ["nl", "en"] {
        for path in ["/s/geluk", "/s/geluk/vragen?buurt=BU07721110", "/s/geluk/bedankt", "/"] {
            let html = app
                .get(&format!("{path}{}lang={lang}", if path.contains('?') { "&" } else { "?" }))
                .await
                .text()
                .await
                .unwrap();
            // Uncompressed, so the real transfer (gzip) is far smaller.
            assert!(html.len() + css <= MAX_PAGE_BYTES, "{path} ({lang}): {} + {css} bytes", html.len());
            assert!(!html.contains("<script"), "{path} needs no JavaScript");
        }
    }
}

async fn results_page_shows_figures_and_hides_small_cells(backend: Backend) {
    let app = spawn_app(backend).await;
    app.submit_many("BU07721110", 12, 8).await;
    app.submit_many("BU07721120", 4, 2).await;
    app.submit_many("BU07721140", 11, 6).await;
    let res = app.get("/r/geluk?niveau=buurt").await;
    assert_eq!(res.status().as_u16(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("<svg class=\"chart\""), "a distribution chart");
    assert!(html.contains("Binnenstad") && html.contains(">8,0<"), "Binnenstad's mean in Dutch notation");
    assert!(html.contains("te weinig antwoorden"));
    // Bergen (4 answers, all scoring 2) never shows a figure.
    let bergen_row = html.split("<tr").find(|r| r.contains(">Bergen<")).unwrap();
    assert!(bergen_row.contains("te weinig antwoorden") && !bergen_row.contains("2,0"), "{bergen_row}");
    let html = app.get("/r/geluk?niveau=wijk&vraag=gezondheid&lang=en").await.text().await.unwrap();
    assert!(html.contains("How is your health in general?"));
}
on_both_backends!(results_page_shows_figures_and_hides_small_cells);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_save_shows_the_answers_again() {
    use diesel::connection::SimpleConnection;
    let app = spawn_app(Backend::Sqlite).await;
    // Break storage of free text behind the server's back.
    app.db.connect_sqlite().batch_execute("DROP TABLE text_answers").unwrap();
    let res = app
        .client
        .post(app.url("/s/geluk"))
        .form(&[
            ("buurt", "BU07721110"),
            ("q_tevredenheid_leven", "6"),
            ("q_geluk", "7"),
            ("q_idee_buurt", "Een buurttuin"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 503);
    let html = res.text().await.unwrap();
    assert!(html.contains("Het opslaan lukte nu niet"));
    assert!(html.contains("Een buurttuin") && html.contains("value=\"6\" checked"), "nothing to retype");
    // Nothing half-stored: the response went with its failed answers.
    let mut conn = app.db.connect();
    assert_eq!(count(&mut conn, "responses"), 0);
    // Responses without free text still go through.
    let (status, _) = app.submit("geluk", &geluk("BU07721110", 6)).await;
    assert_eq!(status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_texts_in_files_are_escaped_on_every_page() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("proef.toml"),
        r#"
slug = "proef"
kind = "anonymous"
title = { nl = "<script>alert('t')</script>", en = "<script>alert('t')</script>" }
[[questions]]
id = "cijfer"
type = "scale"
required = true
text = { nl = "<img src=x onerror=alert(1)>", en = "<img src=x onerror=alert(1)>" }
min_label = { nl = "\"><b>laag</b>", en = "low" }
max_label = { nl = "hoog", en = "high" }
[[questions]]
id = "keuze"
type = "single_choice"
text = { nl = "Keuze", en = "Choice" }
options = [ { value = "a", label = { nl = "<i>a</i>", en = "a" } }, { value = "b", label = { nl = "b", en = "b" } } ]
"#,
    )
    .unwrap();
    let app =
        spawn_app_with(Backend::Sqlite, Options { questionnaires: dir.path().into(), ..Options::default() }).await;
    // A buurt whose name (from a CBS file) holds markup.
    let hostile = buurtpeil::area::parse_csv(
        "x.csv",
        "buurtcode,buurtnaam,wijkcode,wijknaam,gemeentecode,gemeentenaam\nBU07721199,<b onmouseover=x>Hack</b>,WK077211,Centrum,GM0772,Eindhoven\n".as_bytes(),
    )
    .unwrap();
    buurtpeil::area::save_areas(&mut app.db.connect(), &hostile).unwrap();
    // A running server takes a new buurt on its first use (after at most a
    // second since it last read the areas).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    for path in ["/", "/s/proef", "/s/proef?zoek=hack", "/s/proef/vragen?buurt=BU07721199", "/r/proef?niveau=buurt"] {
        let res = app.get(path).await;
        assert!(res.status().as_u16() < 500, "{path}");
        let html = res.text().await.unwrap();
        for raw in ["<script>alert", "<img src=x", "<b>laag", "<i>a</i>", "<b onmouseover"] {
            assert!(!html.contains(raw), "{path} shows {raw} unescaped");
        }
    }
    let form = app.get("/s/proef/vragen?buurt=BU07721199").await.text().await.unwrap();
    assert!(form.contains("&lt;img src=x onerror=alert(1)&gt;"), "shown as text");
    assert!(form.contains("&lt;b onmouseover=x&gt;Hack"), "the buurt name as text");
    let start = app.get("/s/proef?zoek=hack").await.text().await.unwrap();
    assert!(
        start.contains("&lt;b onmouseover=x&gt;Hack") && !start.contains("<b onmouseover"),
        "in the buurt list too"
    );
}
