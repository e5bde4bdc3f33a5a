//! Wrong, missing, oversized and hostile input: a clear message and the
//! right status, never a 500, and nothing stored.

use serde_json::{json, Value};

use crate::helpers::*;
use crate::on_both_backends;

async fn post_raw(app: &TestApp, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let res = app.client.post(app.url(path)).header("content-type", content_type).body(body).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn api_rejects_bad_responses(backend: Backend) {
    let app = spawn_app(backend).await;
    let path = "/api/v1/questionnaires/geluk/responses";
    let json_ct = "application/json";

    // Malformed JSON → 400 with a JSON error.
    for body in ["{", "not json", "{\"buurt\": }", ""] {
        let (status, err) = post_raw(&app, path, json_ct, body.into()).await;
        assert_eq!(status, 400, "{body}");
        assert!(err["error"].as_str().unwrap().contains("not valid JSON"), "{err}");
    }
    // Not JSON at all → 415.
    let (status, err) = post_raw(&app, path, "text/plain", b"{}".to_vec()).await;
    assert_eq!(status, 415);
    assert!(err["error"].is_string());
    // Too large → 413, with and without a declared length.
    let big = format!("{{\"buurt\":\"BU07721110\",\"answers\":{{\"idee_buurt\":\"{}\"}}}}", "x".repeat(70_000));
    let (status, err) = post_raw(&app, path, json_ct, big.clone().into()).await;
    assert_eq!(status, 413, "{err}");
    let stream = futures::stream::iter(
        big.into_bytes().chunks(8192).map(|c| Ok::<_, std::io::Error>(c.to_vec())).collect::<Vec<_>>(),
    );
    let res = app
        .client
        .post(app.url(path))
        .header("content-type", json_ct)
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 413);
    // Unknown questionnaire → 404.
    let (status, err) = app.submit("bestaat-niet", &geluk("BU07721110", 5)).await;
    assert_eq!(status, 404);
    assert!(err["error"].as_str().unwrap().contains("bestaat-niet"));

    // Invalid content → 422 naming each field.
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!([1, 2]), vec![]),
        (json!({}), vec!["answers", "buurt", "tevredenheid_leven", "geluk"]),
        (json!({ "buurt": "BU99999999", "answers": { "tevredenheid_leven": 5, "geluk": 5 } }), vec!["buurt"]),
        (json!({ "buurt": "Binnenstad", "answers": { "tevredenheid_leven": 5, "geluk": 5 } }), vec!["buurt"]),
        (json!({ "buurt": "WK077211", "answers": { "tevredenheid_leven": 5, "geluk": 5 } }), vec!["buurt"]),
        (
            json!({ "buurt": "BU07721110", "answers": { "tevredenheid_leven": 11, "geluk": -1 } }),
            vec!["tevredenheid_leven", "geluk"],
        ),
        (
            json!({ "buurt": "BU07721110", "answers": { "tevredenheid_leven": 6.5, "geluk": "veel" } }),
            vec!["tevredenheid_leven", "geluk"],
        ),
        (
            json!({ "buurt": "BU07721110", "answers": { "tevredenheid_leven": true, "geluk": [7] } }),
            vec!["tevredenheid_leven", "geluk"],
        ),
        (
            json!({ "buurt": "BU07721110", "answers": { "tevredenheid_leven": 5, "geluk": 5, "gezondheid": "prima" } }),
            vec!["gezondheid"],
        ),
        (
            json!({ "buurt": "BU07721110", "answers": { "tevredenheid_leven": 5, "geluk": 5, "<script>": 1 } }),
            vec!["<script>"],
        ),
        (
            json!({ "buurt": "BU07721110", "answers": { "tevredenheid_leven": 5, "geluk": 5, "idee_buurt": "x".repeat(1001) } }),
            vec!["idee_buurt"],
        ),
        (
            json!({ "buurt": "BU07721110", "answers": { "tevredenheid_leven": 5, "geluk": 5 }, "ip": "1.2.3.4" }),
            vec!["ip"],
        ),
        (
            json!({ "buurt": "BU07721110", "answers": { "tevredenheid_leven": 1e300, "geluk": null } }),
            vec!["tevredenheid_leven", "geluk"],
        ),
    ];
    for (body, fields) in cases {
        let (status, err) = app.submit("geluk", &body).await;
        assert_eq!(status, 422, "{body} → {err}");
        assert!(err["error"].is_string(), "{err}");
        for f in &fields {
            assert!(err["fields"][*f].is_string(), "{body}: expected a message for {f} in {err}");
        }
    }
    // Hostile strings are echoed only as JSON data, never executed.
    let (status, err) = app
        .submit(
            "geluk",
            &json!({ "buurt": "<img src=x onerror=alert(1)>", "answers": { "tevredenheid_leven": 5, "geluk": 5 } }),
        )
        .await;
    assert_eq!(status, 422);
    assert!(err["fields"]["buurt"].as_str().unwrap().contains("not a valid CBS buurt code"));

    // Nothing of the above was stored.
    let mut conn = app.db.connect();
    assert_eq!(count(&mut conn, "responses"), 0);
    assert_eq!(count(&mut conn, "answers"), 0);

    // A valid one after all that is stored.
    let (status, body) = app.submit("geluk", &geluk("BU07721110", 7)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(count(&mut conn, "responses"), 1);
}
on_both_backends!(api_rejects_bad_responses);

