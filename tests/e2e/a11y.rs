//! Accessibility: a resident on a phone (headless Chromium, 390×844)
//! completes every shipped questionnaire in Dutch and in English, and every
//! page on the way is checked with axe-core against WCAG 2.1 A and AA:
//! start pages (with search results, no match and a missing consent), each
//! question page including the ones only conditions show, pages with
//! validation errors, the saved page with the resume code, the resume-code
//! page with an error, the thanks pages, the results pages, the home page and
//! an error page; and the talent profile's private-link pages (view, change,
//! erase, the code page, a dead link). Each page must also fit the screen (no sideways
//! scrolling) and carry the right `lang`.
//!
//! The professionals' map page (choropleth, table, ranking) is checked on the
//! same phone, in Dutch and English, for a scale and a choice question.
//!
//! A second test answers geluk with the keyboard only (Tab, Shift+Tab,
//! Space, Enter and arrow keys; no clicks) and checks after every key press
//! that the focused element shows a focus outline on screen.
//!
//! axe-core comes from npm: scripts/test.sh installs a pinned version under
//! target/axe/ and exports its `axe.min.js` as `BUURTPEIL_AXE`. The pages
//! send `Content-Security-Policy: default-src 'self'` (no inline scripts);
//! that does not stop axe, because WebDriver's "execute script" runs through
//! the DevTools protocol, which Chromium does not subject to the page's CSP.
//! The test checks that the header is there and that axe loaded, so it
//! would fail loudly, not pass silently, if that ever changed.
//!
//! Screenshots of pages with a problem go to target/screenshots/a11y/.

use std::time::Instant;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use serde_json::{json, Value};

use crate::chrome::*;
use crate::helpers::*;

/// The WCAG levels axe checks.
const TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

fn axe_source() -> String {
    let path = std::env::var("BUURTPEIL_AXE").map(std::path::PathBuf::from).unwrap_or_else(|_| {
        // Where scripts/test.sh puts it: also found by a plain `cargo test`
        // after one run of the script.
        manifest_dir().join("target/axe/node_modules/axe-core/axe.min.js")
    });
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "axe-core not found at {} ({e}): run the tests with scripts/test.sh, which fetches it from npm \
             and sets BUURTPEIL_AXE",
            path.display()
        )
    })
}

/// Runs axe-core on the current page; returns its violations as readable
/// lines (rule id, impact, help, then each element's selector and what is
/// wrong with it).
async fn axe_violations(c: &Client, axe: &str) -> Vec<String> {
    let loaded = c
        .execute(
            &format!("{axe}\n;return typeof window.axe === 'object' && typeof window.axe.run === 'function';"),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(loaded, json!(true), "axe-core did not load into the page");
    let script = r#"
        const done = arguments[arguments.length - 1];
        axe.run(document, { runOnly: { type: 'tag', values: arguments[0] }, resultTypes: ['violations'] })
            .then(r => done(r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
                nodes: v.nodes.map(n => ({ target: n.target.join(' '), summary: n.failureSummary })),
            }))))
            .catch(e => done('axe failed: ' + e));
    "#;
    let result = c.execute_async(script, vec![json!(TAGS)]).await.unwrap();
    let Value::Array(violations) = result else { panic!("{result}") };
    violations
        .iter()
        .map(|v| {
            let mut line = format!(
                "{} [{}]: {} ({})",
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or(""),
                v["url"].as_str().unwrap_or("")
            );
            for n in v["nodes"].as_array().into_iter().flatten() {
                let summary = n["summary"].as_str().unwrap_or("").replace('\n', " ");
                line.push_str(&format!("\n      {} : {summary}", n["target"].as_str().unwrap_or("?")));
            }
            line
        })
        .collect()
}

/// Tap targets smaller than 44×44 CSS pixels (WCAG 2.5.5), as readable
/// lines. A radio button or checkbox counts with its label; a link inside a
/// sentence (its block has other text) is exempt, as WCAG allows.
const SMALL_TARGETS: &str = r#"
    const small = [];
    const targets = document.querySelectorAll('a[href], button, select, textarea, input:not([type=hidden])');
    for (const el of targets) {
        let box = el;
        if (el.matches('input[type=radio], input[type=checkbox]')) box = el.closest('label') || el;
        const r = box.getBoundingClientRect();
        if (r.width === 0 || r.height === 0 || r.right < 0 || r.bottom < 0) continue;  // not shown
        if (el.tagName === 'A') {
            const block = el.closest('p, li, td, th, div');
            if (block && block.textContent.trim() !== el.textContent.trim()) continue;  // inline in text
        }
        if (r.width < 44 || r.height < 44) {
            const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + el.className : '')
                + ' "' + (el.textContent || el.name || '').trim().slice(0, 30) + '"';
            small.push(name + ': ' + Math.round(r.width) + '×' + Math.round(r.height));
        }
    }
    return small;
"#;

/// One resident's way through a questionnaire in one language, collecting
/// every problem instead of stopping at the first.
struct Audit<'a> {
    c: &'a Client,
    axe: &'a str,
    slug: &'static str,
    lang: &'static str,
    problems: Vec<String>,
    pages: usize,
}

