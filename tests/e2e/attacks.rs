//! The attacks that broke the privacy promise (issue #13), by an outsider
//! with nothing but the public API and the open survey link, against the
//! installation's perturbation table with every change released at once
//! (`BUURTPEIL_RELEASE_EVERY=0`, the attacker's best case). Each attack is
//! also run against exact figures, where it recovers every answer: the
//! tests have teeth. docs/privacy.md explains the method.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use buurtpeil::insight::perturbation::PerturbationTable;

use crate::helpers::*;
use crate::on_both_backends;

const QUESTION: &str = "tevredenheid_leven";

async fn perturbed(backend: Backend) -> TestApp {
    spawn_app_with(backend, Options { perturbation: Some(PerturbationTable::default()), ..Options::default() }).await
}

/// Every buurt the server knows, from the public results.
async fn buurten(app: &TestApp) -> Vec<String> {
    let results = app.results("buurt").await;
    results["areas"].as_array().unwrap().iter().map(|a| a["code"].as_str().unwrap().to_owned()).collect()
}

/// A question's figures in one area, None when the area is not shown.
fn figures(results: &Value, code: &str) -> Option<Value> {
    let q = &area(results, code)["questions"][QUESTION];
    (!q.is_null() && q["suppressed"] != true).then(|| q.clone())
}

/// The counts per value 0–10 an attacker reads off the shown distribution
/// (whole per cent of n).
fn counts(q: &Value) -> Vec<i64> {
    let n = q["n"].as_f64().unwrap();
    q["distribution"].as_array().unwrap().iter().map(|p| (p.as_f64().unwrap() * n / 100.0).round() as i64).collect()
}

/// The largest of `scores`, ties broken at random.
fn argmax(scores: &[i64], rng: &mut StdRng) -> usize {
    let top = *scores.iter().max().unwrap();
    let best: Vec<usize> = (0..scores.len()).filter(|&i| scores[i] == top).collect();
    best[rng.gen_range(0..best.len())]
}

/// One unknown respondent in a fresh buurt; the attacker submits 9
/// responses with known answers, the buurt reaches k = 10 and is shown; the
/// distribution minus the known 9 leaves the victim's answer — or noise.
/// Returns how often the attacker's best guess was right, of `trials`.
async fn insert_and_subtract(app: &TestApp, trials: usize, rng: &mut StdRng) -> (usize, usize) {
    let buurten = buurten(app).await;
    let mut right = 0;
    let mut tried = 0;
    for buurt in buurten.iter().take(trials) {
        let victim = rng.gen_range(0..=10);
        app.submit_many(buurt, 1, victim).await;
        let mut known = [0i64; 11];
        for _ in 0..9 {
            let score = rng.gen_range(0..=10usize);
            known[score] += 1;
            app.submit_many(buurt, 1, score as i64).await;
        }
        let results = app.results("buurt").await;
        let Some(q) = figures(&results, buurt) else { continue };
        let remaining: Vec<i64> = counts(&q).iter().zip(known).map(|(c, k)| c - k).collect();
        tried += 1;
        right += usize::from(argmax(&remaining, rng) == victim as usize);
    }
    (right, tried)
}

async fn inserting_and_subtracting_no_longer_gives_the_answer(backend: Backend) {
    let mut rng = StdRng::seed_from_u64(13);
    let exact = spawn_app(backend).await;
    let (right, tried) = insert_and_subtract(&exact, 8, &mut rng).await;
    assert_eq!((right, tried), (8, 8), "without perturbation the attack recovers every answer");

    let app = perturbed(backend).await;
    let (right, tried) = insert_and_subtract(&app, 100, &mut rng).await;
    assert!(tried >= 90, "the buurten are shown at n = 10: {tried}");
    eprintln!("insert and subtract ({backend:?}): right for {right} of {tried} victims");
    assert!(right * 2 <= tried, "the attacker guessed {right} of {tried} victims' answers");
}
on_both_backends!(inserting_and_subtracting_no_longer_gives_the_answer);

