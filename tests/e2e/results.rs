//! Results per wave: joint suppression over waves and "alle metingen" on
//! every path (results, change, ranking, page), changes and rankings with
//! their intervals, ETags, results kept current as responses arrive, and
//! bad query input.

use std::collections::BTreeMap;

use buurtpeil::area::{AreaCode, Level};
use buurtpeil::questionnaire::{read_catalog, RawAnswer};
use buurtpeil::survey::{store_batch, wave, NewWave, Submission};
use chrono::NaiveDate;
use serde_json::Value;

use crate::helpers::*;
use crate::on_both_backends;

/// Stores `count` geluk responses scoring `score` in a buurt on a past day,
/// straight into the database (as responses of an earlier wave). A running
/// server notices only at its next check against the database (see
/// docs/architecture.md); `TestApp::restart` reads them at once.
pub(crate) fn seed(app: &TestApp, buurt: &str, day: NaiveDate, count: usize, score: i64) {
    let mut conn = app.db.connect();
    let catalog = read_catalog(&mut conn).unwrap();
    let geluk = catalog.current("geluk").unwrap();
    let raw: BTreeMap<String, RawAnswer> = [
        ("tevredenheid_leven".to_string(), RawAnswer::Number(score as f64)),
        ("geluk".to_string(), RawAnswer::Number(7.0)),
    ]
    .into();
    let answers = geluk.definition.check_answers(&raw).unwrap();
    let s = Submission::new(geluk, AreaCode::parse(Level::Buurt, buurt).unwrap(), answers);
    store_batch(&mut conn, &vec![s; count], day).unwrap();
}

pub(crate) fn open_wave(app: &TestApp, name: &str, opens: NaiveDate, closes: Option<NaiveDate>) -> i32 {
    let new = NewWave {
        slug: buurtpeil::questionnaire::Slug::parse("geluk").unwrap(),
        name: name.into(),
        opens_on: opens,
        closes_on: closes,
        buurten: Vec::new(),
        invitation_only: false,
    };
    wave::create(&mut app.db.connect(), &new, opens).unwrap().id
}

/// Every area of every JSON answer: suppressed ones say nothing, shown ones
/// rest on at least k respondents; Bergen is never shown.
fn assert_safe(body: &Value, what: &str) {
    for a in body["areas"].as_array().unwrap() {
        if a["code"] == "BU07721120" {
            assert_eq!(a["suppressed"], true, "{what}: Bergen shown: {a}");
        }
        if a["suppressed"] == true {
            for key in ["n", "questions", "estimate", "vs_wijk", "vs_gemeente"] {
                assert!(a.get(key).is_none(), "{what}: {a}");
            }
        } else if let Some(n) = a["n"].as_u64() {
            assert!(n >= 10, "{what}: {a}");
        }
    }
}