impl<'a> Audit<'a> {
    fn new(c: &'a Client, axe: &'a str, slug: &'static str, lang: &'static str) -> Audit<'a> {
        Audit { c, axe, slug, lang, problems: Vec::new(), pages: 0 }
    }

    /// Checks the page the browser shows now.
    async fn check(&mut self, what: &str) {
        let here = path(self.c).await;
        let name = format!("{} ({}), {what}: {here}", self.slug, self.lang);
        let mut found = Vec::new();
        let lang = self.c.execute("return document.documentElement.lang;", vec![]).await.unwrap();
        if lang != self.lang {
            found.push(format!("the page's language is {lang}, not {}", self.lang));
        }
        if let Err(e) = fits_the_screen(self.c).await {
            found.push(e);
        }
        let small = self.c.execute(SMALL_TARGETS, vec![]).await.unwrap();
        for target in small.as_array().into_iter().flatten() {
            found.push(format!("tap target smaller than 44×44 px: {}", target.as_str().unwrap_or("?")));
        }
        found.extend(axe_violations(self.c, self.axe).await);
        if !found.is_empty() {
            let file: String =
                name.chars().map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '-' }).take(100).collect();
            shot(self.c, "a11y", &file).await;
            self.problems.push(format!("{name}\n    {}", found.join("\n    ")));
        }
        self.pages += 1;
    }

    /// Answers the page shown, checks it, and presses `actie` (verder,
    /// terug, bewaar).
    async fn page(&mut self, what: &str, answers: &[(&str, &str)], actie: &str) {
        for (name, value) in answers {
            answer(self.c, name, value).await;
        }
        self.check(what).await;
        click_and_wait(self.c, &format!("button[name='actie'][value='{actie}']")).await;
    }

    /// Asserts the browser is at this path (any query).
    async fn at(&self, expected: &str) {
        let here = path(self.c).await;
        assert_eq!(here.split('?').next().unwrap(), expected, "{} ({})", self.slug, self.lang);
    }

    /// A fresh resident: no cookies, the start page in the audit's language
    /// (Dutch from the browser, English through the switch in the header).
    async fn start(&mut self, app: &TestApp) {
        self.c.delete_all_cookies().await.unwrap();
        open(self.c, &app.url(&format!("/s/{}", self.slug))).await;
        if self.lang == "en" {
            click_and_wait(self.c, "header a.lang").await;
        }
        self.check("start page").await;
    }

    async fn search(&mut self, text: &str) {
        let field = self.c.find(Locator::Css("#zoek")).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
        click_and_wait(self.c, "form.search button").await;
    }

    async fn begin(&mut self) {
        click_and_wait(self.c, &format!("form[action='/s/{}/start'] button[type='submit']", self.slug)).await;
    }
}

