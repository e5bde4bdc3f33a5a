//! The command line: clear errors and non-zero exits on bad input; nothing
//! of a failed import is stored.

use std::process::Command;

use crate::helpers::*;
use crate::on_both_backends;

async fn areas_import_checks_every_row(backend: Backend) {
    let db = TestDb::new(backend);
    let dir = tempfile::tempdir().unwrap();
    let good = manifest_dir().join("data/cbs/eindhoven_buurten_2024.csv");
    let source = std::fs::read_to_string(&good).unwrap();

    assert!(buurtpeil(&db, &["migrate"]).status.success());
    // A bad code on line 40: error names file, line and field; nothing stored.
    let bad_line = source.lines().nth(39).unwrap().to_owned();
    let broken = source.replace(&bad_line, &bad_line.replacen("BU0772", "BU772", 1));
    let bad = dir.path().join("buurten.csv");
    std::fs::write(&bad, broken).unwrap();
    let out = buurtpeil(&db, &["areas", "import", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(msg.contains("buurten.csv, line 40, field buurtcode"), "{msg}");
    assert_eq!(count(&mut db.connect(), "areas"), 0, "nothing half-stored");

    for (content, expected) in [
        ("", "no column"),
        ("x,y\n1,2\n", "no column BU_CODE or buurtcode"),
        ("buurtcode,buurtnaam,wijkcode,wijknaam,gemeentecode,gemeentenaam\n", "holds no buurten"),
        ("buurtcode,buurtnaam,wijkcode,wijknaam,gemeentecode,gemeentenaam\nBU07721110,,WK077211,Centrum,GM0772,Eindhoven\n", "line 2, field buurtnaam: is empty"),
    ] {
        std::fs::write(&bad, content).unwrap();
        let out = buurtpeil(&db, &["areas", "import", bad.to_str().unwrap()]);
        assert!(!out.status.success(), "{content:?}");
        assert!(text(&out).contains(expected), "{content:?}: {}", text(&out));
    }
    std::fs::write(&bad, [0u8, 159, 146, 150]).unwrap();
    assert!(!buurtpeil(&db, &["areas", "import", bad.to_str().unwrap()]).status.success());
    let out = buurtpeil(&db, &["areas", "import", "/does/not/exist.csv"]);
    assert!(!out.status.success() && text(&out).contains("cannot open"), "{}", text(&out));

    let out = buurtpeil(&db, &["areas", "import", good.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("1 gemeenten, 20 wijken, 116 buurten"), "{}", text(&out));
    assert_eq!(count(&mut db.connect(), "areas"), 137);
    // Importing again is harmless.
    assert!(buurtpeil(&db, &["areas", "import", good.to_str().unwrap()]).status.success());
    assert_eq!(count(&mut db.connect(), "areas"), 137);
}
on_both_backends!(areas_import_checks_every_row);

async fn migrate_and_demo(backend: Backend) {
    let db = TestDb::new(backend);
    let out = buurtpeil(&db, &["migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = buurtpeil(&db, &["demo"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("synthetic responses to geluk added"));
    assert!(text(&out).contains("synthetic responses to leefbaarheid added"));
    assert!(text(&out).contains("two waves of geluk opened"));
    assert_eq!(count(&mut db.connect(), "waves"), 2);
    let mut conn = db.connect();
    let seeded = count(&mut conn, "responses");
    assert!((3500..=5500).contains(&seeded), "{seeded}");
    assert_counts_agree(&mut conn);
    // A council account and a campaign ready for the panel selection.
    assert!(text(&out).contains("demo login (council / griffie): raad@buurtpeil.local / "), "{}", text(&out));
    assert!(text(&out).contains("campaign demo-burgerpanel"), "{}", text(&out));
    assert_eq!(count(&mut conn, "draw_selected"), 240);
    assert_eq!(count(&mut conn, "invitations"), 240);
    // About 140 panel sign-ups, 7 talent profiles and 900 talent scans
    // without contact (for the talent map).
    assert!(text(&out).contains("900 talent scans without contact"), "{}", text(&out));
    let signups = count(&mut conn, "identified_responses");
    assert!((1000..=1090).contains(&signups), "{signups}");
    // Seeding twice adds nothing.
    assert!(buurtpeil(&db, &["demo"]).status.success());
    assert_eq!(count(&mut conn, "responses"), seeded);
    assert_eq!(count(&mut conn, "identified_responses"), signups);
}
on_both_backends!(migrate_and_demo);

#[test]
fn bad_settings_exit_non_zero_with_a_message() {
    let db = TestDb::new(Backend::Sqlite);
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_buurtpeil"));
        cmd.args(args).env("DATABASE_URL", &db.url);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let out = run(&["migrate"], &[("DATABASE_URL", "mysql://nope")]);
    assert!(!out.status.success() && text(&out).contains("is not understood"), "{}", text(&out));
    let out = run(&["serve", "--bind", "nowhere"], &[]);
    assert!(!out.status.success() && text(&out).contains("not an address"));
    let out = run(&["serve"], &[("BUURTPEIL_MIN_CELL", "1")]);
    assert!(!out.status.success() && text(&out).contains("BUURTPEIL_MIN_CELL"));
    let out = run(&["serve"], &[("BUURTPEIL_QUESTIONNAIRES", "/does/not/exist"), ("BUURTPEIL_BIND", "127.0.0.1:0")]);
    assert!(!out.status.success() && text(&out).contains("questionnaire"), "{}", text(&out));
    let out = run(&["migrate"], &[("DATABASE_URL", "postgres://nobody:wrong@127.0.0.1:1/none")]);
    assert!(!out.status.success() && text(&out).contains("cannot connect"), "{}", text(&out));
    let out = run(&["frobnicate"], &[]);
    assert!(!out.status.success());
}

/// A questionnaire file loaded at start may not change what residents were
/// promised (kind, purpose, retention), nor make a questionnaire that asks
/// names anonymous: the command stops with a message and a non-zero exit.
#[test]
fn a_questionnaire_file_may_not_change_its_privacy_promise() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let db = TestDb::new(backend);
        let dir = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(manifest_dir().join("questionnaires")).unwrap().flatten() {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
        let talent = dir.path().join("talentenscan.toml");
        let original = std::fs::read_to_string(&talent).unwrap();
        let out_file = dir.path().join("vrijwilligers.csv");
        let volunteers = || {
            Command::new(env!("CARGO_BIN_EXE_buurtpeil"))
                .args(["panel", "volunteers", "--out", out_file.to_str().unwrap()])
                .env("DATABASE_URL", &db.url)
                .env("BUURTPEIL_QUESTIONNAIRES", dir.path())
                .env("RUST_LOG", "warn")
                .output()
                .unwrap()
        };
        assert!(buurtpeil(&db, &["migrate"]).status.success());
        let out = volunteers();
        assert!(out.status.success(), "{}", text(&out));

        std::fs::write(&talent, original.replace("retention_months = 24", "retention_months = 36")).unwrap();
        let out = volunteers();
        assert!(!out.status.success(), "{backend:?}");
        assert!(
            text(&out).contains("talentenscan: only an administrator may publish this version")
                && text(&out).contains("24 months become 36"),
            "{}",
            text(&out)
        );

        std::fs::write(&talent, original.replace(r#"kind = "identified""#, r#"kind = "anonymous""#)).unwrap();
        let out = volunteers();
        assert!(!out.status.success());
        assert!(text(&out).contains("question naam: asks for a name"), "{}", text(&out));

        // Shorter is allowed from a file.
        std::fs::write(&talent, original.replace("retention_months = 24", "retention_months = 18")).unwrap();
        let out = volunteers();
        assert!(out.status.success(), "{}", text(&out));
    }
}
