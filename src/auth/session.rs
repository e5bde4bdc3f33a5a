//! What a session cookie holds and how forms are protected against
//! cross-site request forgery; no HTTP here, only values and checks.
//!
//! The cookie itself is encrypted and authenticated (AES-256-GCM, actix-web's
//! private cookie jar) with a [`SessionKey`]; see docs/architecture.md.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::store::UserId;

/// How long a login lasts, whatever happens in between.
pub const SESSION_LIFETIME_SECS: i64 = 8 * 60 * 60;

/// The key that encrypts and signs cookies: at least 64 bytes.
#[derive(Clone)]
pub struct SessionKey(Vec<u8>);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(***)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionKeyError {
    #[error("BUURTPEIL_SESSION_KEY is neither hex nor base64")]
    Encoding,
    #[error("BUURTPEIL_SESSION_KEY holds {0} bytes; it needs at least 64 (make one with `openssl rand -hex 64`)")]
    TooShort(usize),
}

impl SessionKey {
    pub const MIN_LEN: usize = 64;

    /// A key from hex (128+ digits) or base64 (standard or URL-safe, with or
    /// without padding).
    pub fn parse(raw: &str) -> Result<SessionKey, SessionKeyError> {
        let raw = raw.trim();
        let bytes = if raw.len() % 2 == 0 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(raw).map_err(|_| SessionKeyError::Encoding)?
        } else {
            use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
            [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
                .iter()
                .find_map(|e| e.decode(raw).ok())
                .ok_or(SessionKeyError::Encoding)?
        };
        if bytes.len() < Self::MIN_LEN {
            return Err(SessionKeyError::TooShort(bytes.len()));
        }
        Ok(SessionKey(bytes))
    }

    /// A random key: sessions then end when the server stops.
    pub fn random() -> SessionKey {
        let mut bytes = vec![0u8; Self::MIN_LEN];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        SessionKey(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// A per-session (or, before login, per-browser) random secret from which
/// form tokens are made.
#[derive(Clone, PartialEq, Eq)]
pub struct CsrfSecret([u8; 32]);

impl std::fmt::Debug for CsrfSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfSecret(***)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CsrfError {
    #[error("the form has no security token")]
    Missing,
    #[error("the form's security token is not valid (it may be from an older session)")]
    Invalid,
}

impl CsrfSecret {
    pub fn random() -> CsrfSecret {
        let mut b = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut b);
        CsrfSecret(b)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(s: &str) -> Option<CsrfSecret> {
        let mut b = [0u8; 32];
        hex::decode_to_slice(s, &mut b).ok()?;
        Some(CsrfSecret(b))
    }

    /// A token for a form: a fresh random mask and the secret XOR the mask,
    /// in hex. Every page gets a different token (so a compressed page
    /// reveals nothing about the secret, BREACH), and each one is valid for
    /// the whole session.
    pub fn token(&self) -> String {
        let mut mask = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut mask);
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&mask);
        for i in 0..32 {
            out[32 + i] = mask[i] ^ self.0[i];
        }
        hex::encode(out)
    }
}

/// Checks a form's `csrf` value against the session's secret, in constant
/// time.
pub fn check_csrf(secret: &CsrfSecret, token: &str) -> Result<(), CsrfError> {
    let token = token.trim();
    if token.is_empty() {
        return Err(CsrfError::Missing);
    }
    let mut raw = [0u8; 64];
    hex::decode_to_slice(token, &mut raw).map_err(|_| CsrfError::Invalid)?;
    let mut unmasked = [0u8; 32];
    for i in 0..32 {
        unmasked[i] = raw[i] ^ raw[32 + i];
    }
    if bool::from(unmasked.ct_eq(&secret.0)) {
        Ok(())
    } else {
        Err(CsrfError::Invalid)
    }
}

/// What the session cookie holds: who, since when, the CSRF secret, and a
/// fingerprint of the password hash so that a changed password ends every
/// earlier session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user_id: UserId,
    /// Seconds since the Unix epoch.
    pub issued_at: i64,
    pub csrf: CsrfSecret,
    pub password_tag: String,
}

impl Session {
    pub fn new(user_id: UserId, password_hash: &str, now: i64) -> Session {
        Session { user_id, issued_at: now, csrf: CsrfSecret::random(), password_tag: password_tag(password_hash) }
    }

    /// `v1.<id>.<issued>.<csrf hex>.<tag>`; the cookie jar encrypts it.
    pub fn encode(&self) -> String {
        format!("v1.{}.{}.{}.{}", self.user_id.0, self.issued_at, self.csrf.to_hex(), self.password_tag)
    }