/// The gemeente before and after one new response: the difference of
/// n × mean, or of the distributions, is that response's answer — or noise.
/// Returns (right by the means, right by the distributions, trials).
async fn difference_snapshots(app: &TestApp, base: usize, trials: usize, rng: &mut StdRng) -> (usize, usize, usize) {
    let buurten = buurten(app).await;
    for i in 0..base {
        app.submit_many(&buurten[i % buurten.len()], 1, rng.gen_range(0..=10)).await;
    }
    let read = |results: &Value| figures(results, "GM0772").expect("the gemeente is shown");
    let mut before = read(&app.results("gemeente").await);
    let (mut by_mean, mut by_distribution) = (0, 0);
    for t in 0..trials {
        let victim = rng.gen_range(0..=10);
        app.submit_many(&buurten[(t * 7) % buurten.len()], 1, victim).await;
        let after = read(&app.results("gemeente").await);
        let sum = |q: &Value| q["mean"].as_f64().unwrap() * q["n"].as_f64().unwrap();
        let guess = (sum(&after) - sum(&before)).round().clamp(0.0, 10.0) as i64;
        by_mean += usize::from(guess == victim);
        let change: Vec<i64> = counts(&after).iter().zip(counts(&before)).map(|(a, b)| a - b).collect();
        by_distribution += usize::from(argmax(&change, rng) == victim as usize);
        before = after;
    }
    (by_mean, by_distribution, trials)
}

async fn differencing_releases_no_longer_gives_the_new_answer(backend: Backend) {
    let mut rng = StdRng::seed_from_u64(7);
    let exact = spawn_app(backend).await;
    assert_eq!(difference_snapshots(&exact, 20, 5, &mut rng).await, (5, 5, 5), "exact figures give each answer");

    let app = perturbed(backend).await;
    let (by_mean, by_distribution, trials) = difference_snapshots(&app, 40, 60, &mut rng).await;
    eprintln!("release differencing ({backend:?}): by the means {by_mean}, by the distributions {by_distribution}, of {trials}");
    assert!(by_mean * 2 <= trials, "by the means: {by_mean} of {trials}");
    assert!(by_distribution * 2 <= trials, "by the distributions: {by_distribution} of {trials}");
}
on_both_backends!(differencing_releases_no_longer_gives_the_new_answer);

/// Every path shows the same perturbed figures of the same respondents,
/// asking again changes nothing, and no output is more precise than another.
async fn the_same_respondents_give_the_same_figures_everywhere(backend: Backend) {
    let app = perturbed(backend).await;
    let mut rng = StdRng::seed_from_u64(3);
    for i in 0..30 {
        let health = if i % 3 == 0 { "slecht" } else { "goed" };
        let answers = serde_json::json!({ QUESTION: rng.gen_range(0..=10), "geluk": 7, "gezondheid": health });
        let (status, body) =
            app.submit("geluk", &serde_json::json!({ "buurt": "BU07721110", "answers": answers })).await;
        assert_eq!(status, 201, "{body}");
    }
    let first = app.results("buurt").await;
    let again = app.results("buurt").await;
    assert_eq!(first, again, "asking again teaches nothing");
    assert!(first["released_at"].is_string(), "{}", first["released_at"]);
    let q = figures(&first, "BU07721110").unwrap();
    // The wijk holds this buurt's respondents only: the same figures.
    let wijk = app.results("wijk").await;
    assert_eq!(figures(&wijk, "WK077211").unwrap(), q, "same respondents, same noise, at every level");
    // The ranking shows the results' mean.
    let (status, ranking) =
        app.get_json(&format!("/api/v1/questionnaires/geluk/results/ranking?level=buurt&question={QUESTION}")).await;
    assert_eq!(status, 200, "{ranking}");
    let ranked = ranking["areas"].as_array().unwrap().iter().find(|a| a["code"] == "BU07721110").unwrap();
    assert_eq!(ranked["estimate"]["estimate"], q["mean"]);
    assert_eq!(ranked["estimate"]["ci95"], q["ci95"]);
    // Zeros stay zero: nobody answered 11 or more; values nobody gave are 0 %.
    let published: i64 = counts(&q).iter().sum();
    assert!((published - 30).abs() <= 4 * 11, "{published}");
    // A share of a choice is whole per cent in the ranking as in the results.
    let (_, choice) =
        app.get_json("/api/v1/questionnaires/geluk/results/ranking?level=buurt&question=gezondheid&option=goed").await;
    let shown: Vec<&Value> =
        choice["areas"].as_array().unwrap().iter().filter(|a| a["estimate"]["estimate"].is_number()).collect();
    assert!(!shown.is_empty(), "{choice}");
    for a in shown {
        let e = a["estimate"]["estimate"].as_f64().unwrap();
        assert_eq!(e, e.round(), "whole per cent: {a}");
    }
}
on_both_backends!(the_same_respondents_give_the_same_figures_everywhere);

