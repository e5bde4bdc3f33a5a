//! The resident's pages over HTTP: flow, pages and conditions, resume,
//! language, weight.

use crate::helpers::*;
use crate::on_both_backends;

const MAX_PAGE_BYTES: usize = 30 * 1024;

async fn a_resident_answers_and_is_counted(backend: Backend) {
    let app = spawn_app(backend).await;
    let start = app.get("/s/geluk").await;
    assert_eq!(start.status().as_u16(), 200);
    assert_eq!(start.headers()["cache-control"], "no-store");
    let html = start.text().await.unwrap();
    assert!(html.contains("<optgroup label=\"Centrum\">"), "grouped by wijk");
    assert_eq!(html.matches("<option value=\"BU").count(), 116);

    // Searching narrows the list without JavaScript.
    let html = app.get("/s/geluk?zoek=witte").await.text().await.unwrap();
    assert_eq!(html.matches("<option value=\"BU").count(), 1);
    assert!(html.contains("Witte Dame"));
    let html = app.get("/s/geluk?zoek=strijp").await.text().await.unwrap();
    assert!(html.matches("<option value=\"BU").count() > 3, "a wijk name finds its buurten");
    let html = app.get("/s/geluk?zoek=qqqq").await.text().await.unwrap();
    assert!(html.contains("Geen buurt gevonden"));

    // One who looks and leaves: never counted.
    let peek = app.resident();
    let first = peek.start("geluk", "BU07721130").await;
    assert_eq!(first, "/s/geluk/p/1");
    let page = peek.get(&first).await;
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    assert!(html.contains("Witte Dame") && html.contains("Stap 1 van 3"));
    assert!(html.contains("Hoe tevreden bent u op dit moment met uw leven als geheel?"));
    assert!(html.contains("Helemaal niet tevreden"));
    for _ in 0..10 {
        let end = app
            .resident()
            .answer_all(
                "geluk",
                "BU07721130",
                &[
                    &[("q_tevredenheid_leven", "9"), ("q_geluk", "8")],
                    &[("q_gezondheid", "goed"), ("q_hulp_nodig", "no")],
                    &[("q_idee_buurt", "Een moestuin")],
                ],
            )
            .await;
        assert_eq!(end, "/s/geluk/bedankt");
    }
    let thanks = app.get("/s/geluk/bedankt").await.text().await.unwrap();
    assert!(thanks.contains("Bedankt!"));
    let results = app.results("buurt").await;
    let witte_dame = area(&results, "BU07721130");
    assert_eq!(witte_dame["n"], 10);
    assert_eq!(witte_dame["questions"]["gezondheid"]["shares"]["goed"], 100);
    assert_eq!(witte_dame["questions"]["hulp_nodig"]["shares"]["no"], 100);
    let mut conn = app.db.connect();
    // The free text was stored, apart from the aggregates; nothing partial is left.
    assert_eq!(count(&mut conn, "text_answers"), 10);
    assert_eq!(count(&mut conn, "partial_responses"), 1, "only the one who left");
    assert_counts_agree(&mut conn);
}
on_both_backends!(a_resident_answers_and_is_counted);