    pub fn decode(s: &str) -> Option<Session> {
        let mut parts = s.split('.');
        if parts.next()? != "v1" {
            return None;
        }
        let user_id = UserId(parts.next()?.parse().ok()?);
        let issued_at = parts.next()?.parse().ok()?;
        let csrf = CsrfSecret::from_hex(parts.next()?)?;
        let password_tag = parts.next()?.to_owned();
        if parts.next().is_some() || password_tag.len() != 16 {
            return None;
        }
        Some(Session { user_id, issued_at, csrf, password_tag })
    }

    /// Whether the session is still within its 8 hours (and not from the
    /// future, give or take a minute of clock drift).
    pub fn is_fresh(&self, now: i64) -> bool {
        self.issued_at <= now + 60 && now - self.issued_at < SESSION_LIFETIME_SECS
    }

    /// Whether the session was made with the account's current password.
    pub fn matches_password(&self, password_hash: &str) -> bool {
        bool::from(self.password_tag.as_bytes().ct_eq(password_tag(password_hash).as_bytes()))
    }
}

fn password_tag(password_hash: &str) -> String {
    hex::encode(&Sha256::digest(password_hash.as_bytes())[..8])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keys_from_hex_or_base64_of_64_bytes() {
        let bytes: Vec<u8> = (0..64).collect();
        assert_eq!(SessionKey::parse(&hex::encode(&bytes)).unwrap().as_bytes(), &bytes[..]);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
        assert_eq!(SessionKey::parse(&b64).unwrap().as_bytes(), &bytes[..]);
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
        assert_eq!(SessionKey::parse(&url).unwrap().as_bytes(), &bytes[..]);
        assert_eq!(SessionKey::parse(&hex::encode(&bytes[..63])).unwrap_err(), SessionKeyError::TooShort(63));
        assert_eq!(SessionKey::parse("geheim!").unwrap_err(), SessionKeyError::Encoding);
        assert!(!format!("{:?}", SessionKey::random()).contains('0'));
    }

    #[test]
    fn sessions_round_trip_and_expire() {
        let s = Session::new(UserId(7), "$argon2id$x", 1_000_000);
        assert_eq!(Session::decode(&s.encode()), Some(s.clone()));
        assert!(s.is_fresh(1_000_000));
        assert!(s.is_fresh(1_000_000 + SESSION_LIFETIME_SECS - 1));
        assert!(!s.is_fresh(1_000_000 + SESSION_LIFETIME_SECS));
        assert!(!s.is_fresh(1_000_000 - 3600));
        assert!(s.matches_password("$argon2id$x"));
        assert!(!s.matches_password("$argon2id$y"));
        for bad in ["", "v1", "v2.7.1.00.00", "v1.x.1.00.00", &format!("{}.extra", s.encode())] {
            assert_eq!(Session::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn csrf_tokens_differ_but_all_verify() {
        let secret = CsrfSecret::random();
        let (a, b) = (secret.token(), secret.token());
        assert_ne!(a, b);
        assert_eq!(check_csrf(&secret, &a), Ok(()));
        assert_eq!(check_csrf(&secret, &b), Ok(()));
        assert_eq!(check_csrf(&secret, ""), Err(CsrfError::Missing));
        assert_eq!(check_csrf(&secret, &secret.to_hex()), Err(CsrfError::Invalid));
        assert_eq!(check_csrf(&CsrfSecret::random(), &a), Err(CsrfError::Invalid));
    }

    proptest! {
        #[test]
        fn decoding_any_text_is_safe(raw in "\\PC{0,120}", id in any::<i32>(), at in any::<i64>()) {
            let _ = Session::decode(&raw);
            let mut s = Session::new(UserId(id), "$argon2id$h", at);
            s.issued_at = at;
            prop_assert_eq!(Session::decode(&s.encode()), Some(s));
        }

        #[test]
        fn no_other_token_verifies(junk in "\\PC{0,200}", flip in 0usize..128) {
            let secret = CsrfSecret::random();
            prop_assert!(check_csrf(&secret, &junk).is_err());
            // Changing any one hex digit of a good token breaks it.
            let good = secret.token();
            let mut chars: Vec<char> = good.chars().collect();
            chars[flip] = if chars[flip] == '0' { '1' } else { '0' };
            let bad: String = chars.into_iter().collect();
            prop_assert_eq!(check_csrf(&secret, &bad), Err(CsrfError::Invalid));
        }
    }
}