/// Removes the screenshots an earlier run left for this questionnaire.
fn clear_shots(slug: &str) {
    for entry in std::fs::read_dir(shot_dir("a11y")).unwrap().flatten() {
        if entry.file_name().to_string_lossy().starts_with(&format!("{slug}--")) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn report(audits: Vec<Audit>) {
    let pages: usize = audits.iter().map(|a| a.pages).sum();
    let problems: Vec<String> = audits.into_iter().flat_map(|a| a.problems).collect();
    eprintln!("a11y: {pages} pages checked");
    assert!(problems.is_empty(), "{} of {pages} pages have problems:\n\n{}", problems.len(), problems.join("\n\n"));
}

/// The app with ten earlier answers in Witte Dame, so results show figures.
async fn app_with_answers() -> TestApp {
    let app = spawn_app(Backend::Sqlite).await;
    for i in 0..10 {
        let health = ["goed", "zeer_goed", "gaat_wel"][i % 3];
        let body = json!({ "buurt": "BU07721130", "answers": {
            "tevredenheid_leven": 4 + i % 6, "geluk": 7, "gezondheid": health } });
        let (status, body) = app.submit("geluk", &body).await;
        assert_eq!(status, 201, "{body}");
    }
    // Two waves, so the results show the change between them: twelve
    // answers in January, and the ones above in the wave open now.
    let jan = |d| chrono::NaiveDate::from_ymd_opt(2026, 1, d).unwrap();
    crate::results::open_wave(&app, "Januari", jan(1), Some(jan(31)));
    crate::results::seed(&app, "BU07721130", jan(15), 12, 6);
    let today = buurtpeil::clock::today();
    crate::results::open_wave(&app, "Nu", today - chrono::Days::new(3), None);
    app.restart().await
}

/// The pages send a strict CSP, and axe works under it: it finds a
/// planted problem (an image without a text alternative).
async fn axe_works_under_the_csp(app: &TestApp, c: &Client, axe: &str) {
    let res = app.get("/").await;
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    open(c, &app.url("/")).await;
    c.execute("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/x.png\">');", vec![])
        .await
        .unwrap();
    let found = axe_violations(c, axe).await;
    assert!(found.iter().any(|v| v.starts_with("image-alt [critical]")), "axe missed a planted problem: {found:?}");
}

async fn geluk<'a>(app: &TestApp, c: &'a Client, axe: &'a str, lang: &'static str) -> Audit<'a> {
    let mut a = Audit::new(c, axe, "geluk", lang);
    a.start(app).await;
    a.search("xyzzy").await;
    a.check("start page, no buurt found").await;
    a.search("witte").await;
    a.check("start page, buurt found").await;
    a.begin().await;

    a.at("/s/geluk/p/1").await;
    click_and_wait(c, "button[name='actie'][value='verder']").await;
    assert!(c.find(Locator::Css("div.error[role='alert']")).await.is_ok(), "errors shown");
    a.check("page 1 with errors").await;
    a.page("page 1, later verder", &[("q_tevredenheid_leven", "8"), ("q_geluk", "7")], "bewaar").await;

    let code = c.find(Locator::Css(".code")).await.unwrap().text().await.unwrap();
    a.check("saved page with the resume code").await;
    open(c, &app.url("/s/geluk/verder")).await;
    a.check("resume code page").await;
    c.find(Locator::Css("#code")).await.unwrap().send_keys("AAAA-BBBB-CCCC").await.unwrap();
    click_and_wait(c, "form[action='/s/geluk/verder'] button").await;
    assert!(c.find(Locator::Css("#e_code")).await.is_ok(), "an unknown code is an error");
    a.check("resume code page with an error").await;
    let field = c.find(Locator::Css("#code")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(&code).await.unwrap();
    click_and_wait(c, "form[action='/s/geluk/verder'] button").await;

    a.at("/s/geluk/p/1").await;
    a.page("page 1", &[], "verder").await;
    a.at("/s/geluk/p/2").await;
    a.page("page 2", &[("q_gezondheid", "goed"), ("q_eenzaam", "vaak"), ("q_hulp_nodig", "yes")], "verder").await;
    a.at("/s/geluk/p/3").await;
    assert!(c.find(Locator::Css("p.statement")).await.is_ok(), "the note on loneliness is shown");
    a.page("page 3 with a note", &[("q_idee_buurt", "Een bankje bij de speeltuin")], "verder").await;

    a.at("/s/geluk/bedankt").await;
    a.check("thanks page").await;
    click_and_wait(c, "a.button").await;
    a.at("/r/geluk").await;
    a.check("results page").await;
    open(c, &app.url("/r/geluk?niveau=buurt&gebied=BU07721130")).await;
    a.check("results page, a buurt with a chart").await;
    open(c, &app.url("/r/geluk?vraag=gezondheid&niveau=buurt&gebied=BU07721130")).await;
    a.check("results page, a choice question").await;
    open(c, &app.url("/r/geluk?niveau=buurt&meting=2&volgorde=uitkomst&gebied=BU07721130")).await;
    assert!(c.find(Locator::Css(".diff")).await.is_ok(), "the change since January is shown");
    a.check("results page, a wave with its change, ranked").await;
    open(c, &app.url("/r/geluk?vraag=gezondheid&optie=goed&niveau=wijk&meting=2")).await;
    a.check("results page, a choice compared by one answer").await;
    open(c, &app.url("/r/geluk?niveau=buurt&gebied=BU07721130")).await;
    click_and_wait(c, "a[href='/resultaten/geluk/rapport/BU07721130']").await;
    a.at("/resultaten/geluk/rapport/BU07721130").await;
    assert!(c.find(Locator::Css("svg.chart.trend")).await.is_ok(), "the report draws the trend");
    a.check("report of a buurt").await;
    open(c, &app.url("/resultaten/geluk/rapport/BU07721130?meting=2")).await;
    a.check("report of a buurt in one wave").await;
    open(c, &app.url("/resultaten/geluk/rapport/BU07721120")).await;
    assert!(c.find(Locator::Css("p.notice")).await.is_ok(), "a hidden buurt says so");
    a.check("report of a hidden buurt").await;
    open(c, &app.url("/resultaten/geluk/rapport/GM0772")).await;
    a.check("report of the gemeente").await;
    open(c, &app.url("/")).await;
    a.check("home page").await;
    open(c, &app.url("/s/bestaat-niet")).await;
    a.check("error page").await;
    a
}

async fn leefbaarheid<'a>(app: &TestApp, c: &'a Client, axe: &'a str, lang: &'static str) -> Audit<'a> {
    let mut a = Audit::new(c, axe, "leefbaarheid", lang);
    a.start(app).await;
    a.search("witte").await;
    a.begin().await;

    let p = |n: usize| format!("/s/leefbaarheid/p/{n}");
    a.at(&p(1)).await;
    answer(c, "q_jaren_buurt", "veel").await;
    click_and_wait(c, "button[name='actie'][value='verder']").await;
    assert_eq!(c.find_all(Locator::Css(".has-error")).await.unwrap().len(), 2, "required scale, bad number");
    a.check("page 1 with errors").await;
    let wonen = [
        ("q_tevredenheid_buurt", "6"),
        ("q_woonsituatie", "other"),
        ("o_woonsituatie", "Woonboot"),
        ("q_jaren_buurt", "12"),
        ("q_buitenruimte", "yes"),
    ];
    a.page("page 1", &wonen, "verder").await;
    a.at(&p(2)).await;
    a.page("page 2", &[("q_veilig_buurt", "4"), ("q_veilig_avond", "soms")], "verder").await;
    // Feeling unsafe (≤ 5) asks why.
    a.at(&p(3)).await;
    a.page("page 3 (shown when unsafe)", &[("q_onveilig_door", "donker"), ("q_onveilig_door", "drugs")], "verder")
        .await;
    a.at(&p(4)).await;
    a.page("page 4", &[("q_buren_helpen", "eens")], "verder").await;
    a.at(&p(5)).await;
    a.page("page 5", &[("q_bewegen", "3")], "verder").await;
    a.at(&p(6)).await;
    assert!(c.find(Locator::Css("[name='q_tevreden_buitenruimte']")).await.is_ok(), "asked with a garden");
    a.page("page 6", &[("q_tevreden_buitenruimte", "7"), ("q_overlast", "geluid_verkeer")], "verder").await;
    a.at(&p(7)).await;
    a.page("page 7", &[("q_dagbesteding", "betaald_werk")], "verder").await;
    a.at(&p(8)).await;
    a.page("page 8 (shown with work)", &[("q_reistijd_werk", "25")], "verder").await;
    a.at(&p(9)).await;
    a.page("page 9", &[("q_rondkomen", "moeilijk")], "verder").await;
    a.at(&p(10)).await;
    a.page("page 10 (shown when money is tight)", &[("q_hulp_geld_bekend", "no")], "verder").await;
    a.at(&p(11)).await;
    a.page("page 11", &[("q_toekomst_buurt", "beter")], "verder").await;
    a.at("/s/leefbaarheid/bedankt").await;
    a.check("thanks page").await;
    open(c, &app.url("/r/leefbaarheid?vraag=jaren_buurt&niveau=buurt")).await;
    a.check("results page, a number question").await;
    a
}

