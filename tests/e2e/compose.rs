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