async fn waves_are_suppressed_together_and_compared(backend: Backend) {
    let app = spawn_app(backend).await;
    let today = buurtpeil::clock::today();
    let jan = |d| NaiveDate::from_ymd_opt(2026, 1, d).unwrap();
    // Responses of an earlier wave, stored before this server started.
    let first = open_wave(&app, "Januari", jan(1), Some(jan(31)));
    let second = open_wave(&app, "Nu", today - chrono::Days::new(3), None);
    // Wave 1: Centrum = Binnenstad 20 × 6, Bergen 3 × 5 (below k), Witte
    // Dame 25 × 7; another wijk 15 × 7.
    seed(&app, "BU07721110", jan(15), 20, 6);
    seed(&app, "BU07721120", jan(15), 3, 5);
    seed(&app, "BU07721130", jan(15), 25, 7);
    seed(&app, "BU07722110", jan(15), 15, 7);
    let app = app.restart().await;
    // Wave 2, through the API today: Binnenstad 20 × 9, Bergen 12 × 8.
    app.submit_many("BU07721110", 20, 9).await;
    app.submit_many("BU07721120", 12, 8).await;
    app.submit_many("BU07721130", 25, 7).await;
    app.submit_many("BU07722110", 15, 7).await;

    let get = |path: String| {
        let app = &app;
        async move {
            let (status, body) = app.get_json(&path).await;
            assert_eq!(status, 200, "{path}: {body}");
            body
        }
    };
    let base = "/api/v1/questionnaires/geluk/results";
    for level in ["buurt", "wijk", "gemeente"] {
        for wave in [String::new(), format!("&wave={first}"), format!("&wave={second}")] {
            assert_safe(&get(format!("{base}?level={level}{wave}")).await, &format!("results {level}{wave}"));
            assert_safe(&get(format!("{base}/ranking?level={level}{wave}")).await, &format!("ranking {level}{wave}"));
        }
        assert_safe(&get(format!("{base}/change?level={level}")).await, &format!("change {level}"));
    }
    // Bergen has 12 in wave 2, but 3 in wave 1: "alle metingen" (15) minus
    // wave 2 (12) would give wave 1 away, so it is hidden in every table;
    // and a second buurt of Centrum with it, or the wijk would.
    let w2 = get(format!("{base}?level=buurt&wave={second}")).await;
    let hidden_in_centrum = ["BU07721110", "BU07721130"].iter().filter(|c| area(&w2, c)["suppressed"] == true).count();
    assert_eq!(hidden_in_centrum, 1, "secondary suppression in Centrum");
    assert_eq!(w2["wave"]["id"], second);
    let all = get(format!("{base}?level=wijk")).await;
    assert_eq!(area(&all, "WK077211")["n"], 20 + 3 + 25 + 20 + 12 + 25);
    assert!(all["wave"].is_null());

    // The change from wave 1 to wave 2 (the default pair): Centrum's mean
    // rose from 6.5 to 7.9, clearly; the other wijk stayed at 7.
    let change = get(format!("{base}/change?level=wijk")).await;
    assert_eq!((change["from"]["id"].as_i64(), change["to"]["id"].as_i64()), (Some(first as i64), Some(second as i64)));
    let centrum = &area(&change, "WK077211")["questions"]["tevredenheid_leven"]["mean"];
    assert_eq!(centrum["significant"], true, "{centrum}");
    assert!(centrum["difference"].as_f64().unwrap() > 1.0 && centrum["ci95"][0].as_f64().unwrap() > 0.0);
    let other = &area(&change, "WK077221")["questions"]["tevredenheid_leven"]["mean"];
    assert_eq!((other["difference"].as_f64(), other["significant"].as_bool()), (Some(0.0), Some(false)), "{other}");

    // The ranking of buurten in wave 2: highest first, intervals carried,
    // suppressed last, and each against its wijk and the gemeente.
    let ranking = get(format!("{base}/ranking?level=buurt&wave={second}&question=tevredenheid_leven")).await;
    assert_eq!((ranking["measure"].as_str(), ranking["question"].as_str()), (Some("mean"), Some("tevredenheid_leven")));
    let rows = ranking["areas"].as_array().unwrap();
    let shown: Vec<&Value> = rows.iter().take_while(|r| r["suppressed"] == false).collect();
    assert!(shown.len() >= 2 && rows[shown.len()..].iter().all(|r| r["suppressed"] == true));
    for pair in shown.windows(2) {
        assert!(pair[0]["estimate"]["estimate"].as_f64() >= pair[1]["estimate"]["estimate"].as_f64());
    }
    for r in &shown {
        let (lo, e, hi) = (
            r["estimate"]["ci95"][0].as_f64().unwrap(),
            r["estimate"]["estimate"].as_f64().unwrap(),
            r["estimate"]["ci95"][1].as_f64().unwrap(),
        );
        assert!(lo <= e && e <= hi, "{r}");
        assert!(r["vs_gemeente"]["ci95"].is_array(), "{r}");
    }

    // The page shows the same: Bergen hidden, the change column, in Dutch.
    for wave in [first, second] {
        let html =
            app.get(&format!("/r/geluk?niveau=buurt&meting={wave}&volgorde=uitkomst")).await.text().await.unwrap();
        let bergen = html.split("Bergen</a>").nth(1).unwrap().split("</tr>").next().unwrap();
        assert!(bergen.contains("te weinig antwoorden"), "wave {wave}: {bergen}");
    }
    let html = app.get(&format!("/r/geluk?niveau=wijk&meting={second}")).await.text().await.unwrap();
    assert!(html.contains("Verschil met Januari") && html.contains("aantoonbaar"), "{html}");
    let html = app
        .client
        .get(app.url(&format!("/r/geluk?niveau=wijk&meting={second}")))
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Change since Januari"), "{html}");
}
on_both_backends!(waves_are_suppressed_together_and_compared);