async fn talentenscan<'a>(app: &TestApp, c: &'a Client, axe: &'a str, lang: &'static str) -> Audit<'a> {
    let mut a = Audit::new(c, axe, "talentenscan", lang);
    a.start(app).await;
    a.search("witte").await;
    a.check("start page with consent, buurt found").await;
    // The browser itself refuses a form without the required consent; a
    // browser that does not check forms gets the server's message.
    c.execute("document.querySelector(\"form[action$='/start']\").noValidate = true;", vec![]).await.unwrap();
    a.begin().await;
    assert!(c.find(Locator::Css("#e_toestemming")).await.is_ok(), "consent is required");
    let buurt = c.find(Locator::Css("select#buurt")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(buurt.as_deref(), Some("BU07721130"), "the buurt stays chosen");
    a.check("start page, consent missing").await;
    answer(c, "toestemming", "ja").await;
    a.begin().await;

    let p = |n: usize| format!("/s/talentenscan/p/{n}");
    a.at(&p(1)).await;
    // Six of at most five.
    for v in ["anderen_helpen", "samen_eten", "buiten", "maken", "muziek_kunst", "bewegen"] {
        answer(c, "q_blij_van", v).await;
    }
    click_and_wait(c, "button[name='actie'][value='verder']").await;
    assert!(c.find(Locator::Css(".has-error")).await.is_ok(), "too many choices");
    a.check("page 1 with errors").await;
    a.page("page 1", &[("q_blij_van", "bewegen"), ("q_trots_op", "Mijn moestuin")], "verder").await;
    a.at(&p(2)).await;
    let kunnen = [("q_talenten", "talen"), ("q_talenten", "koken"), ("q_talent_best", "Koken"), ("q_leren", "zorg")];
    a.page("page 2", &kunnen, "verder").await;
    // Languages as a talent ask which ones.
    a.at(&p(3)).await;
    let talen = [
        ("q_talen_welke", "nederlands"),
        ("q_talen_welke", "arabisch"),
        ("q_talen_welke", "other"),
        ("o_talen_welke", "Koerdisch"),
        ("q_talen_inzet", "gesprek"),
    ];
    a.page("page 3 (shown with languages)", &talen, "verder").await;
    a.at(&p(4)).await;
    a.page("page 4", &[("q_doen_buurt", "meedoen"), ("q_tijd", "af_en_toe")], "verder").await;
    a.at(&p(5)).await;
    a.page("page 5", &[("q_benaderen", "email"), ("q_contact_ok", "yes")], "verder").await;
    // Contact wanted: how to reach the resident.
    a.at(&p(6)).await;
    answer(c, "q_email", "geen-mail").await;
    click_and_wait(c, "button[name='actie'][value='verder']").await;
    assert_eq!(c.find_all(Locator::Css(".has-error")).await.unwrap().len(), 2, "name required, bad e-mail");
    a.check("page 6 with errors").await;
    let gegevens = [("q_naam", "Fatima"), ("q_email", "fatima@example.org"), ("q_telefoon", "0612345678")];
    a.page("page 6 (shown after consent)", &gegevens, "verder").await;
    a.at("/s/talentenscan/bedankt").await;
    a.check("thanks page with the private link").await;
    own_profile(&mut a, app).await;
    a
}

/// The resident's own pages behind the private link: view, change (with an
/// error), erase (first without the tick), the typed-code page, and the
/// page of a link that no longer works.
async fn own_profile(a: &mut Audit<'_>, app: &TestApp) {
    let c = a.c;
    click_and_wait(c, "a.button.primary").await;
    let me = path(c).await;
    assert!(me.starts_with("/mijn-talent/"), "{me}");
    a.check("own profile").await;
    open(c, &app.url(&format!("{me}/wijzigen?lang={}", a.lang))).await;
    a.check("change profile").await;
    let name = c.find(Locator::Css("#f_naam")).await.unwrap();
    name.clear().await.unwrap();
    click_and_wait(c, "form button.primary").await;
    assert!(c.find(Locator::Css(".has-error")).await.is_ok(), "the name is required");
    a.check("change profile with an error").await;
    // A match a verbinder proposed by e-mail: the resident's yes/no page.
    let proposal = proposal_link(app, a.lang);
    open(c, &app.url(&format!("{proposal}?lang={}", a.lang))).await;
    a.check("proposal").await;
    click_and_wait(c, "button[value='ja']").await;
    a.check("proposal answered").await;
    open(c, &app.url(&format!("{me}?lang={}", a.lang))).await;
    click_and_wait(c, "form[action$='/wissen'] button").await;
    assert!(c.find(Locator::Css("#e_zeker")).await.is_ok(), "erasing needs the tick");
    a.check("erase without the tick").await;
    answer(c, "zeker", "ja").await;
    click_and_wait(c, "form[action$='/wissen'] button").await;
    a.check("erased").await;
    open(c, &app.url(&format!("{me}?lang={}", a.lang))).await;
    a.check("a link that no longer works").await;
    open(c, &app.url(&format!("/mijn-talent?lang={}", a.lang))).await;
    a.check("typed code").await;
}

/// A proposal for the one profile there is, as a verbinder's e-mail would
/// link to it.
fn proposal_link(app: &TestApp, lang: &str) -> String {
    use buurtpeil::db::schema::{talent_initiatives as ti, talent_profiles as tp};
    use diesel::prelude::*;
    let email = format!("verbinder-{lang}@example.nl");
    add_user(app, &email, buurtpeil::auth::Role::Professional);
    let mut conn = app.db.connect();
    let user = buurtpeil::auth::find_by_email(&mut conn, &buurtpeil::auth::EmailAddress::parse(&email).unwrap())
        .unwrap()
        .unwrap();
    let today = buurtpeil::clock::today();
    diesel::insert_into(ti::table)
        .values((
            ti::buurt.eq("BU07721130"),
            ti::name.eq("Buurtkeuken"),
            ti::kind.eq("activiteit"),
            ti::offers.eq("Elke dinsdag samen koken."),
            ti::skills.eq("koken"),
            ti::teaches.eq(""),
            ti::activities.eq(""),
            ti::audience.eq(""),
            ti::time_needed.eq(""),
            ti::contact.eq(""),
            ti::status.eq("open"),
            ti::updated_on.eq(today),
        ))
        .execute(&mut conn)
        .unwrap();
    let initiative: i32 = ti::table.select(ti::id).order(ti::id.desc()).first(&mut conn).unwrap();
    let profile: i64 = tp::table.select(tp::response_id).first(&mut conn).unwrap();
    let token = buurtpeil::talent::proposal::propose(&mut conn, user.id, profile, initiative, today).unwrap();
    format!("/voorstel/{}", token.as_str())
}

