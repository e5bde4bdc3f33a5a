//! The secret of an invitation: 140 random bits from the operating system,
//! written as 28 Crockford base32 symbols. The same secret is the link
//! (`/i/{token}`) and the code a resident types (`ABCD-EFGH-…`, seven groups
//! of four): one secret means one hash and no weaker second way in. Only the
//! SHA-256 of the symbols is stored.

use crate::code;

/// 28 symbols × 5 bits = 140 bits.
pub const TOKEN_LEN: usize = 28;

#[derive(Clone, PartialEq, Eq)]
pub struct InviteToken(String);

impl std::fmt::Debug for InviteToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InviteToken(…)")
    }
}

impl InviteToken {
    /// A fresh token from `OsRng`.
    pub fn generate() -> InviteToken {
        InviteToken(code::generate(TOKEN_LEN))
    }

    /// Reads a link's token or a typed code (see `code::read`).
    pub fn parse(s: &str) -> Option<InviteToken> {
        code::read(s, TOKEN_LEN, 100).map(InviteToken)
    }

    /// As printed to type: `ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345`.
    pub fn display(&self) -> String {
        code::grouped(&self.0)
    }

    /// As used in a link.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What is stored: the hex SHA-256 of the symbols.
    pub fn hash(&self) -> String {
        code::hash(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn tokens_survive_typing() {
        let t = InviteToken::generate();
        assert_ne!(t, InviteToken::generate());
        let shown = t.display();
        assert_eq!(shown.len(), TOKEN_LEN + 6);
        assert_eq!(InviteToken::parse(&shown), Some(t.clone()));
        assert_eq!(InviteToken::parse(t.as_str()), Some(t.clone()));
        assert_eq!(InviteToken::parse(&shown.to_lowercase().replace('-', "  ")), Some(t.clone()));
        assert_eq!(t.hash().len(), 64);
        assert!(!t.hash().contains(t.as_str()));
        for bad in ["", "ABCD", &"A".repeat(27), &"A".repeat(29), &format!("{}U", "A".repeat(27)), &"Ä".repeat(28)] {
            assert_eq!(InviteToken::parse(bad), None, "{bad}");
        }
        assert_eq!(format!("{t:?}"), "InviteToken(…)");
    }

    proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC{0,120}") {
            let _ = InviteToken::parse(&s);
        }
    }
}
