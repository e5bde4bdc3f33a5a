//! Hundreds of residents at once: every 201 is stored, nothing is lost,
//! SQLite never answers "database is locked".

use futures::future::join_all;

use crate::helpers::*;
use crate::on_both_backends;

const SUBMISSIONS: usize = 400;

async fn concurrent_submissions_are_all_stored(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let buurten = ["BU07721110", "BU07721120", "BU07722110", "BU07722120"];
    let requests = (0..SUBMISSIONS).map(|i| {
        let client = client.clone();
        let url = app.url("/api/v1/questionnaires/geluk/responses");
        let body = geluk(buurten[i % buurten.len()], (i % 11) as i64);
        async move {
            let res = client.post(url).json(&body).send().await.expect("the server answers");
            (res.status().as_u16(), res.text().await.unwrap_or_default())
        }
    });
    let outcomes = join_all(requests).await;
    let failures: Vec<_> = outcomes.iter().filter(|(s, _)| *s != 201).collect();
    assert!(failures.is_empty(), "{} failed, e.g. {:?}", failures.len(), failures.first());

    let mut conn = app.db.connect();
    assert_eq!(count(&mut conn, "responses"), SUBMISSIONS as i64);
    assert_eq!(count(&mut conn, "answers"), 2 * SUBMISSIONS as i64);
    assert_counts_agree(&mut conn);
    let results = app.results("gemeente").await;
    assert_eq!(area(&results, "GM0772")["n"], SUBMISSIONS);
}
on_both_backends!(concurrent_submissions_are_all_stored);