async fn panelaanmelding<'a>(app: &TestApp, c: &'a Client, axe: &'a str, lang: &'static str) -> Audit<'a> {
    let mut a = Audit::new(c, axe, "panelaanmelding", lang);
    a.start(app).await;
    a.search("witte").await;
    answer(c, "toestemming", "ja").await;
    a.begin().await;
    let p = |n: usize| format!("/s/panelaanmelding/p/{n}");
    a.at(&p(1)).await;
    click_and_wait(c, "button[name='actie'][value='verder']").await;
    assert!(c.find(Locator::Css(".has-error")).await.is_ok(), "the quota questions are required");
    a.check("page 1 with errors").await;
    let over_u = [
        ("q_geslacht", "vrouw"),
        ("q_leeftijd", "van_40_tot_55"),
        ("q_opleiding", "midden"),
        ("q_woonsituatie", "huur"),
        ("q_thuistaal", "andere"),
    ];
    a.page("page 1", &over_u, "verder").await;
    a.at(&p(2)).await;
    let contact = [("q_naam", "Samira"), ("q_email", "samira@example.org"), ("q_hulp_nodig", "yes")];
    a.page("page 2", &contact, "verder").await;
    // Help asked for: which help.
    a.at(&p(3)).await;
    a.page("page 3 (shown when help is needed)", &[("q_hulp_welke", "Een tolk Arabisch")], "verder").await;
    a.at("/s/panelaanmelding/bedankt").await;
    a.check("thanks page").await;
    a
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panelaanmelding_passes_axe_in_dutch_and_english() {
    let axe = axe_source();
    clear_shots("panelaanmelding");
    // Residents reach it through an invitation; its pages are the same.
    let open = all_open_questionnaires();
    let app =
        spawn_app_with(Backend::Sqlite, Options { questionnaires: open.path().into(), ..Options::default() }).await;
    let phone = phone().await;
    let audits =
        vec![panelaanmelding(&app, &phone.c, &axe, "nl").await, panelaanmelding(&app, &phone.c, &axe, "en").await];
    report(audits);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn geluk_passes_axe_in_dutch_and_english() {
    let axe = axe_source();
    clear_shots("geluk");
    let app = app_with_answers().await;
    let phone = phone().await;
    axe_works_under_the_csp(&app, &phone.c, &axe).await;
    let started = Instant::now();
    let audits = vec![geluk(&app, &phone.c, &axe, "nl").await, geluk(&app, &phone.c, &axe, "en").await];
    eprintln!("a11y geluk: {:.1} s", started.elapsed().as_secs_f64());
    report(audits);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leefbaarheid_passes_axe_in_dutch_and_english() {
    let axe = axe_source();
    clear_shots("leefbaarheid");
    let app = spawn_app(Backend::Sqlite).await;
    let phone = phone().await;
    let audits = vec![leefbaarheid(&app, &phone.c, &axe, "nl").await, leefbaarheid(&app, &phone.c, &axe, "en").await];
    report(audits);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn talentenscan_passes_axe_in_dutch_and_english() {
    let axe = axe_source();
    clear_shots("talentenscan");
    let app = spawn_app(Backend::Sqlite).await;
    let phone = phone().await;
    let audits = vec![talentenscan(&app, &phone.c, &axe, "nl").await, talentenscan(&app, &phone.c, &axe, "en").await];
    report(audits);
}

// ---------------------------------------------------------------- keyboard

/// Presses one key (with Shift held when `shift`), as a keyboard would:
/// WebDriver key actions go to whatever has focus.
async fn key(c: &Client, k: char, shift: bool) {
    let shift_key: char = Key::Shift.into();
    let mut keys = KeyActions::new("keyboard".into());
    if shift {
        keys = keys.then(KeyAction::Down { value: shift_key });
    }
    keys = keys.then(KeyAction::Down { value: k }).then(KeyAction::Up { value: k });
    if shift {
        keys = keys.then(KeyAction::Up { value: shift_key });
    }
    c.perform_actions(keys).await.unwrap();
}

async fn press(c: &Client, k: Key) {
    key(c, k.into(), false).await;
}

async fn type_text(c: &Client, text: &str) {
    for ch in text.chars() {
        key(c, ch, false).await;
    }
}

/// Presses a key that loads another page, and waits for it.
async fn press_and_wait(c: &Client, k: Key) {
    mark_page(c).await;
    press(c, k).await;
    wait_for_new_page(c).await;
}

/// What has focus, and whether a sighted keyboard user can see it: the
/// focused element (or, for a visually hidden radio button, what its label
/// shows instead) has an outline of at least 2 px with a contrast of at
/// least 3:1 against the white page, and is on the screen.
const FOCUS: &str = r#"
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return { visible: false, what: 'nothing' };
    const what = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.name ? '[name=' + el.name + ']' : '')
        + (el.value && el.tagName !== 'TEXTAREA' ? '[value=' + el.value + ']' : '')
        + (el.className ? '.' + el.className.split(' ').join('.') : '');
    const r0 = el.getBoundingClientRect();
    const hidden = getComputedStyle(el).opacity === '0' || r0.width < 4 || r0.height < 4;
    const label = el.closest('label');
    const candidates = hidden && label ? [label, ...label.querySelectorAll('*')] : [el];
    const ring = candidates.find(e => {
        const s = getComputedStyle(e);
        return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== 'none';
    });
    if (!ring) return { visible: false, what: what + ': no focus outline' };
    // WCAG 1.4.11: the outline stands out at least 3:1 from the white page.
    const rgb = getComputedStyle(ring).outlineColor.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);
    const lin = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    const lum = 0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2]);
    const contrast = 1.05 / (lum + 0.05);
    if (contrast < 3) return { visible: false, what: what + ': focus outline contrast ' + contrast.toFixed(2) + ':1' };
    const r = ring.getBoundingClientRect();
    const onScreen = r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth;
    return { visible: onScreen, what: what + (onScreen ? '' : ': focus outline off screen') };
"#;

async fn focus(c: &Client) -> (bool, String) {
    let v = c.execute(FOCUS, vec![]).await.unwrap();
    (v["visible"].as_bool().unwrap_or(false), v["what"].as_str().unwrap_or("?").to_owned())
}

/// Asserts the focus is visible and on an element matching `css`.
async fn focus_is_on(c: &Client, css: &str) {
    let (visible, what) = focus(c).await;
    assert!(visible, "focus is not visible on {what} ({})", path(c).await);
    let matches = c.execute("return document.activeElement.matches(arguments[0]);", vec![json!(css)]).await.unwrap();
    assert_eq!(matches, json!(true), "focus on {what}, expected {css}");
}