async fn bad_queries_and_paths(backend: Backend) {
    let app = spawn_app(backend).await;
    let (status, err) = app.get_json("/api/v1/questionnaires/geluk/results?level=straat").await;
    assert_eq!(status, 422);
    assert!(err["fields"]["level"].is_string());
    let (status, _) = app.get_json("/api/v1/questionnaires/nope/results").await;
    assert_eq!(status, 404);
    let (status, _) = app.get_json("/api/v1/questionnaires/%00%ff").await;
    assert_eq!(status, 404);
    let (status, err) = app.get_json("/api/v1/nothing-here").await;
    assert_eq!(status, 404);
    assert!(err["error"].is_string());
    let (status, _) = app.get_json("/api/v1/questionnaires/geluk/results?level=%zz").await;
    assert!(status == 400 || status == 422, "{status}");
    for path in ["/nergens", "/s/nope", "/r/nope", "/s/geluk/verder?code=zz", "/r/geluk?niveau=x&vraag=y&gebied=z"] {
        let status = app.get(path).await.status().as_u16();
        assert!(status < 500, "{path} → {status}");
    }
    // Wrong methods.
    let status = app.client.delete(app.url("/api/v1/questionnaires/geluk")).send().await.unwrap().status().as_u16();
    assert!((400..500).contains(&status), "{status}");
}
on_both_backends!(bad_queries_and_paths);

async fn resident_form_rejects_bad_input_without_losing_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let r = app.resident();
    r.start("geluk", "BU07721110").await;
    // Missing required answer: 422, the page keeps what was typed.
    let res = r.next("geluk", 1, &[("q_geluk", "8"), ("q_onbekend", "x"), ("q_idee_buurt", "later page")]).await;
    assert_eq!(res.status().as_u16(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Deze vraag is verplicht."), "a message beside the field");
    assert!(html.contains("value=\"8\" checked"), "chosen score kept");
    // Typed text is kept and escaped.
    r.next("geluk", 1, &[("q_tevredenheid_leven", "7"), ("q_geluk", "8")]).await;
    r.next("geluk", 2, &[]).await;
    let long = "Meer bankjes <b>hier</b> ".repeat(60);
    let res = r.next("geluk", 3, &[("q_idee_buurt", long.as_str())]).await;
    assert_eq!(res.status().as_u16(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Gebruik hoogstens 1000 tekens."));
    assert!(html.contains("Meer bankjes &lt;b&gt;hier&lt;&#x2F;b&gt;"), "typed text kept and escaped");
    assert!(!html.contains("<b>hier</b>"));
    // Out of range, wrong type, an option that does not exist, repeated fields.
    r.act("geluk", 3, "terug", &[]).await;
    let res = r.next("geluk", 2, &[("q_gezondheid", "fantastisch"), ("q_vertrouwen_mensen", "11")]).await;
    assert_eq!(res.status().as_u16(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Kies een van de antwoorden.") && html.contains("Kies een getal van 0 tot en met 10."));
    let res = r.next("geluk", 2, &[("q_gezondheid", "goed"), ("q_gezondheid", "slecht")]).await;
    assert_eq!(res.status().as_u16(), 422, "one answer to a single choice");

    // A tampered buurt goes back to the buurt choice.
    let res = app.resident().post("/s/geluk/start", &[("buurt", "BU00000000")]).await;
    assert_eq!(res.status().as_u16(), 400);
    assert!(res.text().await.unwrap().contains("Kies eerst uw buurt."));
    // Pages without a started response, or that do not exist.
    for path in ["/s/geluk/p/1", "/s/geluk/p/0", "/s/geluk/p/999", "/s/geluk/p/x", "/s/nope/p/1"] {
        let status = app.resident().get(path).await.status().as_u16();
        assert!(status == 404 || status == 303, "{path} → {status}");
        let status = app.resident().post(path, &[("actie", "verder"), ("pagina", "1")]).await.status().as_u16();
        assert!(status == 404 || status == 303, "{path} → {status}");
    }
    // A forged cookie finds nothing.
    let res = app.client.get(app.url("/s/geluk/p/1")).header("cookie", "bp_geluk=../../etc").send().await.unwrap();
    assert_eq!(res.status().as_u16(), 404);

    // An oversized form is refused.
    let big = "x".repeat(70_000);
    let res = r.post("/s/geluk/p/3", &[("q_idee_buurt", big.as_str())]).await;
    assert_eq!(res.status().as_u16(), 413);
    // Garbage and invalid UTF-8 bodies.
    for body in [vec![0xff, 0xfe, b'=', b'%'], b"q_geluk=%C3%28&actie=verder".to_vec()] {
        let res = r
            .client
            .post(app.url("/s/geluk/p/1"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(res.status().as_u16() < 500);
    }

    let mut conn = app.db.connect();
    assert_eq!(count(&mut conn, "responses"), 0);
    // What was accepted so far is still there.
    let page = r.get("/s/geluk/p/1").await.text().await.unwrap();
    assert!(page.contains("value=\"7\" checked"));
}
on_both_backends!(resident_form_rejects_bad_input_without_losing_it);
