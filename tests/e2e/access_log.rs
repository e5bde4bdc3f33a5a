//! No secret of a link reaches the access log, however the path is spelled:
//! the router decodes `%6D` and friends, so the log must hide what the
//! router sees.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::helpers::*;
use crate::invite::campaign_with_tokens;
use crate::on_both_backends;

/// Spellings of `/{prefix}/{token}{tail}` that a client may send.
fn spellings(prefix: &str, token: &str, tail: &str) -> Vec<String> {
    let first = prefix.as_bytes()[0];
    let mut encoded_token = format!("%{:02X}", token.as_bytes()[0]);
    encoded_token.push_str(&token[1..]);
    vec![
        format!("/{prefix}/{token}{tail}"),
        format!("/%{first:02X}{}/{token}{tail}", &prefix[1..]),
        format!("/%{:02x}{}/{token}{tail}", first, &prefix[1..]),
        format!("/{prefix}/{encoded_token}{tail}"),
        format!("//{prefix}//{token}{tail}"),
        format!("/{prefix}/{token}{tail}/"),
        format!("/{}/{token}{tail}", prefix.to_uppercase()),
        format!("/{}/{token}{tail}", prefix.replace('-', "%2D")),
    ]
}

async fn no_token_reaches_the_access_log(backend: Backend) {
    let db = TestDb::new(backend);
    let (invitation, private_link) = {
        use buurtpeil::questionnaire::{load_catalog, load_dir};
        let pool = buurtpeil::db::connect(&buurtpeil::db::DatabaseUrl::parse(&db.url).unwrap(), 1).unwrap();
        let mut conn = pool.get().unwrap();
        buurtpeil::demo::load_areas(&mut conn).unwrap();
        let catalog = load_catalog(&mut conn, &load_dir(&manifest_dir().join("questionnaires")).unwrap()).unwrap();
        let tree = buurtpeil::area::load_tree(&mut conn).unwrap();
        let scan = catalog.current(buurtpeil::talent::profile::SLUG).unwrap();
        let talent = buurtpeil::demo::seed_talent(&mut conn, scan, &tree).unwrap();
        let link = talent.profile_link.unwrap();
        let invitation = campaign_with_tokens(&db, "log", 1).remove(0).as_str().to_owned();
        (invitation, link.trim_start_matches("/mijn-talent/").to_owned())
    };
    let proposal = "ABCDEFGHJKMNPQRSTVWXYZ012345".to_owned();
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
    let status = |path: String| {
        let client = client.clone();
        let url = format!("{address}{path}");
        async move { client.get(url).send().await.unwrap().status().as_u16() }
    };

    // The router decodes: these reach the pages of the secret.
    assert_eq!(status(format!("/i/{invitation}")).await, 200);
    assert_eq!(status(format!("/%69/{invitation}")).await, 200);
    assert_eq!(status(format!("/mijn-talent/{private_link}")).await, 200);
    assert_eq!(status(format!("/%6Dijn-talent/{private_link}")).await, 200);
    assert_eq!(status(format!("/%6Dijn-talent/{private_link}/gegevens.json")).await, 200);
    let mut paths = spellings("i", &invitation, "");
    for tail in ["", "/gegevens.json", "/gegevens.html", "/wijzigen"] {
        paths.extend(spellings("mijn-talent", &private_link, tail));
    }
    paths.extend(spellings("voorstel", &proposal, ""));
    for path in paths {
        let code = status(path.clone()).await;
        assert!(code < 500, "{path}: {code}");
    }
    // Secrets sent in a form or a query string are not logged at all.
    let res = client.post(format!("{address}/mijn-talent")).form(&[("code", private_link.as_str())]).send().await;
    assert_eq!(res.unwrap().status().as_u16(), 303);
    status(format!("/s/geluk/verder?code={private_link}")).await;
    let res = client.post(format!("{address}/i/start")).form(&[("code", invitation.as_str())]).send().await;
    assert_eq!(res.unwrap().status().as_u16(), 303);

    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    server.kill().unwrap();
    server.wait().unwrap();
    let logged = std::fs::read_to_string(log.path()).unwrap();
    for shown in ["/i/…", "/mijn-talent/…", "/mijn-talent/…/gegevens.json", "/voorstel/…", "/i/start", "/mijn-talent "]
    {
        assert!(logged.contains(shown), "the access log is captured ({shown}): {logged}");
    }
    for token in [&invitation, &private_link, &proposal] {
        for part in [&token[..], &token[..10], &token[1..11], &token[10..20], &token[18..]] {
            assert!(!logged.contains(part), "{part} of a token is in the log: {logged}");
        }
    }
}
on_both_backends!(no_token_reaches_the_access_log);
