//! The secret of a resident's private link to their talent profile: 140
//! random bits as 28 Crockford base32 symbols (`code`), as invitations have.
//! Only its SHA-256 is stored; a lost link cannot be recovered, only the
//! profile erased by a verbinder on request.

use crate::code;

/// 28 symbols × 5 bits = 140 bits.
pub const TOKEN_LEN: usize = 28;

#[derive(Clone, PartialEq, Eq)]
pub struct ProfileToken(String);

impl std::fmt::Debug for ProfileToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProfileToken(…)")
    }
}

impl ProfileToken {
    pub fn generate() -> ProfileToken {
        ProfileToken(code::generate(TOKEN_LEN))
    }

    /// Reads a link's token or a typed code (see `code::read`).
    pub fn parse(s: &str) -> Option<ProfileToken> {
        code::read(s, TOKEN_LEN, 100).map(ProfileToken)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// As printed to type: seven groups of four.
    pub fn display(&self) -> String {
        code::grouped(&self.0)
    }

    pub fn hash(&self) -> String {
        code::hash(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_read_back() {
        let t = ProfileToken::generate();
        assert_ne!(t, ProfileToken::generate());
        assert_eq!(ProfileToken::parse(&t.display().to_lowercase()), Some(t.clone()));
        assert_eq!(t.hash().len(), 64);
        for bad in ["", "x", &"A".repeat(27), &"A".repeat(200)] {
            assert_eq!(ProfileToken::parse(bad), None);
        }
        assert_eq!(format!("{t:?}"), "ProfileToken(…)");
    }
}