async fn etags_and_fresh_results(backend: Backend) {
    let app = spawn_app(backend).await;
    app.submit_many("BU07721110", 12, 8).await;
    let path = app.url("/api/v1/questionnaires/geluk/results?level=wijk");
    let first = app.client.get(&path).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let tag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(first.headers()["cache-control"], "no-cache");
    let body: Value = first.json().await.unwrap();
    assert_eq!(area(&body, "WK077211")["n"], 12);

    let again = app.client.get(&path).header("If-None-Match", &tag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), tag);
    assert!(again.text().await.unwrap().is_empty());
    // A list of tags, weak or not, matches too; another tag does not.
    let listed = app.client.get(&path).header("If-None-Match", format!("\"x\", W/{tag}")).send().await.unwrap();
    assert_eq!(listed.status(), 304);
    let other = app.client.get(&path).header("If-None-Match", "\"x\"").send().await.unwrap();
    assert_eq!(other.status(), 200);

    // A new response is counted by the time its 201 arrives.
    app.submit_many("BU07721110", 1, 8).await;
    let fresh = app.client.get(&path).header("If-None-Match", &tag).send().await.unwrap();
    assert_eq!(fresh.status(), 200);
    assert_ne!(fresh.headers()["etag"].to_str().unwrap(), tag);
    let body: Value = fresh.json().await.unwrap();
    assert_eq!(area(&body, "WK077211")["n"], 13);

    // Ranking and change answers carry tags of their own.
    let ranking = app.client.get(app.url("/api/v1/questionnaires/geluk/results/ranking")).send().await.unwrap();
    let tag = ranking.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .client
        .get(app.url("/api/v1/questionnaires/geluk/results/ranking"))
        .header("If-None-Match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
}
on_both_backends!(etags_and_fresh_results);

