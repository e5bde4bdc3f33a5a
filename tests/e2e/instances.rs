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
    buurtpeil::questionnaire::publish(&mut a.db.connect(), &def).unwrap();
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
}
on_both_backends!(a_second_instance_follows_the_first);
