//! Import of CBS area lists (CSV): the official column names of the Kerncijfers
//! wijken en buurten (BU_CODE, BU_NAAM, WK_CODE, WK_NAAM, GM_CODE, GM_NAAM) or
//! the lower-case ones of the Wijk- en Buurtkaart attribute table.

use std::collections::BTreeMap;
use std::io::Read;

use super::{Area, AreaCode, Level};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: cannot read the file: {reason}")]
    Unreadable { file: String, reason: String },
    #[error("{file}: the header has no column {wanted} (found: {found})")]
    MissingColumn { file: String, wanted: String, found: String },
    #[error("{file}, line {line}, field {field}: {reason}")]
    Row { file: String, line: u64, field: String, reason: String },
    #[error("{file}: the file holds no buurten")]
    Empty { file: String },
}

/// Column names accepted per field: official CBS first, then lower case.
const COLUMNS: [(&str, &[&str]); 6] = [
    ("buurtcode", &["BU_CODE", "buurtcode"]),
    ("buurtnaam", &["BU_NAAM", "buurtnaam"]),
    ("wijkcode", &["WK_CODE", "wijkcode"]),
    ("wijknaam", &["WK_NAAM", "wijknaam"]),
    ("gemeentecode", &["GM_CODE", "gemeentecode"]),
    ("gemeentenaam", &["GM_NAAM", "gemeentenaam"]),
];

/// Largest file accepted; the whole of the Netherlands is ≈ 3 MB.
const MAX_BYTES: u64 = 64 * 1024 * 1024;
const MAX_NAME: usize = 200;

