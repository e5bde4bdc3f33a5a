//! Weighting end to end: margins imported by the command line (whole or not
//! at all), answers stored through the API, respondents' cells counted from
//! the stored answers, and raking to the stored margins — on SQLite and
//! PostgreSQL.

use buurtpeil::area::load_tree;
use buurtpeil::insight::weighting::{
    answers_by_cell, cells_for_area, load_margins, margins_for_area, respondent_cells, weighted_mean, weights_for_area,
    Cell, Observation, RakeSettings, Variable, WeightingError, WeightingOutcome,
};
use buurtpeil::questionnaire::read_catalog;
use serde_json::json;

use crate::helpers::*;
use crate::on_both_backends;

/// Residents of 15+ per age band × gender, as a long margins file.
fn long_file(rows: &[(&str, [[u64; 2]; 4])]) -> String {
    let mut out = String::from("area_code,age_band,gender,population\n");
    for (code, cells) in rows {
        for (band, pair) in ["15_24", "25_44", "45_64", "65_plus"].iter().zip(cells) {
            for (gender, n) in ["man", "vrouw"].iter().zip(pair) {
                out.push_str(&format!("{code},{band},{gender},{n}\n"));
            }
        }
    }
    out
}

async fn margins_import_and_raking_from_stored_answers(backend: Backend) {
    let app = spawn_app(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("margins.csv");
    let file = path.to_str().unwrap();
    let good = long_file(&[
        ("BU07721110", [[600, 700], [1100, 950], [320, 280], [180, 220]]),
        ("BU07721120", [[50, 60], [200, 210], [150, 140], [90, 100]]),
    ]);

    // A bad row anywhere: the error names it and nothing is stored.
    std::fs::write(&path, good.replace("BU07721120,45_64,man", "BU07721199,45_64,man")).unwrap();
    let out = buurtpeil(&app.db, &["margins", "import", file]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("margins.csv, line 14, field area_code: BU07721199 is not a known area"),
        "{}",
        text(&out)
    );
    assert_eq!(count(&mut app.db.connect(), "population_margins"), 0, "nothing half-stored");
    for (content, expected) in [
        (good.replace(",1100\n", ",veel\n"), "line 4, field population: \"veel\" is not a whole number"),
        ("gemeente;inwoners\nGM0772;1\n".to_string(), "no column gwb_code_10 (or WijkenEnBuurten)"),
        (String::new(), "no column"),
    ] {
        std::fs::write(&path, content).unwrap();
        let out = buurtpeil(&app.db, &["margins", "import", file]);
        assert!(!out.status.success() && text(&out).contains(expected), "{expected}: {}", text(&out));
    }
    let out = buurtpeil(&app.db, &["margins", "import", "/does/not/exist.csv"]);
    assert!(!out.status.success() && text(&out).contains("cannot open"), "{}", text(&out));
    assert_eq!(count(&mut app.db.connect(), "population_margins"), 0);

    std::fs::write(&path, &good).unwrap();
    let out = buurtpeil(&app.db, &["margins", "import", file]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("stored margins of 2 areas"), "{}", text(&out));
    assert_eq!(count(&mut app.db.connect(), "population_margins"), 12);

    // Residents answer through the API: some skip age or gender, some would
    // rather not say.
    let submit =
        |buurt: &'static str, age: Option<&'static str>, gender: Option<&'static str>, score: i64, n: usize| {
            let mut answers = json!({ "tevredenheid_leven": score, "geluk": 7 });
            if let Some(a) = age {
                answers["leeftijd"] = json!(a);
            }
            if let Some(g) = gender {
                answers["geslacht"] = json!(g);
            }
            (0..n).map(move |_| json!({ "buurt": buurt, "answers": answers.clone() })).collect::<Vec<_>>()
        };
    let mut bodies = Vec::new();
    bodies.extend(submit("BU07721110", Some("jonger_25"), Some("man"), 4, 3));
    bodies.extend(submit("BU07721110", Some("van_25_tot_45"), Some("vrouw"), 7, 3));
    bodies.extend(submit("BU07721110", Some("van_45_tot_65"), Some("man"), 8, 2));
    bodies.extend(submit("BU07721110", Some("vanaf_65"), Some("vrouw"), 9, 3));
    bodies.extend(submit("BU07721110", Some("vanaf_65"), Some("man"), 9, 1));
    bodies.extend(submit("BU07721110", Some("zeg_niet"), Some("vrouw"), 6, 1));
    bodies.extend(submit("BU07721110", None, Some("man"), 6, 1));
    bodies.extend(submit("BU07721110", Some("jonger_25"), Some("anders"), 5, 1));
    bodies.extend(submit("BU07721120", Some("van_25_tot_45"), Some("vrouw"), 7, 3));
    bodies.extend(submit("BU07721130", Some("van_25_tot_45"), Some("man"), 7, 2));
    for body in &bodies {
        let (status, answer) = app.submit("geluk", body).await;
        assert_eq!(status, 201, "{answer}");
    }

    let mut conn = app.db.connect();
    let catalog = read_catalog(&mut conn).unwrap();
    let geluk = catalog.current("geluk").unwrap();
    let cells = respondent_cells(&mut conn, &geluk.definition, &[geluk.id], None).unwrap();
    let c = |a, g| Cell::parse(a, g).unwrap();
    let binnenstad = &cells["BU07721110"];
    assert_eq!(binnenstad.classified(), 12);
    assert_eq!(binnenstad.unclassified, 3, "no age, 'zeg niet', 'anders'");
    assert_eq!(binnenstad.cells[&c("15_24", "man")], 3);
    assert_eq!(binnenstad.cells[&c("65_plus", "man")], 1);
    assert_eq!(cells["BU07721120"].cells[&c("25_44", "vrouw")], 3);
    // A wave of one buurt counts only that buurt's respondents; a wave that
    // ended yesterday none.
    let today = buurtpeil::clock::today();
    let mut wave = buurtpeil::survey::Wave {
        id: 1,
        slug: "geluk".into(),
        name: "proef".into(),
        opens_on: today - chrono::Days::new(7),
        closes_on: None,
        stopped: false,
        buurten: ["BU07721120".to_string()].into(),
        invitation_only: false,
    };
    let in_wave = respondent_cells(&mut conn, &geluk.definition, &[geluk.id], Some(&wave)).unwrap();
    assert_eq!(in_wave.keys().collect::<Vec<_>>(), ["BU07721120"]);
    assert_eq!(in_wave["BU07721120"].classified(), 3);
    let rows = answers_by_cell(&mut conn, &geluk.definition, &[geluk.id], Some(&wave)).unwrap();
    assert!(!rows.is_empty() && rows.iter().all(|r| r.buurt == "BU07721120" && r.cell == Some(c("25_44", "vrouw"))));
    wave.closes_on = Some(today - chrono::Days::new(1));
    assert!(respondent_cells(&mut conn, &geluk.definition, &[geluk.id], Some(&wave)).unwrap().is_empty());

    let tree = load_tree(&mut conn).unwrap();
    let margins = load_margins(&mut conn).unwrap();
    assert_eq!(margins["BU07721110"].total(Variable::AgeBand), 4350);
    let settings = RakeSettings::default();
    let outcome = |code: &str| {
        weights_for_area(
            margins_for_area(&tree, code, &margins).as_ref(),
            &cells_for_area(&tree, code, &cells),
            &settings,
        )
    };
    let WeightingOutcome::Weighted(w) = outcome("BU07721110") else {
        panic!("Binnenstad is weighted: {:?}", outcome("BU07721110"))
    };
    // 1,300 of 4,350 residents are 15–24 (30 %): the 3 young men weigh for 30 %
    // of the 12 placed respondents.
    let young: f64 =
        w.cells.iter().filter(|x| x.cell.age_band.as_str() == "15_24").map(|x| x.weight * x.respondents as f64).sum();
    assert!((young / 12.0 - 1300.0 / 4350.0).abs() < 1e-5, "{young}");
    assert_eq!(w.respondents(), 15);
    assert!(w.effective_n() < 15.0);

    // Weighted figures from the stored answers, each counted in its cell.
    let rows = answers_by_cell(&mut conn, &geluk.definition, &[geluk.id], None).unwrap();
    let obs: Vec<Observation> = rows
        .iter()
        .filter(|r| r.buurt == "BU07721110" && r.question_id == "tevredenheid_leven")
        .map(|r| Observation { cell: r.cell, value: f64::from(r.value), count: r.count })
        .collect();
    assert_eq!(obs.iter().map(|o| o.count).sum::<u64>(), 15);
    let weighted = weighted_mean(&WeightingOutcome::Weighted(w.clone()), &obs).unwrap();
    let placed = [
        ("15_24", "man", 4.0),
        ("25_44", "vrouw", 7.0),
        ("45_64", "man", 8.0),
        ("65_plus", "vrouw", 9.0),
        ("65_plus", "man", 9.0),
    ];
    let (mut sum, mut total) = (6.0 + 6.0 + 5.0, 3.0);
    for (a, g, score) in placed {
        let cw = w.cells.iter().find(|x| x.cell == c(a, g)).unwrap();
        sum += cw.weight * cw.respondents as f64 * score;
        total += cw.weight * cw.respondents as f64;
    }
    assert!((weighted.estimate - sum / total).abs() < 1e-9, "{weighted:?}");
    let plain = weighted_mean(&outcome("BU07721130"), &obs).unwrap();
    assert!((plain.estimate - 102.0 / 15.0).abs() < 1e-9, "unweighted: every respondent weighs 1");
    assert!(weighted.estimate < plain.estimate, "the under-represented young are less content");
    assert!(weighted.deff > 1.0);
    // Only young-to-middle women answered in Bergen: age cannot be met for
    // the other bands, so they merge; the one gender cannot be weighted.
    assert!(outcome("BU07721120").is_weighted());
    // Witte Dame has no margins; the wijk Centrum lacks some buurten's.
    let unweighted = outcome("BU07721130");
    assert_eq!(unweighted, WeightingOutcome::Unweighted { reason: WeightingError::NoMargins, respondents: 2 });
    assert!(!outcome("WK077211").is_weighted());
    assert!(unweighted.notice(buurtpeil::i18n::Lang::Nl).unwrap().starts_with("Ongewogen"));

    // Importing again replaces the figures of the areas in the file.
    std::fs::write(&path, long_file(&[("BU07721110", [[10, 10], [10, 10], [10, 10], [10, 10]])])).unwrap();
    assert!(buurtpeil(&app.db, &["margins", "import", file]).status.success());
    let margins = load_margins(&mut conn).unwrap();
    assert_eq!(margins["BU07721110"].total(Variable::Gender), 80);
    assert_eq!(margins["BU07721120"].total(Variable::Gender), 1000, "other areas keep theirs");
    assert_eq!(count(&mut conn, "population_margins"), 12);
}
on_both_backends!(margins_import_and_raking_from_stored_answers);