/// Presses Tab until the focus is on `css`, checking after every press that
/// the focus is visible. Fails after 60 presses.
async fn tab_to(c: &Client, css: &str) {
    let mut trail = Vec::new();
    for _ in 0..60 {
        press(c, Key::Tab).await;
        let (visible, what) = focus(c).await;
        assert!(visible, "focus is not visible on {what} ({}); tabbed through {trail:?}", path(c).await);
        let here = c.execute("return document.activeElement.matches(arguments[0]);", vec![json!(css)]).await.unwrap();
        if here == json!(true) {
            return;
        }
        trail.push(what);
    }
    panic!("Tab never reached {css} ({}); tabbed through {trail:?}", path(c).await);
}

async fn checked(c: &Client, name: &str) -> Vec<String> {
    let v = c
        .execute(
            "return [...document.querySelectorAll(`input[name='${arguments[0]}']:checked`)].map(e => e.value);",
            vec![json!(name)],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_answers_geluk_with_the_keyboard_only() {
    let app = spawn_app(Backend::Sqlite).await;
    let phone = phone().await;
    let c = &phone.c;

    // The start page: the skip link comes first and works.
    open(c, &app.url("/s/geluk")).await;
    press(c, Key::Tab).await;
    focus_is_on(c, "a.skip").await;
    press(c, Key::Tab).await;
    focus_is_on(c, "a.brand").await;
    key(c, Key::Tab.into(), true).await;
    focus_is_on(c, "a.skip").await;
    press(c, Key::Enter).await;
    press(c, Key::Tab).await;
    focus_is_on(c, "main #zoek").await;
    type_text(c, "witte").await;
    press_and_wait(c, Key::Enter).await;
    assert_eq!(path(c).await, "/s/geluk?zoek=witte");
    tab_to(c, "select#buurt").await;
    let buurt = c.execute("return document.activeElement.value;", vec![]).await.unwrap();
    assert_eq!(buurt, json!("BU07721130"), "the one buurt found is chosen");
    tab_to(c, "button.primary").await;
    press_and_wait(c, Key::Enter).await;

    // Page 1: going on without answers shows the errors, with links to them.
    assert_eq!(path(c).await, "/s/geluk/p/1");
    tab_to(c, "button[value='verder']").await;
    press_and_wait(c, Key::Enter).await;
    // The list of errors has the focus (autofocus, no script), so a screen
    // reader reads it first and Tab goes on from there.
    focus_is_on(c, "div.error.summary").await;
    press(c, Key::Tab).await;
    focus_is_on(c, "div.error a[href='#q_tevredenheid_leven']").await;
    press(c, Key::Enter).await;
    // The link leads to the question: the next Tab is in it.
    press(c, Key::Tab).await;
    focus_is_on(c, "input[name='q_tevredenheid_leven']").await;
    for _ in 0..8 {
        press(c, Key::Right).await;
        focus_is_on(c, "input[name='q_tevredenheid_leven']").await;
    }
    assert_eq!(checked(c, "q_tevredenheid_leven").await, ["8"]);
    press(c, Key::Tab).await;
    focus_is_on(c, "input[name='q_geluk'][value='0']").await;
    press(c, Key::Space).await;
    press(c, Key::Right).await;
    press(c, Key::Right).await;
    focus_is_on(c, "input[name='q_geluk'][value='2']").await;
    press(c, Key::Left).await;
    assert_eq!(checked(c, "q_geluk").await, ["1"]);
    tab_to(c, "button[value='verder']").await;
    press_and_wait(c, Key::Enter).await;

    // Page 2: choices with arrows and Space.
    assert_eq!(path(c).await, "/s/geluk/p/2");
    tab_to(c, "input[name='q_gezondheid']").await;
    press(c, Key::Down).await;
    assert_eq!(checked(c, "q_gezondheid").await, ["goed"]);
    press(c, Key::Tab).await;
    focus_is_on(c, "input[name='q_eenzaam'][value='nooit']").await;
    press(c, Key::Space).await;
    assert_eq!(checked(c, "q_eenzaam").await, ["nooit"]);
    tab_to(c, "button[value='verder']").await;
    // Back and forth keeps the answers.
    press(c, Key::Tab).await;
    focus_is_on(c, "button[value='terug']").await;
    press_and_wait(c, Key::Enter).await;
    assert_eq!(path(c).await, "/s/geluk/p/1");
    assert_eq!(checked(c, "q_geluk").await, ["1"]);
    tab_to(c, "button[value='verder']").await;
    press_and_wait(c, Key::Enter).await;
    assert_eq!(path(c).await, "/s/geluk/p/2");
    assert_eq!(checked(c, "q_eenzaam").await, ["nooit"]);
    tab_to(c, "button[value='verder']").await;
    press_and_wait(c, Key::Enter).await;

    // Page 3: a text, then send.
    assert_eq!(path(c).await, "/s/geluk/p/3");
    tab_to(c, "textarea[name='q_idee_buurt']").await;
    type_text(c, "Een bankje").await;
    tab_to(c, "button[value='verder']").await;
    press_and_wait(c, Key::Enter).await;
    assert_eq!(path(c).await, "/s/geluk/bedankt");
    tab_to(c, "a.button").await;
    press_and_wait(c, Key::Enter).await;
    assert_eq!(path(c).await, "/r/geluk");

    // The talent scan's start page: consent with Space.
    open(c, &app.url("/s/talentenscan?zoek=witte")).await;
    tab_to(c, "select#buurt").await;
    tab_to(c, "input[name='toestemming']").await;
    press(c, Key::Space).await;
    assert_eq!(checked(c, "toestemming").await, ["ja"]);
    tab_to(c, "button.primary").await;
    press_and_wait(c, Key::Enter).await;
    assert_eq!(path(c).await, "/s/talentenscan/p/1");
}

// ---------------------------------------------------------------- designer

/// A professional in the browser: log in, design a questionnaire with a
/// condition, preview and publish it, open a wave. Every page passes axe
/// too: professionals work for the public sector, where WCAG holds as well.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_professional_designs_in_the_browser_and_every_page_passes_axe() {
    use buurtpeil::auth::Role;
    let axe = axe_source();
    clear_shots("ontwerp");
    let app = spawn_app(Backend::Sqlite).await;
    add_user(&app, "wijkmanager@eindhoven.nl", Role::Professional);
    let phone = phone().await;
    let c = &phone.c;
    let mut a = Audit::new(c, &axe, "ontwerp", "nl");
    open(c, &app.url("/ontwerp")).await;
    a.at("/inloggen").await;
    a.check("login").await;
    answer(c, "email", "wijkmanager@eindhoven.nl").await;
    answer(c, "password", PASSWORD).await;
    click_and_wait(c, "form[action='/inloggen'] button[type='submit']").await;
    a.at("/ontwerp").await;
    a.check("questionnaire list").await;
    answer(c, "slug", "buurtfeest").await;
    answer(c, "title_nl", "Buurtfeest").await;
    answer(c, "title_en", "Street party").await;
    click_and_wait(c, "form[action='/ontwerp/nieuw'] button[type='submit']").await;
    a.at("/ontwerp/buurtfeest").await;
    a.check("editor").await;
    // The first question becomes a choice.
    click_and_wait(c, "a[href='/ontwerp/buurtfeest/vraag/vraag_1']").await;
    a.check("question form").await;
    c.find(Locator::Css("#type option[value='single_choice']")).await.unwrap().click().await.unwrap();
    answer(c, "id", "komt").await;
    answer(c, "text_nl", "Komt u naar het buurtfeest?").await;
    answer(c, "text_en", "Will you come to the street party?").await;
    click_and_wait(c, "form button.primary").await;
    a.at("/ontwerp/buurtfeest/vraag/komt").await;
    answer(c, "options", "ja | Ja | Yes\nnee | Nee | No\nbla").await;
    click_and_wait(c, "form button.primary").await;
    assert!(c.find(Locator::Css("#e_options")).await.is_ok(), "a bad option line is named");
    a.check("question form with an error").await;
    answer(c, "options", "ja | Ja | Yes\nnee | Nee | No").await;
    click_and_wait(c, "form button.primary").await;
    // A second page, shown only to those who come.
    click_and_wait(c, "button[name='doe'][value='pagina_erbij']").await;
    click_and_wait(c, "a[href='/ontwerp/buurtfeest/pagina/pagina_2']").await;
    a.check("page settings").await;
    answer(c, "show_if", "komt = \"ja\"").await;
    click_and_wait(c, "form button.primary").await;
    a.at("/ontwerp/buurtfeest").await;
    assert!(c.source().await.unwrap().contains("Dit concept is klaar om te publiceren."));
    // Preview as a resident, then publish.
    click_and_wait(c, "a[href='/ontwerp/buurtfeest/voorbeeld/1']").await;
    a.check("preview, page 1").await;
    answer(c, "q_komt", "ja").await;
    click_and_wait(c, "button[name='actie'][value='verder']").await;
    a.at("/ontwerp/buurtfeest/voorbeeld/2").await;
    a.check("preview, page 2 (shown by the condition)").await;
    open(c, &app.url("/ontwerp/buurtfeest")).await;
    click_and_wait(c, "form[action='/ontwerp/buurtfeest/publiceer'] button").await;
    a.check("editor after publishing").await;
    click_and_wait(c, "a[href='/ontwerp/buurtfeest/metingen']").await;
    a.check("waves").await;
    answer(c, "naam", "Voorjaar").await;
    click_and_wait(c, "form[action='/ontwerp/buurtfeest/metingen'] button.primary").await;
    a.check("waves with one open").await;
    open(c, &app.url("/beheer")).await;
    a.check("home").await;
    // A resident can answer the published questionnaire now.
    let end = app.resident().answer_all("buurtfeest", "BU07721110", &[&[("q_komt", "nee")]]).await;
    assert_eq!(end, "/s/buurtfeest/bedankt");
    report(vec![a]);
}

// ---------------------------------------------------------------- map

/// A professional reads the map page on a phone: the map with a hatched
/// buurt, the table beside it, the ranking and the trend; a choice question
/// with its answer selector; in Dutch and in English. Every page passes axe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_map_page_passes_axe_on_a_phone() {
    use buurtpeil::auth::Role;
    let axe = axe_source();
    clear_shots("kaart");
    let app = app_with_answers().await;
    buurtpeil::demo::load_boundaries(&mut app.db.connect()).unwrap();
    app.submit_many("BU07721120", 3, 5).await; // Bergen: hidden
    add_user(&app, "wijkmanager@eindhoven.nl", Role::Professional);
    let phone = phone().await;
    let c = &phone.c;
    let mut a = Audit::new(c, &axe, "kaart", "nl");
    open(c, &app.url("/resultaten/geluk/kaart")).await;
    a.at("/inloggen").await;
    answer(c, "email", "wijkmanager@eindhoven.nl").await;
    answer(c, "password", PASSWORD).await;
    click_and_wait(c, "form[action='/inloggen'] button[type='submit']").await;
    a.at("/resultaten/geluk/kaart").await;
    assert!(c.find(Locator::Css("svg.map path.sup")).await.is_ok(), "a hatched buurt");
    assert!(c.find(Locator::Css("svg.chart.ranking")).await.is_ok(), "a ranking");
    a.check("map of a scale question").await;
    shot(c, "a11y", "kaart-map-of-a-scale-question").await;
    c.find(Locator::Css("#vraag option[value='gezondheid']")).await.unwrap().click().await.unwrap();
    click_and_wait(c, "form.filters button[type='submit']").await;
    assert!(c.find(Locator::Css("#optie")).await.is_ok(), "the answer selector");
    a.check("map of a choice question").await;
    let mut en = Audit::new(c, &axe, "kaart", "en");
    click_and_wait(c, "header a.lang").await;
    en.check("map in English").await;
    // The open answers of an assigned buurt: the warning, then the texts.
    let id = buurtpeil::auth::find_by_email(
        &mut app.db.connect(),
        &buurtpeil::auth::EmailAddress::parse("wijkmanager@eindhoven.nl").unwrap(),
    )
    .unwrap()
    .unwrap()
    .id;
    // Bergen is hidden (and a buurt with it); Centrum is shown.
    assert_eq!(crate::helpers::area(&app.results("wijk").await, "WK077211")["suppressed"], false);
    let centrum = buurtpeil::area::AreaCode::parse_any("WK077211").unwrap();
    buurtpeil::talent::access::assign(&mut app.db.connect(), id, &[centrum]).unwrap();
    open(c, &app.url("/resultaten/geluk/open-antwoorden/WK077211")).await;
    en.check("open answers: the warning").await;
    click_and_wait(c, "form button[type='submit']").await;
    en.check("open answers").await;
    report(vec![a, en]);
}

