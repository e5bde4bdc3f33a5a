//! docker-compose.yml wiring (no Docker engine runs here, so it is parsed).

use serde_yaml::Value;

use crate::helpers::manifest_dir;

fn env<'a>(service: &'a Value, key: &str) -> &'a str {
    service["environment"][key].as_str().unwrap_or_else(|| panic!("{key} is set"))
}

#[test]
fn compose_wires_app_database_and_mail() {
    let text = std::fs::read_to_string(manifest_dir().join("docker-compose.yml")).unwrap();
    let doc: Value = serde_yaml::from_str(&text).unwrap();
    let services = &doc["services"];
    let (app, db, mail) = (&services["app"], &services["db"], &services["mail"]);
    assert_eq!(app["build"].as_str(), Some("."));
    assert!(manifest_dir().join("Dockerfile").exists());

    let url = env(app, "DATABASE_URL");
    let rest = url.strip_prefix("postgres://").expect("a PostgreSQL URL");
    let (creds, location) = rest.split_once('@').unwrap();
    let (user, password) = creds.split_once(':').unwrap();
    let (hostport, database) = location.split_once('/').unwrap();
    assert_eq!(user, env(db, "POSTGRES_USER"));
    assert_eq!(password, env(db, "POSTGRES_PASSWORD"));
    assert_eq!(database, env(db, "POSTGRES_DB"));
    assert_eq!(hostport, "db:5432", "the db service on PostgreSQL's port");
    assert!(buurtpeil::db::DatabaseUrl::parse(url).is_ok());

    let smtp = env(app, "SMTP_URL");
    assert!(smtp.starts_with("smtp://mail:"), "mail goes to the mail catcher: {smtp}");
    assert!(mail["image"].as_str().unwrap().contains("mailpit"));

    let bind = env(app, "BUURTPEIL_BIND");
    assert_eq!(bind, "0.0.0.0:8080", "reachable from outside the container");
    assert!(app["ports"].as_sequence().unwrap().iter().any(|p| p.as_str() == Some("8080:8080")));
    let depends = &app["depends_on"];
    assert_eq!(depends["db"]["condition"].as_str(), Some("service_healthy"));
    assert!(db["healthcheck"]["test"].as_sequence().is_some());
    let k: u64 = env(app, "BUURTPEIL_MIN_CELL").parse().unwrap();
    assert!(k >= 10);
}

#[test]
fn dockerfile_ships_what_the_binary_reads() {
    let text = std::fs::read_to_string(manifest_dir().join("Dockerfile")).unwrap();
    assert!(text.contains("COPY") && text.contains("questionnaires"), "the questionnaire files");
    assert!(text.contains("buurtpeil\", \"serve\"") || text.contains("buurtpeil serve"));
}

/// The second instance is the first one again on another port: the same
/// database, mail, public URL and session key (issue #15).
#[test]
fn a_second_instance_shares_the_database_and_the_session_key() {
    let text = std::fs::read_to_string(manifest_dir().join("docker-compose.yml")).unwrap();
    let doc: Value = serde_yaml::from_str(&text).unwrap();
    let (one, two) = (&doc["services"]["app"], &doc["services"]["app2"]);
    for key in ["DATABASE_URL", "SMTP_URL", "BUURTPEIL_PUBLIC_URL", "BUURTPEIL_MIN_CELL", "BUURTPEIL_SESSION_KEY"] {
        assert_eq!(env(one, key), env(two, key), "{key}");
    }
    assert_eq!(two["build"].as_str(), Some("."));
    assert!(two["ports"].as_sequence().unwrap().iter().any(|p| p.as_str() == Some("8081:8080")));
    assert_eq!(two["profiles"][0].as_str(), Some("two"), "only with --profile two");
}

/// No Docker engine runs where buurtpeil is built, so the image's build
/// steps are checked against the scripts that do run in CI: the same system
/// packages to build, the same release build, the same command.
#[test]
fn the_image_builds_with_what_the_scripts_install() {
    let prereqs = std::fs::read_to_string(manifest_dir().join("scripts/lib/prereqs.sh")).unwrap();
    let docker = std::fs::read_to_string(manifest_dir().join("Dockerfile")).unwrap();
    let build_stage = docker.split("FROM debian").next().unwrap();
    let body =
        prereqs.split("need_build_packages() {").nth(1).expect("need_build_packages").split("\n}").next().unwrap();
    let packages: Vec<&str> = body
        .split("missing+=(")
        .skip(1)
        .map(|rest| rest.split(')').next().unwrap())
        // The rust image has a C/C++ compiler.
        .filter(|p| *p != "build-essential")
        .collect();
    assert!(packages.contains(&"libpq-dev") && packages.len() >= 3, "{packages:?}");
    for p in &packages {
        assert!(build_stage.contains(p), "the image's build stage installs {p}, as scripts/lib/prereqs.sh does");
    }
    assert!(build_stage.contains("bookworm"), "Debian 12, as the CI machines");
    assert!(build_stage.contains("cargo build --release --locked"));
    let demo = std::fs::read_to_string(manifest_dir().join("scripts/demo.sh")).unwrap();
    assert!(demo.contains("--release"), "scripts/demo.sh builds the release binary the image ships");
    let runtime = docker.split("FROM debian").nth(1).unwrap();
    assert!(runtime.contains("libpq5"), "the runtime has the PostgreSQL client library");
    assert!(runtime.contains("COPY --from=builder /app/target/release/buurtpeil"));
    assert!(runtime.contains("BUURTPEIL_BIND=0.0.0.0:8080"));
}
