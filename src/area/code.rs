//! CBS area codes as types that cannot hold an invalid value.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Gemeente,
    Wijk,
    Buurt,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Gemeente => "gemeente",
            Level::Wijk => "wijk",
            Level::Buurt => "buurt",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "gemeente" => Some(Level::Gemeente),
            "wijk" => Some(Level::Wijk),
            "buurt" => Some(Level::Buurt),
            _ => None,
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Level::Gemeente => "GM",
            Level::Wijk => "WK",
            Level::Buurt => "BU",
        }
    }

    /// Characters after the prefix: gemeente 4, wijk gemeente + 2, buurt wijk + 2.
    fn body_len(self) -> usize {
        match self {
            Level::Gemeente => 4,
            Level::Wijk => 6,
            Level::Buurt => 8,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code:?} is not a valid CBS {level} code (expected {expected})")]
pub struct CodeError {
    pub code: String,
    pub level: &'static str,
    pub expected: &'static str,
}

/// A CBS code: `GM` + 4 digits, `WK` + gemeente digits + 2, `BU` + wijk part + 2.
/// Wijk and buurt parts may hold capital letters (large municipalities).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct AreaCode {
    level: Level,
    code: String,
}

impl AreaCode {
    pub fn parse(level: Level, raw: &str) -> Result<AreaCode, CodeError> {
        let code = raw.trim().to_owned();
        let err = || CodeError {
            code: raw.to_owned(),
            level: level.as_str(),
            expected: match level {
                Level::Gemeente => "GM and 4 digits, e.g. GM0772",
                Level::Wijk => "WK and 6 characters, e.g. WK077211",
                Level::Buurt => "BU and 8 characters, e.g. BU07721110",
            },
        };
        let body = code.strip_prefix(level.prefix()).ok_or_else(err)?;
        if !body.is_ascii() || body.len() != level.body_len() {
            return Err(err());
        }
        let (gemeente, rest) = body.split_at(4);
        if !gemeente.bytes().all(|b| b.is_ascii_digit())
            || !rest.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        {
            return Err(err());
        }
        Ok(AreaCode { level, code })
    }

    /// Parses a code of any level, telling the level from its prefix.
    pub fn parse_any(raw: &str) -> Result<AreaCode, CodeError> {
        let level = match raw.trim().get(..2) {
            Some("WK") => Level::Wijk,
            Some("BU") => Level::Buurt,
            _ => Level::Gemeente,
        };
        AreaCode::parse(level, raw)
    }

    pub fn level(&self) -> Level {
        self.level
    }

    pub fn as_str(&self) -> &str {
        &self.code
    }

    /// The code of the area this one lies in, derived from the code itself.
    pub fn parent(&self) -> Option<AreaCode> {
        let body = &self.code[2..];
        match self.level {
            Level::Gemeente => None,
            Level::Wijk => Some(AreaCode { level: Level::Gemeente, code: format!("GM{}", &body[..4]) }),
            Level::Buurt => Some(AreaCode { level: Level::Wijk, code: format!("WK{}", &body[..6]) }),
        }
    }
}

impl fmt::Display for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code)
    }
}

impl From<AreaCode> for String {
    fn from(c: AreaCode) -> String {
        c.code
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_real_codes() {
        let bu = AreaCode::parse(Level::Buurt, "BU07721110").unwrap();
        assert_eq!(bu.parent().unwrap().as_str(), "WK077211");
        assert_eq!(bu.parent().unwrap().parent().unwrap().as_str(), "GM0772");
        assert!(AreaCode::parse(Level::Buurt, "BU0363AF01").is_ok());
        assert_eq!(AreaCode::parse_any("WK036301").unwrap().level(), Level::Wijk);
    }

    #[test]
    fn rejects_bad_codes() {
        for bad in
            ["", "BU0772111", "BU077211100", "bu07721110", "BU07a21110", "WK07721110", "BUAB721110", "BU0772111é"]
        {
            assert!(AreaCode::parse(Level::Buurt, bad).is_err(), "{bad}");
        }
        assert!(AreaCode::parse(Level::Gemeente, "GM07A2").is_err());
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,12}") {
            let _ = AreaCode::parse_any(&s);
        }

        #[test]
        fn valid_buurt_codes_roundtrip(g in "[0-9]{4}", w in "[0-9A-Z]{2}", b in "[0-9A-Z]{2}") {
            let raw = format!("BU{g}{w}{b}");
            let code = AreaCode::parse(Level::Buurt, &raw).unwrap();
            prop_assert_eq!(code.as_str(), raw.as_str());
            prop_assert_eq!(code.parent().unwrap().to_string(), format!("WK{g}{w}"));
        }
    }
}
