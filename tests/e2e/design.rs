//! The questionnaire designer: a professional builds a questionnaire with a
//! condition, previews, publishes, and sees a resident's response counted;
//! imports and exports files; opens and closes waves. Bad input never
//! changes anything and never gives a 500.

use buurtpeil::auth::Role;
use serde_json::json;

use crate::helpers::*;
use crate::on_both_backends;

async fn a_professional_builds_publishes_and_sees_responses(backend: Backend) {
    let app = spawn_app_with(backend, Options { min_cell: Some("3"), ..Options::default() }).await;
    let pro = app.logged_in("wijkmanager@eindhoven.nl", Role::Professional).await;
    let list = pro.get("/ontwerp").await.text().await.unwrap();
    assert!(list.contains("/ontwerp/geluk") && list.contains("/ontwerp/talentenscan"));

    // A new questionnaire: one page with one question to start from.
    let res = pro
        .post_from(
            "/ontwerp",
            "/ontwerp/nieuw",
            &[("slug", "buurtfeest"), ("title_nl", "Buurtfeest"), ("title_en", "Street party"), ("kind", "anonymous")],
        )
        .await;
    assert_eq!(location(&res), "/ontwerp/buurtfeest");
    let editor = pro.get("/ontwerp/buurtfeest").await.text().await.unwrap();
    assert!(editor.contains("Dit concept is klaar om te publiceren."));

    // The first question becomes a required choice with three answers.
    let res = pro
        .post_from(
            "/ontwerp/buurtfeest/vraag/vraag_1",
            "/ontwerp/buurtfeest/vraag/vraag_1",
            &[
                ("type", "single_choice"),
                ("id", "komt"),
                ("text_nl", "Komt u naar het buurtfeest?"),
                ("text_en", "Will you come to the street party?"),
                ("required", "ja"),
                ("options", "ja | Ja | Yes\nmisschien | Misschien | Maybe\r\nnee | Nee | No"),
            ],
        )
        .await;
    // Another type: back to the question, to see the fields of the new type.
    assert_eq!(location(&res), "/ontwerp/buurtfeest/vraag/komt");
    // A second page, only for those who come, with a scale.
    let res = pro.post_from("/ontwerp/buurtfeest", "/ontwerp/buurtfeest/actie", &[("doe", "pagina_erbij")]).await;
    assert_eq!(location(&res), "/ontwerp/buurtfeest#pagina_2");
    let res = pro
        .post_from(
            "/ontwerp/buurtfeest/pagina/pagina_2",
            "/ontwerp/buurtfeest/pagina/pagina_2",
            &[
                ("id", "feest"),
                ("title_nl", "Het feest"),
                ("title_en", "The party"),
                ("show_if", "komt in ('ja', 'misschien')"),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let res = pro
        .post_from(
            // The new page's question took the first free id.
            "/ontwerp/buurtfeest/vraag/vraag_1",
            "/ontwerp/buurtfeest/vraag/vraag_1",
            &[
                ("type", "scale"),
                ("id", "zin"),
                ("text_nl", "Hoeveel zin heeft u erin?"),
                ("text_en", "How much are you looking forward to it?"),
                ("required", "ja"),
                ("min", "0"),
                ("max", "10"),
                ("min_label_nl", "Geen zin"),
                ("min_label_en", "Not at all"),
                ("max_label_nl", "Heel veel zin"),
                ("max_label_en", "Very much"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/ontwerp/buurtfeest#zin");
    // A condition on a later question is refused beside the question, and
    // the draft says it is not ready.
    let res = pro
        .post_from(
            "/ontwerp/buurtfeest/vraag/komt",
            "/ontwerp/buurtfeest/vraag/komt",
            &[
                ("type", "single_choice"),
                ("id", "komt"),
                ("text_nl", "Komt u?"),
                ("text_en", "Coming?"),
                ("show_if", "zin >= 5"),
                ("options", "ja | Ja | Yes\nmisschien | Misschien | Maybe\nnee | Nee | No"),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 422);
    assert!(res.text().await.unwrap().contains("not a question on an earlier page"));
    let editor = pro.get("/ontwerp/buurtfeest").await.text().await.unwrap();
    assert!(editor.contains("Dit concept is nog niet klaar"));
    let res = pro.post_from("/ontwerp/buurtfeest", "/ontwerp/buurtfeest/publiceer", &[]).await;
    assert_eq!(res.status().as_u16(), 422, "an unfinished draft is not published");
    assert_eq!(app.get("/s/buurtfeest").await.status().as_u16(), 404, "a draft is not open to residents");
    pro.post_from(
        "/ontwerp/buurtfeest/vraag/komt",
        "/ontwerp/buurtfeest/vraag/komt",
        &[
            ("type", "single_choice"),
            ("id", "komt"),
            ("text_nl", "Komt u naar het buurtfeest?"),
            ("text_en", "Will you come to the street party?"),
            ("required", "ja"),
            ("options", "ja | Ja | Yes\nmisschien | Misschien | Maybe\nnee | Nee | No"),
        ],
    )
    .await;

    // Preview exactly as a resident sees it; "nee" skips the party page.
    let html = pro.get("/ontwerp/buurtfeest/voorbeeld/1").await.text().await.unwrap();
    assert!(
        html.contains("Voorbeeld") && html.contains("Komt u naar het buurtfeest?") && html.contains("Stap 1 van 2")
    );
    let res = pro
        .post_from(
            "/ontwerp/buurtfeest/voorbeeld/1",
            "/ontwerp/buurtfeest/voorbeeld/1",
            &[("pagina", "1"), ("actie", "verder")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 422, "the preview checks like the real thing");
    let res = pro
        .post_from(
            "/ontwerp/buurtfeest/voorbeeld/1",
            "/ontwerp/buurtfeest/voorbeeld/1",
            &[("pagina", "1"), ("actie", "verder"), ("q_komt", "nee")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().await.unwrap().contains("Er is niets bewaard."));
    let res = pro
        .post_from(
            "/ontwerp/buurtfeest/voorbeeld/1",
            "/ontwerp/buurtfeest/voorbeeld/1",
            &[("pagina", "1"), ("actie", "verder"), ("q_komt", "ja")],
        )
        .await;
    assert_eq!(location(&res), "/ontwerp/buurtfeest/voorbeeld/2");
    let mut conn = app.db.connect();
    assert_eq!(count(&mut conn, "responses") + count(&mut conn, "partial_responses"), 0, "a preview stores nothing");

    // Publish: residents can answer, and their answers are counted.
    let res = pro.post_from("/ontwerp/buurtfeest", "/ontwerp/buurtfeest/publiceer", &[]).await;
    assert_eq!(res.status().as_u16(), 303);
    let (status, def) = app.get_json("/api/v1/questionnaires/buurtfeest").await;
    assert_eq!(status, 200);
    assert_eq!(def["version"], 1);
    assert_eq!(def["pages"][1]["show_if"], "komt in (\"ja\", \"misschien\")");
    for score in ["7", "8", "9"] {
        let end =
            app.resident().answer_all("buurtfeest", "BU07721110", &[&[("q_komt", "ja")], &[("q_zin", score)]]).await;
        assert_eq!(end, "/s/buurtfeest/bedankt");
    }
    let (_, results) = app.get_json("/api/v1/questionnaires/buurtfeest/results?level=buurt").await;
    let binnenstad = area(&results, "BU07721110");
    assert_eq!(binnenstad["n"], 3);
    assert_eq!(binnenstad["questions"]["zin"]["mean"], 8.0);
    assert_eq!(binnenstad["questions"]["komt"]["shares"]["ja"], 100);

    // A published version never changes: editing makes the next one.
    let editor = pro.get("/ontwerp/buurtfeest").await.text().await.unwrap();
    assert!(editor.contains("Maak een concept om te bewerken"));
    pro.post_from("/ontwerp/buurtfeest", "/ontwerp/buurtfeest/bewerk", &[]).await;
    pro.post_from(
        "/ontwerp/buurtfeest",
        "/ontwerp/buurtfeest/algemeen",
        &[("title_nl", "Buurtfeest 2027"), ("title_en", "Street party 2027"), ("kind", "anonymous")],
    )
    .await;
    // A retention is a whole number of months, and only for identified questionnaires.
    for bad in ["twaalf", "0", "61", "-3", "1e3"] {
        let res = pro
            .post_from(
                "/ontwerp/buurtfeest",
                "/ontwerp/buurtfeest/algemeen",
                &[("title_nl", "Buurtfeest 2027"), ("title_en", "Street party 2027"), ("retention_months", bad)],
            )
            .await;
        assert_eq!(res.status().as_u16(), 400, "{bad}");
        assert!(res.text().await.unwrap().contains("van 1 tot en met 60"));
    }
    pro.post_from("/ontwerp/buurtfeest", "/ontwerp/buurtfeest/publiceer", &[]).await;
    let (_, def) = app.get_json("/api/v1/questionnaires/buurtfeest").await;
    assert_eq!((def["version"].as_i64(), def["title"]["nl"].as_str()), (Some(2), Some("Buurtfeest 2027")));
    let (_, results) = app.get_json("/api/v1/questionnaires/buurtfeest/results?level=buurt").await;
    assert_eq!(area(&results, "BU07721110")["n"], 3, "answers to version 1 still count");

    // Export, and the file reads back as the same questionnaire.
    let res = pro.get("/ontwerp/buurtfeest/bestand.toml").await;
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("buurtfeest.toml"));
    let toml = res.text().await.unwrap();
    let again = buurtpeil::questionnaire::parse_toml("buurtfeest.toml", &toml).unwrap();
    assert_eq!(again.content_hash(), def["content_hash"].as_str().unwrap());

    // Clone, then archive: no more answers, results stay.
    let res = pro.post_from("/ontwerp/buurtfeest", "/ontwerp/buurtfeest/kloon", &[("slug", "buurtfeest-2028")]).await;
    assert_eq!(location(&res), "/ontwerp/buurtfeest-2028");
    let res = pro.post_from("/ontwerp/buurtfeest", "/ontwerp/buurtfeest/kloon", &[("slug", "geluk")]).await;
    assert_eq!(res.status().as_u16(), 409);
    pro.post_from("/ontwerp/buurtfeest", "/ontwerp/buurtfeest/archief", &[("archief", "ja")]).await;
    assert_eq!(app.get("/s/buurtfeest").await.status().as_u16(), 404);
    let (status, _) = app.submit("buurtfeest", &json!({"buurt": "BU07721110", "answers": {"komt": "nee"}})).await;
    assert_eq!(status, 403);
    assert_eq!(app.get("/r/buurtfeest").await.status().as_u16(), 200);
    assert!(!app.get("/").await.text().await.unwrap().contains("/s/buurtfeest\""), "not offered to residents");
}
on_both_backends!(a_professional_builds_publishes_and_sees_responses);

async fn imports_toml_and_xlsform(backend: Backend) {
    let app = spawn_app(backend).await;
    let pro = app.logged_in("ontwerper@eindhoven.nl", Role::Admin).await;
    let upload = |name: &'static str, bytes: Vec<u8>, csrf: String| {
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf)
            .part("bestand", reqwest::multipart::Part::bytes(bytes).file_name(name));
        pro.client.post(app.url("/ontwerp/importeer")).multipart(form).send()
    };
    let fixtures = manifest_dir().join("tests/fixtures/xlsform");
    let csrf = csrf_of(&pro.get("/ontwerp").await.text().await.unwrap());
    let res = upload("voorbeeld.xlsx", std::fs::read(fixtures.join("buurtpeil-voorbeeld.xlsx")).unwrap(), csrf.clone())
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let editor_path = location(&res);
    let editor = pro.get(&editor_path).await.text().await.unwrap();
    assert!(editor.contains("Dit concept is klaar om te publiceren."), "{editor_path}");
    // A broken workbook: every problem with its row, nothing stored.
    let res = upload("kapot.xlsx", std::fs::read(fixtures.join("unsupported-type.xlsx")).unwrap(), csrf.clone())
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 422);
    assert!(res.text().await.unwrap().contains("survey row"));
    // A questionnaire file of an existing slug becomes its next draft.
    let geluk = std::fs::read_to_string(manifest_dir().join("questionnaires/geluk.toml")).unwrap();
    let changed = geluk.replace("Hoe gaat het met u?", "Hoe gaat het nu met u?");
    let res = upload("geluk.toml", changed.into_bytes(), csrf.clone()).await.unwrap();
    assert_eq!(location(&res), "/ontwerp/geluk");
    // Hostile and wrong files.
    for (name, bytes, want) in [
        ("x.toml", b"slug = \"Bad Slug\"".to_vec(), 422),
        ("x.toml", vec![0xff, 0xfe, 0x00], 422),
        ("x.xlsx", b"not a zip".to_vec(), 422),
        ("x.toml", vec![b'a'; 6 * 1024 * 1024], 413),
    ] {
        let res = upload(name, bytes, csrf.clone()).await.unwrap();
        assert_eq!(res.status().as_u16(), want, "{name}");
    }
    // A forged token changes nothing.
    let res = upload("geluk.toml", geluk.into_bytes(), "vervalst".into()).await.unwrap();
    assert_eq!(res.status().as_u16(), 403);
}
on_both_backends!(imports_toml_and_xlsform);

/// A multipart upload to the designer's import.
async fn upload(app: &TestApp, who: &Resident<'_>, name: &'static str, bytes: Vec<u8>) -> reqwest::Response {
    let csrf = csrf_of(&who.get("/ontwerp").await.text().await.unwrap());
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf)
        .part("bestand", reqwest::multipart::Part::bytes(bytes).file_name(name));
    who.client.post(app.url("/ontwerp/importeer")).multipart(form).send().await.unwrap()
}

/// Issue #14: export the talent scan, make it anonymous, import and publish.
/// The import refuses it (it asks names, e-mail addresses and phone
/// numbers); the designer's own form cannot do it either; and a change of
/// kind or a longer retention needs an administrator.
async fn an_identified_questionnaire_cannot_become_anonymous(backend: Backend) {
    let app = spawn_app(backend).await;
    let pro = app.logged_in("wijkmanager@eindhoven.nl", Role::Professional).await;
    let exported = pro.get("/ontwerp/talentenscan/bestand.toml").await.text().await.unwrap();
    assert!(exported.contains(r#"kind = "identified""#), "{exported}");

    // The file path: refused at import, nothing stored.
    let anonymous = exported.replace(r#"kind = "identified""#, r#"kind = "anonymous""#);
    let res = upload(&app, &pro, "talentenscan.toml", anonymous.into_bytes()).await;
    assert_eq!(res.status().as_u16(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("question naam: asks for a name"), "{html}");
    let editor = pro.get("/ontwerp/talentenscan").await.text().await.unwrap();
    assert!(editor.contains("Maak een concept om te bewerken"), "no draft was made");

    // The designer's form: the draft may say anonymous, publishing refuses.
    pro.post_from("/ontwerp/talentenscan", "/ontwerp/talentenscan/bewerk", &[]).await;
    let res = pro
        .post_from(
            "/ontwerp/talentenscan",
            "/ontwerp/talentenscan/algemeen",
            &[("title_nl", "Talentenscan"), ("title_en", "Talent scan"), ("kind", "anonymous")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let res = pro.post_from("/ontwerp/talentenscan", "/ontwerp/talentenscan/publiceer", &[]).await;
    assert_eq!(res.status().as_u16(), 422);
    assert!(res.text().await.unwrap().contains("asks for a name"));
    let (_, def) = app.get_json("/api/v1/questionnaires/talentenscan").await;
    assert_eq!(def["version"], 1, "{def}");

    // A longer retention: a draft, but only an administrator publishes it.
    let longer = exported.replace("retention_months = 24", "retention_months = 36");
    let res = upload(&app, &pro, "talentenscan.toml", longer.into_bytes()).await;
    assert_eq!(res.status().as_u16(), 303);
    let res = pro.post_from("/ontwerp/talentenscan", "/ontwerp/talentenscan/publiceer", &[]).await;
    assert_eq!(res.status().as_u16(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Alleen een beheerder mag deze versie publiceren"), "{html}");
    assert!(html.contains("36 maanden in plaats van 24"), "{html}");
    let (_, def) = app.get_json("/api/v1/questionnaires/talentenscan").await;
    assert_eq!(def["version"], 1);

    let admin = app.logged_in("beheerder@eindhoven.nl", Role::Admin).await;
    let res = admin.post_from("/ontwerp/talentenscan", "/ontwerp/talentenscan/publiceer", &[]).await;
    assert_eq!(res.status().as_u16(), 303, "an administrator may");
    let (_, def) = app.get_json("/api/v1/questionnaires/talentenscan").await;
    assert_eq!(def["version"], 2);

    // A questionnaire that asks nobody's name cannot change kind either
    // without an administrator.
    let geluk = pro.get("/ontwerp/geluk/bestand.toml").await.text().await.unwrap();
    let identified = geluk.replacen(
        r#"kind = "anonymous""#,
        "kind = \"identified\"\npurpose = { nl = \"Om u te volgen\", en = \"To follow you\" }",
        1,
    );
    assert_eq!(upload(&app, &pro, "geluk.toml", identified.into_bytes()).await.status().as_u16(), 303);
    let res = pro.post_from("/ontwerp/geluk", "/ontwerp/geluk/publiceer", &[]).await;
    assert_eq!(res.status().as_u16(), 422);
    assert!(res.text().await.unwrap().contains("de soort verandert van „anoniem” naar „met naam”"));
}
on_both_backends!(an_identified_questionnaire_cannot_become_anonymous);

/// An XLSForm workbook of kind anonymous that asks for a name or an e-mail
/// address is refused at import, with the questions named.
async fn an_anonymous_workbook_may_not_ask_for_contact_details(backend: Backend) {
    let app = spawn_app(backend).await;
    let pro = app.logged_in("wijkmanager@eindhoven.nl", Role::Professional).await;
    let workbook = |kind: &str| {
        let mut book = rust_xlsxwriter::Workbook::new();
        let survey = book.add_worksheet().set_name("survey").unwrap();
        for (r, row) in [
            ["type", "name", "label::nl", "label::en"],
            ["text", "naam", "Uw naam", "Your name"],
            ["text", "e_mail", "Uw e-mailadres", "Your e-mail address"],
        ]
        .iter()
        .enumerate()
        {
            for (c, cell) in row.iter().enumerate() {
                survey.write_string(r as u32, c as u16, *cell).unwrap();
            }
        }
        let settings = book.add_worksheet().set_name("settings").unwrap();
        for (c, (head, value)) in [
            ("form_id", "contactlijst"),
            ("form_title::nl", "Contact"),
            ("form_title::en", "Contact"),
            ("kind", kind),
            ("purpose::nl", "Om u te bellen"),
            ("purpose::en", "To call you"),
        ]
        .iter()
        .enumerate()
        {
            settings.write_string(0, c as u16, *head).unwrap();
            settings.write_string(1, c as u16, *value).unwrap();
        }
        book.save_to_buffer().unwrap()
    };
    let res = upload(&app, &pro, "contactlijst.xlsx", workbook("anonymous")).await;
    assert_eq!(res.status().as_u16(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("the question naam asks for a name"), "{html}");
    assert!(html.contains("the question e_mail asks for an e-mail address"), "{html}");
    let res = upload(&app, &pro, "contactlijst.xlsx", workbook("identified")).await;
    assert_eq!(res.status().as_u16(), 303, "identified, with a purpose, is fine");
}
on_both_backends!(an_anonymous_workbook_may_not_ask_for_contact_details);

async fn waves_open_and_close_per_buurt(backend: Backend) {
    let app = spawn_app_with(backend, Options { min_cell: Some("3"), ..Options::default() }).await;
    let pro = app.logged_in("meting@eindhoven.nl", Role::Professional).await;
    let today = buurtpeil::clock::today().to_string();
    // Without waves the questionnaire is always open.
    app.submit_many("BU07721120", 3, 6).await;
    let res = pro
        .post_from(
            "/ontwerp/geluk/metingen",
            "/ontwerp/geluk/metingen",
            &[("naam", "Najaar"), ("van", today.as_str()), ("buurt", "BU07721110")],
        )
        .await;
    assert_eq!(location(&res), "/ontwerp/geluk/metingen");
    // Now only Binnenstad is open.
    let res = app.resident().post("/s/geluk/start", &[("buurt", "BU07721120")]).await;
    assert_eq!(res.status().as_u16(), 403);
    assert!(res.text().await.unwrap().contains("gesloten"));
    let (status, _) = app.submit("geluk", &geluk("BU07721120", 5)).await;
    assert_eq!(status, 403);
    app.submit_many("BU07721110", 3, 9).await;
    // Results per wave hold the wave's responses only.
    let waves = buurtpeil::survey::wave::list(&mut app.db.connect(), "geluk").unwrap();
    let id = waves[0].id;
    let (status, in_wave) =
        app.get_json(&format!("/api/v1/questionnaires/geluk/results?level=gemeente&wave={id}")).await;
    assert_eq!(status, 200);
    assert_eq!(area(&in_wave, "GM0772")["n"], 3);
    let (_, all) = app.get_json("/api/v1/questionnaires/geluk/results?level=gemeente").await;
    assert_eq!(area(&all, "GM0772")["n"], 6);
    let (status, _) = app.get_json("/api/v1/questionnaires/geluk/results?wave=9999").await;
    assert_eq!(status, 404);
    let (status, _) = app.get_json("/api/v1/questionnaires/geluk/results?wave=abc").await;
    assert_eq!(status, 422);
    let page = app.get(&format!("/r/geluk?meting={id}&niveau=gemeente")).await.text().await.unwrap();
    assert!(page.contains("Najaar"));
    // An overlapping wave is refused with the reason; bad dates too.
    let res = pro
        .post_from("/ontwerp/geluk/metingen", "/ontwerp/geluk/metingen", &[("naam", "Dubbel"), ("van", today.as_str())])
        .await;
    assert_eq!(res.status().as_u16(), 422);
    assert!(res.text().await.unwrap().contains("overlaps wave"));
    for fields in [
        vec![("naam", "X"), ("van", "morgen")],
        vec![("naam", "X"), ("van", "2030-01-10"), ("tot", "2030-01-01")],
        vec![("naam", ""), ("van", "2030-01-10")],
        vec![("naam", "X"), ("van", "2030-01-10"), ("buurt", "BU99999999")],
    ] {
        let res = pro.post_from("/ontwerp/geluk/metingen", "/ontwerp/geluk/metingen", &fields).await;
        assert_eq!(res.status().as_u16(), 422, "{fields:?}");
    }
    // Closing stops new responses at once.
    let res = pro.post_from("/ontwerp/geluk/metingen", &format!("/ontwerp/geluk/metingen/{id}/sluit"), &[]).await;
    assert_eq!(res.status().as_u16(), 303);
    let (status, _) = app.submit("geluk", &geluk("BU07721110", 5)).await;
    assert_eq!(status, 403);
    assert_eq!(buurtpeil::survey::wave::list(&mut app.db.connect(), "geluk").unwrap().len(), 1);
}
on_both_backends!(waves_open_and_close_per_buurt);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_designers_with_a_valid_token_change_anything() {
    let app = spawn_app(Backend::Sqlite).await;
    // Not logged in: to the login page.
    let res = app.resident().get("/ontwerp").await;
    assert_eq!(res.status().as_u16(), 303);
    assert!(location(&res).starts_with("/inloggen"));
    // The council draws lots; it does not design.
    let council = app.logged_in("griffie@eindhoven.nl", Role::Council).await;
    assert_eq!(council.get("/ontwerp").await.status().as_u16(), 403);
    let pro = app.logged_in("pro@eindhoven.nl", Role::Professional).await;
    // Forged or missing tokens.
    for (path, fields) in [
        ("/ontwerp/nieuw", vec![("slug", "x"), ("csrf", "nep")]),
        ("/ontwerp/geluk/bewerk", vec![]),
        ("/ontwerp/geluk/archief", vec![("archief", "ja"), ("csrf", "")]),
    ] {
        assert_eq!(pro.post(path, &fields).await.status().as_u16(), 403, "{path}");
    }
    assert!(!app.get("/").await.text().await.unwrap().is_empty());
    assert_eq!(app.get("/s/geluk").await.status().as_u16(), 200, "nothing was archived");
    // Wrong, missing, oversized and hostile input: clear answers, never a 500.
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16);
    let cases: Vec<Case> = vec![
        ("/ontwerp/nieuw", vec![("slug", "Geen Goede Naam")], 422),
        ("/ontwerp/nieuw", vec![("slug", "geluk")], 409),
        ("/ontwerp/nieuw", vec![], 422),
        ("/ontwerp/geluk/actie", vec![("doe", "vraag_op"), ("id", "geluk")], 404),
        ("/ontwerp/nope/publiceer", vec![], 404),
        ("/ontwerp/..%2F/publiceer", vec![], 404),
    ];
    for (path, fields, want) in cases {
        let res = pro.post_from("/ontwerp", path, &fields).await;
        assert_eq!(res.status().as_u16(), want, "{path} {fields:?}");
    }
    pro.post_from("/ontwerp", "/ontwerp/nieuw", &[("slug", "proef"), ("title_nl", "<script>x</script>")]).await;
    let page = "/ontwerp/proef";
    for (fields, want) in [
        (vec![("doe", "iets")], 400),
        (vec![("doe", "vraag_weg"), ("id", "bestaat_niet")], 422),
        (vec![("doe", "vraag_erbij"), ("id", "pagina_1"), ("type", "<b>")], 303),
    ] {
        let res = pro.post_from(page, "/ontwerp/proef/actie", &fields).await;
        assert_eq!(res.status().as_u16(), want, "{fields:?}");
    }
    let big = "x".repeat(70_000);
    let res = pro
        .post_from("/ontwerp/proef/vraag/vraag_1", "/ontwerp/proef/vraag/vraag_1", &[("text_nl", big.as_str())])
        .await;
    assert_eq!(res.status().as_u16(), 413);
    for fields in [
        vec![("type", "scale"), ("id", "vraag_1"), ("min", "tien")],
        vec![("type", "single_choice"), ("id", "vraag_1"), ("options", "alleen een code")],
        vec![("type", "scale"), ("id", "Vraag 1!")],
        vec![("type", "scale"), ("id", "vraag_2")],
    ] {
        let res = pro.post_from("/ontwerp/proef/vraag/vraag_1", "/ontwerp/proef/vraag/vraag_1", &fields).await;
        assert_eq!(res.status().as_u16(), 422, "{fields:?}");
    }
    let html = pro.get(page).await.text().await.unwrap();
    assert!(!html.contains("<script>x") && html.contains("&lt;script&gt;x"), "escaped");
    for path in ["/ontwerp/proef/vraag/nope", "/ontwerp/proef/pagina/nope", "/ontwerp/Nope", "/ontwerp/nope/metingen"] {
        assert_eq!(pro.get(path).await.status().as_u16(), 404, "{path}");
    }
    // The title has no English yet: no preview of an unfinished draft.
    let res = pro.get("/ontwerp/proef/voorbeeld/99").await;
    assert_eq!(res.status().as_u16(), 422);
    assert!(res.text().await.unwrap().contains("nog niet klaar"));
}
