//! A whole lottery campaign in the council's pages, over HTTP, on both
//! backends: upload a register and draw, verify the draw, print letters,
//! e-mail and remind through a real SMTP server, residents sign up with the
//! token of their e-mail, select a LEXIMIN panel (the same files as the
//! CLI), replace a member, publish (no personal data on the public page),
//! purge. Every form also gets wrong, missing, oversized and hostile input.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use buurtpeil::auth::Role;
use serde_json::Value;

use crate::helpers::*;
use crate::lottery::register_csv;
use crate::on_both_backends;

const CAMPAIGN: &str = "beraad-2027";
const SIGNUPS: usize = 12;

fn multipart(fields: &[(&str, &str)]) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    form
}

fn file(form: reqwest::multipart::Form, field: &str, name: &str, bytes: Vec<u8>) -> reqwest::multipart::Form {
    form.part(field.to_owned(), reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()))
}

/// Polls a page until `done` holds (the background work finished).
async fn wait_for(r: &Resident<'_>, path: &str, done: impl Fn(&str) -> bool) -> String {
    for _ in 0..240 {
        let html = r.get(path).await.text().await.unwrap();
        if done(&html) {
            return html;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("{path} did not finish");
}

/// The invitation tokens in the e-mails received so far, per address.
fn tokens(mail: &Path) -> Vec<(String, String)> {
    received(mail)
        .iter()
        .map(|m| {
            let text = m["text"].as_str().unwrap();
            let at = text.find("/i/").expect("a link in the e-mail") + 3;
            let token: String = text[at..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
            (m["to"][0].as_str().unwrap_or_default().to_owned(), token)
        })
        .collect()
}

async fn fetch(r: &Resident<'_>, path: String) -> reqwest::Response {
    r.get(&path).await
}

fn cli(db: &TestDb, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_buurtpeil")).env("DATABASE_URL", &db.url).args(args).output().unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

async fn the_council_runs_a_whole_campaign_in_the_web(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let mail = dir.path().join("mail.jsonl");
    let smtp = Smtp::start(&mail, None);
    let options = Options { mail: Some((smtp.url(), "Gemeente <onderzoek@gemeente.nl>".into())), ..Options::default() };
    let app = spawn_app_with(backend, options).await;
    let council = app.logged_in("griffie@eindhoven.nl", Role::Council).await;
    let base = format!("/beheer/campagnes/{CAMPAIGN}");

    // 1. Upload the register and draw 30.
    let register = register_csv(300);
    let csrf = csrf_of(&council.get("/beheer/loting").await.text().await.unwrap());
    let form = multipart(&[
        ("csrf", &csrf),
        ("campagne", CAMPAIGN),
        ("aantal", "30"),
        ("verdeling", "proportional"),
        ("minimumleeftijd", "16"),
        ("zaad", "raadsvergadering: 3 1 4 1 5"),
        ("zaadbron", "dobbelstenen in de raadszaal"),
    ]);
    let res = council
        .client
        .post(app.url("/beheer/loting"))
        .multipart(file(form, "register", "brp.csv", register.clone().into_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), format!("/beheer/loting/{CAMPAIGN}"));
    let protocol = council.get(&format!("/beheer/loting/{CAMPAIGN}/protocol.json")).await.text().await.unwrap();

    // 2. Verify the draw in the browser: a match, a mismatch, and bad files.
    let csrf = csrf_of(&council.get("/beheer/controleren").await.text().await.unwrap());
    let verify = |protocol: Option<Vec<u8>>, register: Option<Vec<u8>>, csrf: &str| {
        let mut form = multipart(&[("csrf", csrf)]);
        if let Some(p) = protocol {
            form = file(form, "protocol", "protocol.json", p);
        }
        if let Some(r) = register {
            form = file(form, "register", "brp.csv", r);
        }
        council.client.post(app.url("/beheer/controleren")).multipart(form).send()
    };
    let res = verify(Some(protocol.clone().into_bytes()), Some(register.clone().into_bytes()), &csrf).await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("MATCH") && !html.contains("MISMATCH"), "{html}");
    let tampered = register.replacen("1953-0", "1954-0", 1).into_bytes();
    let html = verify(Some(protocol.clone().into_bytes()), Some(tampered), &csrf).await.unwrap().text().await.unwrap();
    assert!(html.contains("MISMATCH") && html.contains("register hash"), "{html}");
    for (p, r, status, message) in [
        (None, Some(register.clone().into_bytes()), 422, "Kies zowel"),
        (Some(b"{\"not\": \"a protocol\"".to_vec()), Some(register.clone().into_bytes()), 422, "niet te lezen"),
        (Some(vec![0xff, 0xfe, 0x00]), Some(register.clone().into_bytes()), 422, "niet te lezen"),
        (Some(protocol.clone().into_bytes()), Some(b"<script>alert(1)</script>".to_vec()), 422, "niet te lezen"),
    ] {
        let res = verify(p, r, &csrf).await.unwrap();
        assert_eq!(res.status().as_u16(), status, "{message}");
        let html = res.text().await.unwrap();
        assert!(html.contains(message) && !html.contains("<script>alert"), "{message}: {html}");
    }
    assert_eq!(verify(None, None, "vals").await.unwrap().status().as_u16(), 403);

    // 3. Invite the people drawn and print their letters.
    let res = council
        .post_from(
            &format!("/beheer/loting/{CAMPAIGN}"),
            &format!("/beheer/loting/{CAMPAIGN}/uitnodigen"),
            &[("vragenlijst", "panelaanmelding"), ("basis", "https://peil.example.nl")],
        )
        .await;
    assert_eq!(location(&res), base);
    let res = council
        .post_from(&format!("/beheer/loting/{CAMPAIGN}"), &format!("/beheer/loting/{CAMPAIGN}/brieven"), &[])
        .await;
    assert!(res.bytes().await.unwrap().starts_with(b"%PDF"));

    // 4. E-mail everyone, in the background; sending again sends nothing twice.
    let res = council.post_from(&base, &format!("{base}/versturen"), &[]).await;
    assert_eq!(location(&res), base);
    let page = wait_for(&council, &base, |h| h.contains("Klaar met versturen")).await;
    assert!(page.contains("verstuurd: 30"), "{page}");
    assert_eq!(received(&mail).len(), 30);
    let res = council.post_from(&base, &format!("{base}/versturen"), &[]).await;
    assert_eq!(res.status().as_u16(), 303);
    wait_for(&council, &base, |h| h.contains("Klaar met versturen")).await;
    assert_eq!(received(&mail).len(), 30, "never twice");

    // 5. Residents land with the token of their e-mail and sign up.
    let invited = tokens(&mail);
    for (i, (_, token)) in invited.iter().take(SIGNUPS).enumerate() {
        let r = app.resident();
        let landing = r.get(&format!("/i/{token}")).await;
        assert_eq!(landing.status().as_u16(), 200);
        let res = r.post("/i/start", &[("code", token), ("toestemming", "ja")]).await;
        assert_eq!(res.status().as_u16(), 303, "{}", res.text().await.unwrap());
        let name = format!("Deelnemer Geheim{i}");
        let email = format!("geheim{i}@voorbeeld.nl");
        let pages: [Vec<(&str, &str)>; 2] = [
            vec![
                ("q_geslacht", ["vrouw", "man"][i % 2]),
                ("q_leeftijd", ["jonger_25", "van_25_tot_40", "van_55_tot_70"][i % 3]),
                ("q_opleiding", ["laag", "midden", "hoog"][i % 3]),
                ("q_woonsituatie", ["huur", "koop"][i % 2]),
                ("q_thuistaal", "nederlands"),
            ],
            vec![("q_naam", &name), ("q_email", &email), ("q_hulp_nodig", "no")],
        ];
        let mut at = location(&res);
        for fields in &pages {
            let n: usize = at.rsplit('/').next().unwrap().split('?').next().unwrap().parse().unwrap();
            let res = r.next("panelaanmelding", n, fields).await;
            assert_eq!(res.status().as_u16(), 303, "{}", res.text().await.unwrap());
            at = location(&res);
        }
        assert_eq!(at, "/s/panelaanmelding/bedankt");
    }

    // 6. Remind those who did not use their invitation: the form is checked.
    for (days, round, message) in [
        ("veertien", "1", "aantal dagen"),
        ("400", "1", "aantal dagen"),
        ("14", "0", "ronde"),
        ("", "1", "aantal dagen"),
    ] {
        let res = council.post_from(&base, &format!("{base}/herinneren"), &[("dagen", days), ("ronde", round)]).await;
        assert_eq!(res.status().as_u16(), 422, "{days} {round}");
        assert!(res.text().await.unwrap().contains(message), "{days} {round}");
    }
    assert_eq!(received(&mail).len(), 30, "a rejected form sends nothing");
    let res = council.post_from(&base, &format!("{base}/herinneren"), &[("dagen", "0"), ("ronde", "1")]).await;
    assert_eq!(location(&res), base);
    wait_for(&council, &base, |h| h.contains("Klaar met versturen")).await;
    let all = received(&mail);
    assert_eq!(all.len(), 30 + 30 - SIGNUPS, "a reminder for each unused invitation");
    assert!(all[30..].iter().all(|m| m["subject"].as_str().unwrap().starts_with("Herinnering")));
    let signed_up: Vec<&str> = invited[..SIGNUPS].iter().map(|(to, _)| to.as_str()).collect();
    assert!(
        all[30..].iter().all(|m| !signed_up.contains(&m["to"][0].as_str().unwrap())),
        "no reminder to who answered"
    );
    council.post_from(&base, &format!("{base}/herinneren"), &[("dagen", "0"), ("ronde", "1")]).await;
    wait_for(&council, &base, |h| h.contains("Klaar met versturen")).await;
    assert_eq!(received(&mail).len(), 30 + 30 - SIGNUPS, "a round once");

    // 7. The panel: the form shows the sign-ups; bad input is refused.
    let panel_path = format!("{base}/panel");
    let form_page = council.get(&panel_path).await.text().await.unwrap();
    assert!(form_page.contains(&format!("<strong>{SIGNUPS}</strong>")), "{form_page}");
    let csrf = csrf_of(&form_page);
    let seed = "publieke trekking 9 2 7";
    let good: Vec<(&str, &str)> = vec![
        ("csrf", &csrf),
        ("vragenlijst", "panelaanmelding"),
        ("grootte", "4"),
        ("zaad", seed),
        ("methode", "leximin"),
        ("gebruik.geslacht", "ja"),
        ("min.geslacht.vrouw", "2"),
        ("max.geslacht.vrouw", "2"),
        ("min.geslacht.man", "2"),
        ("max.geslacht.man", "2"),
        ("max.geslacht.anders", "0"),
    ];
    let with = |key: &'static str, value: &'static str| {
        let mut f: Vec<(&str, &str)> = good.iter().filter(|(k, _)| *k != key).cloned().collect();
        f.push((key, value));
        f
    };
    let post_panel = |fields: Vec<(&str, &str)>, features: Option<Vec<u8>>| {
        let mut form = multipart(&fields);
        if let Some(bytes) = features {
            form = file(form, "kenmerken", "features.csv", bytes);
        }
        council.client.post(app.url(&panel_path)).multipart(form).send()
    };
    let oversized = [b"feature,value,min,max\n".to_vec(), vec![b'x'; 2 * 1024 * 1024]].concat();
    for (fields, features, status, message) in [
        (with("grootte", "vier"), None, 422, "heel getal van 1 tot 1000"),
        (with("grootte", "13"), None, 422, "niet groter zijn dan het aantal aanmeldingen"),
        (with("zaad", ""), None, 422, "startgetal"),
        (with("methode", "dobbelen"), None, 422, "LEXIMIN"),
        (with("vragenlijst", "geluk"), None, 422, "aanmeldformulier"),
        (with("min.geslacht.vrouw", "3"), None, 422, "groter dan het maximum"),
        (with("max.geslacht.man", "-1"), None, 422, "heel getal van 0 tot 1000"),
        (with("huishouden", "adres"), None, 422, "adres"),
        (with("gebruik.geslacht", ""), None, 422, "minstens één kenmerk"),
        (good.clone(), Some(b"feature,value,min\ngeslacht,vrouw,1\n".to_vec()), 422, "max"),
        (good.clone(), Some(b"feature,value,min,max\ngeslacht,vrouw,3,1\n".to_vec()), 422, "line 2"),
        (good.clone(), Some(vec![0xff, 0xfe, 0x00, 0x01]), 422, "features.csv"),
        (good.clone(), Some(b"feature,value,min,max\ninkomen,hoog,0,4\n".to_vec()), 422, "inkomen"),
        (good.clone(), Some(b"feature,value,min,max\ngeslacht,vrouw,0,4\n".to_vec()), 422, "people.csv, line"),
        (good.clone(), Some(oversized), 413, "1 MB"),
        (with("csrf", "vals"), None, 403, ""),
    ] {
        let res = post_panel(fields, features).await.unwrap();
        assert_eq!(res.status().as_u16(), status, "{message}");
        assert!(res.text().await.unwrap().contains(message), "{message}");
    }
    assert_eq!(count(&mut app.db.connect(), "panel_selections"), 0, "nothing started by a rejected form");

    // Quotas no panel can meet: the explanation, not an error page.
    let impossible: Vec<(&str, &str)> = good
        .iter()
        .filter(|(k, _)| !k.contains(".geslacht.vrouw") && !k.contains(".geslacht.man"))
        .cloned()
        .chain([
            ("min.geslacht.vrouw", "3"),
            ("max.geslacht.vrouw", "3"),
            ("min.geslacht.man", "3"),
            ("max.geslacht.man", "3"),
        ])
        .collect();
    let res = post_panel(impossible, None).await.unwrap();
    let infeasible = location(&res);
    let page = wait_for(&council, &infeasible, |h| !h.contains("?verversen=nee")).await;
    assert!(page.contains("quota niet haalbaar") && page.contains("De quota zijn niet allemaal te halen"), "{page}");
    assert!(
        page.contains("<li>geslacht = ") && !page.contains("cannot all be met"),
        "in Dutch, quota by quota: {page}"
    );
    let english = council.get(&format!("{infeasible}?lang=en")).await.text().await.unwrap();
    assert!(english.contains("The quotas cannot all be met by a panel of"), "{english}");
    council.get(&format!("{infeasible}?lang=nl")).await; // back to Dutch for the rest

    // A LEXIMIN panel of 4: members with contact details for the council,
    // and exactly the files the CLI writes from the same sign-ups.
    let res = post_panel(good.clone(), None).await.unwrap();
    let selection = location(&res);
    let page = wait_for(&council, &selection, |h| !h.contains("?verversen=nee")).await;
    assert!(page.contains("klaar") && page.contains("Deelnemer Geheim") && page.contains("@voorbeeld.nl"), "{page}");
    let again = council.get(&selection).await.text().await.unwrap();
    assert_eq!(again.replace(&csrf_of(&again), ""), page.replace(&csrf_of(&page), ""), "the outcome survives a reload");
    let download = |name: &str| fetch(&council, format!("{selection}/{name}"));
    let web_panel = download("panel.csv").await.text().await.unwrap();
    let web_probabilities = download("probabilities.csv").await.text().await.unwrap();
    let web_protocol: Value = download("protocol.json").await.json().await.unwrap();
    assert_eq!(web_panel.lines().count(), 5, "{web_panel}");
    let total: f64 = web_probabilities.lines().skip(1).filter_map(|l| l.split(',').nth(1)?.parse::<f64>().ok()).sum();
    assert!((total - 4.0).abs() < 1e-6, "{web_probabilities}");
    let features = "feature,value,min,max\ngeslacht,vrouw,2,2\ngeslacht,man,2,2\ngeslacht,anders,0,0\n";
    assert_eq!(web_protocol["features_sha256"], sha256(features.as_bytes()));
    let people = dir.path().join("people.csv");
    let out = cli(&app.db, &["panel", "volunteers", "--out", people.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(web_protocol["people_sha256"], sha256(&std::fs::read(&people).unwrap()));
    std::fs::write(dir.path().join("features.csv"), features).unwrap();
    let out_dir = dir.path().join("cli");
    let out = cli(
        &app.db,
        &[
            "panel",
            "select",
            "--people",
            people.to_str().unwrap(),
            "--features",
            dir.path().join("features.csv").to_str().unwrap(),
            "--size",
            "4",
            "--seed",
            seed,
            "--out",
            out_dir.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(out_dir.join("panel.csv")).unwrap(), web_panel);
    assert_eq!(std::fs::read_to_string(out_dir.join("probabilities.csv")).unwrap(), web_probabilities);
    let web_reserves = download("reserves.csv").await.text().await.unwrap();
    assert!(web_reserves.starts_with("id,rank,replaces\n"), "{web_reserves}");
    assert_eq!(std::fs::read_to_string(out_dir.join("reserves.csv")).unwrap(), web_reserves);
    let mut cli_protocol: Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("protocol.json")).unwrap()).unwrap();
    let mut web_protocol_cmp = web_protocol.clone();
    cli_protocol["seconds"] = Value::Null;
    web_protocol_cmp["seconds"] = Value::Null;
    assert_eq!(cli_protocol, web_protocol_cmp);

    // A member drops out: a replacement, with the quotas kept.
    let member = web_protocol["panel"][0].as_str().unwrap().to_owned();
    for (fields, message) in [
        (vec![("zaad", "vervanging 1")], "Vink aan"),
        (vec![("uitgevallen", "999"), ("zaad", "vervanging 1")], "lid van dit panel"),
        (vec![("uitgevallen", member.as_str()), ("zaad", "")], "startgetal"),
    ] {
        let res = council.post_from(&selection, &format!("{selection}/vervangen"), &fields).await;
        assert_eq!(res.status().as_u16(), 422, "{message}");
        assert!(res.text().await.unwrap().contains(message), "{message}");
    }
    let res = council
        .post_from(&selection, &format!("{selection}/vervangen"), &[("uitgevallen", &member), ("zaad", "vervanging 1")])
        .await;
    let replacement = location(&res);
    let page = wait_for(&council, &replacement, |h| !h.contains("?verversen=nee")).await;
    assert!(page.contains("Vervanging") && page.contains("klaar"), "{page}");
    let replaced: Value = council.get(&format!("{replacement}/protocol.json")).await.json().await.unwrap();
    assert_eq!(replaced["mode"], "replacement");
    assert_eq!(replaced["dropped"][0], member.as_str());

    // 8. Publish: nothing public before; afterwards no personal data.
    let public = app.resident();
    assert_eq!(public.get(&format!("/campagnes/{CAMPAIGN}")).await.status().as_u16(), 404);
    let res = council.post_from(&base, &format!("{base}/publiceren"), &[]).await;
    assert_eq!(location(&res), format!("/campagnes/{CAMPAIGN}"));
    let res = public.get(&format!("/campagnes/{CAMPAIGN}")).await;
    assert_eq!(res.status().as_u16(), 200);
    let page = res.text().await.unwrap();
    let draw: Value = serde_json::from_str(&protocol).unwrap();
    assert!(page.contains(draw["register"]["hash"].as_str().unwrap()) && page.contains("dobbelstenen in de raadszaal"));
    assert!(page.contains(seed) && page.contains("v-"), "{page}");
    let loting = public.get(&format!("/campagnes/{CAMPAIGN}/loting.json")).await.text().await.unwrap();
    assert_eq!(loting, protocol, "the protocol as drawn");
    let id = selection.rsplit('/').next().unwrap();
    let published = public.get(&format!("/campagnes/{CAMPAIGN}/panel-{id}.json")).await.text().await.unwrap();
    let published_json: Value = serde_json::from_str(&published).unwrap();
    assert_eq!(published_json["probabilities"].as_array().unwrap().len(), SIGNUPS);
    let ids: Vec<String> = web_probabilities.lines().skip(1).map(|l| l.split(',').next().unwrap().to_owned()).collect();
    for text in [&page, &published] {
        for secret in
            ["Geheim", "voorbeeld.nl", "Jansen", "Dorpsstraat", "example.nl", "huur", "van_25_tot_40", "opleiding"]
        {
            assert!(!text.contains(secret), "{secret} is public");
        }
        for id in &ids {
            assert!(!text.contains(id.as_str()), "volunteer id {id} is public");
        }
    }

    // 9. Purge, after typing the campaign's name.
    let purge = format!("{base}/wissen");
    let res = council.post_from(&purge, &purge, &[("bevestig", "iets anders")]).await;
    assert_eq!(res.status().as_u16(), 422);
    assert_eq!(download("panel.csv").await.status().as_u16(), 200, "nothing erased yet");
    let res = council.post_from(&purge, &purge, &[("bevestig", CAMPAIGN)]).await;
    assert_eq!(location(&res), format!("{purge}?gewist=1"));
    assert_eq!(download("panel.csv").await.status().as_u16(), 410);
    assert_eq!(download("probabilities.csv").await.status().as_u16(), 200, "the probabilities stay");
    let mut conn = app.db.connect();
    assert_eq!(count(&mut conn, "register_people"), 0);
    let left: i64 = {
        use buurtpeil::db::schema::panel_selections as ps;
        use diesel::prelude::*;
        ps::table
            .filter(ps::people_csv.is_not_null().or(ps::panel_csv.is_not_null()))
            .count()
            .get_result(&mut conn)
            .unwrap()
    };
    assert_eq!(left, 0, "no sign-ups left in the selections");
    assert!(!council.get(&selection).await.text().await.unwrap().contains("Geheim"));
    assert_eq!(public.get(&format!("/campagnes/{CAMPAIGN}")).await.status().as_u16(), 200, "the publication stays");
    drop(smtp);
}
on_both_backends!(the_council_runs_a_whole_campaign_in_the_web);

/// Without SMTP settings the campaign page says so, and sending changes
/// nothing; other roles and strangers cannot reach any of the pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_smtp_the_page_says_so_and_other_roles_are_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    let mut conn = app.db.connect();
    let campaign = buurtpeil::invite::CampaignName::parse("zonder-mail").unwrap();
    let invitee = buurtpeil::invite::Invitee {
        person_key: "p1".into(),
        name: "Sam".into(),
        street_line: "Dorpsstraat 1".into(),
        postcode: "5611 AB".into(),
        city: "Eindhoven".into(),
        buurt: buurtpeil::area::AreaCode::parse(buurtpeil::area::Level::Buurt, "BU07721110").unwrap(),
        email: Some("sam@example.nl".into()),
    };
    let base_url = buurtpeil::invite::BaseUrl::parse("https://peil.example.nl").unwrap();
    let today = buurtpeil::clock::today();
    let by_post = buurtpeil::invite::Invitee { person_key: "p2".into(), email: None, ..invitee.clone() };
    buurtpeil::invite::create_invitations(
        &mut conn,
        &campaign,
        "panelaanmelding",
        &base_url,
        &[invitee, by_post],
        today,
    )
    .unwrap();
    let letters: Vec<buurtpeil::invite::Issued> = buurtpeil::invite::letters_due(&mut conn, &campaign)
        .unwrap()
        .into_iter()
        .map(buurtpeil::invite::Issued::new)
        .collect();
    buurtpeil::invite::record_letters(&mut conn, &letters, 0, today).unwrap();
    let council = app.logged_in("griffie@eindhoven.nl", Role::Council).await;
    let page = council.get("/beheer/campagnes/zonder-mail").await.text().await.unwrap();
    assert!(page.contains("E-mail is niet ingesteld") && page.contains("SMTP_URL"), "{page}");
    let res = council.post_from("/beheer/campagnes/zonder-mail", "/beheer/campagnes/zonder-mail/versturen", &[]).await;
    assert_eq!(res.status().as_u16(), 503);
    assert!(res.text().await.unwrap().contains("Er is niets verstuurd"));
    let emails: i64 = {
        use buurtpeil::db::schema::invitation_outbox as ob;
        use diesel::prelude::*;
        ob::table.filter(ob::channel.eq("email")).count().get_result(&mut conn).unwrap()
    };
    assert_eq!(emails, 0, "nothing queued");
    let res = council
        .post_from(
            "/beheer/campagnes/zonder-mail",
            "/beheer/campagnes/zonder-mail/herinneren",
            &[("dagen", "3"), ("ronde", "1")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 503);
    // Reminder letters need no mail server: the PDF for who has no address.
    let res = council
        .post_from(
            "/beheer/campagnes/zonder-mail",
            "/beheer/campagnes/zonder-mail/herinneren",
            &[("dagen", "0"), ("ronde", "1"), ("brieven", "ja")],
        )
        .await;
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert!(res.bytes().await.unwrap().starts_with(b"%PDF"));
    // Unknown campaigns and hostile names: 404, never a 500.
    for path in [
        "/beheer/campagnes/onbekend/panel",
        "/beheer/campagnes/onbekend/wissen",
        "/beheer/campagnes/Zonder%20Mail/panel",
        "/beheer/campagnes/zonder-mail/panel/99999",
        "/beheer/campagnes/zonder-mail/panel/abc",
        "/beheer/campagnes/zonder-mail/panel/1/passwd",
        "/campagnes/zonder-mail",
        "/campagnes/%3Cscript%3E",
        "/campagnes/zonder-mail/loting.json",
    ] {
        assert_eq!(council.get(path).await.status().as_u16(), 404, "{path}");
    }
    // A professional is refused every council page; a stranger logs in first.
    let pro = app.logged_in("wijk@eindhoven.nl", Role::Professional).await;
    let stranger = app.resident();
    for path in [
        "/beheer/controleren",
        "/beheer/campagnes/zonder-mail",
        "/beheer/campagnes/zonder-mail/panel",
        "/beheer/campagnes/zonder-mail/wissen",
    ] {
        assert_eq!(pro.get(path).await.status().as_u16(), 403, "{path}");
        assert_eq!(stranger.get(path).await.status().as_u16(), 303, "{path}");
    }
    for path in [
        "/beheer/campagnes/zonder-mail/versturen",
        "/beheer/campagnes/zonder-mail/herinneren",
        "/beheer/campagnes/zonder-mail/publiceren",
        "/beheer/campagnes/zonder-mail/wissen",
        "/beheer/campagnes/zonder-mail/panel/1/vervangen",
    ] {
        assert_eq!(pro.post(path, &[("csrf", "x")]).await.status().as_u16(), 403, "{path}");
        assert_eq!(council.post(path, &[("csrf", "vals")]).await.status().as_u16(), 403, "{path}");
    }
    // A form far too large is refused before it is read.
    let huge = "x".repeat(2 * 1024 * 1024);
    let res = council.post("/beheer/campagnes/zonder-mail/herinneren", &[("dagen", huge.as_str())]).await;
    assert_eq!(res.status().as_u16(), 413);
}

/// The demo campaign: a council member selects a LEXIMIN panel from its
/// sign-ups with the form as it comes (prefilled).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_campaign_gives_a_panel_in_seconds() {
    use buurtpeil::questionnaire::{load_catalog, load_dir};
    let db = TestDb::new(Backend::Sqlite);
    {
        let mut conn = db.connect();
        buurtpeil::db::run_migrations(&mut conn).unwrap();
        buurtpeil::demo::load_areas(&mut conn).unwrap();
        let catalog = load_catalog(&mut conn, &load_dir(&manifest_dir().join("questionnaires")).unwrap()).unwrap();
        let tree = buurtpeil::area::load_tree(&mut conn).unwrap();
        let signup = catalog.current("panelaanmelding").unwrap();
        let base = buurtpeil::invite::BaseUrl::parse("http://127.0.0.1:9123").unwrap();
        let demo = buurtpeil::demo::seed_campaign(&mut conn, &tree, signup, &base, 772).unwrap().unwrap();
        assert!(demo.signups >= 100, "{}", demo.signups);
        let link = demo.open_link.unwrap();
        assert!(link.starts_with("http://127.0.0.1:9123/i/"), "the invitation goes where the demo runs: {link}");
    }
    let app = spawn_app_on(db, Options { areas: false, ..Options::default() }).await;
    let council = app.logged_in("griffie@eindhoven.nl", Role::Council).await;
    let base = format!("/beheer/campagnes/{}", buurtpeil::demo::DEMO_CAMPAIGN);
    let page = council.get(&base).await.text().await.unwrap();
    assert!(page.contains("240"), "{page}");
    let form = council.get(&format!("{base}/panel")).await.text().await.unwrap();
    let mut fields = vec![("grootte".to_owned(), "24".to_owned()), ("zaad".to_owned(), "demo 1 2 3".to_owned())];
    // Everything the form comes with: hidden fields, checked boxes, radio.
    for input in form.split("<input").skip(1) {
        let attr = |name: &str| {
            let key = format!("{name}=\"");
            input.find(&key).map(|i| input[i + key.len()..].split('"').next().unwrap().to_owned())
        };
        let (Some(name), kind) = (attr("name"), attr("type").unwrap_or_default()) else { continue };
        if ["grootte", "zaad"].contains(&name.as_str()) || kind == "file" {
            continue;
        }
        if (kind == "checkbox" || kind == "radio") && !input.split('>').next().unwrap().contains(" checked") {
            continue;
        }
        fields.push((name, attr("value").unwrap_or_default()));
    }
    let mut multipart = reqwest::multipart::Form::new();
    for (k, v) in fields {
        multipart = multipart.text(k, v);
    }
    let res = council.client.post(app.url(&format!("{base}/panel"))).multipart(multipart).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 303, "{}", res.text().await.unwrap());
    let selection = location(&res);
    let page = wait_for(&council, &selection, |h| !h.contains("?verversen=nee")).await;
    assert!(page.contains("klaar") && page.contains("(fictief)"), "{page}");

    // The same selection left running by an instance that died an hour ago
    // (issue #15): this instance takes it over and finishes it, alike.
    use buurtpeil::panel::store::{self, NewSelection, Status};
    let id: i32 = selection.rsplit('/').next().unwrap().parse().unwrap();
    let mut conn = app.db.connect();
    let done = store::load(&mut conn, id).unwrap().unwrap();
    let new = NewSelection {
        campaign: &done.campaign,
        questionnaire: &done.questionnaire,
        previous_id: None,
        settings: &done.settings,
        features_csv: &done.features_csv,
        people_csv: done.people_csv.as_deref().unwrap(),
    };
    let orphan = store::start(&mut conn, &new, buurtpeil::clock::today()).unwrap();
    let an_hour_ago = chrono::Utc::now().naive_utc() - chrono::Duration::hours(1);
    assert!(store::claim(&mut conn, orphan, "dead-instance", an_hour_ago).unwrap());
    let started = std::time::Instant::now();
    let finished = loop {
        let s = store::load(&mut conn, orphan).unwrap().unwrap();
        if s.status != Status::Running {
            break s;
        }
        assert!(started.elapsed().as_secs() < 120, "not taken over");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(finished.status, Status::Done, "{:?}", finished.problem);
    assert_ne!(finished.runner.as_deref(), Some("dead-instance"), "taken over");
    assert_eq!(finished.panel_csv, done.panel_csv, "the seeded draw gives the same panel");
}

/// Selections started at the same moment each get their own row; a running
/// selection is claimed by one runner only, and taken over only once its
/// runner's heartbeat is older than the lease.
async fn selections_started_at_once_keep_their_own_ids(backend: Backend) {
    use buurtpeil::panel::store::{self, NewSelection, Settings, Status};
    use buurtpeil::panel::Algorithm;
    let db = TestDb::new(backend);
    buurtpeil::db::run_migrations(&mut db.connect()).unwrap();
    let today = buurtpeil::clock::today();
    let ids: Vec<(usize, i32)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let db = &db;
                s.spawn(move || {
                    let settings = Settings {
                        size: 4,
                        seed: format!("seed {i}"),
                        algorithm: Algorithm::Leximin,
                        household_columns: vec![],
                        dropped: vec![],
                        pseudonym_key: "k".into(),
                    };
                    let new = NewSelection {
                        campaign: "tegelijk",
                        questionnaire: "panelaanmelding",
                        previous_id: None,
                        settings: &settings,
                        features_csv: "feature,value,min,max\n",
                        people_csv: "id\n",
                    };
                    let mut conn = db.connect();
                    for _ in 0..50 {
                        match store::start(&mut conn, &new, today) {
                            Ok(id) => return (i, id),
                            Err(_) => std::thread::sleep(Duration::from_millis(20)), // SQLite busy
                        }
                    }
                    panic!("no row stored");
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut conn = db.connect();
    for (i, id) in &ids {
        let stored = store::load(&mut conn, *id).unwrap().unwrap();
        assert_eq!(stored.settings.seed, format!("seed {i}"), "selection {i} got row {id}");
        assert_eq!(stored.status, Status::Running);
    }
    let now = chrono::Utc::now().naive_utc();
    assert_eq!(store::unclaimed(&mut conn, now).unwrap().len(), 8, "nobody runs them yet");
    let id = ids[0].1;
    assert!(store::claim(&mut conn, id, "a", now).unwrap());
    assert!(!store::claim(&mut conn, id, "b", now).unwrap(), "of two instances only one gets it");
    assert!(store::heartbeat(&mut conn, id, "a", now).unwrap());
    assert!(!store::heartbeat(&mut conn, id, "b", now).unwrap());
    let later = now + chrono::Duration::from_std(store::LEASE).unwrap() + chrono::Duration::seconds(1);
    assert!(store::unclaimed(&mut conn, later).unwrap().contains(&id), "a stale heartbeat frees it");
    assert!(store::claim(&mut conn, id, "b", later).unwrap(), "taken over after the lease");
    assert!(!store::heartbeat(&mut conn, id, "a", later).unwrap(), "the old runner learns it lost it");
    let running = store::load(&mut conn, id).unwrap().unwrap();
    assert_eq!((running.status, running.runner.as_deref()), (Status::Running, Some("b")));
}
on_both_backends!(selections_started_at_once_keep_their_own_ids);