async fn bad_results_queries_are_refused_clearly(backend: Backend) {
    let app = spawn_app(backend).await;
    app.submit_many("BU07721110", 10, 8).await;
    let base = "/api/v1/questionnaires/geluk/results";
    for (path, status, field) in [
        (format!("{base}?level=straat"), 422, Some("level")),
        (format!("{base}?wave=abc"), 422, Some("wave")),
        (format!("{base}?wave=99999999999"), 422, Some("wave")),
        (format!("{base}?wave=999"), 404, None),
        (format!("{base}/change"), 404, None),
        (format!("{base}/change?from=x"), 422, Some("from")),
        (format!("{base}/ranking?question=nope"), 422, Some("question")),
        (format!("{base}/ranking?question=tevredenheid_leven&option=ja"), 422, Some("option")),
        (format!("{base}/ranking?level=wijk&wave=7"), 404, None),
        ("/api/v1/questionnaires/talentenscan/results/ranking".to_string(), 404, None),
        ("/api/v1/questionnaires/nope/results/change".to_string(), 404, None),
    ] {
        let (got, body) = app.get_json(&path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert!(body["error"].is_string(), "{path}: {body}");
        if let Some(field) = field {
            assert!(body["fields"][field].is_string(), "{path}: {body}");
        }
    }
    let leef = "/api/v1/questionnaires/leefbaarheid/results/ranking";
    let (status, body) = app.get_json(&format!("{leef}?question=woonsituatie&option=vlot")).await;
    assert_eq!(status, 422, "{body}");
    // A hostile page query falls back to defaults, never a 500.
    let page = app.get("/r/geluk?meting=%27;--&niveau=%3Cx%3E&vraag=..&optie=x&volgorde=x").await;
    assert_eq!(page.status(), 200);
}
on_both_backends!(bad_results_queries_are_refused_clearly);

async fn responses_stored_by_another_process_are_noticed(backend: Backend) {
    let app = spawn_app(backend).await;
    app.submit_many("BU07721110", 10, 8).await;
    let n = |body: &Value| area(body, "WK077211")["n"].as_u64();
    assert_eq!(n(&app.results("wijk").await), Some(10));
    // Another server on the same database stores five more.
    seed(&app, "BU07721110", buurtpeil::clock::today(), 5, 8);
    let started = std::time::Instant::now();
    loop {
        if n(&app.results("wijk").await) == Some(15) {
            break;
        }
        assert!(started.elapsed().as_secs() < 30, "not noticed within 30 s");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}
on_both_backends!(responses_stored_by_another_process_are_noticed);

/// CSV and XLSX exports hold exactly what the JSON shows: a suppressed
/// buurt (primary and secondary) has `x` and no figure, in either file.
async fn exports_carry_the_same_suppression(backend: Backend) {
    use calamine::{Data, Reader, Xlsx};
    let app = spawn_app(backend).await;
    app.submit_many("BU07721110", 30, 8).await;
    app.submit_many("BU07721120", 3, 1).await;
    app.submit_many("BU07722110", 15, 7).await;
    let res = app.get("/api/v1/questionnaires/geluk/results.csv").await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("geluk-alle.csv"));
    let tag = res.headers()["etag"].to_str().unwrap().to_owned();
    let csv = res.text().await.unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with("niveau,gebiedscode,gebied,ligt in,respondenten,vraag"));
    let rows: Vec<Vec<String>> = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    for hidden in ["BU07721110", "BU07721120"] {
        let of: Vec<&Vec<String>> = rows.iter().filter(|r| r[1] == hidden).collect();
        assert_eq!(of.len(), 1, "one row for a suppressed buurt: {of:?}");
        assert_eq!((of[0][4].as_str(), of[0][8].as_str()), ("x", "x"));
    }
    let shown: Vec<&Vec<String>> = rows.iter().filter(|r| r[1] == "BU07722110" && r[7] == "gemiddelde").collect();
    assert!(!shown.is_empty() && shown.iter().all(|r| r[4] == "15" && r[8] == "7.00"), "{shown:?}");
    let wijk: Vec<&Vec<String>> = rows.iter().filter(|r| r[1] == "WK077211").collect();
    assert!(wijk.iter().all(|r| r[4] == "33"), "the wijk is shown: {wijk:?}");
    // The same tag answers 304.
    let res = app.client.get(app.url("/api/v1/questionnaires/geluk/results.csv")).header("if-none-match", &tag).send();
    assert_eq!(res.await.unwrap().status().as_u16(), 304);

    // The workbook: the same rows, and a method sheet.
    let res = app.get("/api/v1/questionnaires/geluk/results.xlsx?lang=en").await;
    assert_eq!(res.status().as_u16(), 200);
    let bytes = res.bytes().await.unwrap();
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(book.sheet_names(), ["Results", "Method"]);
    let sheet = book.worksheet_range("Results").unwrap();
    assert_eq!(sheet.get((0, 1)), Some(&Data::String("area code".into())));
    let hidden_rows: Vec<_> =
        sheet.rows().filter(|r| matches!(&r[1], Data::String(c) if c == "BU07721120" || c == "BU07721110")).collect();
    assert_eq!(hidden_rows.len(), 2);
    for r in hidden_rows {
        assert_eq!((&r[4], &r[8]), (&Data::String("x".into()), &Data::String("x".into())));
    }
    let method = book.worksheet_range("Method").unwrap();
    let text: String = method.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect::<Vec<_>>().join(" ");
    assert!(text.contains("Threshold") && text.contains("10") && text.contains("CC BY 4.0"), "{text}");

    // Identified questionnaires, unknown ones and bad waves: clear refusals.
    assert_eq!(app.get("/api/v1/questionnaires/talentenscan/results.csv").await.status().as_u16(), 404);
    assert_eq!(app.get("/api/v1/questionnaires/onbekend/results.xlsx").await.status().as_u16(), 404);
    assert_eq!(app.get("/api/v1/questionnaires/geluk/results.csv?wave=abc").await.status().as_u16(), 422);
    assert_eq!(app.get("/api/v1/questionnaires/geluk/results.xlsx?wave=999").await.status().as_u16(), 404);
}
on_both_backends!(exports_carry_the_same_suppression);

