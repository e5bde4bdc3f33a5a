//! Free-text answers: readable by a professional with the area in their
//! scope, only where the area passes the threshold, after a warning, and
//! every reading logged; never in public pages, the API or exports.

use buurtpeil::auth::{find_by_email, EmailAddress, Role};
use serde_json::json;

use crate::helpers::*;
use crate::on_both_backends;

const BINNENSTAD: &str = "BU07721110";
const WITTE_DAME: &str = "BU07721130";
const BERGEN: &str = "BU07721120";
const MARKER: &str = "Bankje-bij-de-speeltuin";

/// Answers with an idea in Centrum: Binnenstad 20, Witte Dame 12, Bergen 3
/// (under k, so one of the others is hidden with it). Returns the app, the
/// buurt of the two left shown and the one hidden with Bergen.
async fn with_texts(backend: Backend) -> (TestApp, &'static str, &'static str) {
    let app = spawn_app(backend).await;
    for (buurt, count) in [(BINNENSTAD, 20), (WITTE_DAME, 12), (BERGEN, 3)] {
        for i in 0..count {
            let body = json!({ "buurt": buurt, "answers": {
                "tevredenheid_leven": 7, "geluk": 7, "idee_buurt": format!("{MARKER} {buurt} {i:02}") } });
            let (status, body) = app.submit("geluk", &body).await;
            assert_eq!(status, 201, "{body}");
        }
    }
    let results = app.results("buurt").await;
    let shown = [BINNENSTAD, WITTE_DAME].into_iter().find(|c| area(&results, c)["suppressed"] == false).unwrap();
    let hidden = if shown == BINNENSTAD { WITTE_DAME } else { BINNENSTAD };
    assert_eq!(area(&results, hidden)["suppressed"], true);
    (app, shown, hidden)
}

fn audit_lines(app: &TestApp, action: &str) -> Vec<(Option<i32>, String)> {
    use buurtpeil::db::schema::audit_log as al;
    use diesel::prelude::*;
    al::table.filter(al::action.eq(action)).select((al::user_id, al::subject)).load(&mut app.db.connect()).unwrap()
}

fn assign(app: &TestApp, email: &str, areas: &[&str]) -> i32 {
    let id = find_by_email(&mut app.db.connect(), &EmailAddress::parse(email).unwrap()).unwrap().unwrap().id;
    let codes: Vec<_> = areas.iter().map(|a| buurtpeil::area::AreaCode::parse_any(a).unwrap()).collect();
    buurtpeil::talent::access::assign(&mut app.db.connect(), id, &codes).unwrap();
    id.0
}

