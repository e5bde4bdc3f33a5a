//! Invitation letters: one A4 PDF for a whole batch, one page per letter,
//! for a Dutch window envelope (window on the right).
//!
//! Coordinates (from the top-left corner of the page, in mm):
//! - municipality name: x 20, baseline y 25;
//! - address block: x 110, first baseline y 55, then every 5 mm (name,
//!   street line, postcode and city; 5 mm apart). It sits inside the window of a
//!   standard right-window envelope (window about 90 × 45 mm, 20 mm from the
//!   right edge and 45–50 mm from the top: x 100–190, y 45–90);
//! - place and date: x 20, y 100; the letter text from y 108 down, wrapped
//!   at 78 characters, 4.6 mm per line, until y 235 (repeated blank lines
//!   count once);
//! - QR code of the personal link: 40 × 40 mm at x 150–190, y 240–280.
//!
//! The text comes from a tera template (`templates/invite/letter.txt`, or a
//! file given with `--template`) with `{{ naam }}`, `{{ link }}`,
//! `{{ code }}`, `{{ website }}` (where to type the code), `{{ gemeente }}`, `{{ buurt }}`, `{{ datum }}` and
//! `{{ herinnering }}` (true for a reminder). A line starting with `# ` is
//! printed larger (a heading). The font is DejaVu Sans (embedded, with its
//! licence in `assets/fonts/`), which covers é, ë, ï and the rest of Dutch.

use printpdf::{Mm, PdfDocument, PdfLayerReference, Rect};

use super::InviteError;

/// The letter text shipped with buurtpeil.
pub const DEFAULT_TEMPLATE: &str = include_str!("../../templates/invite/letter.txt");
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 297.0;
const LEFT: f32 = 20.0;
const ADDRESS_X: f32 = 110.0;
const ADDRESS_Y: f32 = 55.0;
const TEXT_TOP: f32 = 108.0;
const TEXT_BOTTOM: f32 = 235.0;
const LINE: f32 = 4.6;
const WRAP: usize = 78;
const QR_X: f32 = 150.0;
const QR_Y: f32 = 240.0;
const QR_SIZE: f32 = 40.0;

/// What one letter shows.
#[derive(Debug, Clone)]
pub struct LetterData {
    pub name: String,
    pub street_line: String,
    pub postcode: String,
    pub city: String,
    pub gemeente: String,
    pub buurt: String,
    pub link: String,
    pub code: String,
    /// Where the code can be typed: the base URL + `/i`.
    pub website: String,
    pub date: String,
    pub reminder: bool,
}

/// A checked letter template.
pub struct LetterTemplate {
    tera: tera::Tera,
}

impl LetterTemplate {
    /// Parses a template's text; errors name the problem.
    pub fn parse(source: &str) -> Result<LetterTemplate, InviteError> {
        let mut tera = tera::Tera::default();
        tera.autoescape_on(vec![]);
        tera.add_raw_template("letter", source).map_err(|e| InviteError::Template(cause_chain(&e)))?;
        Ok(LetterTemplate { tera })
    }

    /// The template shipped with buurtpeil.
    pub fn default_template() -> LetterTemplate {
        LetterTemplate::parse(DEFAULT_TEMPLATE).expect("the shipped letter template parses")
    }

    /// The letter's text for one invitee.
    pub fn render(&self, d: &LetterData) -> Result<String, InviteError> {
        let mut ctx = tera::Context::new();
        ctx.insert("naam", &clean(&d.name));
        ctx.insert("link", &d.link);
        ctx.insert("code", &d.code);
        ctx.insert("website", &d.website);
        ctx.insert("gemeente", &clean(&d.gemeente));
        ctx.insert("buurt", &clean(&d.buurt));
        ctx.insert("datum", &d.date);
        ctx.insert("herinnering", &d.reminder);
        self.tera.render("letter", &ctx).map_err(|e| InviteError::Template(cause_chain(&e)))
    }
}

fn cause_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(&format!(": {s}"));
        source = s.source();
    }
    out
}

/// Text safe to print: control characters become spaces.
fn clean(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// Wraps a paragraph at `width` characters, breaking long words.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > width {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            lines.push(word.drain(..width).collect());
        }
        let word: String = word.into_iter().collect();
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A line of the letter body: a heading or plain text (empty: a blank line).
enum BodyLine {
    Heading(String),
    Text(String),
}

fn layout(text: &str) -> Vec<BodyLine> {
    let mut out = Vec::new();
    for raw in text.lines() {
        let raw = clean(raw);
        if let Some(h) = raw.strip_prefix("# ") {
            out.extend(wrap(h, WRAP * 3 / 4).into_iter().map(BodyLine::Heading));
        } else if raw.trim().is_empty() {
            if matches!(out.last(), Some(BodyLine::Text(t)) if !t.is_empty())
                || matches!(out.last(), Some(BodyLine::Heading(_)))
            {
                out.push(BodyLine::Text(String::new()));
            }
        } else {
            out.extend(wrap(&raw, WRAP).into_iter().map(BodyLine::Text));
        }
    }
    while matches!(out.last(), Some(BodyLine::Text(t)) if t.is_empty()) {
        out.pop();
    }
    out
}

/// Millimetres from the top to PDF's from the bottom.
fn y(top: f32) -> Mm {
    Mm(PAGE_H - top)
}