/// The talent map counts skills per area from the talent scan, with the
/// same suppression as every result, and never shows who.
async fn the_talent_map_counts_skills_and_hides_small_buurten(backend: Backend) {
    use buurtpeil::questionnaire::RawAnswer;
    let app = spawn_app(backend).await;
    let mut conn = app.db.connect();
    let catalog = buurtpeil::questionnaire::read_catalog(&mut conn).unwrap();
    let scan = catalog.current("talentenscan").unwrap();
    let today = buurtpeil::clock::today();
    // Binnenstad 12 (8 koken), Witte Dame 14 (all koken), Bergen 3: Bergen is
    // hidden, and Binnenstad with it (the wijk minus Witte Dame would give
    // Bergen away); Irisbuurt 11 in another wijk.
    for (buurt, total, cooks) in
        [("BU07721110", 12, 8), ("BU07721130", 14, 14), ("BU07721120", 3, 3), ("BU07722110", 11, 0)]
    {
        for i in 0..total {
            let skills = if i < cooks { vec!["koken".to_owned(), "tuin".to_owned()] } else { vec!["sport".to_owned()] };
            let raw = std::collections::BTreeMap::from([
                ("talenten".to_owned(), RawAnswer::List(skills)),
                ("naam".to_owned(), RawAnswer::Text("Geheime Naam".to_owned())),
            ]);
            let answers = scan.definition.checked_leniently(&raw);
            let buurt = buurtpeil::area::AreaCode::parse(buurtpeil::area::Level::Buurt, buurt).unwrap();
            buurtpeil::survey::store_identified(&mut conn, scan.id, &buurt, &answers, today, today).unwrap();
        }
    }
    assert_eq!(app.get("/talentkaart").await.status().as_u16(), 303, "professionals only");
    let pro = app.logged_in("verbinder@eindhoven.nl", buurtpeil::auth::Role::Professional).await;
    let html = pro.get("/talentkaart?niveau=buurt").await.text().await.unwrap();
    let row = |name: &str| {
        let start = html.find(&format!("<th scope=\"row\">{name}</th>")).unwrap_or_else(|| panic!("{name} in {html}"));
        html[start..start + html[start..].find("</tr>").unwrap()].to_owned()
    };
    assert!(row("Bergen").contains("too-few") && row("Binnenstad").contains("too-few"), "{}", row("Binnenstad"));
    // Witte Dame: 14 answered, 14 koken, 14 tuin, 0 sport (columns in option order).
    let witte_dame = row("Witte Dame");
    assert!(witte_dame.contains("<td class=\"num\">14</td>") && !witte_dame.contains("too-few"), "{witte_dame}");
    assert!(!html.contains("Geheime Naam"));
    let wijk = pro.get("/talentkaart?niveau=wijk&vraag=leren").await;
    assert_eq!(wijk.status().as_u16(), 200);
    for bad in ["/talentkaart?vraag=naam", "/talentkaart?niveau=straat"] {
        assert_eq!(pro.get(bad).await.status().as_u16(), 404, "{bad}");
    }
}
on_both_backends!(the_talent_map_counts_skills_and_hides_small_buurten);
