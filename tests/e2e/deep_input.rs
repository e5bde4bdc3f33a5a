//! Deeply nested input (a few KB of parentheses or brackets) is refused with
//! a clear message and the server stays up for everybody else.

use buurtpeil::auth::Role;
use rust_xlsxwriter::Workbook;
use serde_json::json;

use crate::helpers::*;
use crate::on_both_backends;

/// An XLSForm workbook of two questions, the second with this `relevant`.
fn xlsform(relevant: &str) -> Vec<u8> {
    let mut book = Workbook::new();
    let rows: [(&str, &[&[&str]]); 3] = [
        (
            "survey",
            &[
                &["type", "name", "label::nl", "label::en", "relevant"],
                &["select_one ja_nee", "kinderen", "Kinderen?", "Children?", ""],
                &["text", "doel", "Waarvoor?", "What for?", relevant],
            ],
        ),
        (
            "choices",
            &[
                &["list_name", "name", "label::nl", "label::en"],
                &["ja_nee", "yes", "Ja", "Yes"],
                &["ja_nee", "no", "Nee", "No"],
            ],
        ),
        ("settings", &[&["form_id", "form_title::nl", "form_title::en"], &["diep", "Diep", "Deep"]]),
    ];
    for (name, grid) in rows {
        let sheet = book.add_worksheet();
        sheet.set_name(name).unwrap();
        for (r, row) in grid.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                if !cell.is_empty() {
                    sheet.write_string(r as u32, c as u16, *cell).unwrap();
                }
            }
        }
    }
    book.save_to_buffer().unwrap()
}

async fn deeply_nested_uploads_are_refused_and_the_server_stays_up(backend: Backend) {
    let app = spawn_app(backend).await;
    let pro = app.logged_in("ontwerper@eindhoven.nl", Role::Admin).await;
    let upload = |name: &'static str, bytes: Vec<u8>, csrf: String| {
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf)
            .part("bestand", reqwest::multipart::Part::bytes(bytes).file_name(name));
        pro.client.post(app.url("/ontwerp/importeer")).multipart(form).send()
    };
    let csrf = csrf_of(&pro.get("/ontwerp").await.text().await.unwrap());
    let healthy = || async { app.get_json("/healthz").await };

    // The control: the same workbook with a plain relevant imports.
    let res = upload("gewoon.xlsx", xlsform("${kinderen} = 'yes'"), csrf.clone()).await.unwrap();
    assert_eq!(res.status().as_u16(), 303);

    let nested = "(".repeat(10_000) + "${kinderen} = 'yes'" + &")".repeat(10_000);
    let res = upload("diep.xlsx", xlsform(&nested), csrf.clone()).await.unwrap();
    assert_eq!(res.status().as_u16(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("survey row 3, column relevant: the expression is longer than 2000 characters"), "{page}");
    assert_eq!(healthy().await, (200, json!({ "status": "ok" })));

    // Short enough, but nested past the limit.
    let nested = "(".repeat(40) + "${kinderen} = 'yes'" + &")".repeat(40);
    let res = upload("diep.xlsx", xlsform(&nested), csrf.clone()).await.unwrap();
    assert_eq!(res.status().as_u16(), 422);
    assert!(res.text().await.unwrap().contains("survey row 3, column relevant: parentheses and not() are nested more"));

    // A TOML questionnaire whose condition nests 10,000 deep.
    let geluk = std::fs::read_to_string(manifest_dir().join("questionnaires/geluk.toml")).unwrap();
    let condition = "(".repeat(10_000) + "geluk >= 3" + &")".repeat(10_000);
    let toml = format!(
        "{geluk}\n[[pages]]\nid = \"diep\"\nshow_if = \"{condition}\"\n[[pages.questions]]\nid = \"diep\"\ntype = \"yes_no\"\ntext = {{ nl = \"Diep?\", en = \"Deep?\" }}\n"
    );
    let res = upload("geluk.toml", toml.into_bytes(), csrf.clone()).await.unwrap();
    assert_eq!(res.status().as_u16(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("show_if") && page.contains("longer than 2000 characters"), "{page}");
    assert_eq!(healthy().await, (200, json!({ "status": "ok" })));

    // TOML nesting itself (arrays of arrays): the TOML parser's own limit.
    let toml = format!("slug = {}{}", "[".repeat(10_000), "]".repeat(10_000));
    let res = upload("diep.toml", toml.into_bytes(), csrf.clone()).await.unwrap();
    assert_eq!(res.status().as_u16(), 422);
    assert!(res.text().await.unwrap().contains("recursion limit"));

    // A JSON body of the API nested 10,000 deep.
    let body = format!(r#"{{"buurt": "BU07721110", "answers": {}{}}}"#, "[".repeat(10_000), "]".repeat(10_000));
    let res = app
        .client
        .post(app.url("/api/v1/questionnaires/geluk/responses"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert!(res.text().await.unwrap().contains("recursion limit exceeded"));
    assert_eq!(healthy().await, (200, json!({ "status": "ok" })));
}
on_both_backends!(deeply_nested_uploads_are_refused_and_the_server_stays_up);
