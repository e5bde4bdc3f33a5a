//! Talent matching over HTTP: a verbinder sees only their own area (403
//! and an audit line outside it), explained matches both ways, outcomes;
//! the resident's private link (view, download, change, withdraw, erase,
//! and afterwards nothing of them in any table); CSV import; renewal.

use buurtpeil::auth::{find_by_email, EmailAddress, Role};
use diesel::sql_types::{BigInt, Text};
use diesel::RunQueryDsl;

use crate::helpers::*;
use crate::on_both_backends;

const CENTRUM: &str = "WK077211";
const BINNENSTAD: &str = "BU07721110";
pub(crate) const WITTE_DAME: &str = "BU07721130";
/// In Oud-Stratum: outside Centrum.
const IRISBUURT: &str = "BU07722110";

/// A resident sends the talent scan with consent for contact; returns the
/// token of their private link, read from the thanks page.
async fn scan(app: &TestApp, buurt: &str, name: &str, email: &str, skills: &[&str], tijd: &str) -> String {
    scan_as(&app.resident(), buurt, name, email, skills, tijd).await.0
}

/// `scan` in this resident's browser; the token and the thanks page.
pub(crate) async fn scan_as(
    r: &Resident<'_>,
    buurt: &str,
    name: &str,
    email: &str,
    skills: &[&str],
    tijd: &str,
) -> (String, String) {
    let mut kunnen: Vec<(&str, &str)> = skills.iter().map(|s| ("q_talenten", *s)).collect();
    kunnen.push(("q_leren", "computers"));
    let end = r
        .answer_all(
            "talentenscan",
            buurt,
            &[
                &[("q_blij_van", "anderen_helpen"), ("q_trots_op", "Mijn buurtfeest")],
                &kunnen,
                &[("q_doen_buurt", "samen_eten"), ("q_voor_wie", "ouderen"), ("q_tijd", tijd)],
                &[("q_benaderen", "email"), ("q_contact_ok", "yes")],
                &[("q_naam", name), ("q_email", email), ("q_telefoon", "0612345678")],
            ],
        )
        .await;
    assert_eq!(end, "/s/talentenscan/bedankt");
    let thanks = r.get(&end).await;
    assert_eq!(thanks.status().as_u16(), 200);
    let html = thanks.text().await.unwrap();
    let marker = "mijn-talent&#x2F;";
    let start = html.find(marker).unwrap_or_else(|| panic!("the private link is shown: {html}")) + marker.len();
    let token: String = html[start..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    assert_eq!(token.len(), 28, "140 bits");
    // Shown once: a reload shows the ordinary thanks.
    let again = r.get(&end).await.text().await.unwrap();
    assert!(!again.contains("mijn-talent"), "the link is not shown twice");
    (token, html)
}

pub(crate) fn profile_id_of(app: &TestApp, name: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let mut conn = app.db.connect();
    let sql = "SELECT p.response_id AS id FROM talent_profiles p JOIN identified_responses r ON r.id = p.response_id";
    let ids: Vec<Id> = buurtpeil::on_backend!(&mut conn, |c| diesel::sql_query(sql).load(c)).unwrap();
    let ids: Vec<i64> = ids.into_iter().map(|i| i.id).collect();
    ids.into_iter()
        .find(|id| {
            let answers: Vec<(String,)> = {
                use buurtpeil::db::schema::identified_responses as ir;
                use diesel::prelude::*;
                ir::table.filter(ir::id.eq(*id)).select((ir::answers,)).load(&mut conn).unwrap()
            };
            answers[0].0.contains(name)
        })
        .expect("a profile of that name")
}

fn audit_lines(app: &TestApp, action: &str) -> Vec<String> {
    use buurtpeil::db::schema::audit_log as al;
    use diesel::prelude::*;
    al::table.filter(al::action.eq(action)).select(al::subject).load(&mut app.db.connect()).unwrap()
}

/// An administrator gives `email` (a new professional) the areas.
async fn verbinder<'a>(app: &'a TestApp, admin: &Resident<'_>, email: &str, areas: &[&str]) -> Resident<'a> {
    verbinder_with(app, admin, email, areas, &[]).await
}

/// `verbinder`, whose browser sends these headers.
pub(crate) async fn verbinder_with<'a>(
    app: &'a TestApp,
    admin: &Resident<'_>,
    email: &str,
    areas: &[&str],
    headers: &[(&str, &str)],
) -> Resident<'a> {
    let v = app.logged_in_with(email, Role::Professional, headers).await;
    let id = find_by_email(&mut app.db.connect(), &EmailAddress::parse(email).unwrap()).unwrap().unwrap().id.0;
    let form = format!("/beheer/accounts/{id}/gebieden");
    let fields: Vec<(&str, &str)> = areas.iter().map(|a| ("gebied", *a)).collect();
    let res = admin.post_from(&form, &form, &fields).await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().await.unwrap().contains("Opgeslagen."));
    v
}