async fn the_demo_weights_its_buurten(backend: Backend) {
    let db = TestDb::new(backend);
    let out = buurtpeil(&db, &["demo"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("synthetic population margins (not CBS figures) for 116 buurten"), "{}", text(&out));
    let mut conn = db.connect();
    assert_eq!(count(&mut conn, "population_margins"), 116 * 6);
    let tree = load_tree(&mut conn).unwrap();
    let margins = load_margins(&mut conn).unwrap();
    let catalog = read_catalog(&mut conn).unwrap();
    for slug in ["geluk", "leefbaarheid"] {
        let q = catalog.current(slug).unwrap();
        let cells = respondent_cells(&mut conn, &q.definition, &[q.id], None).unwrap();
        let settings = RakeSettings::default();
        let weighted = tree
            .at_level(buurtpeil::area::Level::Buurt)
            .filter(|b| {
                let code = b.code.as_str();
                weights_for_area(
                    margins_for_area(&tree, code, &margins).as_ref(),
                    &cells_for_area(&tree, code, &cells),
                    &settings,
                )
                .is_weighted()
            })
            .count();
        // Most buurten weigh; a few with almost no respondents fall back.
        assert!(weighted >= 100, "{slug}: {weighted} of 116 buurten weighted");
        let gemeente = weights_for_area(
            margins_for_area(&tree, "GM0772", &margins).as_ref(),
            &cells_for_area(&tree, "GM0772", &cells),
            &settings,
        );
        let WeightingOutcome::Weighted(w) = gemeente else { panic!("{slug}: the gemeente is weighted: {gemeente:?}") };
        assert!(w.design_effect() > 1.0 && w.design_effect() < 2.0, "{slug}: deff {}", w.design_effect());
    }
    // A second start keeps the margins as they are.
    assert!(buurtpeil(&db, &["demo"]).status.success());
    assert_eq!(count(&mut conn, "population_margins"), 116 * 6);
    drop(conn);

    // The change between the demo's two waves, weighted beside unweighted:
    // in the API, on the results page and in the report.
    let app = spawn_app_on(db, Options::default()).await;
    let (status, change) = app.get_json("/api/v1/questionnaires/geluk/results/change?level=wijk").await;
    assert_eq!(status, 200, "{change}");
    let shown: Vec<&serde_json::Value> =
        change["areas"].as_array().unwrap().iter().filter(|a| a["suppressed"] == false).collect();
    assert!(!shown.is_empty(), "{change}");
    let weighted = shown.iter().filter(|a| a["questions"]["tevredenheid_leven"]["weighted"]["mean"].is_object());
    assert!(weighted.count() >= shown.len() / 2, "most wijken are weighted in both waves: {change}");
    let later = change["to"]["id"].as_i64().unwrap();
    let page = app.get(&format!("/r/geluk?niveau=wijk&meting={later}&lang=nl")).await.text().await.unwrap();
    assert!(page.contains("<span class=\"weighted\">gewogen: "), "the weighted change in the table");
    let report =
        app.get(&format!("/resultaten/geluk/rapport/GM0772?meting={later}&lang=nl")).await.text().await.unwrap();
    assert!(report.contains(" · gewogen: <span class=\"diff\">"), "the weighted change in the report");
}
on_both_backends!(the_demo_weights_its_buurten);

/// Submits `n` geluk responses to a buurt with an age band, a gender and a
/// life-satisfaction score (happiness always 7).
async fn submit_placed(app: &TestApp, buurt: &str, age: &str, gender: &str, score: i64, n: usize) {
    for _ in 0..n {
        let body = json!({ "buurt": buurt, "answers": {
            "tevredenheid_leven": score, "geluk": 7, "leeftijd": age, "geslacht": gender } });
        let (status, answer) = app.submit("geluk", &body).await;
        assert_eq!(status, 201, "{answer}");
    }
}

/// Weighted figures beside the unweighted ones on every path (JSON, page,
/// CSV, XLSX): the value raking gives by hand where margins fit, the notice
/// where there are none or they do not fit (never a 500), and nothing
/// weighted for a suppressed buurt anywhere.
async fn weighted_figures_on_every_path(backend: Backend) {
    use calamine::{Data, Reader, Xlsx};
    let app = spawn_app(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("margins.csv");
    // Binnenstad: 1,000 residents of 15+, 30 % 15–24, 30 % 25–44, 20 % 45–64,
    // 20 % 65+, half men. BU07722120: nobody of 15–24, say the figures.
    std::fs::write(
        &path,
        long_file(&[
            ("BU07721110", [[150, 150], [150, 150], [100, 100], [100, 100]]),
            ("BU07722120", [[0, 0], [200, 200], [150, 150], [100, 100]]),
        ]),
    )
    .unwrap();
    let out = buurtpeil(&app.db, &["margins", "import", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    // BU07722130: figures for age bands only, and a row that no longer
    // parses (an unknown gender, stored by hand): the gender margin is
    // missing.
    {
        use diesel::RunQueryDsl;
        let mut conn = app.db.connect();
        for (variable, category, n) in [
            ("age_band", "15_24", 100),
            ("age_band", "25_44", 100),
            ("age_band", "45_64", 100),
            ("age_band", "65_plus", 100),
            ("gender", "onbekend", 400),
        ] {
            let sql = format!(
                "INSERT INTO population_margins (area, variable, category, population, source, imported_on) \
                 VALUES ('BU07722130', '{variable}', '{category}', {n}, 'test', '2026-01-01')"
            );
            buurtpeil::on_backend!(&mut conn, |c| diesel::sql_query(sql).execute(c)).unwrap();
        }
    }
    // A running server re-reads margins every few seconds (they come from
    // another process); a new one reads them at once.
    let app = app.restart().await;

    // Binnenstad: age and gender independent among respondents (2 men to 3
    // women in every band; the old twice as many), so raking takes one
    // sweep and each band weighs its population share. Scores by age band.
    // Every age band × gender cell has at least k respondents (else bands
    // or genders would merge, and a weighted figure with a class under k
    // would not be shown).
    for (age, score, k) in [("jonger_25", 4, 1), ("van_25_tot_45", 6, 1), ("van_45_tot_65", 7, 1), ("vanaf_65", 9, 2)] {
        submit_placed(&app, "BU07721110", age, "man", score, 10 * k).await;
        submit_placed(&app, "BU07721110", age, "vrouw", score, 15 * k).await;
    }
    app.submit_many("BU07721120", 3, 2).await; // below k
    app.submit_many("BU07721130", 12, 5).await; // hidden with it
    app.submit_many("BU07722110", 15, 7).await; // no margins
    submit_placed(&app, "BU07722120", "jonger_25", "man", 6, 12).await; // zero population
    submit_placed(&app, "BU07722130", "vanaf_65", "vrouw", 8, 11).await; // gender margin missing

    // By hand: the weighted mean is Σ share × score of the age bands.
    let mean = 0.3 * 4.0 + 0.3 * 6.0 + 0.2 * 7.0 + 0.2 * 9.0;
    // Weights (age factor × gender factor): 1.5 × 1.25 for the young men …
    let (age_f, gender_f) = ([1.5, 1.5, 1.0, 0.5], [1.25, 0.5 / 0.6]);
    let counts = [[10.0, 15.0], [10.0, 15.0], [10.0, 15.0], [20.0, 30.0]];
    let scores = [4.0, 6.0, 7.0, 9.0];
    let (mut w, mut w2, mut ss) = (0.0f64, 0.0f64, 0.0f64);
    for a in 0..4 {
        for g in 0..2 {
            let weight = age_f[a] * gender_f[g];
            w += counts[a][g] * weight;
            w2 += counts[a][g] * weight * weight;
            ss += counts[a][g] * weight * (scores[a] - mean) * (scores[a] - mean);
        }
    }
    let n_eff = w * w / w2;
    assert!((w - 125.0).abs() < 1e-9 && (n_eff - 100.0).abs() < 1e-9);
    let half = 1.9842 * (ss / w * 125.0 / 124.0 / n_eff).sqrt(); // t(99)
    let round2 = |x: f64| (x * 100.0).round() / 100.0;

    let body = app.results("buurt").await;
    let binnenstad = area(&body, "BU07721110");
    assert_eq!(binnenstad["weighting"], json!({ "weighted": true }), "{binnenstad}");
    let q = &binnenstad["questions"]["tevredenheid_leven"];
    assert_eq!(q["mean"], 7.0, "unweighted: 875 / 125");
    let wq = &q["weighted"];
    assert_eq!(wq["mean"].as_f64().unwrap(), round2(mean), "{wq}");
    assert_eq!((wq["n_eff"].as_u64(), wq["deff"].as_f64()), (Some(100), Some(1.25)), "{wq}");
    assert_eq!(wq["ci95"], json!([round2(mean - half), round2(mean + half)]), "{wq}");
    // Young (0–4) weigh 30 % instead of 20 %; 7–10 the 45–64s and 65+.
    assert_eq!((wq["share_0_4"].as_u64(), wq["share_7_plus"].as_u64()), (Some(30), Some(40)), "{wq}");
    let share = &binnenstad["questions"]["leeftijd"]["weighted"];
    assert_eq!(share["shares"]["jonger_25"], 30, "a choice weighted to the population: {share}");
    assert_eq!(binnenstad["questions"]["geluk"]["weighted"]["mean"], 7.0);
    for key in ["weights", "cells", "respondents"] {
        assert!(binnenstad["weighting"].get(key).is_none() && wq.get(key).is_none());
    }

    let notice = |code: &str| area(&body, code)["weighting"].clone();
    let unweighted = |code: &str, reason: &str| {
        let a = area(&body, code);
        assert_eq!(a["suppressed"], false, "{a}");
        assert_eq!(a["weighting"]["weighted"], false, "{a}");
        assert_eq!(a["weighting"]["reason"], reason, "{a}");
        assert!(a["weighting"]["notice"]["nl"].as_str().unwrap().starts_with("Ongewogen"), "{a}");
        assert!(a["weighting"]["notice"]["en"].as_str().unwrap().starts_with("Unweighted"), "{a}");
        assert!(a["questions"]["tevredenheid_leven"]["mean"].is_number(), "unweighted figures stay: {a}");
        assert!(a["questions"].as_object().unwrap().values().all(|q| q.get("weighted").is_none()), "{a}");
    };
    unweighted("BU07722110", "no_margins");
    // Margins that lack a group some respondents are in, or say nobody
    // lives there: one reason, and no group named (it could point at a
    // resident).
    for code in ["BU07722120", "BU07722130"] {
        unweighted(code, "margins_do_not_fit");
        let text = notice(code).to_string();
        assert!(
            ["15 tot 25", "15 to 24", "65", "mannen", "vrouwen", "men", "women"].iter().all(|g| !text.contains(g)),
            "{text}"
        );
    }
    for hidden in ["BU07721120", "BU07721130"] {
        let a = area(&body, hidden);
        assert_eq!(a["suppressed"], true, "{a}");
        assert!(a.get("weighting").is_none() && a.get("questions").is_none(), "{a}");
    }
    // The wijk and the gemeente lack some buurten's margins.
    let wijken = app.results("wijk").await;
    assert_eq!(area(&wijken, "WK077211")["weighting"]["reason"], "no_margins");
    let gemeente = app.results("gemeente").await;
    assert_eq!(area(&gemeente, "GM0772")["weighting"]["reason"], "no_margins");

    // The page: weighted beside unweighted, the notice, nothing for Bergen.
    let app_ref = &app;
    let page = |path: String| async move {
        let res = app_ref.get(&path).await;
        assert_eq!(res.status().as_u16(), 200, "{path}");
        res.text().await.unwrap()
    };
    let html = page("/r/geluk?niveau=buurt&gebied=BU07721110".into()).await;
    assert!(html.contains("Gewogen gemiddelde") && html.contains("Wie een vragenlijst invult"), "explained");
    assert!(html.contains("<strong>Gewogen:</strong> <strong>6,2</strong>"), "focus weighted");
    assert!(html.contains("design-effect 1,25"), "deff with two decimals");
    let row = |html: &str, code: &str| {
        let start = html.find(&format!("gebied={code}")).unwrap_or_else(|| panic!("{code} row"));
        html[start..start + html[start..].find("</tr>").unwrap()].to_owned()
    };
    assert!(row(&html, "BU07722110").contains("Ongewogen: er zijn geen bevolkingscijfers"));
    for hidden in ["BU07721120", "BU07721130"] {
        let r = row(&html, hidden);
        assert!(!r.contains("class=\"weighted\"") && !r.contains("Ongewogen") && !r.contains("6,2"), "{r}");
    }
    let hidden_focus = page("/r/geluk?niveau=buurt&gebied=BU07721120".into()).await;
    let focus = &hidden_focus[hidden_focus.find("class=\"focus\"").unwrap()..hidden_focus.find("</section>").unwrap()];
    assert!(!focus.contains("Gewogen") && !focus.contains("Ongewogen"), "{focus}");
    let english = page("/r/geluk?niveau=buurt&gebied=BU07722110&lang=en".into()).await;
    assert!(english.contains("Unweighted: there are no population figures") && english.contains("Weighted mean"));

    // The ranking: the weighted block beside the estimate, none for the
    // unweighted and the hidden buurten.
    let (status, ranking) = app.get_json("/api/v1/questionnaires/geluk/results/ranking?level=buurt").await;
    assert_eq!(status, 200, "{ranking}");
    assert_eq!(area(&ranking, "BU07721110")["weighted"]["mean"], 6.2, "{ranking}");
    for code in ["BU07722110", "BU07721120", "BU07721130"] {
        assert!(area(&ranking, code).get("weighted").is_none(), "{code}: {ranking}");
    }

    // The printable report: weighted figures beside the unweighted ones
    // (a scale's mean, a choice's shares), the notice where unweighted,
    // nothing weighted for a hidden buurt.
    let report = page("/resultaten/geluk/rapport/BU07721110?lang=nl".into()).await;
    assert!(report.contains("<strong>Gewogen:</strong> <strong>6,2</strong>"), "a scale weighted");
    assert!(report.contains("design-effect 1,25"), "with its design effect");
    let ages = &report[report.find("id=\"q-leeftijd\"").unwrap()..];
    let ages = &ages[..ages.find("</section>").unwrap()];
    assert!(ages.contains("class=\"num weighted\">30%"), "a choice weighted: {ages}");
    assert!(!report.contains("Ongewogen"));
    let unweighted_report = page("/resultaten/geluk/rapport/BU07722110?lang=nl".into()).await;
    assert!(unweighted_report.contains("Ongewogen: er zijn geen bevolkingscijfers"));
    assert!(!unweighted_report.contains("<strong>Gewogen:</strong>"));
    let hidden_report = page("/resultaten/geluk/rapport/BU07721120?lang=nl".into()).await;
    assert!(!hidden_report.contains("<strong>Gewogen:</strong>") && !hidden_report.contains("weighting-notice"));

    // CSV: weighted columns for Binnenstad, the notice for the others,
    // nothing beside a suppressed buurt.
    let csv = app.get("/api/v1/questionnaires/geluk/results.csv?lang=nl").await.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(
        header[12..],
        [
            "gewogen waarde",
            "gewogen 95%-interval laag",
            "gewogen 95%-interval hoog",
            "effectieve steekproefomvang",
            "design-effect",
            "weging"
        ]
    );
    let rows: Vec<Vec<String>> = reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
    let find = |code: &str, question: &str, measure: &str| {
        rows.iter()
            .find(|r| r[1] == code && r[5] == question && r[7] == measure)
            .unwrap_or_else(|| panic!("{code} {measure}"))
    };
    let r = find("BU07721110", "tevredenheid_leven", "gemiddelde");
    assert_eq!(
        (r[8].as_str(), r[12].as_str(), r[15].as_str(), r[16].as_str()),
        ("7.00", "6.20", "100", "1.25"),
        "{r:?}"
    );
    assert!(r[17].starts_with("Gewogen"), "{r:?}");
    assert_eq!(find("BU07721110", "tevredenheid_leven", "mediaan")[12], "", "medians are not weighted");
    let r = find("BU07722110", "tevredenheid_leven", "gemiddelde");
    assert!(r[12..17].iter().all(String::is_empty) && r[17].starts_with("Ongewogen"), "{r:?}");
    for hidden in ["BU07721120", "BU07721130"] {
        let of: Vec<&Vec<String>> = rows.iter().filter(|r| r[1] == hidden).collect();
        assert_eq!(of.len(), 1, "{of:?}");
        assert!(of[0][12..].iter().all(String::is_empty), "{of:?}");
    }

    // XLSX: the same, and the method sheet explains weighting.
    let bytes = app.get("/api/v1/questionnaires/geluk/results.xlsx?lang=en").await.bytes().await.unwrap();
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = book.worksheet_range("Results").unwrap();
    assert_eq!(sheet.get((0, 12)), Some(&Data::String("weighted value".into())));
    let mean_row = sheet
        .rows()
        .find(|r| {
            r[1] == Data::String("BU07721110".into())
                && r[7] == Data::String("mean".into())
                && r[5] == Data::String("tevredenheid_leven".into())
        })
        .unwrap();
    assert_eq!((mean_row[12].to_string(), mean_row[15].to_string()), ("6.2".into(), "100".into()), "{mean_row:?}");
    for r in sheet.rows().filter(|r| matches!(&r[1], Data::String(c) if c == "BU07721120" || c == "BU07721130")) {
        assert!(r[12..].iter().all(|c| *c == Data::Empty), "{r:?}");
    }
    let method = book.worksheet_range("Method").unwrap();
    let text: String = method.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect::<Vec<_>>().join(" ");
    assert!(text.contains("design effect") && text.contains("never published"), "{text}");

    // The responses above were counted one by one as they were committed
    // (the server had read the counts at start); a new server reads them
    // with the grouped scan per cell. Both give the same figures.
    let app = app.restart().await;
    for level in ["buurt", "wijk", "gemeente"] {
        let fresh = app.results(level).await;
        let kept = if level == "buurt" {
            body.clone()
        } else if level == "wijk" {
            wijken.clone()
        } else {
            gemeente.clone()
        };
        assert_eq!(unreleased(fresh), unreleased(kept), "{level}");
    }

    // A database from before answers carried their respondent's cell
    // (migration 000010 over stored responses): the server fills the cells
    // once at start, and the figures stay the same.
    let placed_rows = "answers WHERE cell IS NOT NULL";
    let before = count(&mut app.db.connect(), placed_rows);
    assert!(before > 0);
    {
        let mut conn = app.db.connect();
        for sql in [
            "UPDATE answers SET cell = NULL",
            "INSERT INTO answer_cells_pending SELECT DISTINCT questionnaire_version_id FROM response_counts",
        ] {
            buurtpeil::on_backend!(&mut conn, |c| diesel::RunQueryDsl::execute(diesel::sql_query(sql), c)).unwrap();
        }
        assert_eq!(count(&mut conn, placed_rows), 0);
    }
    let app = app.restart().await;
    let mut conn = app.db.connect();
    assert_eq!((count(&mut conn, placed_rows), count(&mut conn, "answer_cells_pending")), (before, 0));
    assert_eq!(unreleased(app.results("buurt").await), unreleased(body.clone()));
    assert_eq!(unreleased(app.results("wijk").await), unreleased(wijken.clone()));
}
on_both_backends!(weighted_figures_on_every_path);

/// Margins imported by the command line while the server runs: results
/// are unweighted with the notice until the server re-reads the margins
/// (within seconds), then weighted — counted anew per respondent cell,
/// with the responses that came in meanwhile.
async fn margins_imported_while_serving_are_noticed(backend: Backend) {
    let app = spawn_app(backend).await;
    submit_placed(&app, "BU07721110", "jonger_25", "man", 4, 10).await;
    submit_placed(&app, "BU07721110", "vanaf_65", "vrouw", 8, 25).await;
    let weighting = |body: &serde_json::Value| area(body, "BU07721110")["weighting"].clone();
    assert_eq!(weighting(&app.results("buurt").await)["reason"], "no_margins");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("margins.csv");
    std::fs::write(&path, long_file(&[("BU07721110", [[250, 250], [0, 0], [0, 0], [250, 250]])])).unwrap();
    assert!(buurtpeil(&app.db, &["margins", "import", path.to_str().unwrap()]).status.success());
    submit_placed(&app, "BU07721110", "vanaf_65", "vrouw", 8, 5).await;
    let started = std::time::Instant::now();
    let body = loop {
        let body = app.results("buurt").await;
        if weighting(&body)["weighted"] == true {
            break body;
        }
        assert!(started.elapsed().as_secs() < 30, "not noticed within 30 s: {}", weighting(&body));
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };
    // 10 young of 40 answer 4, the rest 8; the young are half the residents.
    let q = &area(&body, "BU07721110")["questions"]["tevredenheid_leven"];
    assert_eq!(q["n"], 40);
    assert_eq!(q["mean"], 7.0);
    assert_eq!(q["weighted"]["mean"], 6.0, "{q}");
}
on_both_backends!(margins_imported_while_serving_are_noticed);
