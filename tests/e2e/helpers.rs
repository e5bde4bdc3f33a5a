use std::io::BufRead;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use buurtpeil::config::Config;
use buurtpeil::db::{AnyConnection, DatabaseUrl};
use buurtpeil::web::Application;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an async test body once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::helpers::Backend::Postgres).await
            }
        }
    };
}

/// Runs the real `buurtpeil` binary on a test database.
pub fn buurtpeil(db: &TestDb, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_buurtpeil"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("BUURTPEIL_QUESTIONNAIRES", manifest_dir().join("questionnaires"))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// What a command printed, stdout then stderr.
pub fn text(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh, empty database that disappears with this value.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    pub fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                TestDb { url, _dir: Some(dir), pg: None }
            }
            Backend::Postgres => {
                let admin = std::env::var("BUURTPEIL_TEST_PG_URL").expect(
                    "BUURTPEIL_TEST_PG_URL is not set: run the tests with scripts/test.sh, which starts PostgreSQL",
                );
                let name = format!(
                    "bp_test_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst),
                    rand_suffix()
                );
                let mut conn = PgConnection::establish(&admin).expect("connect to the test PostgreSQL");
                conn.batch_execute(&format!("CREATE DATABASE {name}")).expect("create a test database");
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                TestDb { url: format!("{base}/{name}"), _dir: None, pg: Some((admin, name)) }
            }
        }
    }

    pub fn connect(&self) -> AnyConnection {
        DatabaseUrl::parse(&self.url).unwrap().establish().unwrap()
    }

    pub fn connect_sqlite(&self) -> diesel::SqliteConnection {
        match self.connect() {
            AnyConnection::Sqlite(c) => c,
            AnyConnection::Postgresql(_) => panic!("not a SQLite database"),
        }
    }
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos()
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg {
            if let Ok(mut conn) = PgConnection::establish(admin) {
                let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: TestDb,
}

pub struct Options {
    pub min_cell: Option<&'static str>,
    pub questionnaires: PathBuf,
    pub areas: bool,
    /// `SMTP_URL` and `BUURTPEIL_MAIL_FROM` of the server.
    pub mail: Option<(String, String)>,
    /// The perturbation of published figures; None: exact figures, for
    /// the tests of their arithmetic and suppression (tests/e2e/privacy.rs
    /// runs the installation's table on every path).
    pub perturbation: Option<buurtpeil::insight::perturbation::PerturbationTable>,
    /// How often new responses are released; None: at once.
    pub release_every: Option<std::time::Duration>,
    /// Responses per address and buurt and hour through open links; None:
    /// practically unlimited.
    pub open_link_per_hour: Option<usize>,
    /// `BUURTPEIL_PUBLIC_URL`; with mail and without this,
    /// `http://buurtpeil.test`.
    pub public_url: Option<&'static str>,
    /// `BUURTPEIL_TRUSTED_PROXIES`.
    pub trusted_proxies: Option<&'static str>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            min_cell: None,
            questionnaires: manifest_dir().join("questionnaires"),
            areas: true,
            mail: None,
            perturbation: None,
            release_every: None,
            open_link_per_hour: None,
            public_url: None,
            trusted_proxies: None,
        }
    }
}

/// A test server's settings: figures exact and released at once unless
/// the test says otherwise.
pub fn test_config(url: &str, min_cell: Option<&str>, questionnaires: PathBuf) -> Config {
    let mut config = Config::new(url, "127.0.0.1:0", min_cell, questionnaires).unwrap();
    config.perturbation = buurtpeil::insight::perturbation::PerturbationTable::exact();
    config.release_every = std::time::Duration::ZERO;
    // Tests plant many responses from one address; tests/e2e/attacks.rs
    // checks the limit itself.
    config.open_link_per_hour = 100_000;
    config
}

/// The shipped questionnaires with every one open to an open link (the
/// panel sign-up is by invitation only), for tests of the pages themselves.
pub fn all_open_questionnaires() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(manifest_dir().join("questionnaires")).unwrap().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap().replace("invitation_only = true", "");
        std::fs::write(dir.path().join(entry.file_name()), text).unwrap();
    }
    dir
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, Options::default()).await
}

/// The real application on port 0 over a fresh database holding
/// Eindhoven's areas.
pub async fn spawn_app_with(backend: Backend, options: Options) -> TestApp {
    spawn_app_on(TestDb::new(backend), options).await
}

