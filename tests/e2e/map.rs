//! Maps: `buurtpeil map import` with good and bad GeoJSON (nothing of a
//! failed import is stored), and the professionals' map page, which hides
//! exactly what the safe table hides.

use buurtpeil::auth::Role;

use crate::helpers::{printed as text, run_cli as buurtpeil, *};
use crate::on_both_backends;

async fn map_import_checks_every_feature(backend: Backend) {
    let db = TestDb::new(backend);
    let dir = tempfile::tempdir().unwrap();
    let rd = manifest_dir().join("data/cbs/eindhoven_buurten_2024_rd.geojson");
    let wgs84 = manifest_dir().join("data/cbs/eindhoven_buurten_2024_wgs84.geojson");
    let good = std::fs::read_to_string(&rd).unwrap();
    let import = |path: &std::path::Path| buurtpeil(&db, &["map", "import", path.to_str().unwrap()]);

    assert!(buurtpeil(&db, &["migrate"]).status.success());
    let out = import(&rd);
    assert!(!out.status.success() && text(&out).contains("import the area list first"), "{}", text(&out));
    let areas = manifest_dir().join("data/cbs/eindhoven_buurten_2024.csv");
    assert!(buurtpeil(&db, &["areas", "import", areas.to_str().unwrap()]).status.success());

    let bad = dir.path().join("kaart.geojson");
    let last = good.rfind("\"buurtcode\":\"").unwrap();
    let cases: Vec<(String, &str)> = vec![
        (good[..good.len() / 2].to_owned(), "kaart.geojson: not valid JSON (line 1, column"),
        ("{\"type\":\"Topology\"}".into(), "not a GeoJSON FeatureCollection"),
        // The last of 116 features names an unknown buurt: none is stored.
        (
            format!("{}\"buurtcode\":\"BU03630000{}", &good[..last], &good[last + 23..]),
            "features[115], properties.buurtcode: buurt BU03630000 is not a known area",
        ),
        (
            good.replacen("\"type\":\"Polygon\"", "\"type\":\"LineString\"", 1),
            "features[0], geometry.type: \"LineString\" is not supported",
        ),
        (
            good.replacen("EPSG::28992", "EPSG::3857", 1),
            "coordinate reference system: \"urn:ogc:def:crs:EPSG::3857\" is not supported",
        ),
        (
            good.replacen("[[[161772,383680]", "[[[161772,383681]", 1),
            "features[0], geometry.coordinates[0]: the ring is not closed",
        ),
    ];
    for (content, expected) in &cases {
        std::fs::write(&bad, content).unwrap();
        let out = import(&bad);
        assert!(!out.status.success(), "{expected}");
        assert!(text(&out).contains(expected), "{expected}: {}", text(&out));
        assert_eq!(count(&mut db.connect(), "area_boundaries"), 0, "nothing half-stored: {expected}");
    }
    // Oversized: refused before it is parsed.
    std::fs::write(&bad, " ".repeat(17 * 1024 * 1024)).unwrap();
    let out = import(&bad);
    assert!(!out.status.success() && text(&out).contains("larger than 16 MB"), "{}", text(&out));
    let out = buurtpeil(&db, &["map", "import", "/does/not/exist.geojson"]);
    assert!(!out.status.success() && text(&out).contains("cannot open"), "{}", text(&out));

    let out = import(&rd);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("116 buurten in EPSG:28992 (RD New), 732 points"), "{}", text(&out));
    assert_eq!(count(&mut db.connect(), "area_boundaries"), 116);
    // The WGS84 copy replaces the same buurten.
    let out = import(&wgs84);
    assert!(out.status.success() && text(&out).contains("EPSG:4326"), "{}", text(&out));
    assert_eq!(count(&mut db.connect(), "area_boundaries"), 116);
}
on_both_backends!(map_import_checks_every_feature);

/// The `<title>`s of an SVG and the rows of the table of a page, by the
/// name they start with.
fn titles(html: &str) -> Vec<String> {
    html.split("<title>").skip(1).map(|t| unescape(t.split("</title>").next().unwrap())).collect()
}

fn rows(html: &str) -> Vec<String> {
    let table = html.split("<table class=\"areas map-table\">").nth(1).unwrap().split("</table>").next().unwrap();
    table.split("<tr>").skip(2).map(unescape).collect()
}

