use serde_json::{json, Value};

use crate::helpers::*;
use crate::on_both_backends;

async fn health_areas_and_definitions(backend: Backend) {
    let app = spawn_app(backend).await;
    let (status, body) = app.get_json("/healthz").await;
    assert_eq!((status, body), (200, json!({ "status": "ok" })));

    let (status, areas) = app.get_json("/api/v1/areas").await;
    assert_eq!(status, 200);
    let areas = areas.as_array().unwrap();
    let level = |l: &str| areas.iter().filter(|a| a["level"] == l).count();
    assert_eq!((level("gemeente"), level("wijk"), level("buurt")), (1, 20, 116));
    let binnenstad = areas.iter().find(|a| a["code"] == "BU07721110").unwrap();
    assert_eq!(
        binnenstad,
        &json!({ "code": "BU07721110", "name": "Binnenstad", "level": "buurt", "parent": "WK077211" })
    );

    let (status, list) = app.get_json("/api/v1/questionnaires").await;
    assert_eq!(status, 200);
    assert!(list.as_array().unwrap().iter().any(|q| q["slug"] == "geluk"));
    let (status, geluk) = app.get_json("/api/v1/questionnaires/geluk").await;
    assert_eq!(status, 200);
    assert_eq!(geluk["version"], 1);
    assert_eq!(geluk["title"]["nl"], "Hoe gaat het met u?");
    let first = &geluk["pages"][0]["questions"][0];
    assert_eq!(
        (first["id"].as_str(), first["type"].as_str(), first["required"].as_bool()),
        (Some("tevredenheid_leven"), Some("scale"), Some(true))
    );
    assert_eq!((first["min"].as_i64(), first["max"].as_i64()), (Some(0), Some(10)));
    assert!(first["min_label"]["en"].is_string());
    let choice =
        geluk["pages"][1]["questions"].as_array().unwrap().iter().find(|q| q["type"] == "single_choice").unwrap();
    assert!(choice["options"].as_array().unwrap().len() >= 2);
}
on_both_backends!(health_areas_and_definitions);

