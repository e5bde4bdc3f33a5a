//! Secrets a person types from paper or a screen (resume codes, invitation
//! codes): random Crockford base32 symbols, read back forgivingly, stored
//! only as a hash. One implementation for every such code.

use rand::Rng;
use sha2::{Digest, Sha256};

/// Crockford base32: no I, L, O, U, so a code read aloud or typed from paper
/// survives the usual confusions.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// `len` symbols (5 bits each) from the operating system's generator.
pub fn generate(len: usize) -> String {
    let mut rng = rand::rngs::OsRng;
    (0..len).map(|_| ALPHABET[rng.gen_range(0..32)] as char).collect()
}

/// Reads a typed code of exactly `len` symbols: case, spaces and dashes do
/// not matter, and O, I and L are read as 0, 1 and 1. Input longer than
/// `max_input` bytes is refused unread.
pub fn read(s: &str, len: usize, max_input: usize) -> Option<String> {
    if s.len() > max_input {
        return None;
    }
    let mut out = String::with_capacity(len);
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
    (out.len() == len).then_some(out)
}

/// As shown to type: groups of four, `ABCD-EFGH-…`.
pub fn grouped(code: &str) -> String {
    code.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap_or("")).collect::<Vec<_>>().join("-")
}

/// What is stored: the hex SHA-256 of the symbols.
pub fn hash(code: &str) -> String {
    hex::encode(Sha256::digest(code.as_bytes()))
}