/// Parses a buurt list into gemeenten, wijken and buurten. Every row is
/// checked: codes, the hierarchy the codes imply, names, and that a wijk or
/// gemeente keeps one name throughout. Nothing is returned unless all is well.
pub fn parse_csv(file: &str, reader: impl Read) -> Result<Vec<Area>, ImportError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ImportError::Unreadable { file: file.into(), reason: e.to_string() })?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(ImportError::Unreadable { file: file.into(), reason: "larger than 64 MB".into() });
    }
    // CBS files come as UTF-8, sometimes with a byte-order mark, or as
    // Windows-1252 (saved from Excel), and with `,` or `;` as separator.
    let text = crate::csv_text::utf8_or_windows1252(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let first_line = text.lines().next().unwrap_or("");
    let delimiter = if first_line.matches(';').count() > first_line.matches(',').count() { b';' } else { b',' };

    // The csv crate miscounts lines in CRLF files (as CBS ships them), so
    // lines are counted from byte offsets (a CRLF record "starts" on the
    // \n before it).
    let newlines: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
    let line_at = |byte: u64| newlines.partition_point(|&i| (i as u64) <= byte) as u64 + 1;
    let mut rdr = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(text.as_bytes());
    let headers =
        rdr.headers().map_err(|e| ImportError::Unreadable { file: file.into(), reason: e.to_string() })?.clone();
    let mut index = BTreeMap::new();
    for (field, names) in COLUMNS {
        let pos = headers.iter().position(|h| names.contains(&h.trim())).ok_or_else(|| ImportError::MissingColumn {
            file: file.into(),
            wanted: names.join(" or "),
            found: headers.iter().collect::<Vec<_>>().join(", "),
        })?;
        index.insert(field, pos);
    }

    let mut areas: BTreeMap<String, Area> = BTreeMap::new();
    let mut buurten = 0usize;
    for record in rdr.records() {
        let record = record.map_err(|e| ImportError::Row {
            file: file.into(),
            line: e.position().map(|p| line_at(p.byte())).unwrap_or(0),
            field: "-".into(),
            reason: e.to_string(),
        })?;
        let line = record.position().map(|p| line_at(p.byte())).unwrap_or(0);
        let row_err =
            |field: &str, reason: String| ImportError::Row { file: file.into(), line, field: field.into(), reason };
        let get = |field: &str| record.get(index[field]).unwrap_or("").trim();
        let code = |field: &str, level| AreaCode::parse(level, get(field)).map_err(|e| row_err(field, e.to_string()));
        let name = |field: &str| {
            let n = get(field);
            if n.is_empty() {
                Err(row_err(field, "is empty".into()))
            } else if n.chars().count() > MAX_NAME || n.chars().any(char::is_control) {
                Err(row_err(field, format!("is longer than {MAX_NAME} characters or holds control characters")))
            } else {
                Ok(n.to_owned())
            }
        };
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let bu = code("buurtcode", Level::Buurt)?;
        let wk = code("wijkcode", Level::Wijk)?;
        let gm = code("gemeentecode", Level::Gemeente)?;
        if bu.parent().as_ref() != Some(&wk) {
            return Err(row_err("wijkcode", format!("buurt {bu} cannot lie in wijk {wk}: the codes do not match")));
        }
        if wk.parent().as_ref() != Some(&gm) {
            return Err(row_err(
                "gemeentecode",
                format!("wijk {wk} cannot lie in gemeente {gm}: the codes do not match"),
            ));
        }
        let rows = [
            (bu, name("buurtnaam")?, Some(wk.clone()), "buurtnaam"),
            (wk, name("wijknaam")?, Some(gm.clone()), "wijknaam"),
            (gm, name("gemeentenaam")?, None, "gemeentenaam"),
        ];
        for (code, name, parent, field) in rows {
            match areas.get(code.as_str()) {
                Some(existing) if code.level() == Level::Buurt => {
                    return Err(row_err("buurtcode", format!("buurt {} appears twice", existing.code)));
                }
                Some(existing) if existing.name != name => {
                    return Err(row_err(
                        field,
                        format!("{} is called {:?} here but {:?} on an earlier line", code, name, existing.name),
                    ));
                }
                Some(_) => {}
                None => {
                    if code.level() == Level::Buurt {
                        buurten += 1;
                    }
                    areas.insert(code.to_string(), Area { code, name, parent });
                }
            }
        }
    }
    if buurten == 0 {
        return Err(ImportError::Empty { file: file.into() });
    }
    Ok(areas.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = "buurtcode,buurtnaam,wijkcode,wijknaam,gemeentecode,gemeentenaam\n\
        BU07721110,Binnenstad,WK077211,Centrum,GM0772,Eindhoven\n\
        BU07721120,Bergen,WK077211,Centrum,GM0772,Eindhoven\n";

    #[test]
    fn reads_lower_case_and_official_headers() {
        let areas = parse_csv("a.csv", OK.as_bytes()).unwrap();
        assert_eq!(areas.len(), 4);
        let official = "BU_CODE;BU_NAAM;WK_CODE;WK_NAAM;GM_CODE;GM_NAAM;AANT_INW\n\
            BU07721110;Binnenstad;WK077211;Centrum;GM0772;Eindhoven;5000\n";
        assert_eq!(parse_csv("b.csv", official.as_bytes()).unwrap().len(), 3);
    }

    #[test]
    fn names_file_line_and_field() {
        let bad = OK.replace("BU07721120", "BU0772112");
        let err = parse_csv("a.csv", bad.as_bytes()).unwrap_err().to_string();
        assert!(err.starts_with("a.csv, line 3, field buurtcode:"), "{err}");
        let bad = OK.replace("Bergen,WK077211,Centrum", "Bergen,WK077211,Midden");
        let err = parse_csv("a.csv", bad.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("line 3, field wijknaam"), "{err}");
        let bad = OK.replace("BU07721120,Bergen,WK077211", "BU07731120,Bergen,WK077211");
        assert!(parse_csv("a.csv", bad.as_bytes()).unwrap_err().to_string().contains("field wijkcode"));
        let dup = format!("{OK}BU07721120,Bergen,WK077211,Centrum,GM0772,Eindhoven\n");
        assert!(parse_csv("a.csv", dup.as_bytes()).unwrap_err().to_string().contains("twice"));
    }

    #[test]
    fn counts_lines_in_crlf_files() {
        let crlf = OK.replace('\n', "\r\n").replace("BU07721120", "BU0772112");
        let err = parse_csv("a.csv", crlf.as_bytes()).unwrap_err().to_string();
        assert!(err.starts_with("a.csv, line 3, field buurtcode:"), "{err}");
    }

    #[test]
    fn rejects_missing_columns_empty_files_and_binary() {
        let err = parse_csv("a.csv", "code,naam\nBU1,x\n".as_bytes()).unwrap_err().to_string();
        assert!(err.contains("no column BU_CODE or buurtcode"), "{err}");
        assert!(matches!(parse_csv("a.csv", OK.lines().next().unwrap().as_bytes()), Err(ImportError::Empty { .. })));
        assert!(parse_csv("a.csv", &[0xff, 0xfe, 0x00][..]).is_err(), "binary is no area list in any encoding");
    }

    #[test]
    fn reads_windows_1252_names() {
        let cp1252: &[u8] = b"buurtcode;buurtnaam;wijkcode;wijknaam;gemeentecode;gemeentenaam\r\n\
            BU19000000;\x91t Ho\xebf \x96 Noord;WK190000;S\xfadwest;GM1900;S\xfadwest-Frysl\xe2n\r\n";
        let areas = parse_csv("a.csv", cp1252).unwrap();
        let names: Vec<&str> = areas.iter().map(|a| a.name.as_str()).collect();
        assert!(names.contains(&"‘t Hoëf – Noord") && names.contains(&"Súdwest-Fryslân"), "{names:?}");
    }

    #[test]
    fn reads_the_shipped_eindhoven_list() {
        let areas = parse_csv("eindhoven", crate::demo::EINDHOVEN_BUURTEN_CSV.as_bytes()).unwrap();
        let count = |l| areas.iter().filter(|a| a.level() == l).count();
        assert_eq!((count(Level::Gemeente), count(Level::Wijk), count(Level::Buurt)), (1, 20, 116));
    }
}