async fn submitted_answers_show_up_in_results(backend: Backend) {
    let app = spawn_app(backend).await;
    // Binnenstad: 12 responses scoring 8; Bergen (same wijk): 10 scoring 6.
    app.submit_many("BU07721110", 12, 8).await;
    app.submit_many("BU07721120", 10, 6).await;
    let buurten = app.results("buurt").await;
    assert_eq!(buurten["questionnaire"], "geluk");
    assert_eq!(buurten["version"], 1);
    assert_eq!(buurten["level"], "buurt");
    assert_eq!(buurten["min_cell"], 10);
    assert_eq!(buurten["areas"].as_array().unwrap().len(), 116);

    let b = area(&buurten, "BU07721110");
    assert_eq!(b["suppressed"], false);
    assert_eq!(b["n"], 12);
    let q = &b["questions"]["tevredenheid_leven"];
    assert_eq!(q["mean"], 8.0);
    assert_eq!(q["median"], 8.0);
    assert_eq!(q["share_7_plus"], 100);
    assert_eq!(q["ci95"], json!([8.0, 8.0]));
    let dist: Vec<i64> = q["distribution"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    assert_eq!(dist, vec![0, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0]);
    // Free text never appears; unanswered optional questions are hidden.
    assert!(b["questions"].get("idee_buurt").is_none());
    assert_eq!(b["questions"]["zinvol"], json!({ "suppressed": true }));

    // A buurt nobody answered in is suppressed and says nothing else.
    let empty = area(&buurten, "BU07721130");
    assert_eq!(empty, &json!({ "code": "BU07721130", "name": "Witte Dame", "parent": "WK077211", "suppressed": true }));

    let wijken = app.results("wijk").await;
    let centrum = &area(&wijken, "WK077211");
    assert_eq!(centrum["n"], 22);
    let q = &centrum["questions"]["tevredenheid_leven"];
    assert_eq!(q["mean"], 7.09);
    assert_eq!(q["median"], 8.0);
    assert_eq!(q["share_7_plus"], 55);
    let (lo, hi) = (q["ci95"][0].as_f64().unwrap(), q["ci95"][1].as_f64().unwrap());
    assert!(lo < 7.09 && 7.09 < hi && hi - lo < 1.5, "{lo}..{hi}");

    let gemeente = app.results("gemeente").await;
    assert_eq!(area(&gemeente, "GM0772")["n"], 22);
}
on_both_backends!(submitted_answers_show_up_in_results);

async fn a_small_buurt_is_protected_from_subtraction(backend: Backend) {
    let app = spawn_app(backend).await;
    // Wijk Centrum: Binnenstad 30, Bergen 3 (below k): the wijk total minus
    // Binnenstad would give Bergen away, so Binnenstad must be hidden too.
    app.submit_many("BU07721110", 30, 8).await;
    app.submit_many("BU07721120", 3, 1).await;
    // Another wijk, so the gemeente does not equal Centrum.
    app.submit_many("BU07722110", 15, 7).await;
    let buurten = app.results("buurt").await;
    assert_eq!(area(&buurten, "BU07721120")["suppressed"], true);
    assert_eq!(area(&buurten, "BU07721110")["suppressed"], true, "secondary suppression");
    let wijken = app.results("wijk").await;
    assert_eq!(area(&wijken, "WK077211")["n"], 33);
    for level in ["buurt", "wijk", "gemeente"] {
        let body = app.results(level).await;
        for a in body["areas"].as_array().unwrap() {
            if a["suppressed"] == true {
                assert!(a.get("n").is_none() && a.get("questions").is_none(), "{a}");
            } else {
                assert!(a["n"].as_i64().unwrap() >= 10, "{a}");
            }
        }
    }
}
on_both_backends!(a_small_buurt_is_protected_from_subtraction);

async fn threshold_comes_from_the_environment(backend: Backend) {
    let app = spawn_app_with(backend, Options { min_cell: Some("3"), ..Options::default() }).await;
    app.submit_many("BU07721110", 3, 9).await;
    app.submit_many("BU07721120", 3, 9).await;
    let buurten = app.results("buurt").await;
    assert_eq!(buurten["min_cell"], 3);
    assert_eq!(area(&buurten, "BU07721110")["n"], 3);
}
on_both_backends!(threshold_comes_from_the_environment);

async fn a_changed_file_makes_a_new_version_and_old_answers_still_count(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let source = std::fs::read_to_string(manifest_dir().join("questionnaires/geluk.toml")).unwrap();
    std::fs::write(dir.path().join("geluk.toml"), &source).unwrap();
    let db = {
        let app = spawn_app_with(backend, Options { questionnaires: dir.path().into(), ..Options::default() }).await;
        app.submit_many("BU07721110", 10, 9).await;
        app.db
    };
    // Reword a question: same id, same scale. A new version, same answers.
    std::fs::write(
        dir.path().join("geluk.toml"),
        source.replace("Hoe gelukkig voelde u zich gisteren?", "Hoe blij was u gisteren?"),
    )
    .unwrap();
    let config = test_config(&db.url, None, dir.path().into());
    let app = buurtpeil::web::Application::build(&config).unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let def: Value =
        reqwest::get(format!("{address}/api/v1/questionnaires/geluk")).await.unwrap().json().await.unwrap();
    assert_eq!(def["version"], 2);
    let body = reqwest::Client::new()
        .post(format!("{address}/api/v1/questionnaires/geluk/responses"))
        .json(&geluk("BU07721110", 9))
        .send()
        .await
        .unwrap();
    assert_eq!(body.status(), 201);
    let results: Value = reqwest::get(format!("{address}/api/v1/questionnaires/geluk/results?level=buurt"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(results["version"], 2);
    assert_eq!(area(&results, "BU07721110")["questions"]["geluk"]["n"], 11);
    // Every response points to the version it answered.
    let mut conn = db.connect();
    assert_eq!(count(&mut conn, "questionnaire_versions"), 2);
    assert_eq!(count(&mut conn, "responses"), 11);
}
on_both_backends!(a_changed_file_makes_a_new_version_and_old_answers_still_count);

async fn every_question_type_through_the_api(backend: Backend) {
    let app = spawn_app_with(backend, Options { min_cell: Some("3"), ..Options::default() }).await;
    let body = |veilig: i64, extra: serde_json::Value| {
        let mut answers = json!({
            "tevredenheid_buurt": 7,
            "jaren_buurt": 12,
            "woonsituatie": "other",
            "woonsituatie.other": "woonboot",
            "buitenruimte": "yes",
            "veilig_buurt": veilig,
            "dagbesteding": ["pensioen", "vrijwilligerswerk"],
        });
        for (k, v) in extra.as_object().unwrap() {
            answers[k] = v.clone();
        }
        json!({ "buurt": "BU07721110", "answers": answers })
    };
    for _ in 0..3 {
        let (status, res) = app.submit("leefbaarheid", &body(4, json!({ "onveilig_door": ["donker"] }))).await;
        assert_eq!(status, 201, "{res}");
    }
    let (_, results) = app.get_json("/api/v1/questionnaires/leefbaarheid/results?level=buurt").await;
    let q = &area(&results, "BU07721110")["questions"];
    assert_eq!(q["dagbesteding"]["type"], "multiple_choice");
    assert_eq!(
        (q["dagbesteding"]["n"].as_i64(), q["dagbesteding"]["shares"]["pensioen"].as_i64()),
        (Some(3), Some(100))
    );
    assert_eq!(q["woonsituatie"]["shares"]["other"], 100);
    assert_eq!(q["buitenruimte"]["shares"]["yes"], 100);
    assert_eq!(q["jaren_buurt"]["mean"], 12.0);
    assert_eq!(q["jaren_buurt"]["type"], "number");
    assert_eq!(q["jaren_buurt"]["quartiles"], json!([12.0, 12.0]));
    assert!(q["jaren_buurt"].get("distribution").is_none(), "numbers show no distribution");
    // Shares carry their Wilson interval: 3 of 3 → 43.9 %–100 %.
    assert_eq!(q["buitenruimte"]["ci95"]["yes"], json!([43.9, 100.0]));
    assert_eq!(q["dagbesteding"]["ci95"]["pensioen"], json!([43.9, 100.0]));
    // The ranking by a choice ranks by the share of one option.
    let (status, ranking) =
        app.get_json("/api/v1/questionnaires/leefbaarheid/results/ranking?question=buitenruimte&option=yes").await;
    assert_eq!(status, 200, "{ranking}");
    assert_eq!((ranking["measure"].as_str(), ranking["option"].as_str()), (Some("share"), Some("yes")));
    assert_eq!(area(&ranking, "BU07721110")["estimate"]["estimate"], 100.0);
    // The free text of "anders" is kept apart, never in the results.
    assert!(!results.to_string().contains("woonboot"));
    assert_eq!(count(&mut app.db.connect(), "text_answers"), 3);

    // An answer to a question the earlier answers hide is refused.
    let (status, err) = app.submit("leefbaarheid", &body(8, json!({ "onveilig_door": ["donker"] }))).await;
    assert_eq!(status, 422);
    assert!(err["fields"]["onveilig_door"].as_str().unwrap().contains("not asked"), "{err}");
    // Wrong shapes and values.
    for (extra, field) in [
        (json!({ "dagbesteding": ["golf"] }), "dagbesteding"),
        (json!({ "dagbesteding": [1, 2] }), "dagbesteding"),
        (json!({ "woonsituatie": ["koop", "huur_particulier"] }), "woonsituatie"),
        (json!({ "woonsituatie.other": "" }), "woonsituatie"),
        (json!({ "jaren_buurt": 101 }), "jaren_buurt"),
        (json!({ "buitenruimte": true }), "buitenruimte"),
        (json!({ "tevredenheid_buurt.other": "x" }), "tevredenheid_buurt.other"),
    ] {
        let (status, err) = app.submit("leefbaarheid", &body(8, extra.clone())).await;
        assert_eq!(status, 422, "{extra}");
        assert!(err["fields"][field].is_string(), "{extra}: {err}");
    }
    // Identified answers never have public results.
    let (status, _) = app.get_json("/api/v1/questionnaires/talentenscan/results").await;
    assert_eq!(status, 404);
    assert_eq!(app.get("/r/talentenscan").await.status().as_u16(), 404);
}
on_both_backends!(every_question_type_through_the_api);
