//! Reading an uploaded or exported CSV file as text the way Dutch sources
//! ship it: UTF-8, perhaps with a byte-order mark, `,` or `;` between
//! fields, CRLF or LF line ends — with line numbers that are right for
//! error messages.

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

    /// As `read`, but a file that is not UTF-8 is read as Latin-1 (older
    /// CBS files are): for files whose fields that matter are ASCII (codes,
    /// numbers), so a name with an accent cannot be misread into anything
    /// that is used.
    pub fn read_latin1_fallback(reader: impl Read, max_bytes: u64) -> Result<CsvText, String> {
        let bytes = read_bytes(reader, max_bytes)?;
        let text = String::from_utf8(bytes).unwrap_or_else(|e| e.into_bytes().iter().map(|&b| char::from(b)).collect());
        Ok(CsvText::from_text(text))
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
        // "Súdwest-Fryslân" in Latin-1.
        let latin1 = b"naam;n\nS\xfadwest-Frysl\xe2n;5\n";
        let csv = CsvText::read_latin1_fallback(&latin1[..], 1024).unwrap();
        let record = csv.reader().records().next().unwrap().unwrap();
        assert_eq!((&record[0], &record[1]), ("Súdwest-Fryslân", "5"));
    }
}