async fn pages_keep_answers_and_conditions_decide(backend: Backend) {
    let app = spawn_app(backend).await;
    let r = app.resident();
    let first = r.start("leefbaarheid", "BU07721110").await;
    assert_eq!(first, "/s/leefbaarheid/p/1");
    // A wrong page: every message beside its field, the input kept.
    let res = r.next("leefbaarheid", 1, &[("q_tevreden_woning", "7"), ("q_jaren_buurt", "twaalf")]).await;
    assert_eq!(res.status().as_u16(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Deze vraag is verplicht.") && html.contains("Vul een heel getal in."));
    assert!(html.contains("value=\"twaalf\"") && html.contains("value=\"7\" checked"), "nothing to retype");
    assert!(html.contains("aria-describedby=\"h_jaren_buurt e_jaren_buurt\""), "help and message belong to the field");
    // Right now; safety 4 shows the page about feeling unsafe.
    let res = r
        .next(
            "leefbaarheid",
            1,
            &[
                ("q_tevredenheid_buurt", "6"),
                ("q_jaren_buurt", "12"),
                ("q_buitenruimte", "no"),
                ("q_woonsituatie", "koop"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/s/leefbaarheid/p/2");
    let res = r.next("leefbaarheid", 2, &[("q_veilig_buurt", "4")]).await;
    assert_eq!(location(&res), "/s/leefbaarheid/p/3", "onveilig shown");
    let html = r.get("/s/leefbaarheid/p/3").await.text().await.unwrap();
    assert!(html.contains("q_onveilig_door") && html.contains("Anders, namelijk"));
    let res = r.next("leefbaarheid", 3, &[("q_onveilig_door", "donker"), ("q_onveilig_door", "verkeer")]).await;
    assert_eq!(location(&res), "/s/leefbaarheid/p/4");
    // Back twice keeps every answer.
    let res = r.act("leefbaarheid", 4, "terug", &[]).await;
    assert_eq!(location(&res), "/s/leefbaarheid/p/3");
    let html = r.get("/s/leefbaarheid/p/3").await.text().await.unwrap();
    assert!(html.contains("value=\"donker\" checked") && html.contains("value=\"verkeer\" checked"));
    let res = r.act("leefbaarheid", 3, "terug", &[("q_onveilig_door", "donker")]).await;
    assert_eq!(location(&res), "/s/leefbaarheid/p/2");
    // Safety 8 now: the unsafe page disappears and its answers go with it.
    let res = r.next("leefbaarheid", 2, &[("q_veilig_buurt", "8")]).await;
    assert_eq!(location(&res), "/s/leefbaarheid/p/4", "onveilig skipped");
    // A hidden page asked for directly sends the resident to a shown one.
    assert_eq!(location(&r.get("/s/leefbaarheid/p/3").await), "/s/leefbaarheid/p/1");
    // The garden question is hidden without outdoor space, even if posted.
    let html = r.get("/s/leefbaarheid/p/5").await.text().await.unwrap();
    assert!(!html.contains("q_tevreden_buitenruimte"));
    let mut at = 4;
    loop {
        let fields: Vec<(&str, &str)> = if at == 5 { vec![("q_tevreden_buitenruimte", "9")] } else { vec![] };
        let res = r.next("leefbaarheid", at, &fields).await;
        assert_eq!(res.status().as_u16(), 303, "page {at}");
        let to = location(&res);
        if to == "/s/leefbaarheid/bedankt" {
            break;
        }
        at = to.rsplit('/').next().unwrap().parse().unwrap();
    }
    let mut conn = app.db.connect();
    let stored_questions = |conn: &mut buurtpeil::db::AnyConnection, q: &str| {
        use diesel::sql_types::BigInt;
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let sql = format!("SELECT COUNT(*) AS n FROM answers WHERE question_id = '{q}'");
        let rows: Vec<N> = buurtpeil::on_backend!(conn, |c| diesel::sql_query(&sql).load(c)).unwrap();
        rows[0].n
    };
    assert_eq!(stored_questions(&mut conn, "onveilig_door"), 0, "a hidden page's answers are never stored");
    assert_eq!(stored_questions(&mut conn, "tevreden_buitenruimte"), 0, "a hidden question's answer is dropped");
    assert_eq!(stored_questions(&mut conn, "jaren_buurt"), 1);
    assert_eq!(count(&mut conn, "responses"), 1);
}
on_both_backends!(pages_keep_answers_and_conditions_decide);

async fn leave_and_resume_with_a_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let phone = app.resident();
    phone.start("geluk", "BU07721110").await;
    let res = phone.act("geluk", 1, "bewaar", &[("q_tevredenheid_leven", "3"), ("q_geluk", "4")]).await;
    assert_eq!(res.status().as_u16(), 200);
    let html = res.text().await.unwrap();
    let code = html.split("class=\"code\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert_eq!(code.len(), 14, "{code}");
    assert!(html.contains("verder?code="), "a link to come back with");
    // The same device comes back by itself.
    let page = phone.get("/s/geluk/p/1").await.text().await.unwrap();
    assert!(page.contains("value=\"3\" checked"));
    // Another device, typing the code in lower case.
    let laptop = app.resident();
    assert_eq!(laptop.get("/s/geluk/p/1").await.status().as_u16(), 404, "no code, no answers");
    let res = laptop.post("/s/geluk/verder", &[("code", &code.to_lowercase())]).await;
    assert_eq!(location(&res), "/s/geluk/p/1");
    let page = laptop.get("/s/geluk/p/1").await.text().await.unwrap();
    assert!(page.contains("value=\"4\" checked"));
    // A wrong code says so beside the field.
    let res = app.resident().post("/s/geluk/verder", &[("code", "ABCD-EFGH-JKMN")]).await;
    assert_eq!(res.status().as_u16(), 404);
    assert!(res.text().await.unwrap().contains("We kennen deze code niet"));
    let res = app.resident().post("/s/geluk/verder", &[("code", "<script>")]).await;
    assert_eq!(res.status().as_u16(), 404);
    // Not counted until sent.
    let mut conn = app.db.connect();
    assert_eq!(count(&mut conn, "responses"), 0);
    assert_eq!(count(&mut conn, "partial_responses"), 1);
    // Finished on the laptop; two quick clicks on "send" count once.
    laptop.next("geluk", 1, &[("q_tevredenheid_leven", "3"), ("q_geluk", "4")]).await;
    laptop.next("geluk", 2, &[]).await;
    let (a, b) = tokio::join!(laptop.next("geluk", 3, &[]), laptop.next("geluk", 3, &[]));
    assert!(a.status().as_u16() < 500 && b.status().as_u16() < 500);
    assert_eq!(count(&mut conn, "responses"), 1);
    assert_eq!(count(&mut conn, "partial_responses"), 0);
    // The code is used up.
    let res = app.resident().get(&format!("/s/geluk/verder?code={}", code.replace('-', ""))).await;
    assert_eq!(res.status().as_u16(), 404);
}
on_both_backends!(leave_and_resume_with_a_code);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_partial_responses_are_deleted() {
    use diesel::connection::SimpleConnection;
    let app = spawn_app(Backend::Sqlite).await;
    app.resident().start("geluk", "BU07721110").await;
    app.resident().start("geluk", "BU07721120").await;
    let mut sqlite = app.db.connect_sqlite();
    sqlite.batch_execute("UPDATE partial_responses SET updated_on = '2020-01-01' WHERE buurt = 'BU07721110'").unwrap();
    let today = buurtpeil::clock::today();
    let purged = buurtpeil::survey::partial::purge(&mut app.db.connect(), today).unwrap();
    assert_eq!(purged, 1);
    assert_eq!(count(&mut app.db.connect(), "partial_responses"), 1);
}

async fn the_talent_scan_asks_consent_and_stores_apart(backend: Backend) {
    let app = spawn_app(backend).await;
    let start = app.get("/s/talentenscan").await.text().await.unwrap();
    assert!(start.contains("Waarom we dit vragen") && start.contains("name=\"toestemming\""));
    // No consent, no start.
    let r = app.resident();
    let res = r.post("/s/talentenscan/start", &[("buurt", "BU07721110")]).await;
    assert_eq!(res.status().as_u16(), 400);
    let html = res.text().await.unwrap();
    assert!(html.contains("Zet een vinkje als u wilt meedoen."));
    assert!(html.contains("<option value=\"BU07721110\" selected>"), "the buurt stays chosen");
    // Without a wish for contact, the page with name and e-mail is skipped.
    let end = r
        .answer_all(
            "talentenscan",
            "BU07721110",
            &[
                &[("q_blij_van", "buiten"), ("q_trots_op", "Mijn moestuin")],
                &[("q_talenten", "tuin"), ("q_talenten", "koken")],
                &[("q_tijd", "maandelijks")],
                &[("q_benaderen", "email")],
            ],
        )
        .await;
    assert_eq!(end, "/s/talentenscan/bedankt");
    // With consent, a name is needed and the e-mail is checked.
    let r2 = app.resident();
    let at = r2.start("talentenscan", "BU07721120").await;
    assert_eq!(at, "/s/talentenscan/p/1");
    for n in 1..=3 {
        r2.next("talentenscan", n, &[]).await;
    }
    let res = r2.next("talentenscan", 5, &[("q_contact_ok", "yes")]).await;
    assert_eq!(location(&res), "/s/talentenscan/p/6");
    let res = r2.next("talentenscan", 6, &[("q_email", "geen-mail")]).await;
    assert_eq!(res.status().as_u16(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Deze vraag is verplicht.") && html.contains("Dit is geen e-mailadres."));
    let res = r2.next("talentenscan", 6, &[("q_naam", "Fatima"), ("q_email", "fatima@example.nl")]).await;
    assert_eq!(location(&res), "/s/talentenscan/bedankt");

    let mut conn = app.db.connect();
    assert_eq!(count(&mut conn, "identified_responses"), 2);
    assert_eq!(count(&mut conn, "responses"), 0, "never among anonymous responses");
    assert_eq!(count(&mut conn, "answers"), 0);
    use buurtpeil::db::schema::identified_responses as ir;
    use diesel::prelude::*;
    let stored: Vec<(String, String)> =
        ir::table.select((ir::buurt, ir::answers)).order(ir::buurt.asc()).load(&mut conn).unwrap();
    assert!(!stored[0].1.contains("naam") && stored[0].1.contains("Mijn moestuin"), "{}", stored[0].1);
    assert!(stored[1].1.contains("\"naam\":\"Fatima\"") && stored[1].1.contains("fatima@example.nl"));
    // Identified answers never reach the API.
    let (status, _) = app.submit("talentenscan", &serde_json::json!({"buurt": "BU07721110", "answers": {}})).await;
    assert_eq!(status, 403);
    // The panel sign-up is by invitation only: no open link, no API.
    assert_eq!(app.get("/s/panelaanmelding").await.status().as_u16(), 403);
    let res = app.resident().post("/s/panelaanmelding/start", &[("buurt", "BU07721110"), ("toestemming", "ja")]).await;
    assert_eq!(res.status().as_u16(), 403);
    assert!(res.text().await.unwrap().contains("alleen voor inwoners die een uitnodiging kregen"));
    let (status, _) = app.submit("panelaanmelding", &serde_json::json!({"buurt": "BU07721110", "answers": {}})).await;
    assert_eq!(status, 403);

    // Kept as long as the purpose promises (talentenscan: 24 months), then
    // erased by the housekeeping job.
    let today = buurtpeil::clock::today();
    let months_ago = |m: u32| today.checked_sub_months(chrono::Months::new(m)).unwrap();
    diesel::update(ir::table.filter(ir::buurt.eq("BU07721110")))
        .set(ir::submitted_on.eq(months_ago(24) - chrono::Days::new(1)))
        .execute(&mut conn)
        .unwrap();
    diesel::update(ir::table.filter(ir::buurt.eq("BU07721120")))
        .set(ir::submitted_on.eq(months_ago(23)))
        .execute(&mut conn)
        .unwrap();
    let catalog = buurtpeil::questionnaire::read_catalog(&mut conn).unwrap();
    assert_eq!(catalog.current("talentenscan").unwrap().definition.retention(), Some(24));
    assert_eq!(buurtpeil::survey::purge_expired(&mut conn, &catalog, today).unwrap(), 1);
    let left: Vec<String> = ir::table.select(ir::buurt).load(&mut conn).unwrap();
    assert_eq!(left, ["BU07721120"], "only the answers past 24 months go");
}
on_both_backends!(the_talent_scan_asks_consent_and_stores_apart);

async fn english_by_header_or_switch(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app.client.get(app.url("/s/geluk")).header("accept-language", "en-GB,en;q=0.9").send().await.unwrap();
    assert_eq!(res.headers()["content-language"], "en");
    let html = res.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("Which neighbourhood do you live in?"));
    assert!(html.contains(">Nederlands</a>"), "a visible switch back");

    // The switch is remembered in a cookie for the next pages.
    let html = app.get("/s/geluk?lang=en").await.text().await.unwrap();
    assert!(html.contains("How are you doing?"));
    let res = app.client.post(app.url("/s/geluk/start")).form(&[("buurt", "BU07721110")]).send().await.unwrap();
    assert_eq!(location(&res), "/s/geluk/p/1?lang=en");
    let html = app.get("/s/geluk/p/1").await.text().await.unwrap();
    assert!(html.contains("Overall, how satisfied are you with life as a whole these days?"));
    assert!(html.contains("Step 1 of 3"));
    let res =
        app.client.post(app.url("/s/geluk/p/1")).form(&[("actie", "verder"), ("pagina", "1")]).send().await.unwrap();
    assert!(res.text().await.unwrap().contains("This question is required."));
    let html = app.get("/s/geluk?lang=nl").await.text().await.unwrap();
    assert!(html.contains("In welke buurt woont u?"));
}
on_both_backends!(english_by_header_or_switch);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resident_pages_stay_small() {
    let open = all_open_questionnaires();
    let app =
        spawn_app_with(Backend::Sqlite, Options { questionnaires: open.path().into(), ..Options::default() }).await;
    let css = app.get("/static/buurtpeil.css").await.text().await.unwrap().len();
    for slug in ["geluk", "leefbaarheid", "talentenscan", "panelaanmelding"] {
        for lang in ["nl", "en"] {
            let r = app.resident();
            let mut paths = vec![format!("/s/{slug}"), format!("/s/{slug}/verder"), format!("/s/{slug}/bedankt")];
            r.start(slug, "BU07721110").await;
            let pages = app.db.connect();
            drop(pages);
            // Every page of the questionnaire, shown or not, asked for directly.
            for n in 1..=12 {
                paths.push(format!("/s/{slug}/p/{n}"));
            }
            for path in paths {
                let res = r.get(&format!("{path}?lang={lang}")).await;
                if res.status().as_u16() == 303 {
                    continue;
                }
                let html = res.text().await.unwrap();
                // Uncompressed, so the real transfer (gzip) is far smaller.
                assert!(html.len() + css <= MAX_PAGE_BYTES, "{path} ({lang}): {} + {css} bytes", html.len());
                assert!(!html.contains("<script"), "{path} needs no JavaScript");
            }
        }
    }
}

async fn results_page_shows_figures_and_hides_small_cells(backend: Backend) {
    let app = spawn_app(backend).await;
    app.submit_many("BU07721110", 12, 8).await;
    app.submit_many("BU07721120", 4, 2).await;
    app.submit_many("BU07721140", 11, 6).await;
    let res = app.get("/r/geluk?niveau=buurt").await;
    assert_eq!(res.status().as_u16(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("<svg class=\"chart\""), "a distribution chart");
    assert!(html.contains("Binnenstad") && html.contains(">8,0<"), "Binnenstad's mean in Dutch notation");
    assert!(html.contains("te weinig antwoorden"));
    // Bergen (4 answers, all scoring 2) never shows a figure.
    let bergen_row = html.split("<tr").find(|r| r.contains(">Bergen<")).unwrap();
    assert!(bergen_row.contains("te weinig antwoorden") && !bergen_row.contains("2,0"), "{bergen_row}");
    let html = app.get("/r/geluk?niveau=wijk&vraag=gezondheid&lang=en").await.text().await.unwrap();
    assert!(html.contains("How is your health in general?"));
}
on_both_backends!(results_page_shows_figures_and_hides_small_cells);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_save_shows_the_answers_again() {
    use diesel::connection::SimpleConnection;
    let app = spawn_app(Backend::Sqlite).await;
    let r = app.resident();
    r.start("geluk", "BU07721110").await;
    r.next("geluk", 1, &[("q_tevredenheid_leven", "6"), ("q_geluk", "7")]).await;
    r.next("geluk", 2, &[]).await;
    // Break storage of free text behind the server's back.
    app.db.connect_sqlite().batch_execute("DROP TABLE text_answers").unwrap();
    let res = r.next("geluk", 3, &[("q_idee_buurt", "Een buurttuin")]).await;
    assert_eq!(res.status().as_u16(), 503);
    let html = res.text().await.unwrap();
    assert!(html.contains("Het opslaan lukte nu niet"));
    assert!(html.contains("Een buurttuin"), "nothing to retype");
    // Nothing half-stored, and nothing lost: the answers wait for another try.
    let mut conn = app.db.connect();
    assert_eq!(count(&mut conn, "responses"), 0);
    assert_eq!(count(&mut conn, "partial_responses"), 1);
    let page = r.get("/s/geluk/p/1").await.text().await.unwrap();
    assert!(page.contains("value=\"6\" checked"));
    // Responses without free text still go through.
    let (status, _) = app.submit("geluk", &geluk("BU07721110", 6)).await;
    assert_eq!(status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_texts_in_files_are_escaped_on_every_page() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("proef.toml"),
        r#"
slug = "proef"
kind = "anonymous"
title = { nl = "<script>alert('t')</script>", en = "<script>alert('t')</script>" }
[[questions]]
id = "cijfer"
type = "scale"
required = true
text = { nl = "<img src=x onerror=alert(1)>", en = "<img src=x onerror=alert(1)>" }
min_label = { nl = "\"><b>laag</b>", en = "low" }
max_label = { nl = "hoog", en = "high" }
[[questions]]
id = "keuze"
type = "single_choice"
text = { nl = "Keuze", en = "Choice" }
options = [ { value = "a", label = { nl = "<i>a</i>", en = "a" } }, { value = "b", label = { nl = "b", en = "b" } } ]
"#,
    )
    .unwrap();
    let app =
        spawn_app_with(Backend::Sqlite, Options { questionnaires: dir.path().into(), ..Options::default() }).await;
    // A buurt whose name (from a CBS file) holds markup.
    let hostile = buurtpeil::area::parse_csv(
        "x.csv",
        "buurtcode,buurtnaam,wijkcode,wijknaam,gemeentecode,gemeentenaam\nBU07721199,<b onmouseover=x>Hack</b>,WK077211,Centrum,GM0772,Eindhoven\n".as_bytes(),
    )
    .unwrap();
    buurtpeil::area::save_areas(&mut app.db.connect(), &hostile).unwrap();
    // A running server takes a new buurt on its first use (after at most a
    // second since it last read the areas).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = app.resident();
    r.start("proef", "BU07721199").await;

    for path in ["/", "/s/proef", "/s/proef?zoek=hack", "/s/proef/p/1", "/r/proef?niveau=buurt"] {
        let res = r.get(path).await;
        assert!(res.status().as_u16() < 500, "{path}");
        let html = res.text().await.unwrap();
        for raw in ["<script>alert", "<img src=x", "<b>laag", "<i>a</i>", "<b onmouseover"] {
            assert!(!html.contains(raw), "{path} shows {raw} unescaped");
        }
    }
    let form = r.get("/s/proef/p/1").await.text().await.unwrap();
    assert!(form.contains("&lt;img src=x onerror=alert(1)&gt;"), "shown as text");
    assert!(form.contains("&lt;b onmouseover=x&gt;Hack"), "the buurt name as text");
    let start = app.get("/s/proef?zoek=hack").await.text().await.unwrap();
    assert!(
        start.contains("&lt;b onmouseover=x&gt;Hack") && !start.contains("<b onmouseover"),
        "in the buurt list too"
    );
}
