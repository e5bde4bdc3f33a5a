//! Passwords: argon2id with the OWASP parameters, stored as a PHC string.
//! Checking a password takes as long for an unknown e-mail address as for a
//! known one, so the login form does not tell who has an account.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::Rng;

use super::email::EmailAddress;

pub const MIN_PASSWORD_LEN: usize = 12;
pub const MAX_PASSWORD_LEN: usize = 1024;

/// OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 passes, 1 lane.
const MEMORY_KIB: u32 = 19_456;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

/// A new password that meets the rules: 12 to 1024 characters and not the
/// account's e-mail address. Only for setting a password; logging in checks
/// whatever was typed.
#[derive(Clone)]
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error(
        "the password is too short: use at least {MIN_PASSWORD_LEN} characters (a sentence is easiest to remember)"
    )]
    TooShort,
    #[error("the password is too long: use at most {MAX_PASSWORD_LEN} characters")]
    TooLong,
    #[error("the password must not be the e-mail address")]
    SameAsEmail,
}

impl NewPassword {
    pub fn parse(raw: &str, email: &EmailAddress) -> Result<NewPassword, PasswordError> {
        let len = raw.chars().count();
        if len < MIN_PASSWORD_LEN {
            return Err(PasswordError::TooShort);
        }
        if len > MAX_PASSWORD_LEN {
            return Err(PasswordError::TooLong);
        }
        if raw.trim().to_lowercase() == email.as_str() {
            return Err(PasswordError::SameAsEmail);
        }
        Ok(NewPassword(raw.to_owned()))
    }

    /// A random password of `len` characters from letters and digits that
    /// are hard to confuse (no 0/O, 1/l/I). 20 characters hold ≈ 115 bits.
    pub fn random(len: usize) -> String {
        const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let mut rng = rand::rngs::OsRng;
        (0..len.max(MIN_PASSWORD_LEN)).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) of a new password.
/// Slow on purpose (tens of milliseconds): call off the async threads.
pub fn hash_password(password: &NewPassword) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_str().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// A hash of a random password nobody knows, made once: unknown accounts
/// are checked against it so they take as long as known ones.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let random = NewPassword(NewPassword::random(32));
        hash_password(&random).expect("hashing a random password")
    })
}

/// Whether `password` matches the stored hash. With `None` (no such
/// account) a dummy hash is checked all the same and the answer is `false`.
/// A password longer than the maximum is refused without hashing, for known
/// and unknown accounts alike. Slow: call off the async threads.
pub fn verify_password(stored: Option<&str>, password: &str) -> bool {
    if password.len() > MAX_PASSWORD_LEN * 4 {
        return false;
    }
    let (phc, known) = match stored {
        Some(h) => (h, true),
        None => (dummy_hash(), false),
    };
    let Ok(parsed) = PasswordHash::new(phc) else {
        tracing::error!("a stored password hash is not a valid PHC string");
        // Still spend the time, so a broken row is not told apart either.
        let _ = PasswordHash::new(dummy_hash()).map(|d| hasher().verify_password(password.as_bytes(), &d));
        return false;
    };
    // Verify with the parameters in the hash (older hashes keep working).
    let ok = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
    ok && known
}

/// Makes the dummy hash now (at start), so the first failed login with an
/// unknown address is not slower than later ones.
pub fn warm_up() {
    let _ = dummy_hash();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> EmailAddress {
        EmailAddress::parse("wijkmanager@eindhoven.nl").unwrap()
    }

    #[test]
    fn hashes_with_owasp_argon2id_parameters() {
        let pw = NewPassword::parse("correct horse battery staple", &email()).unwrap();
        let phc = hash_password(&pw).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password(Some(&phc), "correct horse battery staple"));
        assert!(!verify_password(Some(&phc), "correct horse battery stapl"));
        assert!(!verify_password(Some(&phc), ""));
        assert_ne!(phc, hash_password(&pw).unwrap(), "salted");
    }

    #[test]
    fn unknown_accounts_never_verify_and_take_as_long() {
        let pw = NewPassword::parse("correct horse battery staple", &email()).unwrap();
        let phc = hash_password(&pw).unwrap();
        warm_up();
        assert!(!verify_password(None, "correct horse battery staple"));
        let time = |stored: Option<&str>| {
            let start = std::time::Instant::now();
            for _ in 0..3 {
                verify_password(stored, "not the password at all");
            }
            start.elapsed().as_secs_f64()
        };
        let (known, unknown) = (time(Some(&phc)), time(None));
        let ratio = known / unknown;
        assert!((0.25..4.0).contains(&ratio), "known {known:.3}s vs unknown {unknown:.3}s");
        assert!(!verify_password(Some("not a hash"), "x"));
    }

    #[test]
    fn enforces_the_rules() {
        let e = email();
        assert_eq!(NewPassword::parse("kort", &e).unwrap_err(), PasswordError::TooShort);
        assert_eq!(NewPassword::parse("elf tekens!", &e).unwrap_err(), PasswordError::TooShort);
        assert!(NewPassword::parse("twaalf teken", &e).is_ok());
        assert_eq!(NewPassword::parse(&"x".repeat(1025), &e).unwrap_err(), PasswordError::TooLong);
        assert!(NewPassword::parse(&"x".repeat(1024), &e).is_ok());
        assert_eq!(NewPassword::parse("WijkManager@Eindhoven.nl", &e).unwrap_err(), PasswordError::SameAsEmail);
        // Characters, not bytes: twelve 'é' are long enough.
        assert!(NewPassword::parse(&"é".repeat(12), &e).is_ok());
        assert!(!format!("{:?}", NewPassword::parse("geheim geheim", &e).unwrap()).contains("geheim"));
    }

    #[test]
    fn random_passwords_are_long_and_differ() {
        let a = NewPassword::random(20);
        assert_eq!(a.chars().count(), 20);
        assert_ne!(a, NewPassword::random(20));
        assert!(NewPassword::parse(&a, &email()).is_ok());
    }
}
