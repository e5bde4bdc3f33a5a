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
    let today = chrono::Local::now().date_naive();
    let mut wave = buurtpeil::survey::Wave {
        id: 1,
        slug: "geluk".into(),
        name: "proef".into(),
        opens_on: today - chrono::Days::new(7),
        closes_on: None,
        stopped: false,
        buurten: ["BU07721120".to_string()].into(),
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
}
on_both_backends!(the_demo_weights_its_buurten);
