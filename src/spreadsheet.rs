//! Tables for spreadsheets: one set of rows written as CSV or as an XLSX
//! workbook, so every export of the same figures says the same thing, and
//! text that a spreadsheet would run as a formula never is.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// The symbol for a figure withheld to protect residents (as CBS marks
/// confidential cells).
pub const SUPPRESSED: &str = "x";

/// One cell of a [`Sheet`].
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// A number shown with this many decimals.
    Number {
        value: f64,
        decimals: u8,
    },
    /// Withheld by disclosure control: written as [`SUPPRESSED`].
    Suppressed,
    /// Not applicable or not measured: left empty.
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// The cell as CSV text: numbers with a decimal point, as analysts'
    /// tools read them whatever their locale.
    fn csv(&self) -> String {
        match self {
            Cell::Text(s) => safe_text(s),
            Cell::Int(n) => n.to_string(),
            Cell::Number { value, decimals } => format!("{value:.*}", usize::from(*decimals)),
            Cell::Suppressed => SUPPRESSED.to_owned(),
            Cell::Empty => String::new(),
        }
    }
}

/// A named table: a header row and rows of cells.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sheet {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

#[derive(Debug, thiserror::Error)]
#[error("the spreadsheet could not be written: {0}")]
pub struct SpreadsheetError(#[from] XlsxError);

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`) gets a
/// leading apostrophe: text typed by residents or professionals must not
/// become a command when somebody opens the file.
pub fn safe_text(v: &str) -> String {
    if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_owned()
    }
}

/// The sheet as CSV (RFC 4180, UTF-8, comma-separated, header first).
pub fn to_csv(sheet: &Sheet) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(sheet.columns.iter().map(|c| safe_text(c))).expect("writing to memory");
    for row in &sheet.rows {
        out.write_record(row.iter().map(Cell::csv)).expect("writing to memory");
    }
    String::from_utf8(out.into_inner().expect("writing to memory")).expect("CSV of UTF-8 text is UTF-8")
}

/// The sheets as one XLSX workbook, in order; numbers stay numbers (with
/// their decimals as the number format), suppressed cells hold [`SUPPRESSED`].
pub fn to_xlsx(sheets: &[Sheet]) -> Result<Vec<u8>, SpreadsheetError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let formats: Vec<Format> = (0..=6u8)
        .map(|d| {
            Format::new().set_num_format(if d == 0 { "0".to_owned() } else { format!("0.{}", "0".repeat(d.into())) })
        })
        .collect();
    for sheet in sheets {
        let ws = book.add_worksheet();
        // Excel allows 31 characters and no []:*?/\ in a sheet name.
        let name: String =
            sheet.name.chars().filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\')).take(31).collect();
        ws.set_name(if name.is_empty() { "Blad" } else { &name })?;
        for (c, title) in sheet.columns.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, title, &bold)?;
        }
        for (r, row) in sheet.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    // Strings are never formulas in XLSX; no apostrophe needed.
                    Cell::Text(s) => ws.write_string(r, c, s).map(|_| ())?,
                    Cell::Int(n) => ws.write_number_with_format(r, c, *n as f64, &formats[0]).map(|_| ())?,
                    Cell::Number { value, decimals } => ws
                        .write_number_with_format(r, c, *value, &formats[usize::from(*decimals).min(6)])
                        .map(|_| ())?,
                    Cell::Suppressed => ws.write_string(r, c, SUPPRESSED).map(|_| ())?,
                    Cell::Empty => {}
                }
            }
        }
        ws.set_freeze_panes(1, 0)?;
        ws.autofit();
    }
    Ok(book.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};

    fn sheet() -> Sheet {
        Sheet {
            name: "Resultaten".into(),
            columns: vec!["gebied".into(), "n".into(), "gemiddelde".into()],
            rows: vec![
                vec![Cell::text("Binnenstad"), Cell::Int(42), Cell::Number { value: 7.456, decimals: 1 }],
                vec![Cell::text("=HYPERLINK(\"x\")"), Cell::Suppressed, Cell::Suppressed],
                vec![Cell::text("Witte Dame, \"oost\""), Cell::Int(0), Cell::Empty],
            ],
        }
    }

    #[test]
    fn csv_quotes_rounds_and_defuses_formulas() {
        let csv = to_csv(&sheet());
        assert_eq!(
            csv,
            "gebied,n,gemiddelde\nBinnenstad,42,7.5\n\"'=HYPERLINK(\"\"x\"\")\",x,x\n\"Witte Dame, \"\"oost\"\"\",0,\n"
        );
    }

    #[test]
    fn xlsx_reads_back_with_numbers_as_numbers() {
        let mut long = sheet();
        long.name = "Een naam die veel te lang is voor Excel [echt]".into();
        let bytes = to_xlsx(&[sheet(), long]).unwrap();
        let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(book.sheet_names(), ["Resultaten", "Een naam die veel te lang is vo"]);
        let range = book.worksheet_range("Resultaten").unwrap();
        assert_eq!(range.get((0, 2)), Some(&Data::String("gemiddelde".into())));
        assert_eq!(range.get((1, 1)), Some(&Data::Float(42.0)));
        assert_eq!(range.get((1, 2)), Some(&Data::Float(7.456)), "full precision kept, shown with 1 decimal");
        assert_eq!(range.get((2, 0)), Some(&Data::String("=HYPERLINK(\"x\")".into())), "a string, never a formula");
        assert_eq!(range.get((2, 1)), Some(&Data::String(SUPPRESSED.into())));
    }
}
