//! Drawing residents by lot with the real binary: import, draw, verify,
//! exclusion of people drawn recently, purge, and every error a council can
//! make, on SQLite and PostgreSQL.

use std::path::Path;
use std::process::{Command, Output};

use buurtpeil::lottery::{draw, load_register, parse_register, selected_people, Protocol};

use crate::helpers::*;
use crate::on_both_backends;

fn buurtpeil(db: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_buurtpeil"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

const BUURTEN: [&str; 4] = ["BU07721110", "BU07721120", "BU07721130", "BU07721140"];

/// A deterministic register: `n` people over four buurten, one to four per
/// address, some under 16, BRP-style headers with `;` and CRLF.
pub(crate) fn register_csv(n: usize) -> String {
    let mut out = String::from("pseudoniem;geslachtsnaam;voornamen;straatnaam;huisnummer;huisletter;postcode;woonplaats;BU_CODE;geboortedatum;geslacht;e-mail\r\n");
    let mut address = 0;
    let mut i = 0;
    while i < n {
        address += 1;
        let b = address % BUURTEN.len();
        for _ in 0..(1 + address * 7 % 4) {
            if i == n {
                break;
            }
            let year = if i % 9 == 0 { 2015 } else { 1940 + (i * 13 % 65) };
            let gender = ["M", "V", "X"][i % 3];
            let letter = if address % 5 == 0 { "a" } else { "" };
            out.push_str(&format!(
                "id-{i:05};Jansen{i};Sam;Dorpsstraat;{};{letter};56{:02} AB;Eindhoven;{};{year}-0{}-1{};{gender};sam{i}@example.nl\r\n",
                address / 4 + 1,
                10 + b,
                BUURTEN[b],
                1 + i % 9,
                i % 9
            ));
            i += 1;
        }
    }
    out
}

fn setup(db: &TestDb) {
    let areas = manifest_dir().join("data/cbs/eindhoven_buurten_2024.csv");
    let out = buurtpeil(db, &["areas", "import", areas.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A register saved by Excel on a Dutch Windows (Windows-1252, `;`, CRLF):
/// the names come out as written, not with control characters.
async fn a_windows_1252_register_keeps_its_names(backend: Backend) {
    let db = TestDb::new(backend);
    setup(&db);
    let dir = tempfile::tempdir().unwrap();
    let register = dir.path().join("brp-excel.csv");
    let cp1252: &[u8] = b"pseudoniem;geslachtsnaam;voornamen;straatnaam;huisnummer;postcode;woonplaats;BU_CODE;geboortedatum;geslacht\r\n\
        id-1;d\x92Ancona \x96 van \x91t Hof;Ren\xe9e;Caf\xe9 \x80uropaplein;1;5611 AB;Eindhoven;BU07721110;1980-04-02;V\r\n\
        id-2;Bront\xeb;Zo\xeb;Stra\xdfe;2;5611 AB;Eindhoven;BU07721110;1990-01-01;M\r\n";
    std::fs::write(&register, cp1252).unwrap();
    let out = buurtpeil(&db, &["register", "import", "--campaign", "excel", path(&register)]);
    assert!(out.status.success() && text(&out).contains("2 people"), "{}", text(&out));
    let stored: Vec<(String, String)> = {
        use buurtpeil::db::schema::register_people as rp;
        use diesel::prelude::*;
        rp::table.order(rp::person_id).select((rp::name, rp::street)).load(&mut db.connect()).unwrap()
    };
    let names: Vec<&str> = stored.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.len(), 2);
    assert!(names[0].contains("Renée") && names[0].contains("d’Ancona – van ‘t Hof"), "{names:?}");
    assert!(names[1].contains("Zoë") && names[1].contains("Brontë"), "{names:?}");
    assert_eq!((stored[0].1.as_str(), stored[1].1.as_str()), ("Café €uropaplein", "Straße"));
    assert!(stored.iter().all(|(n, s)| !n.chars().chain(s.chars()).any(char::is_control)));
}
on_both_backends!(a_windows_1252_register_keeps_its_names);

async fn draw_verify_exclude_and_purge(backend: Backend) {
    let db = TestDb::new(backend);
    setup(&db);
    let dir = tempfile::tempdir().unwrap();
    let register = dir.path().join("register.csv");
    std::fs::write(&register, register_csv(400)).unwrap();
    let protocol = dir.path().join("protocol.json");

    let out = buurtpeil(&db, &["register", "import", "--campaign", "beraad-2027", path(&register)]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("400 people in 4 buurten") && text(&out).contains("storing the register"),
        "{}",
        text(&out)
    );
    assert_eq!(count(&mut db.connect(), "register_people"), 400);

    let args = [
        "draw",
        "--campaign",
        "beraad-2027",
        "--register",
        path(&register),
        "--size",
        "40",
        "--seed",
        "dobbelstenen 6 2 5 1 3 4",
        "--seed-source",
        "dice thrown at the council meeting of 2027-01-14",
        "--one-per-address",
        "--reference-date",
        "2027-01-31",
        "--protocol",
        path(&protocol),
    ];
    let out = buurtpeil(&db, &args);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("drew 40 of"), "{}", text(&out));
    let published = Protocol::from_json(&std::fs::read_to_string(&protocol).unwrap()).unwrap();
    assert_eq!(published.selection.count, 40);
    assert_eq!(published.seed_source, "dice thrown at the council meeting of 2027-01-14");

    let out = buurtpeil(&db, &["draw", "verify", "--protocol", path(&protocol), "--register", path(&register)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("MATCH"), "{}", text(&out));

    // Stored and loaded again, the register gives the same hash and the same draw.
    let mut conn = db.connect();
    let stored = load_register(&mut conn, "beraad-2027").unwrap();
    let from_file = parse_register("r", register_csv(400).as_bytes()).unwrap();
    let again = draw(&stored, &published.parameters, &published.seed).unwrap();
    assert_eq!(again.register_hash, published.register.hash);
    assert_eq!(again.selection_hash, published.selection.hash);
    assert_eq!(draw(&from_file, &published.parameters, &published.seed).unwrap(), again);
    let selected = selected_people(&mut conn, "beraad-2027").unwrap();
    assert_eq!(selected.len(), 40);
    let addresses: std::collections::HashSet<String> = selected.iter().map(|p| p.address.key()).collect();
    assert_eq!(addresses.len(), 40, "one per address");
    assert!(selected.iter().all(|p| p.email.is_some() && p.birth.age_on(published.parameters.reference_date) >= 16));

    // Tampered register: one birth date changed.
    let tampered = dir.path().join("tampered.csv");
    std::fs::write(&tampered, register_csv(400).replacen("1953-0", "1954-0", 1)).unwrap();
    let out = buurtpeil(&db, &["draw", "verify", "--protocol", path(&protocol), "--register", path(&tampered)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("MISMATCH") && text(&out).contains("register hash: protocol"), "{}", text(&out));
    // Tampered protocol: another seed.
    let forged = dir.path().join("forged.json");
    std::fs::write(&forged, std::fs::read_to_string(&protocol).unwrap().replace("6 2 5 1 3 4", "6 2 5 1 3 5")).unwrap();
    let out = buurtpeil(&db, &["draw", "verify", "--protocol", path(&forged), "--register", path(&register)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("selection hash: protocol"), "{}", text(&out));
    // Unreadable input: exit 2.
    std::fs::write(&forged, "{ not json").unwrap();
    let out = buurtpeil(&db, &["draw", "verify", "--protocol", path(&forged), "--register", path(&register)]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = buurtpeil(&db, &["draw", "verify", "--protocol", path(&protocol), "--register", "/does/not/exist"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    // A later campaign leaves out everyone drawn within 12 months.
    let second = dir.path().join("second.json");
    let out = buurtpeil(
        &db,
        &[
            "draw",
            "--campaign",
            "enquete-2027",
            "--register",
            path(&register),
            "--size",
            "200",
            "--seed",
            "lotto 3 9 27",
            "--exclude-months",
            "12",
            "--protocol",
            path(&second),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("40 people of this register were drawn in earlier campaigns"), "{}", text(&out));
    let later = selected_people(&mut conn, "enquete-2027").unwrap();
    assert!(later.iter().all(|p| !selected.iter().any(|q| q.id == p.id)), "nobody drawn twice");
    let out = buurtpeil(&db, &["draw", "verify", "--protocol", path(&second), "--register", path(&register)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // Purge: no personal field is left anywhere.
    let out = buurtpeil(&db, &["register", "purge", "--campaign", "beraad-2027"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("400 people and 40 selections removed"), "{}", text(&out));
    assert_personal_data_gone(&mut conn, "beraad-2027", &from_file);
    assert_eq!(count(&mut conn, "register_people"), 400, "the other campaign keeps its register");
    assert_eq!(count(&mut conn, "drawn_hashes"), 240, "hashes survive the purge");
    assert!(selected_people(&mut conn, "beraad-2027").unwrap_err().to_string().contains("purged"));
    // The protocol still verifies against the register file kept by the council.
    let out = buurtpeil(&db, &["draw", "verify", "--protocol", path(&protocol), "--register", path(&register)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = buurtpeil(&db, &["register", "import", "--campaign", "beraad-2027", path(&register)]);
    assert!(!out.status.success() && text(&out).contains("purged"), "{}", text(&out));
}
on_both_backends!(draw_verify_exclude_and_purge);

/// Every column of every lottery table, as text, for the purged campaign
/// holds none of the register's personal values.
fn assert_personal_data_gone(
    conn: &mut buurtpeil::db::AnyConnection,
    campaign: &str,
    people: &[buurtpeil::lottery::Person],
) {
    use diesel::sql_types::Text;
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Cell {
        #[diesel(sql_type = Text)]
        v: String,
    }
    let tables: [(&str, &[&str]); 5] = [
        ("campaigns", &["name", "created_on", "register_hash", "register_size", "purged_on"]),
        (
            "register_people",
            &[
                "person_id",
                "name",
                "street",
                "house_number",
                "house_addition",
                "postcode",
                "city",
                "buurt",
                "birth_year",
                "birth_date",
                "gender",
                "email",
            ],
        ),
        ("draws", &["drawn_on", "selection_hash", "protocol"]),
        ("draw_selected", &["person_id"]),
        ("drawn_hashes", &["person_hash", "drawn_on"]),
    ];
    let id = format!("(SELECT id FROM campaigns WHERE name = '{campaign}')");
    let mut cells = Vec::new();
    for (table, columns) in tables {
        let filter = if table == "campaigns" { format!("id = {id}") } else { format!("campaign_id = {id}") };
        for column in columns {
            let q = format!("SELECT CAST({column} AS TEXT) AS v FROM {table} WHERE {filter} AND {column} IS NOT NULL");
            let rows: Vec<Cell> = buurtpeil::on_backend!(&mut *conn, |c| diesel::sql_query(&q).load(c)).unwrap();
            if table == "register_people" || table == "draw_selected" {
                assert!(rows.is_empty(), "{table}.{column} still holds {} values", rows.len());
            }
            cells.extend(rows.into_iter().map(|r| r.v));
        }
    }
    assert!(!cells.is_empty());
    for p in people {
        let values = [
            p.id.as_str(),
            p.name.as_str(),
            p.email.as_deref().unwrap_or("-"),
            "Dorpsstraat",
            p.address.postcode.as_str(),
        ];
        for cell in &cells {
            for v in values {
                assert!(!cell.contains(v), "a personal value ({v}) is left after the purge");
            }
        }
    }
}

async fn draw_errors_are_clear(backend: Backend) {
    let db = TestDb::new(backend);
    let dir = tempfile::tempdir().unwrap();
    let register = dir.path().join("register.csv");
    std::fs::write(&register, register_csv(60)).unwrap();
    let protocol = dir.path().join("p.json");
    let run = |campaign: &str, extra: &[&str]| {
        let mut args = vec![
            "draw",
            "--campaign",
            campaign,
            "--register",
            path(&register),
            "--seed",
            "s",
            "--protocol",
            path(&protocol),
        ];
        if !extra.contains(&"--size") {
            args.extend(["--size", "5"]);
        }
        args.extend(extra);
        buurtpeil(&db, &args)
    };
    let fails = |out: Output, expected: &str| {
        assert!(!out.status.success(), "expected failure with {expected:?}");
        assert!(text(&out).contains(expected), "{expected:?} not in: {}", text(&out));
        assert!(!text(&out).contains("panicked"), "{}", text(&out));
    };
    fails(run("a", &[]), "no buurten are known yet");
    setup(&db);
    fails(run("a", &["--size", "1000"]), "larger than the eligible people");
    fails(run("a", &["--size", "0"]), "at least 1");
    fails(run("a", &["--reference-date", "31-01-2027"]), "not a date like 2027-01-31");
    fails(run("a", &["--allocation", "random"]), "use proportional, equal, or a CSV file");
    let alloc = dir.path().join("alloc.csv");
    std::fs::write(&alloc, "buurt,aantal\nBU07729999,5\n").unwrap();
    fails(run("a", &["--allocation", path(&alloc)]), "alloc.csv, line 2, field buurt: BU07729999 is not a known buurt");
    std::fs::write(&alloc, "buurt,aantal\nBU07721150,5\n").unwrap();
    fails(run("a", &["--allocation", path(&alloc)]), "names BU07721150, which has no one in the register");
    std::fs::write(&alloc, "buurt,aantal\nBU07721110,5\nBU07721120,1\n").unwrap();
    fails(run("a", &["--allocation", path(&alloc)]), "asks 6 in total, but --size is 5");
    std::fs::write(&alloc, "buurt;aantal\nBU07721110;40\n").unwrap();
    fails(run("a", &["--allocation", path(&alloc), "--size", "40"]), "asks 40 from BU07721110, which has only");
    fails(run("b", &["--size", "60", "--one-per-address"]), "eligible addresses");
    assert_eq!(count(&mut db.connect(), "campaigns"), 0, "a failed draw stores nothing");

    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, register_csv(0)).unwrap();
    fails(buurtpeil(&db, &["register", "import", "--campaign", "c", path(&empty)]), "holds no people");
    std::fs::write(&empty, register_csv(5).replace("BU07721120", "BU07729999")).unwrap();
    fails(
        buurtpeil(&db, &["register", "import", "--campaign", "c", path(&empty)]),
        "field BU_CODE: BU07729999 is not a known buurt",
    );
    std::fs::write(&empty, register_csv(5).replace("56", "06").replace("V;", "Q;")).unwrap();
    let out = buurtpeil(&db, &["register", "import", "--campaign", "c", path(&empty)]);
    fails(out, "problems found");
    assert_eq!(count(&mut db.connect(), "register_people"), 0, "a failed import stores nothing");
    fails(buurtpeil(&db, &["register", "purge", "--campaign", "nope"]), "does not exist");

    let ok = run("d", &[]);
    assert!(ok.status.success(), "{}", text(&ok));
    fails(run("d", &[]), "already drawn");
    assert!(buurtpeil(&db, &["register", "import", "--campaign", "a", path(&register)]).status.success());
    std::fs::write(&register, register_csv(61)).unwrap();
    fails(
        buurtpeil(&db, &["register", "import", "--campaign", "a", path(&register)]),
        "already holds a different register",
    );
    fails(run("d", &[]), "already drawn");
    fails(run("a", &[]), "already holds a different register");
}
on_both_backends!(draw_errors_are_clear);

/// A whole campaign by CLI: draw, invite the people drawn, print their
/// letters, and one purge erases every personal field, invitations included.
async fn a_campaign_from_draw_to_letters_to_purge(backend: Backend) {
    let db = TestDb::new(backend);
    setup(&db);
    let dir = tempfile::tempdir().unwrap();
    let register = dir.path().join("register.csv");
    std::fs::write(&register, register_csv(300)).unwrap();
    let protocol = dir.path().join("protocol.json");
    let out = buurtpeil(
        &db,
        &[
            "draw",
            "--campaign",
            "g1000",
            "--register",
            path(&register),
            "--size",
            "20",
            "--seed",
            "dobbelstenen 3-5-1",
            "--protocol",
            path(&protocol),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = buurtpeil(
        &db,
        &[
            "invite",
            "create",
            "--campaign",
            "g1000",
            "--questionnaire",
            "panelaanmelding",
            "--base-url",
            "https://peil.example.nl",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("20 invitations added"), "{}", text(&out));
    let letters = dir.path().join("letters.pdf");
    let out = buurtpeil(&db, &["invite", "letters", "--campaign", "g1000", "--out", path(&letters)]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(std::fs::metadata(&letters).unwrap().len() > 1000);
    let out = buurtpeil(&db, &["invite", "status", "--campaign", "g1000"]);
    assert!(out.status.success() && text(&out).contains("20"), "{}", text(&out));
    // Inviting from a campaign that was never drawn says so.
    let out = buurtpeil(
        &db,
        &[
            "invite",
            "create",
            "--campaign",
            "nooit",
            "--questionnaire",
            "geluk",
            "--base-url",
            "https://peil.example.nl",
        ],
    );
    assert!(!out.status.success());
    // One purge: the register and the invitations' names and addresses.
    let out = buurtpeil(&db, &["register", "purge", "--campaign", "g1000"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("contact details of 20 invitations erased"), "{}", text(&out));
    let mut conn = db.connect();
    assert_eq!(count(&mut conn, "register_people"), 0);
    use buurtpeil::db::schema::invitations as inv;
    use diesel::prelude::*;
    let left: Vec<(String, String, Option<String>)> =
        inv::table.select((inv::name, inv::street_line, inv::email)).load(&mut conn).unwrap();
    assert_eq!(left.len(), 20, "the counts stay");
    assert!(
        left.iter().all(|(n, s, e)| !n.contains("Jansen") && !s.contains("Dorpsstraat") && e.is_none()),
        "{left:?}"
    );
}
on_both_backends!(a_campaign_from_draw_to_letters_to_purge);

/// The council does the same in the browser: upload and draw, read and
/// download the protocol (which verifies), invite the people drawn, print
/// their letters; every mistake gets a message and changes nothing.
async fn the_council_draws_and_invites_on_its_pages(backend: Backend) {
    use buurtpeil::auth::Role;
    let app = spawn_app(backend).await;
    let council = app.logged_in("griffie@eindhoven.nl", Role::Council).await;
    let csrf = csrf_of(&council.get("/beheer/loting").await.text().await.unwrap());
    let register = register_csv(200);
    let upload = |fields: Vec<(&'static str, String)>, file: Option<Vec<u8>>| {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in fields {
            form = form.text(k, v);
        }
        if let Some(bytes) = file {
            form = form.part("register", reqwest::multipart::Part::bytes(bytes).file_name("brp.csv"));
        }
        council.client.post(app.url("/beheer/loting")).multipart(form).send()
    };
    let good = |campaign: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("campagne", campaign.to_owned()),
            ("aantal", "12".to_owned()),
            ("verdeling", "proportional".to_owned()),
            ("minimumleeftijd", "16".to_owned()),
            ("zaad", "4 6 1 3 (dobbelstenen)".to_owned()),
            ("zaadbron", "gegooid in de raadsvergadering van 1 maart".to_owned()),
        ]
    };
    // Mistakes: a message each, nothing stored.
    let with = |mut fields: Vec<(&'static str, String)>, key: &'static str, value: &str| {
        fields.retain(|(k, _)| *k != key);
        fields.push((key, value.to_owned()));
        fields
    };
    for (fields, file, status, message) in [
        (good("beraad"), None, 422, "Kies eerst een bestand."),
        (with(good("beraad"), "aantal", "twaalf"), Some(register.clone().into_bytes()), 422, "heel getal"),
        (with(good("beraad"), "zaad", ""), Some(register.clone().into_bytes()), 422, "startgetal"),
        (with(good("Beraad!"), "campagne", "Beraad!"), Some(register.clone().into_bytes()), 422, "campaign name"),
        (with(good("beraad"), "aantal", "100000"), Some(register.clone().into_bytes()), 422, "cannot draw"),
        (good("beraad"), Some(b"pseudoniem;naam\r\nx;y\r\n".to_vec()), 422, "brp.csv"),
        (with(good("beraad"), "csrf", "vals"), Some(register.clone().into_bytes()), 403, ""),
    ] {
        let res = upload(fields, file).await.unwrap();
        assert_eq!(res.status().as_u16(), status, "{message}");
        assert!(res.text().await.unwrap().contains(message), "{message}");
    }
    assert_eq!(count(&mut app.db.connect(), "campaigns"), 0, "nothing stored by a failed draw");
    // The draw.
    let res = upload(good("beraad"), Some(register.clone().into_bytes())).await.unwrap();
    assert_eq!(location(&res), "/beheer/loting/beraad");
    let page = council.get("/beheer/loting/beraad").await.text().await.unwrap();
    assert!(page.contains("gegooid in de raadsvergadering") && page.contains("Binnenstad"));
    // Drawn once only.
    let res = upload(good("beraad"), Some(register.clone().into_bytes())).await.unwrap();
    assert_eq!(res.status().as_u16(), 422);
    assert!(res.text().await.unwrap().contains("already drawn"));
    // The downloaded protocol verifies against the register.
    let protocol = council.get("/beheer/loting/beraad/protocol.json").await.text().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.json"), &protocol).unwrap();
    std::fs::write(dir.path().join("r.csv"), &register).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_buurtpeil"))
        .args(["draw", "verify", "--protocol"])
        .arg(dir.path().join("p.json"))
        .arg("--register")
        .arg(dir.path().join("r.csv"))
        .output()
        .unwrap();
    assert!(out.status.success() && text(&out).contains("MATCH"), "{}", text(&out));
    // Letters before invitations: the reason, not a server error.
    for campaign in ["beraad", "nooit-geloot"] {
        let res = council.post_from("/beheer/loting/beraad", &format!("/beheer/loting/{campaign}/brieven"), &[]).await;
        assert_eq!(res.status().as_u16(), 409, "{campaign}");
        assert!(res.text().await.unwrap().contains("nog geen uitnodigingen, dus ook geen brieven"), "{campaign}");
    }
    // Invite the people drawn, then print their letters.
    let res = council
        .post_from(
            "/beheer/loting/beraad",
            "/beheer/loting/beraad/uitnodigen",
            &[("vragenlijst", "panelaanmelding"), ("basis", "https://peil.example.nl")],
        )
        .await;
    assert_eq!(location(&res), "/beheer/campagnes/beraad");
    let res = council.post_from("/beheer/loting/beraad", "/beheer/loting/beraad/brieven", &[]).await;
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.headers().get_all("x-content-type-options").iter().collect::<Vec<_>>(), ["nosniff"]);
    assert!(res.bytes().await.unwrap().starts_with(b"%PDF"));
    let res = council.post_from("/beheer/loting/beraad", "/beheer/loting/beraad/brieven", &[]).await;
    assert_eq!(res.status().as_u16(), 409, "each letter once; a lost one is reprinted by CLI with a new code");
    let status = council.get("/beheer/campagnes/beraad").await.text().await.unwrap();
    assert!(status.contains("12"), "12 invited");
    // Professionals design questionnaires; they do not draw lots.
    let pro = app.logged_in("wijk@eindhoven.nl", Role::Professional).await;
    assert_eq!(pro.get("/beheer/loting").await.status().as_u16(), 403);
    assert_eq!(pro.get("/beheer/loting/beraad").await.status().as_u16(), 403);
    assert_eq!(council.get("/beheer/loting/onbekend").await.status().as_u16(), 404);
}
on_both_backends!(the_council_draws_and_invites_on_its_pages);

/// The sign-ups become the volunteers of a LEXIMIN panel: `panel volunteers`
/// writes them in the Sortition Foundation format and `panel select` reads
/// that file as it is.
async fn sign_ups_become_a_panel(backend: Backend) {
    use buurtpeil::questionnaire::{load_catalog, load_dir, RawAnswer};
    let db = TestDb::new(backend);
    setup(&db);
    let mut conn = db.connect();
    let catalog = load_catalog(&mut conn, &load_dir(&manifest_dir().join("questionnaires")).unwrap()).unwrap();
    let p = catalog.current("panelaanmelding").unwrap();
    let today = buurtpeil::clock::today();
    for i in 0..16 {
        let raw: std::collections::BTreeMap<String, RawAnswer> = [
            ("geslacht", ["vrouw", "man"][i % 2]),
            ("leeftijd", ["jonger_25", "van_25_tot_40", "van_40_tot_55", "vanaf_70"][i % 4]),
            ("opleiding", ["laag", "midden", "hoog"][i % 3]),
            ("woonsituatie", ["huur", "koop"][i % 2]),
            ("thuistaal", ["nederlands", "andere"][(i / 3) % 2]),
            ("naam", if i == 0 { "=HYPERLINK(\"x\")" } else { "Kim" }),
            ("hulp_nodig", "no"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), RawAnswer::Text(v.to_owned())))
        .collect();
        let answers = p.definition.check_answers(&p.definition.drop_hidden(&raw)).unwrap();
        let buurt = buurtpeil::area::AreaCode::parse(buurtpeil::area::Level::Buurt, BUURTEN[i % 4]).unwrap();
        buurtpeil::survey::store_identified(&mut conn, p.id, &buurt, &answers, today, today).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let people = dir.path().join("people.csv");
    let out = buurtpeil(&db, &["panel", "volunteers", "--out", path(&people)]);
    assert!(out.status.success() && text(&out).contains("16 sign-ups"), "{}", text(&out));
    let csv = std::fs::read_to_string(&people).unwrap();
    assert!(csv.starts_with("id,buurt,geslacht,leeftijd,opleiding,woonsituatie,thuistaal,hulp_nodig,naam"), "{csv}");
    assert!(csv.contains("'=HYPERLINK"), "a name never runs as a spreadsheet formula");
    let features = dir.path().join("features.csv");
    std::fs::write(
        &features,
        "feature,value,min,max\ngeslacht,vrouw,2,2\ngeslacht,man,2,2\ngeslacht,anders,0,0\nthuistaal,nederlands,1,3\nthuistaal,andere,1,3\n",
    )
    .unwrap();
    let panel = dir.path().join("panel");
    let out = Command::new(env!("CARGO_BIN_EXE_buurtpeil"))
        .args(["panel", "select", "--people", path(&people), "--features", path(&features)])
        .args(["--size", "4", "--seed", "publieke trekking 7 12", "--out", path(&panel)])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let chosen = std::fs::read_to_string(panel.join("panel.csv")).unwrap();
    assert_eq!(chosen.lines().count(), 5, "a header and four members: {chosen}");
    let probabilities = std::fs::read_to_string(panel.join("probabilities.csv")).unwrap();
    let total: f64 = probabilities.lines().skip(1).filter_map(|l| l.split(',').nth(1)?.parse::<f64>().ok()).sum();
    assert!((total - 4.0).abs() < 1e-6, "probabilities sum to the panel size: {total}");
    // Reserves: volunteers not on the panel, each with the members they can replace.
    let reserves = std::fs::read_to_string(panel.join("reserves.csv")).unwrap();
    let mut lines = reserves.lines();
    assert_eq!(lines.next(), Some("id,rank,replaces"));
    let members: Vec<&str> = chosen.lines().skip(1).filter_map(|l| l.split(',').next()).collect();
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        assert!(!members.contains(&fields[0]), "a reserve is not on the panel: {line}");
        assert!(fields[2].split(' ').all(|m| members.contains(&m)), "replaces panel members: {line}");
    }
}
on_both_backends!(sign_ups_become_a_panel);

/// The draw's day and its reference date for ages are the date in the
/// configured zone (`BUURTPEIL_TIME_ZONE`), not the machine's: two zones 25
/// hours apart always give different dates, each its own. A zone that does
/// not exist stops the command.
async fn the_draw_is_dated_in_the_configured_time_zone(backend: Backend) {
    let db = TestDb::new(backend);
    setup(&db);
    let dir = tempfile::tempdir().unwrap();
    let register = dir.path().join("register.csv");
    std::fs::write(&register, register_csv(60)).unwrap();
    let draw_in = |zone: &str, campaign: &str| {
        let protocol = dir.path().join(format!("{campaign}.json"));
        let out = Command::new(env!("CARGO_BIN_EXE_buurtpeil"))
            .args(["draw", "--campaign", campaign, "--register", path(&register), "--size", "10"])
            .args(["--seed", "dobbelstenen 1 2 3", "--protocol", path(&protocol)])
            .env("DATABASE_URL", &db.url)
            .env("RUST_LOG", "warn")
            .env("BUURTPEIL_TIME_ZONE", zone)
            .output()
            .unwrap();
        (out, protocol)
    };
    for (zone, tz, campaign) in [
        ("Pacific/Kiritimati", chrono_tz::Pacific::Kiritimati, "beraad-oost"),
        ("Pacific/Pago_Pago", chrono_tz::Pacific::Pago_Pago, "beraad-west"),
    ] {
        let before = chrono::Utc::now().with_timezone(&tz).date_naive();
        let (out, protocol) = draw_in(zone, campaign);
        let after = chrono::Utc::now().with_timezone(&tz).date_naive();
        assert!(out.status.success(), "{}", text(&out));
        let published = Protocol::from_json(&std::fs::read_to_string(&protocol).unwrap()).unwrap();
        assert!(published.drawn_on == before || published.drawn_on == after, "{zone}: {}", published.drawn_on);
        assert_eq!(published.parameters.reference_date, published.drawn_on, "{zone}");
    }
    let east = Protocol::from_json(&std::fs::read_to_string(dir.path().join("beraad-oost.json")).unwrap()).unwrap();
    let west = Protocol::from_json(&std::fs::read_to_string(dir.path().join("beraad-west.json")).unwrap()).unwrap();
    assert!(east.drawn_on > west.drawn_on, "{} / {}", east.drawn_on, west.drawn_on);

    let (out, _) = draw_in("Mars/Olympus_Mons", "beraad-nergens");
    assert!(!out.status.success());
    assert!(text(&out).contains("BUURTPEIL_TIME_ZONE \"Mars/Olympus_Mons\" is not a time zone"), "{}", text(&out));
}
on_both_backends!(the_draw_is_dated_in_the_configured_time_zone);
