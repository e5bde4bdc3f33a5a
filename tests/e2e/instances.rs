//! Two server instances on one database (issue #15): what one publishes or
//! archives, the other serves within a second; a response given on one is
//! counted by the other within a second and a half.

use std::time::{Duration, Instant};

use buurtpeil::web::Application;
use serde_json::Value;

use crate::helpers::*;
use crate::on_both_backends;

/// Polls `check` every 100 ms until it holds; the time it took.
async fn within(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < limit, "not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    start.elapsed()
}

async fn a_second_instance_follows_the_first(backend: Backend) {
    let a = spawn_app(backend).await;
    // A panel selection that another, living instance runs (fresh heartbeat).
    use buurtpeil::panel::store::{self, NewSelection, Settings, Status};
    let settings = Settings {
        size: 2,
        seed: "elders".into(),
        algorithm: buurtpeil::panel::Algorithm::Leximin,
        household_columns: vec![],
        dropped: vec![],
        pseudonym_key: "k".into(),
    };
    let new = NewSelection {
        campaign: "elders",
        questionnaire: "panelaanmelding",
        previous_id: None,
        settings: &settings,
        features_csv: "feature,value,min,max\n",
        people_csv: "id\n",
    };
    let elsewhere = store::start(&mut a.db.connect(), &new, buurtpeil::clock::today()).unwrap();
    assert!(store::claim(&mut a.db.connect(), elsewhere, "elsewhere", chrono::Utc::now().naive_utc()).unwrap());
    // B: another server process on the same database.
    let config = test_config(&a.db.url, None, manifest_dir().join("questionnaires"));
    let b = Application::build(&config).expect("the second instance starts");
    let b_address = format!("http://127.0.0.1:{}", b.port());
    tokio::spawn(b.run_until_stopped());
    let on_b = |path: &str| format!("{b_address}{path}");
    let client = reqwest::Client::new();

    // Published on A (the designer stores it in the database): served on B.
    let source = std::fs::read_to_string(manifest_dir().join("questionnaires/geluk.toml"))
        .unwrap()
        .replace("slug = \"geluk\"", "slug = \"proef\"");
    let def = buurtpeil::questionnaire::parse_toml("proef.toml", &source).unwrap();
    assert_eq!(client.get(on_b("/api/v1/questionnaires/proef")).send().await.unwrap().status().as_u16(), 404);
    buurtpeil::questionnaire::publish(&mut a.db.connect(), &def, buurtpeil::questionnaire::Approval::Designer).unwrap();
    let took = within(Duration::from_secs(2), async || {
        client.get(on_b("/api/v1/questionnaires/proef")).send().await.unwrap().status().as_u16() == 200
    })
    .await;
    eprintln!("a questionnaire published elsewhere was served after {took:?}");

    // A response on A is in B's results.
    let results = |c: reqwest::Client, url: String| async move {
        let body: Value = c.get(url).send().await.unwrap().json().await.unwrap();
        area(&body, "WK077211")["n"].as_u64()
    };
    let wijk = on_b("/api/v1/questionnaires/geluk/results?level=wijk");
    assert_eq!(results(client.clone(), wijk.clone()).await, None);
    a.submit_many("BU07721110", 10, 7).await;
    let took = within(Duration::from_secs(3), async || results(client.clone(), wijk.clone()).await == Some(10)).await;
    eprintln!("responses on A were counted on B after {took:?}");

    // Archived on A: B takes no more responses.
    buurtpeil::questionnaire::set_archived(&mut a.db.connect(), "geluk", true).unwrap();
    let took = within(Duration::from_secs(2), async || {
        let res = client.post(on_b("/api/v1/questionnaires/geluk/responses")).json(&geluk("BU07721110", 7));
        res.send().await.unwrap().status().as_u16() == 403
    })
    .await;
    eprintln!("an archive elsewhere was honoured after {took:?}");
    // (Responses sent before B noticed were stored, as on A before it.)
    let stored = count(&mut a.db.connect(), "responses");
    let res = client.post(on_b("/api/v1/questionnaires/geluk/responses")).json(&geluk("BU07721110", 7));
    assert_eq!(res.send().await.unwrap().status().as_u16(), 403);
    assert_eq!(count(&mut a.db.connect(), "responses"), stored, "nothing stored once B knows");

    // Starting B, and B's follower, left the other instance's selection alone.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let running = store::load(&mut a.db.connect(), elsewhere).unwrap().unwrap();
    assert_eq!((running.status, running.runner.as_deref()), (Status::Running, Some("elsewhere")));
}
on_both_backends!(a_second_instance_follows_the_first);

/// A client that retries (a timeout, a reset, another instance behind the
/// load balancer) sends the same `Idempotency-Key`: stored once, answered as
/// the first, even when the retries race each other.
async fn a_retried_submission_is_stored_once(backend: Backend) {
    let a = spawn_app(backend).await;
    let send = |key: &'static str| {
        let (client, url) = (a.client.clone(), a.url("/api/v1/questionnaires/geluk/responses"));
        async move {
            let res = client.post(url).header("idempotency-key", key).json(&geluk("BU07721110", 7)).send().await;
            res.unwrap().status().as_u16()
        }
    };
    assert_eq!(send("resp-1").await, 201);
    assert_eq!(send("resp-1").await, 201, "the retry is answered as the first");
    let racing: Vec<u16> = futures::future::join_all((0..8).map(|_| send("resp-2"))).await;
    assert!(racing.iter().all(|s| *s == 201), "{racing:?}");
    assert_eq!(send("resp-3").await, 201);
    let mut conn = a.db.connect();
    assert_eq!(count(&mut conn, "responses"), 3, "one per key");
    assert_counts_agree(&mut conn);
    assert_eq!(area(&a.results("buurt").await, "BU07721110")["suppressed"], true, "3 counted, not 10");
    for bad in ["", "sleutel met spaties", &"x".repeat(201)] {
        let res = a
            .client
            .post(a.url("/api/v1/questionnaires/geluk/responses"))
            .header("idempotency-key", bad)
            .json(&geluk("BU07721110", 7))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 400, "{bad:?}");
        let body: Value = res.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("Idempotency-Key"), "{body}");
    }
    assert_eq!(count(&mut conn, "responses"), 3);
}
on_both_backends!(a_retried_submission_is_stored_once);