/// Released once a day: responses after a release change no public figure
/// (nor the ETag) until the next.
async fn figures_change_per_release_not_per_response(backend: Backend) {
    let options = Options {
        perturbation: Some(PerturbationTable::default()),
        release_every: Some(std::time::Duration::from_secs(24 * 60 * 60)),
        ..Options::default()
    };
    let app = spawn_app_with(backend, options).await;
    let path = "/api/v1/questionnaires/geluk/results?level=buurt";
    let first = app.get(path).await;
    let tag = first.headers()["etag"].to_str().unwrap().to_owned();
    let body: Value = first.json().await.unwrap();
    assert!(figures(&body, "BU07721110").is_none(), "released at start, with nobody");
    app.submit_many("BU07721110", 12, 7).await;
    let later = app.get(path).await;
    assert_eq!(later.headers()["etag"].to_str().unwrap(), tag, "no new release within the day");
    let later: Value = later.json().await.unwrap();
    assert_eq!(later, body);
    assert!(figures(&later, "BU07721110").is_none(), "the 12 wait for the next release");
    assert_eq!(later["released_at"], body["released_at"]);
}
on_both_backends!(figures_change_per_release_not_per_response);

/// Planting responses needs the open link: a wave can take responses by
/// invitation only, and the results say so.
async fn an_invitation_only_wave_takes_no_open_link_responses(backend: Backend) {
    let app = spawn_app(backend).await;
    let today = buurtpeil::clock::today();
    let new = buurtpeil::survey::NewWave {
        slug: buurtpeil::questionnaire::Slug::parse("geluk").unwrap(),
        name: "Op uitnodiging".into(),
        opens_on: today,
        closes_on: None,
        buurten: Vec::new(),
        invitation_only: true,
    };
    let wave = buurtpeil::survey::wave::create(&mut app.db.connect(), &new, today).unwrap();
    let (status, body) = app.submit("geluk", &geluk("BU07721110", 7)).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"].as_str().unwrap().contains("personal invitation only"), "{body}");
    let resident = app.resident();
    let res = resident.post("/s/geluk/start", &[("buurt", "BU07721110")]).await;
    assert_eq!(res.status().as_u16(), 403);
    assert!(res.text().await.unwrap().contains("alleen voor inwoners die een uitnodiging kregen"));
    assert_eq!(crate::helpers::count(&mut app.db.connect(), "responses"), 0, "nothing stored");
    let (status, results) =
        app.get_json(&format!("/api/v1/questionnaires/geluk/results?level=buurt&wave={}", wave.id)).await;
    assert_eq!(status, 200, "{results}");
    assert_eq!(results["wave"]["invitation_only"], true);
    let page = app.get(&format!("/r/geluk?meting={}", wave.id)).await.text().await.unwrap();
    assert!(page.contains("alleen inwoners mee die een persoonlijke uitnodiging kregen"), "the page says so");
    assert!(page.contains("een klein beetje afgerond en verschoven"), "and that figures are perturbed");
}
on_both_backends!(an_invitation_only_wave_takes_no_open_link_responses);

/// Open-link responses are throttled per address and buurt: the 11th in an
/// hour answers 429 with a clear message, on the API and on the page.
async fn open_link_responses_are_throttled_per_address_and_buurt(backend: Backend) {
    let app = spawn_app_with(backend, Options { open_link_per_hour: Some(10), ..Options::default() }).await;
    app.submit_many("BU07721110", 10, 7).await;
    let res = app
        .client
        .post(app.url("/api/v1/questionnaires/geluk/responses"))
        .json(&geluk("BU07721110", 7))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 429);
    let wait: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((3500..=3600).contains(&wait), "{wait}");
    let body: Value = res.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("too many responses from this address for this buurt"), "{body}");
    // Another buurt is fine; the page refuses this buurt too, in Dutch.
    app.submit_many("BU07721120", 1, 7).await;
    let res = app.resident().post("/s/geluk/start", &[("buurt", "BU07721110")]).await;
    assert_eq!(res.status().as_u16(), 429);
    assert!(res.text().await.unwrap().contains("Probeer het over een uur opnieuw"));
    assert_eq!(crate::helpers::count(&mut app.db.connect(), "responses"), 11, "every accepted response is kept");
}
on_both_backends!(open_link_responses_are_throttled_per_address_and_buurt);
