//! An account's e-mail address: trimmed, lower-cased, plausibly shaped.

use serde::Serialize;

/// Longest address SMTP can carry (RFC 5321: 254 characters in a path).
pub const MAX_EMAIL_LEN: usize = 254;

/// A lower-cased e-mail address with one `@`, a non-empty local part and a
/// domain with a dot. It cannot hold anything else.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("the e-mail address is empty")]
    Empty,
    #[error("the e-mail address is longer than {MAX_EMAIL_LEN} characters")]
    TooLong,
    #[error("{0:?} is not an e-mail address like naam@gemeente.nl")]
    Malformed(String),
}

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<EmailAddress, EmailError> {
        let lowered = raw.trim().to_lowercase();
        let s = lowered.as_str();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        if s.chars().count() > MAX_EMAIL_LEN {
            return Err(EmailError::TooLong);
        }
        let malformed = || EmailError::Malformed(s.to_owned());
        let (local, domain) = s.split_once('@').ok_or_else(malformed)?;
        let bad_char = |c: char| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"');
        if local.is_empty()
            || domain.contains('@')
            || domain.is_empty()
            || s.chars().any(bad_char)
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err(malformed());
        }
        Ok(EmailAddress(lowered))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_and_lowercases() {
        assert_eq!(EmailAddress::parse(" Wijk.Manager@Eindhoven.NL ").unwrap().as_str(), "wijk.manager@eindhoven.nl");
        assert_eq!(EmailAddress::parse("demo@buurtpeil.local").unwrap().as_str(), "demo@buurtpeil.local");
    }

    #[test]
    fn rejects_what_is_no_address() {
        for bad in [
            "",
            "  ",
            "geen-apenstaart",
            "@gemeente.nl",
            "naam@",
            "a@b@c.nl",
            "naam@localhost",
            "na am@x.nl",
            "a@.nl",
            "a@x.",
            "a@x..nl",
            "a\u{0}@x.nl",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(EmailAddress::parse(&format!("{}@x.nl", "a".repeat(300))), Err(EmailError::TooLong));
    }

    proptest! {
        #[test]
        fn parsed_addresses_are_stable(raw in "\\PC{0,80}") {
            if let Ok(e) = EmailAddress::parse(&raw) {
                let again = EmailAddress::parse(e.as_str()).unwrap();
                prop_assert_eq!(&again, &e);
                prop_assert_eq!(e.as_str().matches('@').count(), 1);
            }
        }
    }
}