async fn a_verbinder_sees_only_their_wijk_and_gets_explained_matches(backend: Backend) {
    let app = spawn_app(backend).await;
    scan(&app, BINNENSTAD, "Fatima", "fatima@example.nl", &["koken", "tuin"], "wekelijks").await;
    scan(&app, WITTE_DAME, "<script>alert('naam')</script>", "kees@example.nl", &["koken"], "maandelijks").await;
    scan(&app, IRISBUURT, "Ingrid Buiten", "ingrid@example.nl", &["koken"], "wekelijks").await;
    let admin = app.logged_in("beheer@example.nl", Role::Admin).await;
    let v = verbinder(&app, &admin, "verbinder@example.nl", &[CENTRUM]).await;
    // A council member may not assign areas; a professional may not either.
    let res = v.post_from("/talent/initiatieven/nieuw", "/beheer/accounts/1/gebieden", &[("gebied", IRISBUURT)]).await;
    assert_eq!(res.status().as_u16(), 403);

    let overview = v.get("/talent").await.text().await.unwrap();
    assert!(overview.contains("Fatima") && overview.contains("Centrum"));
    assert!(!overview.contains("Ingrid"), "a profile of another wijk is not listed");
    assert!(!overview.contains("<script>alert"), "names are escaped");
    assert!(overview.contains("&lt;script&gt;alert("));

    // Outside the wijk: 403, and it is logged.
    let ingrid = profile_id_of(&app, "Ingrid Buiten");
    let res = v.get(&format!("/talent/profielen/{ingrid}")).await;
    assert_eq!(res.status().as_u16(), 403);
    assert!(res.text().await.unwrap().contains("buiten uw gebied"));
    assert_eq!(audit_lines(&app, "toegang_geweigerd"), vec![format!("profiel {ingrid}")]);
    assert_eq!(v.get("/talent/profielen/999").await.status().as_u16(), 404);
    assert_eq!(v.get("/talent/profielen/abc").await.status().as_u16(), 404);

    // An initiative in the wijk; one outside it is refused field by field.
    let hostile = "<img src=x onerror=alert(1)>";
    let fields = [
        ("naam", "Buurtkeuken"),
        ("buurt", WITTE_DAME),
        ("soort", "activiteit"),
        ("aanbod", hostile),
        ("talenten", "koken"),
        ("leert", "computers"),
        ("voor_wie", "ouderen"),
        ("tijd", "maandelijks"),
        ("contact", "keuken@example.nl"),
        ("status", "open"),
    ];
    let res = v.post_from("/talent/initiatieven/nieuw", "/talent/initiatieven", &fields).await;
    assert_eq!(res.status().as_u16(), 303);
    let mut outside = fields.to_vec();
    outside[1] = ("buurt", IRISBUURT);
    outside[4] = ("talenten", "breien");
    let res = v.post_from("/talent/initiatieven/nieuw", "/talent/initiatieven", &outside).await;
    assert_eq!(res.status().as_u16(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Kies een buurt in uw eigen gebied.") && html.contains("Onbekende waarde"));
    assert!(html.contains("value=\"Buurtkeuken\""), "the form keeps what was typed");
    let res = v.post("/talent/initiatieven", &fields).await;
    assert_eq!(res.status().as_u16(), 403, "no CSRF token, no initiative");
    assert_eq!(count(&mut app.db.connect(), "talent_initiatives"), 1);

    // From the resident: the fitting initiatives, with reasons.
    let fatima = profile_id_of(&app, "Fatima");
    let page = v.get(&format!("/talent/profielen/{fatima}")).await.text().await.unwrap();
    assert!(page.contains("fatima@example.nl"));
    assert!(page.contains("Buurtkeuken"), "{page}");
    assert!(
        page.contains(
            "beide: koken en bakken, wil leren: computers, telefoons en internet, ouderen, elke week, Centrum"
        ),
        "{page}"
    );
    assert!(!page.contains(hostile));
    assert_eq!(audit_lines(&app, "profiel_bekeken"), vec![format!("profiel {fatima}")]);

    // From the initiative: the fitting residents, nearest first.
    let initiative: i32 = {
        use buurtpeil::db::schema::talent_initiatives as ti;
        use diesel::prelude::*;
        ti::table.select(ti::id).first(&mut app.db.connect()).unwrap()
    };
    let page = v.get(&format!("/talent/initiatieven/{initiative}")).await.text().await.unwrap();
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;") && !page.contains(hostile));
    let kees = page.find("&lt;script&gt;").expect("the resident of Witte Dame is suggested");
    let fat = page.find("Fatima").expect("Fatima is suggested");
    assert!(kees < fat, "same buurt before same wijk");
    assert!(page.contains("beide: koken en bakken, wil leren: computers, telefoons en internet, ouderen, ongeveer één keer per maand, Witte Dame"), "{page}");
    assert!(!page.contains("Ingrid"), "nobody from outside the wijk");

    // The verbinder records what happened; matches count per buurt.
    let path = format!("/talent/profielen/{fatima}");
    let done = format!("{path}/uitkomst");
    let ini = initiative.to_string();
    let res = v
        .post_from(&path, &done, &[("initiatief", &ini), ("uitkomst", "gematcht"), ("notitie", "Begint dinsdag <b>")])
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let res = v.post_from(&path, &done, &[("initiatief", &ini), ("uitkomst", "getrouwd"), ("notitie", "")]).await;
    assert_eq!(res.status().as_u16(), 422);
    let long = "x".repeat(1001);
    let res = v.post_from(&path, &done, &[("initiatief", &ini), ("uitkomst", "benaderd"), ("notitie", &long)]).await;
    assert_eq!(res.status().as_u16(), 422);
    let page = v.get(&path).await.text().await.unwrap();
    assert!(page.contains("Gematcht: Begint dinsdag &lt;b&gt;"), "{page}");
    let overview = v.get("/talent").await.text().await.unwrap();
    assert!(overview.contains("<td>Witte Dame</td><td>1</td>"), "{overview}");
    // An outcome for a profile outside the area is refused too.
    let res = v
        .post_from(
            &path,
            &format!("/talent/profielen/{ingrid}/uitkomst"),
            &[("initiatief", &ini), ("uitkomst", "benaderd")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 403);

    // Only administrators read the audit log.
    assert_eq!(v.get("/beheer/audit").await.status().as_u16(), 403);
    let log = admin.get("/beheer/audit").await.text().await.unwrap();
    assert!(
        log.contains("toegang_geweigerd") && log.contains("verbinder@example.nl") && log.contains("profiel_bekeken")
    );
    // A verbinder of Oud-Stratum sees Ingrid and not the others.
    let other = verbinder(&app, &admin, "stratum@example.nl", &[IRISBUURT]).await;
    let overview = other.get("/talent").await.text().await.unwrap();
    assert!(overview.contains("Ingrid") && !overview.contains("Fatima") && !overview.contains("Buurtkeuken"));
    assert_eq!(other.get(&format!("/talent/initiatieven/{initiative}")).await.status().as_u16(), 403);
}
on_both_backends!(a_verbinder_sees_only_their_wijk_and_gets_explained_matches);

#[derive(diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

/// Every table and column where `needle` occurs.
fn find_everywhere(app: &TestApp, backend: Backend, needle: &str) -> Vec<String> {
    let mut conn = app.db.connect();
    let tables_sql = match backend {
        Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table'",
        Backend::Postgres => {
            "SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = current_schema()"
        }
    };
    let tables: Vec<Name> = buurtpeil::on_backend!(&mut conn, |c| diesel::sql_query(tables_sql).load(c)).unwrap();
    let mut found = Vec::new();
    for t in tables {
        let cols_sql = match backend {
            Backend::Sqlite => format!("SELECT name FROM pragma_table_info('{}')", t.name),
            Backend::Postgres => format!(
                "SELECT column_name::text AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '{}'",
                t.name
            ),
        };
        let cols: Vec<Name> = buurtpeil::on_backend!(&mut conn, |c| diesel::sql_query(&cols_sql).load(c)).unwrap();
        for col in cols {
            let sql = format!(
                "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM \"{}\" WHERE CAST(\"{}\" AS TEXT) LIKE '%{}%'",
                t.name, col.name, needle
            );
            #[derive(diesel::QueryableByName)]
            struct N {
                #[diesel(sql_type = BigInt)]
                n: i64,
            }
            let n: Vec<N> = buurtpeil::on_backend!(&mut conn, |c| diesel::sql_query(&sql).load(c)).unwrap();
            if n[0].n > 0 {
                found.push(format!("{}.{}", t.name, col.name));
            }
        }
    }
    found
}

async fn a_resident_sees_changes_downloads_and_erases_their_profile(backend: Backend) {
    let app = spawn_app(backend).await;
    let token =
        scan(&app, WITTE_DAME, "Zwaantje Uniekenaam", "zwaantje@example.nl", &["tuin", "koken"], "af_en_toe").await;
    let me = format!("/mijn-talent/{token}");
    let r = app.resident();
    let page = r.get(&me).await;
    assert_eq!(page.status().as_u16(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    assert!(html.contains("Zwaantje Uniekenaam") && html.contains("Witte Dame") && html.contains("Tuinieren en groen"));
    // A typed code finds the same page.
    let grouped: String = token
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap().to_lowercase())
        .collect::<Vec<_>>()
        .join("-");
    let res = r.post("/mijn-talent", &[("code", &grouped)]).await;
    assert_eq!(location(&res), me);

    // Downloads: JSON and a readable page.
    let res = r.get(&format!("{me}/gegevens.json")).await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let json: serde_json::Value = res.json().await.unwrap();
    assert_eq!(json["antwoorden"]["naam"], "Zwaantje Uniekenaam");
    assert_eq!(json["buurt"], WITTE_DAME);
    let res = r.get(&format!("{me}/gegevens.html")).await;
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("mijn-talentprofiel.html"));
    assert!(res.text().await.unwrap().contains("zwaantje@example.nl"));

    // Changes are checked by the questionnaire's rules.
    let edit = r.get(&format!("{me}/wijzigen")).await.text().await.unwrap();
    assert!(edit.contains("value=\"Zwaantje Uniekenaam\""));
    let res = r.post(&format!("{me}/wijzigen"), &[("q_naam", ""), ("q_email", "geen-mail")]).await;
    assert_eq!(res.status().as_u16(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Deze vraag is verplicht.") && html.contains("Dit is geen e-mailadres."));
    let hostile = "Zwaantje <script>x</script>";
    let changed = [
        ("q_naam", hostile),
        ("q_email", "zwaantje@example.nl"),
        ("q_telefoon", "0612345678"),
        ("q_talenten", "klussen"),
        ("q_tijd", "wekelijks"),
        ("q_talenten", "bogus"),
    ];
    let res = r.post(&format!("{me}/wijzigen"), &changed).await;
    assert_eq!(res.status().as_u16(), 422, "an unknown option is refused");
    let res = r.post(&format!("{me}/wijzigen"), &changed[..5]).await;
    assert_eq!(res.status().as_u16(), 303);
    let html = r.get(&location(&res)).await.text().await.unwrap();
    assert!(html.contains("Uw wijzigingen zijn bewaard.") && html.contains("Klussen en repareren"));
    assert!(html.contains("Zwaantje &lt;script&gt;") && !html.contains("<script>x"));

    // A verbinder views it and records an outcome: all of it goes on erasure.
    let admin = app.logged_in("beheer@example.nl", Role::Admin).await;
    let v = verbinder(&app, &admin, "verbinder@example.nl", &[WITTE_DAME]).await;
    let id = profile_id_of(&app, "Zwaantje");
    let fields = [("naam", "Klusclub"), ("buurt", WITTE_DAME), ("soort", "club"), ("talenten", "klussen")];
    assert_eq!(v.post_from("/talent/initiatieven/nieuw", "/talent/initiatieven", &fields).await.status().as_u16(), 303);
    let ini: i32 = {
        use buurtpeil::db::schema::talent_initiatives as ti;
        use diesel::prelude::*;
        ti::table.select(ti::id).first(&mut app.db.connect()).unwrap()
    };
    let path = format!("/talent/profielen/{id}");
    let res = v
        .post_from(
            &path,
            &format!("{path}/uitkomst"),
            &[("initiatief", &ini.to_string()), ("uitkomst", "benaderd"), ("notitie", "Zwaantje belt terug")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);

    // The search below does find what is stored.
    let before = find_everywhere(&app, backend, "Zwaantje");
    assert!(
        before.contains(&"identified_responses.answers".to_string())
            && before.contains(&"talent_outcomes.note".to_string()),
        "{before:?}"
    );
    // Erasing needs the box ticked.
    let res = r.post(&format!("{me}/wissen"), &[]).await;
    assert_eq!(res.status().as_u16(), 422);
    assert!(res.text().await.unwrap().contains("Zet eerst een vinkje"));
    let res = r.post(&format!("{me}/wissen"), &[("zeker", "ja")]).await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().await.unwrap().contains("zijn gewist"));

    // Nothing of them is left anywhere: not the name, the address, the
    // phone, the note, nor the link's hash.
    let hash = buurtpeil::code::hash(&token);
    for needle in ["Zwaantje", "zwaantje@example.nl", "0612345678", &hash] {
        assert_eq!(find_everywhere(&app, backend, needle), Vec::<String>::new(), "{needle} is still stored");
    }
    let mut conn = app.db.connect();
    assert_eq!(count(&mut conn, "talent_profiles"), 0);
    assert_eq!(count(&mut conn, "identified_responses"), 0);
    assert_eq!(count(&mut conn, "talent_outcomes"), 0);
    // The audit log keeps only that the profile existed and was erased.
    use buurtpeil::db::schema::audit_log as al;
    use diesel::prelude::*;
    let lines: Vec<(Option<i32>, String)> = al::table
        .filter(al::subject.eq(format!("profiel {id}")))
        .select((al::user_id, al::action))
        .load(&mut conn)
        .unwrap();
    assert_eq!(lines, vec![(None, "profiel_gewist".to_string())]);
    assert_eq!(count(&mut conn, "talent_initiatives"), 1, "the initiative stays");

    // The old link, a forged one and garbage: a clear page, no leak.
    for bad in [
        me.clone(),
        format!("/mijn-talent/{}", "A".repeat(28)),
        "/mijn-talent/%3Cscript%3E".into(),
        format!("{me}/gegevens.json"),
    ] {
        let res = r.get(&bad).await;
        assert_eq!(res.status().as_u16(), 404, "{bad}");
        let html = res.text().await.unwrap();
        assert!(html.contains("Deze link of code kennen we niet") && !html.contains("<script>"), "{bad}");
    }
    let res = r.post(&format!("{me}/wissen"), &[("zeker", "ja")]).await;
    assert_eq!(res.status().as_u16(), 404);
    let res = r.post("/mijn-talent", &[("code", "ABCD")]).await;
    assert_eq!(res.status().as_u16(), 404);
}
on_both_backends!(a_resident_sees_changes_downloads_and_erases_their_profile);

async fn withdrawing_consent_keeps_only_anonymous_answers(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = scan(&app, BINNENSTAD, "Truus Intrekker", "truus@example.nl", &["koken"], "wekelijks").await;
    let res = app.resident().post(&format!("/mijn-talent/{token}/intrekken"), &[]).await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().await.unwrap().contains("ingetrokken"));
    for needle in ["Truus", "truus@example.nl", "0612345678"] {
        assert_eq!(find_everywhere(&app, backend, needle), Vec::<String>::new(), "{needle}");
    }
    let mut conn = app.db.connect();
    assert_eq!(count(&mut conn, "talent_profiles"), 0);
    assert_eq!(count(&mut conn, "identified_responses"), 1, "the talents still count, anonymously");
    assert_eq!(app.resident().get(&format!("/mijn-talent/{token}")).await.status().as_u16(), 404);
    assert_eq!(audit_lines(&app, "toestemming_ingetrokken").len(), 1);
}
on_both_backends!(withdrawing_consent_keeps_only_anonymous_answers);

async fn a_scan_without_consent_for_contact_makes_no_profile(backend: Backend) {
    let app = spawn_app(backend).await;
    let r = app.resident();
    let end = r
        .answer_all("talentenscan", BINNENSTAD, &[&[], &[("q_talenten", "koken")], &[], &[("q_benaderen", "email")]])
        .await;
    let html = r.get(&end).await.text().await.unwrap();
    assert!(!html.contains("mijn-talent"));
    let mut conn = app.db.connect();
    assert_eq!(count(&mut conn, "identified_responses"), 1);
    assert_eq!(count(&mut conn, "talent_profiles"), 0);
}
on_both_backends!(a_scan_without_consent_for_contact_makes_no_profile);

async fn upload(v: &Resident<'_>, name: &str, body: &str) -> reqwest::Response {
    let csrf = csrf_of(&v.get("/talent/initiatieven/import").await.text().await.unwrap());
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf)
        .part("bestand", reqwest::multipart::Part::bytes(body.as_bytes().to_vec()).file_name(name.to_owned()));
    v.client.post(v.url("/talent/initiatieven/import")).multipart(form).send().await.unwrap()
}

async fn a_csv_import_with_bad_rows_stores_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.logged_in("beheer@example.nl", Role::Admin).await;
    let v = verbinder(&app, &admin, "verbinder@example.nl", &[CENTRUM]).await;
    let bad = "buurt;naam;soort;talenten;tijd\n\
               Witte Dame;Repair café;activiteit;klussen techniek;maandelijks\n\
               Irisbuurt;Buiten;club;;\n\
               BU07721110;;feest;breien;soms\n";
    let res = upload(&v, "initiatieven.csv", bad).await;
    assert_eq!(res.status().as_u16(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Niets is geïmporteerd."));
    assert!(html.contains("<td>initiatieven.csv</td><td>3</td><td>buurt</td>"), "{html}");
    for field in ["naam", "soort", "talenten", "tijd"] {
        assert!(html.contains(&format!("<td>4</td><td>{field}</td>")), "{field}: {html}");
    }
    assert_eq!(count(&mut app.db.connect(), "talent_initiatives"), 0, "a failed import stores nothing");
    let res = upload(&v, "x.csv", "wat,nou\n1,2\n").await;
    assert_eq!(res.status().as_u16(), 422);
    let res = upload(&v, "x.csv", &format!("buurt,naam,soort\n{}", "BU07721110,x,club\n".repeat(10))).await;
    assert_eq!(res.status().as_u16(), 200);
    let good =
        "buurt,naam,soort,talenten,voor_wie,status\nWitte Dame,Repair café,activiteit,klussen|techniek,iedereen,open\n";
    let res = upload(&v, "goed.csv", good).await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().await.unwrap().contains("Geïmporteerd: 1"));
    assert_eq!(count(&mut app.db.connect(), "talent_initiatives"), 11);
    let big = "x".repeat(3 * 1024 * 1024);
    let res = upload(&v, "groot.csv", &big).await;
    assert_eq!(res.status().as_u16(), 413);
}
on_both_backends!(a_csv_import_with_bad_rows_stores_nothing);

async fn profiles_not_confirmed_are_flagged_then_erased(backend: Backend) {
    use buurtpeil::db::schema::talent_profiles as tp;
    use buurtpeil::talent::{profile, Renewal};
    use diesel::prelude::*;
    let app = spawn_app(backend).await;
    let token = scan(&app, BINNENSTAD, "Oud Profiel", "oud@example.nl", &["koken"], "wekelijks").await;
    let mut conn = app.db.connect();
    let today = buurtpeil::clock::today();
    let policy = Renewal { months: 12, grace_days: 30 };
    assert_eq!(profile::renew(&mut conn, policy, today).unwrap().flagged, 0, "a new profile is left alone");
    let long_ago = today - chrono::Months::new(13);
    diesel::update(tp::table).set(tp::confirmed_on.eq(long_ago)).execute(&mut conn).unwrap();
    assert_eq!(profile::renew(&mut conn, policy, today).unwrap().flagged, 1);
    let html = app.resident().get(&format!("/mijn-talent/{token}")).await.text().await.unwrap();
    assert!(html.contains("Klopt uw profiel nog?"));
    // Confirming renews it.
    let res = app.resident().post(&format!("/mijn-talent/{token}/bevestigen"), &[]).await;
    assert_eq!(res.status().as_u16(), 303);
    let due: Option<chrono::NaiveDate> = tp::table.select(tp::renewal_due_on).first(&mut conn).unwrap();
    assert_eq!(due, None);
    // Not confirmed in time: erased, like an erasure by the resident.
    diesel::update(tp::table).set(tp::confirmed_on.eq(long_ago)).execute(&mut conn).unwrap();
    profile::renew(&mut conn, policy, today).unwrap();
    let round = profile::renew(&mut conn, policy, today + chrono::Days::new(31)).unwrap();
    assert_eq!(round.erased, 1);
    assert_eq!(find_everywhere(&app, backend, "oud@example.nl"), Vec::<String>::new());
    assert_eq!(audit_lines(&app, "profiel_verlopen").len(), 1);

    // A profile whose answers reached the scan's retention goes with them,
    // and its viewing history with it.
    let token = scan(&app, BINNENSTAD, "Bewaard Lang", "lang@example.nl", &["koken"], "wekelijks").await;
    let id = profile_id_of(&app, "Bewaard Lang");
    let admin = app.logged_in("beheer@example.nl", Role::Admin).await;
    let v = verbinder(&app, &admin, "verbinder@example.nl", &[CENTRUM]).await;
    assert_eq!(v.get(&format!("/talent/profielen/{id}")).await.status().as_u16(), 200);
    assert_eq!(audit_lines(&app, "profiel_bekeken"), vec![format!("profiel {id}")]);
    {
        use buurtpeil::db::schema::identified_responses as ir;
        diesel::update(ir::table).set(ir::submitted_on.eq(today - chrono::Months::new(25))).execute(&mut conn).unwrap();
    }
    let catalog = buurtpeil::questionnaire::load_catalog(
        &mut conn,
        &buurtpeil::questionnaire::load_dir(&manifest_dir().join("questionnaires")).unwrap(),
    )
    .unwrap();
    assert_eq!(buurtpeil::survey::purge_expired(&mut conn, &catalog, today).unwrap(), 1);
    assert_eq!(count(&mut conn, "talent_profiles"), 0, "the profile went with its answers");
    profile::renew(&mut conn, policy, today).unwrap();
    assert!(audit_lines(&app, "profiel_bekeken").is_empty(), "no viewing history of a profile that is gone");
    assert_eq!(audit_lines(&app, "profiel_verlopen").len(), 2);
    assert_eq!(app.resident().get(&format!("/mijn-talent/{token}")).await.status().as_u16(), 404);
}
on_both_backends!(profiles_not_confirmed_are_flagged_then_erased);

async fn the_private_link_is_emailed_when_an_address_was_given(backend: Backend) {
    use crate::helpers::{received, Smtp};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mail.jsonl");
    let smtp = Smtp::start(&out, None);
    let app = spawn_app_with(
        backend,
        Options { mail: Some((smtp.url(), "Buurtpeil <noreply@example.nl>".into())), ..Options::default() },
    )
    .await;
    let token = scan(&app, WITTE_DAME, "<b>Jan</b> Mailer", "jan@example.nl", &["koken"], "wekelijks").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mails = loop {
        let mails = received(&out);
        if !mails.is_empty() || std::time::Instant::now() > deadline {
            break mails;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(mails.len(), 1, "one e-mail with the link");
    let mail = &mails[0];
    assert_eq!(mail["to"][0], "jan@example.nl");
    let text = mail["text"].as_str().unwrap();
    assert!(text.contains(&format!("/mijn-talent/{token}")) && text.contains("Witte Dame"), "{text}");
    let html = mail["html"].as_str().unwrap();
    assert!(html.contains("&lt;b&gt;Jan&lt;&#x2F;b&gt;") && !html.contains("<b>Jan"), "{html}");
    // Sent: the link is nowhere in the database any more.
    let mut conn = app.db.connect();
    // The server got it; the sender deletes the row right after.
    while count(&mut conn, "talent_outbox") > 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(count(&mut conn, "talent_outbox"), 0);
    assert_eq!(find_everywhere(&app, backend, &token), Vec::<String>::new());
    assert_eq!(app.resident().get(&format!("/mijn-talent/{token}")).await.status().as_u16(), 200);
}
on_both_backends!(the_private_link_is_emailed_when_an_address_was_given);

async fn a_link_email_that_keeps_failing_is_given_up_and_forgotten(backend: Backend) {
    use crate::helpers::{received, Smtp};
    use buurtpeil::db::schema::talent_outbox as ob;
    use diesel::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mail.jsonl");
    // The mail server always says "try again later" (451).
    let smtp = Smtp::start(&out, Some((0, 451)));
    let app = spawn_app_with(
        backend,
        Options { mail: Some((smtp.url(), "Buurtpeil <noreply@example.nl>".into())), ..Options::default() },
    )
    .await;
    let token = scan(&app, WITTE_DAME, "Refused Mailer", "refused@example.nl", &["koken"], "wekelijks").await;
    let mut conn = app.db.connect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut most_attempts = 0;
    loop {
        let attempts: Option<i32> = ob::table.select(ob::attempts).first(&mut conn).optional().unwrap();
        match attempts {
            Some(n) => most_attempts = most_attempts.max(n),
            None => break,
        }
        assert!(std::time::Instant::now() < deadline, "still queued after 30 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(most_attempts >= 2, "retried: {most_attempts}");
    assert!(received(&out).is_empty());
    assert_eq!(find_everywhere(&app, backend, &token), Vec::<String>::new(), "given up, and the link with it");
    assert_eq!(count(&mut conn, "talent_profiles"), 1, "the profile itself stays");
}
on_both_backends!(a_link_email_that_keeps_failing_is_given_up_and_forgotten);

async fn the_demo_has_a_verbinder_of_one_wijk_and_a_working_private_link(backend: Backend) {
    let app = spawn_app(backend).await;
    let (password, link) = {
        let mut conn = app.db.connect();
        let defs = buurtpeil::questionnaire::load_dir(&manifest_dir().join("questionnaires")).unwrap();
        let catalog = buurtpeil::questionnaire::load_catalog(&mut conn, &defs).unwrap();
        let tree = buurtpeil::area::load_tree(&mut conn).unwrap();
        let scan = catalog.current("talentenscan").unwrap();
        let first = buurtpeil::demo::seed_talent(&mut conn, scan, &tree).unwrap();
        // A second start adds nothing, with a new password and a new link.
        let again = buurtpeil::demo::seed_talent(&mut conn, scan, &tree).unwrap();
        assert_ne!(first.verbinder_password, again.verbinder_password);
        assert_ne!(first.profile_link, again.profile_link);
        (again.verbinder_password, again.profile_link.unwrap())
    };
    let mut conn = app.db.connect();
    assert_eq!(count(&mut conn, "talent_profiles"), 7);
    assert_eq!(count(&mut conn, "talent_initiatives"), 6);
    let v = app.resident();
    let csrf = csrf_of(&v.get("/inloggen").await.text().await.unwrap());
    let res = v
        .post("/inloggen", &[("email", buurtpeil::demo::DEMO_VERBINDER), ("password", &password), ("csrf", &csrf)])
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let overview = v.get("/talent").await.text().await.unwrap();
    assert!(overview.contains("Fatima (fictief)") && overview.contains("Buurtkeuken Witte Dame (fictief)"));
    assert!(!overview.contains("Oud-Stratum") && !overview.contains("Taalcafé"), "only wijk Centrum");
    let mine = app.resident().get(&link).await;
    assert_eq!(mine.status().as_u16(), 200);
    let mine = mine.text().await.unwrap();
    assert!(mine.contains("(fictief)") && mine.contains("Witte Dame"), "a demo profile the demo verbinder sees");
}
on_both_backends!(the_demo_has_a_verbinder_of_one_wijk_and_a_working_private_link);

async fn a_verbinder_proposes_a_match_by_email_and_the_resident_answers(backend: Backend) {
    use crate::helpers::{received, Smtp};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mail.jsonl");
    let smtp = Smtp::start(&out, None);
    let app = spawn_app_with(
        backend,
        Options { mail: Some((smtp.url(), "Buurtpeil <noreply@example.nl>".into())), ..Options::default() },
    )
    .await;
    let token = scan(&app, WITTE_DAME, "Voorstel Ontvanger", "ontvanger@example.nl", &["koken"], "wekelijks").await;
    let admin = app.logged_in("beheer@example.nl", Role::Admin).await;
    let v = verbinder(&app, &admin, "verbinder@example.nl", &[CENTRUM]).await;
    let fields =
        [("naam", "Soepcafé <i>Dame</i>"), ("buurt", WITTE_DAME), ("soort", "activiteit"), ("talenten", "koken")];
    assert_eq!(v.post_from("/talent/initiatieven/nieuw", "/talent/initiatieven", &fields).await.status().as_u16(), 303);
    let ini: i32 = {
        use buurtpeil::db::schema::talent_initiatives as ti;
        use diesel::prelude::*;
        ti::table.select(ti::id).first(&mut app.db.connect()).unwrap()
    };
    let id = profile_id_of(&app, "Voorstel Ontvanger");
    let path = format!("/talent/profielen/{id}");
    assert!(v.get(&path).await.text().await.unwrap().contains("Voorstellen per e-mail"));
    let res = v.post_from(&path, &format!("{path}/voorstel"), &[("initiatief", &ini.to_string())]).await;
    assert_eq!(res.status().as_u16(), 303);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let proposal = loop {
        let found =
            received(&out).into_iter().find(|m| m["subject"].as_str().unwrap_or("").starts_with("Een voorstel"));
        if let Some(m) = found {
            break m;
        }
        assert!(std::time::Instant::now() < deadline, "no proposal e-mail");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let text = proposal["text"].as_str().unwrap();
    assert!(text.contains("Soepcafé <i>Dame</i>"));
    assert!(proposal["html"].as_str().unwrap().contains("Soepcafé &lt;i&gt;Dame&lt;&#x2F;i&gt;"));
    let start = text.find("/voorstel/").unwrap();
    let link: String = text[start..].chars().take_while(|c| !c.is_whitespace()).collect();
    let r = app.resident();
    // Looking (or a mail scanner following the link) answers nothing.
    for _ in 0..2 {
        let page = r.get(&link).await.text().await.unwrap();
        assert!(page.contains("Soepcafé &lt;i&gt;Dame") && page.contains("Ja, graag"));
    }
    assert_eq!(r.post(&link, &[("antwoord", "misschien")]).await.status().as_u16(), 400);
    let res = r.post(&link, &[("antwoord", "ja")]).await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().await.unwrap().contains("De verbinder neemt contact met u op."));
    assert_eq!(r.post(&link, &[("antwoord", "nee")]).await.status().as_u16(), 409, "answered once");
    let page = v.get(&path).await.text().await.unwrap();
    assert!(page.contains("Bewoner: ja, graag") && page.contains("Voorstel per e-mail"), "{page}");
    assert_eq!(r.get(&format!("/voorstel/{}", "A".repeat(28))).await.status().as_u16(), 404);
    // Erasing the profile takes the proposal with it.
    let res = r.post(&format!("/mijn-talent/{token}/wissen"), &[("zeker", "ja")]).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(r.get(&link).await.status().as_u16(), 404);
    let mut conn = app.db.connect();
    assert_eq!(count(&mut conn, "talent_proposals"), 0);
    assert_eq!(find_everywhere(&app, backend, "ontvanger@example.nl"), Vec::<String>::new());
}
on_both_backends!(a_verbinder_proposes_a_match_by_email_and_the_resident_answers);

async fn without_mail_there_is_no_proposal(backend: Backend) {
    let app = spawn_app(backend).await;
    scan(&app, WITTE_DAME, "Geen Mail", "geen@example.nl", &["koken"], "wekelijks").await;
    let admin = app.logged_in("beheer@example.nl", Role::Admin).await;
    let v = verbinder(&app, &admin, "verbinder@example.nl", &[CENTRUM]).await;
    let fields = [("naam", "Soepcafé"), ("buurt", WITTE_DAME), ("soort", "activiteit"), ("talenten", "koken")];
    v.post_from("/talent/initiatieven/nieuw", "/talent/initiatieven", &fields).await;
    let id = profile_id_of(&app, "Geen Mail");
    let path = format!("/talent/profielen/{id}");
    assert!(!v.get(&path).await.text().await.unwrap().contains("Voorstellen per e-mail"));
    let res = v.post_from(&path, &format!("{path}/voorstel"), &[("initiatief", "1")]).await;
    assert_eq!(res.status().as_u16(), 409);
    assert!(res.text().await.unwrap().contains("Voorstellen per e-mail kan niet"));
    assert_eq!(count(&mut app.db.connect(), "talent_proposals"), 0);
}
on_both_backends!(without_mail_there_is_no_proposal);