/// The real application on port 0 over a database prepared by the test.
pub async fn spawn_app_on(db: TestDb, options: Options) -> TestApp {
    let config = test_config(&db.url, options.min_cell, options.questionnaires);
    let public_url = options.public_url.or(options.mail.is_some().then_some("http://buurtpeil.test"));
    let mut config = config.with_addresses(public_url, options.trusted_proxies).unwrap();
    if let Some(table) = options.perturbation {
        config.perturbation = table;
    }
    if let Some(every) = options.release_every {
        config.release_every = every;
    }
    if let Some(n) = options.open_link_per_hour {
        config.open_link_per_hour = n;
    }
    config.mail = options.mail.map(|(smtp_url, from)| buurtpeil::config::MailSettings { smtp_url, from });
    if options.areas {
        let pool = buurtpeil::db::connect(&config.database_url, 1).unwrap();
        buurtpeil::demo::load_areas(&mut pool.get().unwrap()).unwrap();
    }
    let app = Application::build(&config).expect("the app starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap();
    TestApp { address, client, db }
}

impl TestApp {
    /// A new server on the same database, as after a restart: it reads what
    /// was stored behind the old one's back (the old one keeps running).
    pub async fn restart(self) -> TestApp {
        let config = test_config(&self.db.url, None, manifest_dir().join("questionnaires"));
        let app = Application::build(&config).expect("the app starts");
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        TestApp { address, ..self }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let res = self.get(path).await;
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn submit(&self, slug: &str, body: &Value) -> (u16, Value) {
        let res = self
            .client
            .post(self.url(&format!("/api/v1/questionnaires/{slug}/responses")))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Submits `count` valid geluk responses for a buurt with the given
    /// life-satisfaction score.
    pub async fn submit_many(&self, buurt: &str, count: usize, score: i64) {
        for _ in 0..count {
            let (status, body) = self.submit("geluk", &geluk(buurt, score)).await;
            assert_eq!(status, 201, "{body}");
        }
    }

    pub async fn results(&self, level: &str) -> Value {
        let (status, body) = self.get_json(&format!("/api/v1/questionnaires/geluk/results?level={level}")).await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

pub fn geluk(buurt: &str, score: i64) -> Value {
    json!({ "buurt": buurt, "answers": { "tevredenheid_leven": score, "geluk": 7 } })
}

/// A results body without its release time, to compare the figures of
/// two releases (or two servers).
pub fn unreleased(mut body: Value) -> Value {
    if let Some(o) = body.as_object_mut() {
        o.remove("released_at");
    }
    body
}

/// The result entry of one area.
pub fn area<'a>(results: &'a Value, code: &str) -> &'a Value {
    results["areas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == code)
        .unwrap_or_else(|| panic!("{code} in results"))
}

pub fn count(conn: &mut AnyConnection, table: &str) -> i64 {
    use diesel::sql_types::BigInt;
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let query = format!("SELECT COUNT(*) AS n FROM {table}");
    let rows: Vec<Count> = buurtpeil::on_backend!(conn, |c| diesel::sql_query(&query).load(c)).unwrap();
    rows[0].n
}

/// Checks that the kept respondent counts agree with the stored responses,
/// per version, buurt and day.
pub fn assert_counts_agree(conn: &mut AnyConnection) {
    use diesel::sql_types::{BigInt, Text};
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName, Debug, PartialEq)]
    struct Row {
        #[diesel(sql_type = Text)]
        k: String,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let key = "CAST(questionnaire_version_id AS TEXT) || ' ' || buurt || ' ' || CAST(submitted_on AS TEXT)";
    let stored = format!("SELECT {key} AS k, CAST(COUNT(*) AS BIGINT) AS n FROM responses GROUP BY 1 ORDER BY 1");
    let kept = format!("SELECT {key} AS k, n FROM response_counts ORDER BY 1");
    let a: Vec<Row> = buurtpeil::on_backend!(&mut *conn, |c| diesel::sql_query(&stored).load(c)).unwrap();
    let b: Vec<Row> = buurtpeil::on_backend!(&mut *conn, |c| diesel::sql_query(&kept).load(c)).unwrap();
    assert_eq!(a, b, "respondent counts drifted from the responses");
}

/// A resident with a browser of their own (own cookies), answering page by
/// page without following redirects.
pub struct Resident<'a> {
    app: &'a TestApp,
    pub client: reqwest::Client,
}

impl TestApp {
    pub fn resident(&self) -> Resident<'_> {
        self.resident_with(&[])
    }

    /// A resident whose browser (or proxy) sends these headers on every
    /// request.
    pub fn resident_with(&self, headers: &[(&str, &str)]) -> Resident<'_> {
        let mut map = reqwest::header::HeaderMap::new();
        for (k, v) in headers {
            map.append(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                reqwest::header::HeaderValue::from_str(v).unwrap(),
            );
        }
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .default_headers(map)
            .build()
            .unwrap();
        Resident { app: self, client }
    }
}