/// Draws the QR code of `link` as filled squares (vector, no image).
fn draw_qr(layer: &PdfLayerReference, link: &str) -> Result<(), InviteError> {
    let code = qrcode::QrCode::with_error_correction_level(link.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| InviteError::Letter(format!("cannot make a QR code of the link: {e}")))?;
    let n = code.width();
    let colors = code.to_colors();
    // Four modules of quiet zone inside the square.
    let module = QR_SIZE / (n as f32 + 8.0);
    let origin_x = QR_X + 4.0 * module;
    let origin_top = QR_Y + 4.0 * module;
    for row in 0..n {
        let mut col = 0;
        while col < n {
            if colors[row * n + col] == qrcode::Color::Dark {
                let start = col;
                while col < n && colors[row * n + col] == qrcode::Color::Dark {
                    col += 1;
                }
                let x0 = origin_x + start as f32 * module;
                let x1 = origin_x + col as f32 * module;
                let top = origin_top + row as f32 * module;
                layer.add_rect(
                    Rect::new(Mm(x0), y(top + module), Mm(x1), y(top)).with_mode(printpdf::path::PaintMode::Fill),
                );
            } else {
                col += 1;
            }
        }
    }
    Ok(())
}

/// Builds one PDF with a page per letter. Fails (naming the invitee's
/// position) when a text does not fit on the page.
pub fn letters_pdf(template: &LetterTemplate, letters: &[LetterData]) -> Result<Vec<u8>, InviteError> {
    if letters.is_empty() {
        return Err(InviteError::Letter("there are no letters to print".into()));
    }
    let (doc, first_page, first_layer) = PdfDocument::new("Uitnodiging", Mm(PAGE_W), Mm(PAGE_H), "brief");
    let font = doc
        .add_external_font(std::io::Cursor::new(FONT))
        .map_err(|e| InviteError::Letter(format!("cannot embed the font: {e}")))?;
    for (i, d) in letters.iter().enumerate() {
        let layer = if i == 0 {
            doc.get_page(first_page).get_layer(first_layer)
        } else {
            let (page, layer) = doc.add_page(Mm(PAGE_W), Mm(PAGE_H), "brief");
            doc.get_page(page).get_layer(layer)
        };
        let body = layout(&template.render(d)?);
        let needed =
            body.iter().map(|l| if matches!(l, BodyLine::Heading(_)) { LINE * 1.4 } else { LINE }).sum::<f32>();
        if TEXT_TOP + needed > TEXT_BOTTOM + LINE {
            return Err(InviteError::Letter(format!(
                "the letter text of letter {} is {} lines long and does not fit on one page: shorten the template",
                i + 1,
                body.len()
            )));
        }
        layer.use_text(clean(&d.gemeente), 14.0, Mm(LEFT), y(25.0), &font);
        let city_line = format!("{}  {}", d.postcode, clean(&d.city).to_uppercase());
        for (k, line) in [clean(&d.name), clean(&d.street_line), city_line].iter().enumerate() {
            layer.use_text(line.as_str(), 10.0, Mm(ADDRESS_X), y(ADDRESS_Y + k as f32 * 5.0), &font);
        }
        layer.use_text(format!("{}, {}", clean(&d.gemeente), d.date), 10.0, Mm(LEFT), y(100.0), &font);
        let mut top = TEXT_TOP;
        for line in &body {
            match line {
                BodyLine::Heading(h) => {
                    top += LINE * 0.4;
                    layer.use_text(h.as_str(), 13.0, Mm(LEFT), y(top), &font);
                }
                BodyLine::Text(t) if !t.is_empty() => layer.use_text(t.as_str(), 10.0, Mm(LEFT), y(top), &font),
                BodyLine::Text(_) => {}
            }
            top += LINE;
        }
        draw_qr(&layer, &d.link)?;
    }
    doc.save_to_bytes().map_err(|e| InviteError::Letter(format!("cannot write the PDF: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_cleans() {
        assert_eq!(wrap("een twee drie", 8), vec!["een twee", "drie"]);
        assert_eq!(wrap(&"x".repeat(10), 4), vec!["xxxx", "xxxx", "xx"]);
        assert_eq!(clean("a\nb\u{7}c"), "a b c");
    }

    #[test]
    fn the_default_template_renders() {
        let t = LetterTemplate::default_template();
        let d = LetterData {
            name: "Zoë {{ naam }}".into(),
            street_line: "Markt 1".into(),
            postcode: "5611 AB".into(),
            city: "Eindhoven".into(),
            gemeente: "Eindhoven".into(),
            buurt: "Binnenstad".into(),
            link: "https://x.nl/i/ABC".into(),
            code: "ABCD-EFGH".into(),
            website: "https://x.nl/i".into(),
            date: "28 november 2026".into(),
            reminder: false,
        };
        let text = t.render(&d).unwrap();
        assert!(text.contains("Zoë {{ naam }}") && text.contains("https://x.nl/i/ABC") && text.contains("ABCD-EFGH"));
        assert!(letters_pdf(&t, &[d]).unwrap().starts_with(b"%PDF"));
        assert!(LetterTemplate::parse("{{ naam ").is_err());
        assert!(letters_pdf(&t, &[]).is_err());
    }
}