/// The council runs the demo campaign in the browser — verify a draw, the
/// campaign page, the panel form, a selection running and done, the
/// public page (Dutch and English), the purge confirmation — and every page
/// passes axe, fits a phone and has large tap targets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_council_runs_a_campaign_in_the_browser_and_every_page_passes_axe() {
    use buurtpeil::auth::Role;
    use buurtpeil::questionnaire::{load_catalog, load_dir};
    let axe = axe_source();
    clear_shots("campagne");
    let db = TestDb::new(Backend::Sqlite);
    let protocol = {
        let mut conn = db.connect();
        buurtpeil::db::run_migrations(&mut conn).unwrap();
        buurtpeil::demo::load_areas(&mut conn).unwrap();
        let catalog = load_catalog(&mut conn, &load_dir(&manifest_dir().join("questionnaires")).unwrap()).unwrap();
        let tree = buurtpeil::area::load_tree(&mut conn).unwrap();
        let base = buurtpeil::invite::BaseUrl::parse("http://127.0.0.1:8080").unwrap();
        buurtpeil::demo::seed_campaign(&mut conn, &tree, catalog.current("panelaanmelding").unwrap(), &base, 772)
            .unwrap();
        buurtpeil::lottery::load_protocol(&mut conn, buurtpeil::demo::DEMO_CAMPAIGN).unwrap().unwrap().to_json()
    };
    let files = tempfile::tempdir().unwrap();
    let (protocol_file, register_file) = (files.path().join("protocol.json"), files.path().join("brp.csv"));
    std::fs::write(&protocol_file, protocol).unwrap();
    std::fs::write(&register_file, crate::lottery::register_csv(40)).unwrap();
    let app = spawn_app_on(db, Options { areas: false, ..Options::default() }).await;
    add_user(&app, "griffie@eindhoven.nl", Role::Council);
    let phone = phone().await;
    let c = &phone.c;
    let mut a = Audit::new(c, &axe, "campagne", "nl");
    open(c, &app.url("/beheer/controleren")).await;
    answer(c, "email", "griffie@eindhoven.nl").await;
    answer(c, "password", PASSWORD).await;
    click_and_wait(c, "form[action='/inloggen'] button[type='submit']").await;
    a.at("/beheer/controleren").await;
    a.check("verify a draw").await;
    let upload = |field: &'static str, path: std::path::PathBuf| async move {
        c.find(Locator::Css(&format!("input[name='{field}']")))
            .await
            .unwrap()
            .send_keys(path.to_str().unwrap())
            .await
            .unwrap();
    };
    upload("protocol", protocol_file.clone()).await;
    upload("register", register_file.clone()).await;
    click_and_wait(c, "form[action='/beheer/controleren'] button.primary").await;
    assert!(c.source().await.unwrap().contains("MISMATCH"));
    a.check("verify: a mismatch").await;
    upload("protocol", register_file.clone()).await;
    upload("register", register_file.clone()).await;
    click_and_wait(c, "form[action='/beheer/controleren'] button.primary").await;
    a.check("verify: an unreadable protocol").await;
    let base = format!("/beheer/campagnes/{}", buurtpeil::demo::DEMO_CAMPAIGN);
    open(c, &app.url(&base)).await;
    a.check("campaign (e-mail not set up)").await;
    answer(c, "dagen", "veertien").await;
    click_and_wait(c, &format!("form[action='{base}/herinneren'] button")).await;
    a.check("campaign: a reminder form with an error").await;
    open(c, &app.url(&format!("{base}/panel"))).await;
    a.check("panel form").await;
    answer(c, "grootte", "500").await;
    answer(c, "zaad", "demo 5 5 5").await;
    click_and_wait(c, &format!("form[action='{base}/panel'] button.primary")).await;
    a.check("panel form with an error").await;
    answer(c, "grootte", "24").await;
    click_and_wait(c, &format!("form[action='{base}/panel'] button.primary")).await;
    a.check("panel selection (running or done)").await;
    let here = path(c).await;
    for _ in 0..120 {
        if !c.source().await.unwrap().contains("?verversen=nee") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        open(c, &app.url(&here)).await;
    }
    assert!(c.source().await.unwrap().contains("(fictief)"));
    a.check("panel selection done, with its members").await;
    open(c, &app.url(&base)).await;
    click_and_wait(c, &format!("form[action='{base}/publiceren'] button")).await;
    a.at(&format!("/campagnes/{}", buurtpeil::demo::DEMO_CAMPAIGN)).await;
    a.check("public page").await;
    open(c, &app.url(&format!("{base}/wissen"))).await;
    a.check("purge: confirm").await;
    answer(c, "bevestig", "nee").await;
    click_and_wait(c, &format!("form[action='{base}/wissen'] button")).await;
    a.check("purge: not confirmed").await;
    let mut en = Audit::new(c, &axe, "campagne", "en");
    open(c, &app.url(&format!("/campagnes/{}?lang=en", buurtpeil::demo::DEMO_CAMPAIGN))).await;
    en.check("public page").await;
    open(c, &app.url(&format!("{base}/panel?lang=en"))).await;
    en.check("panel form").await;
    report(vec![a, en]);
}
