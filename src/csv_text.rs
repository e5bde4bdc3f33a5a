//! Reading an uploaded or exported CSV file as text the way Dutch sources
//! ship it: UTF-8, perhaps with a byte-order mark, or Windows-1252 (what
//! Excel on a Dutch Windows saves as "CSV", and older CBS files), `,` or `;`
//! between fields, CRLF or LF line ends — with line numbers that are right
//! for error messages.

use std::io::Read;

/// A whole CSV file, checked to be UTF-8 and not too large.
#[derive(Debug)]
pub struct CsvText {
    text: String,
    delimiter: u8,
    newlines: Vec<usize>,
}

impl CsvText {
    /// Reads at most `max_bytes`; the error is the reason, for the caller to
    /// put its file name to.
    pub fn read(reader: impl Read, max_bytes: u64) -> Result<CsvText, String> {
        let bytes = read_bytes(reader, max_bytes)?;
        let text = String::from_utf8(bytes).map_err(|e| format!("not UTF-8 text ({})", e.utf8_error()))?;
        Ok(CsvText::from_text(text))
    }

    /// As `read`, but a file that is not UTF-8 is read as Windows-1252.
    pub fn read_utf8_or_windows1252(reader: impl Read, max_bytes: u64) -> Result<CsvText, String> {
        let bytes = read_bytes(reader, max_bytes)?;
        Ok(CsvText::from_text(utf8_or_windows1252(bytes)))
    }

    fn from_text(mut text: String) -> CsvText {
        if text.starts_with('\u{feff}') {
            text.drain(..'\u{feff}'.len_utf8());
        }
        let first_line = text.lines().next().unwrap_or("");
        let delimiter = if first_line.matches(';').count() > first_line.matches(',').count() { b';' } else { b',' };
        let newlines = text.match_indices('\n').map(|(i, _)| i).collect();
        CsvText { text, delimiter, newlines }
    }

    /// A flexible reader (rows may have more or fewer fields) over the text.
    pub fn reader(&self) -> csv::Reader<&[u8]> {
        csv::ReaderBuilder::new().delimiter(self.delimiter).flexible(true).from_reader(self.text.as_bytes())
    }

    /// The 1-based line of a record that starts at `byte`. The csv crate
    /// miscounts lines in CRLF files, so lines are counted from offsets (a
    /// CRLF record "starts" on the \n before it).
    pub fn line_at(&self, byte: u64) -> u64 {
        self.newlines.partition_point(|&i| (i as u64) <= byte) as u64 + 1
    }
}

/// The text of a file that is UTF-8 or, failing that, Windows-1252.
///
/// A file that is not valid UTF-8 is nearly always Windows-1252: what Excel
/// writes as "CSV" on a Dutch Windows, and what CBS ships. It is a superset
/// of Latin-1's printable characters that puts `€`, `‘ ’ “ ”`, `–`, `—`,
/// `Š`, `Ÿ` and others where Latin-1 has control characters; every byte
/// decodes to some character, so this never fails. A byte-order mark stays
/// for the caller to drop.
pub fn utf8_or_windows1252(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(e.as_bytes()).0.into_owned(),
    }
}

fn read_bytes(reader: impl Read, max_bytes: u64) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    reader.take(max_bytes + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot read the file: {e}"))?;
    if bytes.len() as u64 > max_bytes {
        return Err(format!("the file is larger than {} MB", max_bytes / (1024 * 1024)));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bom_semicolons_and_crlf_lines() {
        let csv = CsvText::read("\u{feff}a;b\r\n1;2\r\n3;4\r\n".as_bytes(), 1024).unwrap();
        let mut rdr = csv.reader();
        assert_eq!(rdr.headers().unwrap().iter().collect::<Vec<_>>(), ["a", "b"]);
        let lines: Vec<u64> = rdr.records().map(|r| csv.line_at(r.unwrap().position().unwrap().byte())).collect();
        assert_eq!(lines, [2, 3]);
        assert!(CsvText::read(&[0xff, 0xfe][..], 1024).unwrap_err().contains("not UTF-8"));
        assert!(CsvText::read(&[b'a'; 2048][..], 1024).unwrap_err().contains("larger than"));
        // "Súdwest-Fryslân" in Latin-1 (a subset of Windows-1252).
        let latin1 = b"naam;n\nS\xfadwest-Frysl\xe2n;5\n";
        let csv = CsvText::read_utf8_or_windows1252(&latin1[..], 1024).unwrap();
        let record = csv.reader().records().next().unwrap().unwrap();
        assert_eq!((&record[0], &record[1]), ("Súdwest-Fryslân", "5"));
    }

    #[test]
    fn windows_1252_is_not_read_as_latin_1() {
        // € ‘ ’ – “ ” … in Windows-1252 are C1 control characters in Latin-1.
        let cp1252 = b"naam;prijs\r\n\x91Ren\xe9e\x92 \x96 d\x92Ancona;\x80 5\r\n\x93Zo\xeb\x94\x85;\x80\x9a\r\n";
        let csv = CsvText::read_utf8_or_windows1252(&cp1252[..], 1024).unwrap();
        let rows: Vec<Vec<String>> =
            csv.reader().records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
        assert_eq!(rows, [["‘Renée’ – d’Ancona", "€ 5"], ["“Zoë”…", "€š"]]);
        assert!(rows.concat().iter().all(|f| !f.chars().any(char::is_control)));
        // UTF-8 stays UTF-8, a BOM included.
        assert_eq!(utf8_or_windows1252("\u{feff}€ ‘x’".as_bytes().to_vec()), "\u{feff}€ ‘x’");
        // Every byte is some character: nothing fails.
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(utf8_or_windows1252(all).chars().count(), 256);
    }
}
