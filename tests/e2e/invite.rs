//! Invitations: one use per invitation under concurrency, clear pages for
//! bad tokens, no token in the access log, letters (PDF text and QR codes
//! decoded back to the links), e-mails over a real SMTP server that fails
//! mid-batch (no doubles, no losses), reminders once per round, purge.

use std::collections::{BTreeSet, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use buurtpeil::area::{AreaCode, Level};
use buurtpeil::auth::Role;
use buurtpeil::invite::{self, BaseUrl, CampaignName, InviteToken, Invitee, Issued, Landing};
use futures::future::join_all;

use crate::helpers::*;
use crate::on_both_backends;

fn today() -> chrono::NaiveDate {
    buurtpeil::clock::today()
}

fn invitee(key: &str, name: &str, buurt: &str, email: Option<&str>) -> Invitee {
    Invitee {
        person_key: key.into(),
        name: name.into(),
        street_line: "Markt 1 A".into(),
        postcode: "5611 AB".into(),
        city: "Eindhoven".into(),
        buurt: AreaCode::parse(Level::Buurt, buurt).unwrap(),
        email: email.map(str::to_owned),
    }
}

/// A campaign of `n` invitees in Binnenstad with a letter token each
/// (issued through the library, as `invite letters` does); returns the tokens.
pub(crate) fn campaign_with_tokens(db: &TestDb, name: &str, n: usize) -> Vec<InviteToken> {
    let mut conn = db.connect();
    let campaign = CampaignName::parse(name).unwrap();
    let people: Vec<Invitee> = (0..n).map(|i| invitee(&format!("p{i}"), "Zoë", "BU07721110", None)).collect();
    let base = BaseUrl::parse("http://peil.example.nl").unwrap();
    invite::create_invitations(&mut conn, &campaign, "geluk", &base, &people, today()).unwrap();
    let issued: Vec<Issued> = invite::letters_due(&mut conn, &campaign).unwrap().into_iter().map(Issued::new).collect();
    invite::record_letters(&mut conn, &issued, 0, today()).unwrap();
    issued.into_iter().map(|i| i.token).collect()
}

async fn one_use_under_concurrency(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = campaign_with_tokens(&app.db, "gelijktijdig", 1).remove(0);
    let landing = app.get(&format!("/i/{}", token.as_str())).await;
    assert_eq!(landing.status().as_u16(), 200);
    let html = landing.text().await.unwrap();
    assert!(html.contains("Binnenstad") && html.contains("Beginnen"), "{html}");
    // Looking does not use it.
    assert_eq!(app.get(&format!("/i/{}", token.display())).await.status().as_u16(), 200);

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let attempts = (0..100).map(|_| {
        let client = client.clone();
        let url = app.url("/i/start");
        let code = token.as_str().to_owned();
        async move {
            let res = client.post(url).form(&[("code", code.as_str())]).send().await.expect("an answer");
            (res.status().as_u16(), res.headers().get("location").map(|l| l.to_str().unwrap().to_owned()))
        }
    });
    let outcomes = join_all(attempts).await;
    let won: Vec<_> = outcomes.iter().filter(|(s, _)| *s == 303).collect();
    assert_eq!(won.len(), 1, "exactly one start: {outcomes:?}");
    assert_eq!(won[0].1.as_deref(), Some("/s/geluk/p/1"));
    assert!(outcomes.iter().all(|(s, _)| *s == 303 || *s == 410), "{outcomes:?}");
    let mut conn = app.db.connect();
    assert_eq!(count(&mut conn, "partial_responses"), 1);
    assert_eq!(invite::find_by_token(&mut conn, &token).unwrap(), Landing::Used);
    // Used: a clear page, 410, in Dutch and English.
    let res = app.get(&format!("/i/{}", token.as_str())).await;
    assert_eq!(res.status().as_u16(), 410);
    assert!(res.text().await.unwrap().contains("al gebruikt"));
    let res = app.get(&format!("/i/{}?lang=en", token.as_str())).await;
    assert!(res.text().await.unwrap().contains("already been used"));
}
on_both_backends!(one_use_under_concurrency);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invited_resident_answers_anonymously_and_bad_tokens_get_clear_pages() {
    let app = spawn_app(Backend::Sqlite).await;
    let tokens = campaign_with_tokens(&app.db, "buurt-2026", 3);

    // The whole way: link, start, answer, thanks; the response knows only buurt and date.
    let r = app.resident();
    let res = r.post("/i/start", &[("code", tokens[0].as_str())]).await;
    assert_eq!(res.status().as_u16(), 303);
    let res = r.next("geluk", 1, &[("q_tevredenheid_leven", "8"), ("q_geluk", "7")]).await;
    assert_eq!(res.status().as_u16(), 303, "{}", res.text().await.unwrap());
    let mut at = location(&res);
    while !at.contains("bedankt") {
        let n: usize = at.rsplit('/').next().unwrap().split('?').next().unwrap().parse().unwrap();
        let res = r.next("geluk", n, &[]).await;
        assert_eq!(res.status().as_u16(), 303, "{}", res.text().await.unwrap());
        at = location(&res);
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let results = app.results("buurt").await;
    assert!(results.to_string().contains("BU07721110"));
    let mut conn = app.db.connect();
    assert_eq!(count(&mut conn, "responses"), 1);

    // A typed code: case, spaces and dashes do not matter.
    let typed = tokens[1].display().to_lowercase().replace('-', " ");
    let res = app.resident().post("/i", &[("code", &typed)]).await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().await.unwrap().contains("Binnenstad"));

    // Bad input: clear pages, never a 500, nothing echoed unescaped.
    let unknown = InviteToken::generate();
    for (path, status) in [
        (format!("/i/{}", unknown.as_str()), 404),
        ("/i/nonsense".to_owned(), 404),
        (format!("/i/{}", "Z".repeat(5000)), 404),
        (format!("/i/{}", &tokens[2].as_str()[..27]), 404),
        ("/i/%3Cscript%3E".to_owned(), 404),
        ("/i".to_owned(), 200),
    ] {
        let res = app.get(&path).await;
        assert_eq!(res.status().as_u16(), status, "{path}");
        let body = res.text().await.unwrap();
        assert!(!body.contains("<script>"), "{path}");
        if status == 404 {
            assert!(body.contains("kennen we niet"), "{path}: {body}");
        }
    }
    for (form, status, text) in [
        (vec![("code", "<script>alert(1)</script>")], 404, "&lt;script&gt;"),
        (vec![("code", "")], 400, "Vul de code in"),
        (vec![("code", unknown.as_str())], 404, "kennen we niet"),
        (vec![("code", tokens[0].as_str())], 410, "al gebruikt"),
    ] {
        let res = app.resident().post("/i", &form).await;
        assert_eq!(res.status().as_u16(), status, "{form:?}");
        assert!(res.text().await.unwrap().contains(text), "{form:?}");
    }
    for form in [vec![("code", "x")], vec![], vec![("code", unknown.as_str())]] {
        let res = app.resident().post("/i/start", &form).await;
        assert_eq!(res.status().as_u16(), 404, "{form:?}");
    }

    // The council sees counts per buurt; a professional may not.
    let council = app.logged_in("raad@example.nl", Role::Council).await;
    let res = council.get("/beheer/campagnes/buurt-2026").await;
    assert_eq!(res.status().as_u16(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("Binnenstad") && page.contains("33 %"), "{page}");
    assert!(!page.contains("Zoë"), "no names on the page");
    assert!(council.get("/beheer/campagnes").await.text().await.unwrap().contains("buurt-2026"));
    assert_eq!(council.get("/beheer/campagnes/bestaat-niet").await.status().as_u16(), 404);
    assert_eq!(council.get("/beheer/campagnes/..%2Fx").await.status().as_u16(), 404);
    let professional = app.logged_in("wijk@example.nl", Role::Professional).await;
    assert_eq!(professional.get("/beheer/campagnes/buurt-2026").await.status().as_u16(), 403);
    assert_eq!(app.resident().get("/beheer/campagnes/buurt-2026").await.status().as_u16(), 303);
}

fn buurtpeil(db_url: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_buurtpeil"));
    cmd.args(args)
        .env("DATABASE_URL", db_url)
        .env("BUURTPEIL_QUESTIONNAIRES", manifest_dir().join("questionnaires"))
        .env("RUST_LOG", "warn")
        .env_remove("SMTP_URL")
        .env_remove("BUURTPEIL_MAIL_FROM");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_never_reaches_the_access_log() {
    let db = TestDb::new(Backend::Sqlite);
    buurtpeil::demo::load_areas(&mut buurtpeil::db::connect(&DatabaseUrlOf(&db).parse(), 1).unwrap().get().unwrap())
        .unwrap();
    let tokens = campaign_with_tokens(&db, "log", 1);
    let token = tokens[0].as_str().to_owned();
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_buurtpeil"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", &db.url)
        .env("BUURTPEIL_QUESTIONNAIRES", manifest_dir().join("questionnaires"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(log.reopen().unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let address = line.split_whitespace().find(|w| w.starts_with("http://")).expect("the address").to_owned();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    assert_eq!(client.get(format!("{address}/i/{token}")).send().await.unwrap().status().as_u16(), 200);
    assert_eq!(client.get(format!("{address}/i/{token}?lang=en")).send().await.unwrap().status().as_u16(), 200);
    let res = client.post(format!("{address}/i/start")).form(&[("code", token.as_str())]).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let res = client.post(format!("{address}/i")).form(&[("code", tokens[0].display())]).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 410);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    server.kill().unwrap();
    server.wait().unwrap();
    let logged = std::fs::read_to_string(log.path()).unwrap();
    assert!(logged.contains("/i/…"), "the access log is captured: {logged}");
    assert!(logged.contains("/i/start"), "{logged}");
    let code = tokens[0].display();
    assert!(!logged.contains(&token) && !logged.contains(&code), "the token leaked into the log: {logged}");
    assert!(!logged.contains(&token[..12]), "{logged}");
}

/// `TestDb`'s URL as a `DatabaseUrl`.
struct DatabaseUrlOf<'a>(&'a TestDb);

impl DatabaseUrlOf<'_> {
    fn parse(&self) -> buurtpeil::db::DatabaseUrl {
        buurtpeil::db::DatabaseUrl::parse(&self.0.url).unwrap()
    }
}

fn need_tool(tool: &str) {
    let found = Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().unwrap().status.success();
    assert!(
        found,
        "{tool} is missing: run the tests with scripts/test.sh, which installs poppler-utils and zbar-tools"
    );
}

/// Every `…/i/TOKEN` link in a text.
fn links(text: &str) -> BTreeSet<String> {
    text.split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
        .filter_map(|w| w.find("http").map(|i| &w[i..]))
        .filter(|w| w.contains("/i/"))
        .map(|w| w.trim_start_matches("QR-Code:").to_owned())
        .collect()
}

fn token_of(link: &str) -> InviteToken {
    InviteToken::parse(link.rsplit('/').next().unwrap()).unwrap()
}

/// The links in a letters PDF: from its text (pdftotext) and from its QR
/// codes (pdftoppm, then zbarimg); both must agree.
fn pdf_links(pdf: &Path) -> (String, BTreeSet<String>) {
    need_tool("pdftotext");
    need_tool("pdftoppm");
    need_tool("zbarimg");
    let out = Command::new("pdftotext").args(["-layout"]).arg(pdf).arg("-").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("page");
    assert!(Command::new("pdftoppm").args(["-r", "150", "-png"]).arg(pdf).arg(&prefix).status().unwrap().success());
    let mut pngs: Vec<PathBuf> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
    pngs.sort();
    let out = Command::new("zbarimg").args(["-q", "--raw"]).args(&pngs).output().unwrap();
    let decoded: BTreeSet<String> = String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect();
    assert_eq!(decoded.len(), pngs.len(), "one QR code per page: {decoded:?}");
    assert_eq!(decoded, links(&text), "the QR codes say what the text says");
    (text, decoded)
}

async fn letters_decode_to_the_right_links(backend: Backend) {
    let db = TestDb::new(backend);
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| buurtpeil(&db.url, args, &[]);
    let areas = manifest_dir().join("data/cbs/eindhoven_buurten_2024.csv");
    assert!(run(&["areas", "import", areas.to_str().unwrap()]).status.success());
    let csv = dir.path().join("uitgenodigd.csv");
    std::fs::write(
        &csv,
        "person_key;naam;adres;postcode;woonplaats;buurt;email\n\
         a1;Zoë Ëlberg;Markt 1 A;5611ab;Eindhoven;BU07721110;\n\
         a2;Ïsa <script>alert(1)</script> Bakker;Kerkstraat 2;5611 AC;Eindhoven;BU07721120;isa@example.nl\n\
         a3;Jan (%PDF) \\ Janssen);Stratumseind 3-b;5611 ET;Eindhoven;BU07721110;\n",
    )
    .unwrap();
    let create = ["invite", "create", "--campaign", "brief", "--questionnaire", "geluk"];
    let mut args = create.to_vec();
    args.extend(["--base-url", "https://peil.example.nl/", "--from", csv.to_str().unwrap()]);
    let out = run(&args);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("3 invitations added"));
    // Bad input: clear messages, non-zero exits.
    for (bad_args, expected) in [
        (vec!["--campaign", "Brief 1"], "campaign name"),
        (vec!["--questionnaire", "bestaat-niet"], "no questionnaire"),
        (vec!["--base-url", "peil.example.nl"], "base URL"),
    ] {
        let mut a = args.clone();
        for pair in bad_args.chunks(2) {
            let i = a.iter().position(|x| *x == pair[0]).unwrap();
            a[i + 1] = pair[1];
        }
        let out = run(&a);
        assert!(!out.status.success() && text(&out).contains(expected), "{bad_args:?}: {}", text(&out));
    }

    let pdf = dir.path().join("brieven.pdf");
    let out = run(&["invite", "letters", "--campaign", "brief", "--out", pdf.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("3 letters"), "{}", text(&out));
    let (content, found) = pdf_links(&pdf);
    assert_eq!(found.len(), 3);
    for expected in [
        "Zoë Ëlberg",
        "Ïsa <script>alert(1)</script> Bakker",
        "Jan (%PDF) \\ Janssen)",
        "5611 AB",
        "EINDHOVEN",
        "één keer",
        "Binnenstad",
    ] {
        assert!(content.contains(expected), "{expected} in {content}");
    }
    let mut conn = db.connect();
    for link in &found {
        assert!(link.starts_with("https://peil.example.nl/i/"), "{link}");
        let token = token_of(link);
        assert!(content.contains(&token.display()), "the code to type is printed");
        assert!(matches!(invite::find_by_token(&mut conn, &token).unwrap(), Landing::Open { .. }));
    }
    // Printing again prints nothing new: a token is only known once.
    let again = dir.path().join("nogmaals.pdf");
    let out = run(&["invite", "letters", "--campaign", "brief", "--out", again.to_str().unwrap()]);
    assert!(out.status.success() && text(&out).contains("nothing printed"), "{}", text(&out));
    assert!(!again.exists());

    // A lost letter: a new token; the old one is void.
    let old = found.iter().map(|l| token_of(l)).collect::<Vec<_>>();
    let reprint = dir.path().join("a1.pdf");
    let out = run(&["invite", "letters", "--campaign", "brief", "--out", reprint.to_str().unwrap(), "--reprint", "a1"]);
    assert!(out.status.success(), "{}", text(&out));
    let (content, new) = pdf_links(&reprint);
    assert!(content.contains("Zoë Ëlberg"));
    let new = token_of(new.iter().next().unwrap());
    let replaced = old.iter().filter(|t| invite::find_by_token(&mut conn, t).unwrap() == Landing::Replaced).count();
    assert_eq!(replaced, 1);
    assert!(matches!(invite::find_by_token(&mut conn, &new).unwrap(), Landing::Open { .. }));

    // A custom template; a broken one is refused with its problem.
    let template = dir.path().join("brief.txt");
    std::fs::write(&template, "Hallo {{ naam }} uit {{ gemeente }}: {{ link }} {{ code }}").unwrap();
    let out = run(&[
        "invite",
        "letters",
        "--campaign",
        "brief",
        "--out",
        reprint.to_str().unwrap(),
        "--reprint",
        "a2",
        "--template",
        template.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(pdf_links(&reprint).0.contains("Hallo Ïsa"));
    std::fs::write(&template, "Hallo {{ naam ").unwrap();
    let out = run(&[
        "invite",
        "letters",
        "--campaign",
        "brief",
        "--out",
        reprint.to_str().unwrap(),
        "--reprint",
        "a3",
        "--template",
        template.to_str().unwrap(),
    ]);
    assert!(!out.status.success() && text(&out).contains("template"), "{}", text(&out));
    let out = run(&["invite", "letters", "--campaign", "geen", "--out", reprint.to_str().unwrap()]);
    assert!(!out.status.success() && text(&out).contains("has no invitations"), "{}", text(&out));

    // Status and purge: counts stay, contacts go.
    let out = run(&["invite", "status", "--campaign", "brief"]);
    assert!(out.status.success() && text(&out).contains("Binnenstad"), "{}", text(&out));
    let out = run(&["invite", "purge", "--campaign", "brief"]);
    assert!(out.status.success(), "{}", text(&out));
    let status = invite::campaign_status(&mut conn, &CampaignName::parse("brief").unwrap()).unwrap().unwrap();
    assert_eq!((status.total.invitations, status.total.invited, status.purged), (3, 3, 3));
    let names: i64 = {
        use buurtpeil::db::schema::invitations as inv;
        use diesel::prelude::*;
        inv::table
            .filter(inv::name.ne("").or(inv::email.is_not_null()).or(inv::person_key.is_not_null()))
            .count()
            .get_result(&mut conn)
            .unwrap()
    };
    assert_eq!(names, 0, "no contact data left");
}
on_both_backends!(letters_decode_to_the_right_links);

async fn emails_resume_without_doubles_or_losses(backend: Backend) {
    let db = TestDb::new(backend);
    let dir = tempfile::tempdir().unwrap();
    let mail = dir.path().join("mail.jsonl");
    let run = |args: &[&str], smtp: Option<&Smtp>| {
        let url = smtp.map(Smtp::url).unwrap_or_default();
        let mut env = vec![("BUURTPEIL_MAIL_FROM", "Gemeente Eindhoven <onderzoek@eindhoven.example>")];
        if smtp.is_some() {
            env.push(("SMTP_URL", url.as_str()));
        }
        buurtpeil(&db.url, args, &env)
    };
    let areas = manifest_dir().join("data/cbs/eindhoven_buurten_2024.csv");
    assert!(run(&["areas", "import", areas.to_str().unwrap()], None).status.success());
    let mut csv = String::from("person_key,name,street_line,postcode,city,buurt,email\n");
    for i in 0..10 {
        csv.push_str(&format!("m{i},Bewoner {i} <b>&amp;,Markt {i},5611 AB,Eindhoven,BU07721110,b{i}@example.nl\n"));
    }
    csv.push_str("zonder,Zonder Mail,Markt 99,5611 AB,Eindhoven,BU07721120,\n");
    let file = dir.path().join("mail.csv");
    std::fs::write(&file, csv).unwrap();
    let out = run(
        &[
            "invite",
            "create",
            "--campaign",
            "mail",
            "--questionnaire",
            "geluk",
            "--base-url",
            "http://127.0.0.1:9",
            "--from",
            file.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));

    let send = ["invite", "send", "--campaign", "mail"];
    let out = run(&send, None);
    assert!(!out.status.success() && text(&out).contains("SMTP_URL"), "{}", text(&out));

    // 1: the server takes 3, then says 451 (try later): the run stops.
    let smtp = Smtp::start(&mail, Some((3, 451)));
    let out = run(&send, Some(&smtp));
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("10 new e-mails queued") && text(&out).contains("451"), "{}", text(&out));
    assert_eq!(received(&mail).len(), 3);
    drop(smtp);
    // 2: 2 more, then 554 for the rest: refused, still queued.
    let smtp = Smtp::start(&mail, Some((2, 554)));
    let out = run(&send, Some(&smtp));
    assert!(!out.status.success() && text(&out).contains("554"), "{}", text(&out));
    assert!(text(&out).contains("0 new e-mails queued"), "{}", text(&out));
    assert_eq!(received(&mail).len(), 5);
    drop(smtp);
    // The server is down: a clear error, nothing lost.
    let down = Smtp::start(&mail, None);
    let down_url = down.url();
    drop(down);
    let out = buurtpeil(&db.url, &send, &[("SMTP_URL", &down_url), ("BUURTPEIL_MAIL_FROM", "x@example.nl")]);
    assert!(!out.status.success() && text(&out).contains("mail server"), "{}", text(&out));
    // 3: a healthy server: the rest, and only the rest.
    let smtp = Smtp::start(&mail, None);
    let out = run(&send, Some(&smtp));
    assert!(out.status.success(), "{}", text(&out));
    let got = received(&mail);
    assert_eq!(got.len(), 10, "no losses");
    let recipients: HashSet<String> = got.iter().map(|m| m["to"][0].as_str().unwrap().to_owned()).collect();
    assert_eq!(recipients.len(), 10, "no doubles");
    // Again: nothing new.
    let out = run(&send, Some(&smtp));
    assert!(out.status.success() && text(&out).contains("0 e-mails sent"), "{}", text(&out));
    assert_eq!(received(&mail).len(), 10);

    // Contents: plain and HTML, the link and the code; the name escaped in HTML.
    let mut conn = db.connect();
    let m = &got[0];
    let (plain, html) = (m["text"].as_str().unwrap(), m["html"].as_str().unwrap());
    assert!(m["subject"].as_str().unwrap().contains("Uitnodiging"));
    assert!(plain.contains("Bewoner 0 <b>&amp;") && html.contains("Bewoner 0 &lt;b&gt;&amp;amp;"), "{html}");
    let link = links(plain).into_iter().next().expect("a link");
    // tera escapes `/` in HTML as `&#x2F;`, which mail clients read as `/`.
    let html = html.replace("&#x2F;", "/");
    assert!(html.contains(&format!("href=\"{link}\"")), "{html}");
    let token = token_of(&link);
    assert!(plain.contains(&token.display()) && html.contains(&token.display()));
    assert!(matches!(invite::find_by_token(&mut conn, &token).unwrap(), Landing::Open { .. }));
    // Sent messages no longer hold their token.
    use buurtpeil::db::schema::invitation_outbox as ob;
    use diesel::prelude::*;
    let kept: i64 = ob::table.filter(ob::body_text.ne("")).count().get_result(&mut conn).unwrap();
    assert_eq!(kept, 0);

    // Reminders: once per round, not to those who used their invitation.
    let used = got.iter().find(|m| m["to"][0] == "b1@example.nl").unwrap();
    let used_token = token_of(&links(used["text"].as_str().unwrap()).into_iter().next().unwrap());
    let Landing::Open { invitation_id, .. } = invite::find_by_token(&mut conn, &used_token).unwrap() else { panic!() };
    assert!(invite::mark_used(&mut conn, invitation_id, today()).unwrap());
    let letters = dir.path().join("herinnering.pdf");
    let remind =
        ["invite", "remind", "--campaign", "mail", "--after-days", "0", "--letters-out", letters.to_str().unwrap()];
    let out = run(&remind, Some(&smtp));
    assert!(out.status.success(), "{}", text(&out));
    // Nobody had a letter yet, and reminders by letter only go to those
    // without an address who were reached.
    assert!(text(&out).contains("9 e-mails queued, 0 letters printed"), "{}", text(&out));
    let got = received(&mail);
    assert_eq!(got.len(), 19);
    assert!(got[10..].iter().all(|m| m["subject"].as_str().unwrap().contains("Herinnering")));
    assert!(got[10..].iter().all(|m| m["to"][0] != "b1@example.nl"));
    let out = run(&remind, Some(&smtp));
    assert!(out.status.success() && text(&out).contains("0 e-mails queued"), "{}", text(&out));
    let out = run(&["invite", "remind", "--campaign", "mail", "--after-days", "30"], Some(&smtp));
    assert!(out.status.success() && text(&out).contains("0 e-mails queued"), "{}", text(&out));
    assert_eq!(received(&mail).len(), 19);
    // A letter for the one without e-mail, then a reminder letter in round 2.
    let pdf = dir.path().join("brief.pdf");
    assert!(run(&["invite", "letters", "--campaign", "mail", "--out", pdf.to_str().unwrap()], None).status.success());
    let out = run(
        &[
            "invite",
            "remind",
            "--campaign",
            "mail",
            "--after-days",
            "0",
            "--round",
            "2",
            "--letters-out",
            letters.to_str().unwrap(),
        ],
        Some(&smtp),
    );
    assert!(out.status.success() && text(&out).contains("9 e-mails queued, 1 letters printed"), "{}", text(&out));
    assert!(pdf_links(&letters).0.contains("Herinnering"));
    let out = run(&["invite", "status", "--campaign", "mail"], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("outbox email: sent 28"), "{}", text(&out));
}
on_both_backends!(emails_resume_without_doubles_or_losses);

/// A resident drawn by lot signs up for the panel through their letter:
/// consent, the quota questions, contact; stored with the invitation's buurt
/// among the identified responses, nothing among anonymous ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drawn_resident_signs_up_for_the_panel() {
    let app = spawn_app(Backend::Sqlite).await;
    let mut conn = app.db.connect();
    let campaign = CampaignName::parse("g1000-2027").unwrap();
    let people = vec![invitee("p1", "Samira", "BU07721130", None)];
    let base = BaseUrl::parse("http://peil.example.nl").unwrap();
    invite::create_invitations(&mut conn, &campaign, "panelaanmelding", &base, &people, today()).unwrap();
    let issued: Vec<Issued> = invite::letters_due(&mut conn, &campaign).unwrap().into_iter().map(Issued::new).collect();
    invite::record_letters(&mut conn, &issued, 0, today()).unwrap();
    let r = app.resident();
    // Consent first: the purpose is shown, and nothing starts without the tick.
    let res = r.post("/i/start", &[("code", issued[0].token.as_str())]).await;
    let html = res.text().await.unwrap();
    assert!(html.contains("Waarom we dit vragen") && html.contains("Zet een vinkje"));
    assert!(!html.contains("anoniem"), "a sign-up by name never claims to be anonymous");
    let res = r.post("/i/start", &[("code", issued[0].token.as_str()), ("toestemming", "ja")]).await;
    assert_eq!(res.status().as_u16(), 303, "{}", res.text().await.unwrap());
    let pages: [&[(&str, &str)]; 2] = [
        &[
            ("q_geslacht", "vrouw"),
            ("q_leeftijd", "van_25_tot_40"),
            ("q_opleiding", "hoog"),
            ("q_woonsituatie", "huur"),
            ("q_thuistaal", "andere"),
        ],
        &[("q_naam", "Samira"), ("q_email", "samira@example.org"), ("q_hulp_nodig", "no")],
    ];
    let mut at = location(&res);
    for fields in pages {
        let n: usize = at.rsplit('/').next().unwrap().split('?').next().unwrap().parse().unwrap();
        let res = r.next("panelaanmelding", n, fields).await;
        assert_eq!(res.status().as_u16(), 303, "{}", res.text().await.unwrap());
        at = location(&res);
    }
    assert_eq!(at, "/s/panelaanmelding/bedankt");
    assert_eq!(count(&mut conn, "identified_responses"), 1);
    assert_eq!(count(&mut conn, "responses"), 0);
    use buurtpeil::db::schema::identified_responses as ir;
    use diesel::prelude::*;
    let (buurt, answers): (String, String) = ir::table.select((ir::buurt, ir::answers)).first(&mut conn).unwrap();
    assert_eq!(buurt, "BU07721130", "the buurt came with the invitation");
    assert!(answers.contains("\"leeftijd\":\"van_25_tot_40\"") && answers.contains("samira@example.org"));
}

/// A database with Eindhoven's areas and a campaign `name` of `n` invitees
/// with an e-mail address each (`{prefix}{i}@example.nl`); the folder for
/// the test SMTP server's mail file.
fn campaign_with_emails(backend: Backend, name: &str, prefix: &str, n: usize) -> (TestDb, tempfile::TempDir) {
    let db = TestDb::new(backend);
    let dir = tempfile::tempdir().unwrap();
    let areas = manifest_dir().join("data/cbs/eindhoven_buurten_2024.csv");
    assert!(buurtpeil(&db.url, &["areas", "import", areas.to_str().unwrap()], &[]).status.success());
    let mut csv = String::from("person_key,name,street_line,postcode,city,buurt,email\n");
    for i in 0..n {
        csv.push_str(&format!(
            "{prefix}{i},Bewoner {i},Markt {i},5611 AB,Eindhoven,BU07721110,{prefix}{i}@example.nl\n"
        ));
    }
    let file = dir.path().join("people.csv");
    std::fs::write(&file, csv).unwrap();
    let create = [
        "invite",
        "create",
        "--campaign",
        name,
        "--questionnaire",
        "geluk",
        "--base-url",
        "http://127.0.0.1:9",
        "--from",
        file.to_str().unwrap(),
    ];
    let out = buurtpeil(&db.url, &create, &[]);
    assert!(out.status.success(), "{}", text(&out));
    (db, dir)
}

/// Two `invite send` at once on a fresh campaign (issue #15): neither fails
/// on the outbox's unique key, and every invitee gets one e-mail.
async fn two_senders_at_once_queue_and_send_each_mail_once(backend: Backend) {
    let (db, dir) = campaign_with_emails(backend, "samen", "p", 30);
    let mail = dir.path().join("mail.jsonl");
    let smtp = Smtp::start(&mail, None);
    let url = smtp.url();
    let send = |url: String, db: String| {
        std::thread::spawn(move || {
            buurtpeil(
                &db,
                &["invite", "send", "--campaign", "samen"],
                &[("SMTP_URL", url.as_str()), ("BUURTPEIL_MAIL_FROM", "Gemeente <onderzoek@gemeente.example>")],
            )
        })
    };
    let (a, b) = (send(url.clone(), db.url.clone()), send(url, db.url.clone()));
    for out in [a.join().unwrap(), b.join().unwrap()] {
        assert!(out.status.success(), "{}", text(&out));
    }
    let mut to: Vec<String> = received(&mail).iter().map(|m| m["to"].to_string()).collect();
    to.sort();
    let before = to.len();
    to.dedup();
    assert_eq!((before, to.len()), (30, 30), "each invitee once");
}
on_both_backends!(two_senders_at_once_queue_and_send_each_mail_once);

/// A mail whose outcome is unknown (the server took it but the connection
/// broke before it said so) is sent again only on request, and then with
/// the same Message-ID, so that servers and mail programs can drop the
/// double (issue #15).
async fn a_resend_after_an_unknown_outcome_keeps_its_message_id(backend: Backend) {
    let (db, dir) = campaign_with_emails(backend, "onbekend", "q", 3);
    let mail = dir.path().join("mail.jsonl");
    let send = |smtp: &Smtp, extra: &[&str]| {
        let mut args = vec!["invite", "send", "--campaign", "onbekend"];
        args.extend_from_slice(extra);
        let url = smtp.url();
        buurtpeil(
            &db.url,
            &args,
            &[("SMTP_URL", url.as_str()), ("BUURTPEIL_MAIL_FROM", "Gemeente <onderzoek@gemeente.example>")],
        )
    };
    // The first is answered; the second arrives but its answer is lost.
    let smtp = Smtp::dropping(&mail, 1);
    let out = send(&smtp, &[]);
    assert!(text(&out).contains("may or may not have arrived"), "{}", text(&out));
    drop(smtp);
    let first = received(&mail);
    assert!(first.len() >= 2, "{first:?}");
    // A plain rerun does not send it again; --retry-unknown does, as itself.
    let smtp = Smtp::start(&mail, None);
    let out = send(&smtp, &[]);
    let after_plain = received(&mail).len();
    let out2 = send(&smtp, &["--retry-unknown"]);
    assert!(out2.status.success(), "{}\n{}", text(&out), text(&out2));
    let all = received(&mail);
    let ids = |to: &str| -> Vec<String> {
        all.iter().filter(|m| m["to"][0] == to).map(|m| m["message_id"].as_str().unwrap().to_owned()).collect()
    };
    let twice: Vec<String> = (0..3).map(|i| format!("q{i}@example.nl")).filter(|to| ids(to).len() > 1).collect();
    assert!(!twice.is_empty(), "the unknown one went again: {all:?}");
    for to in &twice {
        let got = ids(to);
        assert!(got.windows(2).all(|w| w[0] == w[1]), "one Message-ID for every try of {to}: {got:?}");
        assert!(got[0].ends_with("@gemeente.example>"), "{got:?}");
    }
    let mut distinct: Vec<String> = (0..3).map(|i| ids(&format!("q{i}@example.nl"))[0].clone()).collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "each mail its own Message-ID");
    assert!(after_plain >= first.len(), "a plain rerun sends what was queued, not the unknown one again");
}
on_both_backends!(a_resend_after_an_unknown_outcome_keeps_its_message_id);
