//! The secret of an invitation: 140 random bits from the operating system,
//! written as 28 Crockford base32 symbols. The same secret is the link
//! (`/i/{token}`) and the code a resident types (`ABCD-EFGH-…`, seven groups
//! of four): one secret means one hash and no weaker second way in. Only the
//! SHA-256 of the symbols is stored.

use rand::Rng;
use sha2::{Digest, Sha256};

/// Crockford base32, as for resume codes: no I, L, O, U.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
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
        let mut rng = rand::rngs::OsRng;
        InviteToken((0..TOKEN_LEN).map(|_| ALPHABET[rng.gen_range(0..32)] as char).collect())
    }

    /// Reads a link's token or a typed code: case, spaces and dashes do not
    /// matter; O, I and L are read as 0, 1 and 1.
    pub fn parse(s: &str) -> Option<InviteToken> {
        if s.len() > 100 {
            return None;
        }
        let mut out = String::with_capacity(TOKEN_LEN);
        for c in s.chars().filter(|c| !c.is_whitespace() && *c != '-') {
            let c = match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
                return None;
            }
            out.push(c);
        }
        (out.len() == TOKEN_LEN).then_some(InviteToken(out))
    }

    /// As printed to type: `ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345`.
    pub fn display(&self) -> String {
        self.0.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap_or("")).collect::<Vec<_>>().join("-")
    }

    /// As used in a link.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What is stored: the hex SHA-256 of the symbols.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
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
