//! Languages: Dutch by default, English by choice. Interface texts live in
//! `templates/locales/*.toml`; questionnaire texts in the questionnaires.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Nl,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "nl" => Some(Lang::Nl),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Nl => "nl",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Nl => Lang::En,
            Lang::En => Lang::Nl,
        }
    }

    /// The first supported language in an `Accept-Language` header, by
    /// quality; Dutch when none is supported.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',').take(20) {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let q = pieces.find_map(|p| p.trim().strip_prefix("q=").and_then(|v| v.parse::<f32>().ok())).unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(lang) = Lang::parse(primary) {
                if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, lang));
                }
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }

    /// A number with one decimal: a decimal comma in Dutch, a point in English.
    pub fn decimal(self, x: f64) -> String {
        let text = format!("{x:.1}");
        match self {
            Lang::Nl => text.replace('.', ","),
            Lang::En => text,
        }
    }

    /// One interface text; the key itself when it is missing.
    pub fn text(self, key: &str) -> String {
        self.texts().get(key).cloned().unwrap_or_else(|| key.to_owned())
    }

    /// All interface texts of this language.
    pub fn texts(self) -> &'static BTreeMap<String, String> {
        static NL: OnceLock<BTreeMap<String, String>> = OnceLock::new();
        static EN: OnceLock<BTreeMap<String, String>> = OnceLock::new();
        let (cell, source) = match self {
            Lang::Nl => (&NL, include_str!("../templates/locales/nl.toml")),
            Lang::En => (&EN, include_str!("../templates/locales/en.toml")),
        };
        cell.get_or_init(|| toml::from_str(source).expect("locale files are checked by tests"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_by_quality() {
        assert_eq!(Lang::from_accept_language("en-GB,en;q=0.9,nl;q=0.8"), Lang::En);
        assert_eq!(Lang::from_accept_language("de-DE, nl;q=0.5, en;q=0.4"), Lang::Nl);
        assert_eq!(Lang::from_accept_language("fr"), Lang::Nl);
        assert_eq!(Lang::from_accept_language(""), Lang::Nl);
        assert_eq!(Lang::from_accept_language("nl;q=0, en;q=0.1"), Lang::En);
    }

    #[test]
    fn both_languages_have_the_same_texts() {
        let nl: Vec<_> = Lang::Nl.texts().keys().collect();
        let en: Vec<_> = Lang::En.texts().keys().collect();
        assert_eq!(nl, en);
        assert!(Lang::Nl.texts().values().chain(Lang::En.texts().values()).all(|v| !v.trim().is_empty()));
    }
}