/// Names such as 't Hofke come escaped by tera (&#x27;) and the SVG (&#39;).
fn unescape(s: &str) -> String {
    s.replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The `<svg class="map">` of a page, checked to be well-formed XML.
fn map_svg(html: &str) -> String {
    let start = html.find("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"map\"").expect("a map");
    let svg = &html[start..start + html[start..].find("</svg>").unwrap() + 6];
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut depth = 0i32;
    loop {
        match reader.read_event().expect("well-formed SVG") {
            quick_xml::events::Event::Start(_) => depth += 1,
            quick_xml::events::Event::End(_) => depth -= 1,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0);
    svg.to_owned()
}

async fn map_page_hides_what_the_table_hides(backend: Backend) {
    let app = spawn_app(backend).await;
    let stranger = app.resident();
    let res = stranger.get("/resultaten/geluk/kaart").await;
    assert_eq!(res.status().as_u16(), 303, "professionals only");
    assert!(location(&res).starts_with("/inloggen"));

    let pro = app.logged_in("wijkmanager@eindhoven.nl", Role::Professional).await;
    let home = pro.get("/beheer").await.text().await.unwrap();
    assert!(home.contains("<a href=\"/resultaten/geluk/kaart\">"), "the map is linked from home");
    assert!(!home.contains("/resultaten/talentenscan/kaart"), "identified questionnaires have no map");
    // No boundaries yet: the page says how to load them; the table works.
    let html = pro.get("/resultaten/geluk/kaart").await.text().await.unwrap();
    assert!(html.contains("buurtpeil map import") && !html.contains("class=\"map\""), "{html}");

    buurtpeil::demo::load_boundaries(&mut app.db.connect()).unwrap();
    app.submit_many("BU07721130", 12, 9).await; // Witte Dame
    app.submit_many("BU07721110", 14, 6).await; // Binnenstad
    app.submit_many("BU07721120", 3, 2).await; // Bergen: too few
    app.submit_many("BU07721140", 15, 7).await; // Fellenoord
    for i in 0..11 {
        // Irisbuurt, another wijk, answers the choice question too.
        let health = ["goed", "gaat_wel"][i % 2];
        let body = serde_json::json!({ "buurt": "BU07722110", "answers": {
            "tevredenheid_leven": 8, "geluk": 7, "gezondheid": health } });
        assert_eq!(app.submit("geluk", &body).await.0, 201);
    }

    let res = pro.get("/resultaten/geluk/kaart").await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let html = res.text().await.unwrap();
    let svg = map_svg(&html);
    assert_eq!(svg.matches("<path ").count(), 116, "every buurt drawn");
    assert!(!svg.contains("style="), "the CSP forbids style attributes");
    assert!(svg.contains(r#"role="img" aria-labelledby="kaart-title""#));

    // Hidden on the map and in the table exactly where the API hides it.
    let api = app.results("buurt").await;
    let mut hidden_seen = 0;
    let mut shown = Vec::new();
    for area in api["areas"].as_array().unwrap() {
        let name = area["name"].as_str().unwrap();
        let hidden = area["suppressed"] == true || area["questions"]["tevredenheid_leven"]["suppressed"] == true;
        let title = titles(&svg).into_iter().find(|t| t.starts_with(&format!("{name}: "))).expect(name);
        // Each buurt's name links to its report.
        let link = format!("/resultaten/geluk/rapport/{}\">{name}</a></th>", area["code"].as_str().unwrap());
        let row = rows(&html).into_iter().find(|r| r.contains(&link)).expect(name);
        if hidden {
            hidden_seen += 1;
            assert_eq!(title, format!("{name}: te weinig antwoorden"));
            assert!(row.contains("too-few"), "{row}");
            let cells: String = row.split("</th>").skip(2).collect();
            assert!(!cells.chars().any(|c| c.is_ascii_digit()), "a number in a hidden row: {row}");
        } else {
            let mean = area["questions"]["tevredenheid_leven"]["mean"].as_f64().unwrap();
            let text = format!("{mean:.1}").replace('.', ",");
            assert!(title.starts_with(&format!("{name}: {text} (n = ")), "{title}");
            assert!(row.contains(&text), "{row}");
            shown.push((mean, name.to_owned()));
        }
    }
    // Bergen (3), its smallest sibling (secondary suppression) and every
    // buurt without answers.
    assert_eq!(hidden_seen, 116 - 5 + 2);
    assert!(shown.len() >= 3, "{shown:?}");
    let bergen = svg.split("<path ").find(|p| p.contains("<title>Bergen: ")).unwrap();
    assert!(bergen.starts_with(r##"class="sup" fill="url(#kaart-hatch)""##), "{bergen}");
    assert!(svg.contains("<text x=\"232\" y=\""), "a legend beside the classes");
    // The ranking: highest first, the gemeente as reference, hidden buurten
    // without a figure.
    let ranking = html.split("class=\"chart ranking\"").nth(1).expect("a ranking");
    shown.sort_by(|a, b| b.0.total_cmp(&a.0));
    let at: Vec<usize> = shown.iter().map(|(_, n)| ranking.find(&format!("<title>{n}: ")).unwrap()).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{shown:?}");
    assert!(ranking.contains("class=\"ref\"") && ranking.contains("Eindhoven"));
    assert!(ranking.contains("<title>Bergen: te weinig antwoorden</title>"));

    // Two waves: one long past without answers (hidden), one now. The trend
    // of the gemeente shows the second and says why the first is missing.
    let today = buurtpeil::clock::today();
    for (name, opens, closes) in [
        ("Vorig jaar", today - chrono::Days::new(400), Some(today - chrono::Days::new(370))),
        ("Dit jaar", today - chrono::Days::new(30), None),
    ] {
        let new = buurtpeil::survey::NewWave {
            slug: buurtpeil::questionnaire::Slug::parse("geluk").unwrap(),
            name: name.into(),
            opens_on: opens,
            closes_on: closes,
            buurten: Vec::new(),
            invitation_only: false,
        };
        buurtpeil::survey::wave::create(&mut app.db.connect(), &new, today).unwrap();
    }
    let html = pro.get("/resultaten/geluk/kaart").await.text().await.unwrap();
    let trend = html.split("class=\"chart trend\"").nth(1).expect("a trend").split("</svg>").next().unwrap();
    assert!(trend.contains("<title>Vorig jaar: te weinig antwoorden</title>"), "{trend}");
    assert!(trend.contains("<title>Dit jaar: 7,"), "{trend}");

    // A choice question shows the share of the chosen answer.
    let html = pro.get("/resultaten/geluk/kaart?vraag=gezondheid&optie=goed").await.text().await.unwrap();
    map_svg(&html);
    assert!(html.contains("<option value=\"goed\" selected>"), "the answer selector");
    assert!(titles(&html).iter().any(|t| t.starts_with("Irisbuurt: 55% (n = 11)")), "shares in %");
    // English.
    let html = pro.get("/resultaten/geluk/kaart?lang=en").await.text().await.unwrap();
    assert!(html.contains("<title>Bergen: too few answers</title>"));

    // A second gemeente without a map: chosen by the selector, it shows the
    // table and says how to load its map.
    let other = "buurtcode,buurtnaam,wijkcode,wijknaam,gemeentecode,gemeentenaam\nBU03630000,Kop Zeedijk,WK036300,Burgwallen-Oude Zijde,GM0363,Amsterdam\n";
    let areas = buurtpeil::area::parse_csv("a.csv", other.as_bytes()).unwrap();
    buurtpeil::area::save_areas(&mut app.db.connect(), &areas).unwrap();
    // The server re-reads the areas when it meets an unknown buurt (at
    // most once a second).
    let mut accepted = false;
    for _ in 0..30 {
        if app.submit("geluk", &geluk("BU03630000", 5)).await.0 == 201 {
            accepted = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(accepted, "the new buurt became known");
    let html = pro.get("/resultaten/geluk/kaart").await.text().await.unwrap();
    assert!(html.contains("<option value=\"GM0772\" selected>Eindhoven</option>"), "Eindhoven has the map");
    let html = pro.get("/resultaten/geluk/kaart?gemeente=GM0363").await.text().await.unwrap();
    assert!(html.contains("<option value=\"GM0363\" selected>Amsterdam</option>"));
    assert!(html.contains("buurtpeil map import") && !html.contains("class=\"map\""));
    assert_eq!(rows(&html).len(), 1, "Kop Zeedijk only");

    // Bad input: a clear page, never a 500.
    for (path, status) in [
        ("/resultaten/bestaat-niet/kaart", 404),
        ("/resultaten/talentenscan/kaart", 404),
        ("/resultaten/geluk/kaart?vraag=%3Cscript%3E&meting=x&optie=%00&gemeente=GM9999", 200),
        ("/resultaten/geluk/kaart?gemeente=nonsense", 200),
    ] {
        let res = pro.get(path).await;
        assert_eq!(res.status().as_u16(), status, "{path}");
        assert!(!res.text().await.unwrap().contains("<script>"), "{path}");
    }
}
on_both_backends!(map_page_hides_what_the_table_hides);