async fn free_text_is_read_only_in_scope_above_k_and_logged(backend: Backend) {
    let (app, shown, hidden) = with_texts(backend).await;
    let n = if shown == BINNENSTAD { 20 } else { 12 };
    let path = |code: &str| format!("/resultaten/geluk/open-antwoorden/{code}");

    // Not logged in: to the login page; no text anywhere.
    let res = app.get(&path(shown)).await;
    assert_eq!(res.status().as_u16(), 303);

    // A professional with Centrum (the wijk of Witte Dame and Bergen).
    let v = app.logged_in("wijkmanager@example.nl", Role::Professional).await;
    let uid = assign(&app, "wijkmanager@example.nl", &["WK077211"]);
    let res = v.get(&path(shown)).await;
    assert_eq!(res.status().as_u16(), 200);
    let warning = res.text().await.unwrap();
    assert!(warning.contains("open antwoorden kunnen mensen herkenbaar maken"), "{warning}");
    assert!(!warning.contains(MARKER), "the warning comes first, without texts");
    assert!(audit_lines(&app, "open_antwoorden_gelezen").is_empty(), "a warning is not a reading");

    let res = v.post_from(&path(shown), &path(shown), &[("meting", "")]).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let html = res.text().await.unwrap();
    assert_eq!(html.matches(&format!("{MARKER} {shown}")).count(), n, "every idea of the buurt: {html}");
    assert_eq!(html.matches(MARKER).count(), n, "nothing of other buurten");
    let first = html.find(&format!("{MARKER} {shown} 00")).unwrap();
    let last = html.find(&format!("{MARKER} {shown} 11")).unwrap();
    assert!(first < last, "sorted, whatever order they came in");
    assert_eq!(
        audit_lines(&app, "open_antwoorden_gelezen"),
        vec![(Some(uid), format!("open antwoorden geluk {shown}"))],
        "the reading is logged with who read what"
    );

    // Bergen, and the buurt hidden with it: in scope, but refused, and
    // nothing shown.
    for code in [BERGEN, hidden] {
        for res in [v.get(&path(code)).await, v.post_from(&path(shown), &path(code), &[]).await] {
            assert_eq!(res.status().as_u16(), 403);
            let html = res.text().await.unwrap();
            assert!(html.contains("te weinig mensen") && !html.contains(MARKER), "{html}");
        }
    }
    // The wijk: every buurt in scope, the wijk shown: its texts.
    let html = v.post_from(&path("WK077211"), &path("WK077211"), &[]).await.text().await.unwrap();
    assert_eq!(html.matches(MARKER).count(), 35, "the wijk's texts, Bergen's among the wijk's: {html}");

    // Another professional, with another wijk: refused, and the attempt logged.
    let other = app.logged_in("elders@example.nl", Role::Professional).await;
    let other_id = assign(&app, "elders@example.nl", &["WK077221"]);
    for res in [other.get(&path(shown)).await, other.post_from("/beheer", &path(shown), &[]).await] {
        assert_eq!(res.status().as_u16(), 403);
        let html = res.text().await.unwrap();
        assert!(html.contains("hoort niet (helemaal) bij de gebieden van uw account") && !html.contains(MARKER));
    }
    let refused = audit_lines(&app, "toegang_geweigerd");
    assert!(refused.contains(&(Some(other_id), format!("open antwoorden geluk {shown}"))), "{refused:?}");
    // A council member may not read texts at all.
    let council = app.logged_in("raad@example.nl", Role::Council).await;
    assign(&app, "raad@example.nl", &["WK077211"]);
    assert_eq!(council.get(&path(shown)).await.status().as_u16(), 403);
    // A form without its CSRF token shows nothing.
    let res = v.post(&path(shown), &[("csrf", "nep")]).await;
    assert_eq!(res.status().as_u16(), 403);
    assert!(!res.text().await.unwrap().contains(MARKER));
    // Unknown areas, waves and questionnaires: 404.
    for bad in [
        path("BU99999999"),
        path("rommel"),
        format!("{}?meting=abc", path(shown)),
        format!("{}?meting=99", path(shown)),
        "/resultaten/talentenscan/open-antwoorden/BU07721130".to_string(),
    ] {
        assert_eq!(v.get(&bad).await.status().as_u16(), 404, "{bad}");
    }
    assert_eq!(audit_lines(&app, "open_antwoorden_gelezen").len(), 2, "the buurt and the wijk, nothing else");
}
on_both_backends!(free_text_is_read_only_in_scope_above_k_and_logged);

/// The public pages, the API and the exports never carry a free-text answer.
async fn free_text_never_reaches_public_outputs(backend: Backend) {
    let (app, shown, _) = with_texts(backend).await;
    let mut paths = vec![
        "/r/geluk".to_string(),
        format!("/r/geluk?niveau=buurt&gebied={shown}"),
        format!("/r/geluk?vraag=idee_buurt&niveau=buurt&gebied={shown}"),
        format!("/resultaten/geluk/rapport/{shown}"),
        "/resultaten/geluk/rapport/WK077211".to_string(),
        "/api/v1/questionnaires/geluk/results.csv?level=buurt".to_string(),
        "/api/v1/questionnaires/geluk/results.csv".to_string(),
    ];
    for level in ["buurt", "wijk", "gemeente"] {
        paths.push(format!("/api/v1/questionnaires/geluk/results?level={level}"));
        paths.push(format!("/api/v1/questionnaires/geluk/results/ranking?level={level}"));
        paths.push(format!("/api/v1/questionnaires/geluk/results/change?level={level}"));
    }
    for path in &paths {
        let res = app.get(path).await;
        let status = res.status().as_u16();
        let body = res.text().await.unwrap();
        assert!(status == 200 || path.contains("/change"), "{path}: {status} {body}");
        assert!(!body.contains(MARKER), "{path} carries a free-text answer");
    }
    // The XLSX is zipped: read its cells.
    let bytes = app.get("/api/v1/questionnaires/geluk/results.xlsx").await.bytes().await.unwrap();
    let text = xlsx_text(&bytes);
    assert!(text.contains(shown) && !text.contains(MARKER), "the XLSX carries a free-text answer");
    // The public report links to the texts, which need a login.
    let res = app.get(&format!("/resultaten/geluk/open-antwoorden/{shown}")).await;
    assert_eq!(res.status().as_u16(), 303);
}
on_both_backends!(free_text_never_reaches_public_outputs);

/// Every cell of every sheet of an XLSX, as text.
fn xlsx_text(bytes: &[u8]) -> String {
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut out = String::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).unwrap();
        for row in range.rows() {
            for cell in row {
                out.push_str(&cell.to_string());
                out.push('\t');
            }
        }
    }
    out
}