impl Resident<'_> {
    pub fn url(&self, path: &str) -> String {
        self.app.url(path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.app.url(path)).send().await.unwrap()
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client.post(self.app.url(path)).form(fields).send().await.unwrap()
    }

    /// Chooses the buurt (and consents, for identified questionnaires);
    /// returns the path of the first page.
    pub async fn start(&self, slug: &str, buurt: &str) -> String {
        let res = self.post(&format!("/s/{slug}/start"), &[("buurt", buurt), ("toestemming", "ja")]).await;
        assert_eq!(res.status().as_u16(), 303, "{}", res.text().await.unwrap());
        location(&res)
    }

    /// Sends page `n` with "verder"; returns the response.
    pub async fn next(&self, slug: &str, n: usize, fields: &[(&str, &str)]) -> reqwest::Response {
        self.act(slug, n, "verder", fields).await
    }

    /// Sends page `n` with a button: "verder", "terug" or "bewaar".
    pub async fn act(&self, slug: &str, n: usize, action: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let page = n.to_string();
        let mut all = fields.to_vec();
        all.push(("actie", action));
        all.push(("pagina", page.as_str()));
        self.post(&format!("/s/{slug}/p/{n}"), &all).await
    }

    /// Answers page after page (`pages[i]` for the i-th page shown) and
    /// returns where the last one led.
    pub async fn answer_all(&self, slug: &str, buurt: &str, pages: &[&[(&str, &str)]]) -> String {
        let mut at = self.start(slug, buurt).await;
        for fields in pages {
            let n: usize = at.rsplit('/').next().unwrap().split('?').next().unwrap().parse().expect("a page path");
            let res = self.next(slug, n, fields).await;
            assert_eq!(res.status().as_u16(), 303, "page {n}: {}", res.text().await.unwrap());
            at = location(&res);
        }
        at
    }
}

pub fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

pub const PASSWORD: &str = "een lange zin als wachtwoord";

pub fn add_user(app: &TestApp, email: &str, role: buurtpeil::auth::Role) {
    use buurtpeil::auth::{create_user, EmailAddress, NewPassword};
    let email = EmailAddress::parse(email).unwrap();
    let password = NewPassword::parse(PASSWORD, &email).unwrap();
    create_user(&mut app.db.connect(), &email, role, &password).unwrap();
}

/// The value of the first hidden `csrf` field of a page.
pub fn csrf_of(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    html[start..].split('"').next().unwrap().to_owned()
}

impl TestApp {
    /// A browser logged in as a new user of the role.
    pub async fn logged_in(&self, email: &str, role: buurtpeil::auth::Role) -> Resident<'_> {
        self.logged_in_with(email, role, &[]).await
    }

    /// A browser logged in as a new user of the role, sending these headers.
    pub async fn logged_in_with(
        &self,
        email: &str,
        role: buurtpeil::auth::Role,
        headers: &[(&str, &str)],
    ) -> Resident<'_> {
        add_user(self, email, role);
        let r = self.resident_with(headers);
        let csrf = csrf_of(&r.get("/inloggen").await.text().await.unwrap());
        let res = r.post("/inloggen", &[("email", email), ("password", PASSWORD), ("csrf", &csrf)]).await;
        assert_eq!(res.status().as_u16(), 303, "logged in");
        r
    }
}

impl Resident<'_> {
    /// Posts a form of a logged-in page, with the CSRF token of `page`.
    pub async fn post_from(&self, page: &str, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let csrf = csrf_of(&self.get(page).await.text().await.unwrap());
        let mut all = fields.to_vec();
        all.push(("csrf", &csrf));
        self.post(path, &all).await
    }
}

/// Runs the real `buurtpeil` binary against a test database.
pub fn run_cli(db: &TestDb, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_buurtpeil"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// What a command printed, stdout then stderr.
pub fn printed(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The test SMTP server (tests/support/smtp_server.py) on a free port.
pub struct Smtp {
    child: std::process::Child,
    port: u16,
}

impl Smtp {
    /// A server that takes every message but, from the `after`+1-th on,
    /// drops the connection before answering: the sender cannot know.
    pub fn dropping(out: &std::path::Path, after: usize) -> Smtp {
        Smtp::start_with(out, None, Some(after))
    }

    pub fn start(out: &std::path::Path, fail: Option<(usize, u16)>) -> Smtp {
        Smtp::start_with(out, fail, None)
    }

    fn start_with(out: &std::path::Path, fail: Option<(usize, u16)>, drop_after: Option<usize>) -> Smtp {
        let python = std::env::var("BUURTPEIL_SMTP_PYTHON").unwrap_or_else(|_| "python3".into());
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut cmd = std::process::Command::new(&python);
        cmd.arg(manifest_dir().join("tests/support/smtp_server.py"))
            .args(["--port", &port.to_string(), "--out"])
            .arg(out)
            .stdout(std::process::Stdio::piped());
        if let Some((after, code)) = fail {
            cmd.args(["--fail-after", &after.to_string(), "--fail-code", &code.to_string()]);
        }
        if let Some(after) = drop_after {
            cmd.args(["--drop-after", &after.to_string()]);
        }
        let mut child = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot start {python}: {e}; run the tests with scripts/test.sh (it sets BUURTPEIL_SMTP_PYTHON)")
        });
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP server did not start (is aiosmtpd installed for {python}?)");
        Smtp { child, port }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn received(out: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(out).unwrap_or_default().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}
