//! Bearer tokens, stored at rest as their SHA-256.
//!
//! Tokens are random secrets (`openssl rand -hex 32`), not passwords: with
//! 128 bits or more of entropy a plain SHA-256 cannot be reversed or
//! dictionary-attacked, so no salt or slow hash is needed, and the config
//! stays a simple `sha256: <64 hex digits>`. Lookups compare digests in
//! constant time and visit every entry, so timing tells nothing about which
//! (or whether a) digest matched.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Shortest token [`hash_token`] accepts: 32 characters (128 bits as hex).
pub const MIN_TOKEN_LEN: usize = 32;

/// The SHA-256 of a token.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenHash([u8; 32]);

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({self})")
    }
}

impl fmt::Display for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("a token hash must be 64 hexadecimal digits (the SHA-256 printed by `meshplane hash-token`), got {0} characters")]
    HashLength(usize),
    #[error("a token hash must be hexadecimal digits only (the SHA-256 printed by `meshplane hash-token`), found '{0}'")]
    HashDigit(char),
    #[error("the token is {0} characters long; use at least {MIN_TOKEN_LEN} random characters, e.g. the output of `openssl rand -hex 32`")]
    TooShort(usize),
    #[error(
        "the token contains whitespace or control characters, which gRPC metadata cannot carry"
    )]
    BadCharacter,
}

impl TokenHash {
    /// The digest of a presented token (any token, no policy on its form).
    pub fn of(token: &str) -> TokenHash {
        TokenHash(Sha256::digest(token.as_bytes()).into())
    }

    /// Parses the 64-hex-digit form written in the config (either case).
    pub fn from_hex(hex: &str) -> Result<TokenHash, TokenError> {
        let mut nibbles = Vec::with_capacity(64);
        for c in hex.chars() {
            nibbles.push(c.to_digit(16).ok_or(TokenError::HashDigit(c))? as u8);
        }
        if nibbles.len() != 64 {
            return Err(TokenError::HashLength(nibbles.len()));
        }
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(nibbles.chunks_exact(2)) {
            *byte = (pair[0] << 4) | pair[1];
        }
        Ok(TokenHash(out))
    }

    /// Constant-time equality.
    pub fn ct_eq(&self, other: &TokenHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

/// Hashes a new token for the config, refusing tokens too weak or too odd to use.
/// This is what `meshplane hash-token` prints.
///
/// Surrounding whitespace is dropped (a token piped from `openssl rand -hex 32`
/// ends with a newline), as the bootstrap drops it from `MESHPLANE_XDS_TOKEN_FILE`.
pub fn hash_token(token: &str) -> Result<TokenHash, TokenError> {
    let token = token.trim();
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(TokenError::BadCharacter);
    }
    let len = token.chars().count();
    if len < MIN_TOKEN_LEN {
        return Err(TokenError::TooShort(len));
    }
    Ok(TokenHash::of(token))
}

/// The YAML entry `meshplane hash-token` prints for pasting under `tokens:`.
pub fn token_config_entry(principal: &str, hash: &TokenHash) -> String {
    let principal = serde_json::Value::String(principal.to_owned());
    format!("- principal: {principal}\n  sha256: {hash}\n")
}

/// Finds the entry whose hash matches `token`, comparing every entry in
/// constant time. Returns the index of the match.
pub fn find_token<'a, I>(token: &str, hashes: I) -> Option<usize>
where
    I: IntoIterator<Item = &'a TokenHash>,
{
    let presented = TokenHash::of(token);
    let mut found = None;
    for (i, stored) in hashes.into_iter().enumerate() {
        if presented.ct_eq(stored) && found.is_none() {
            found = Some(i);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "3f1c9a2b7d4e8f60a1b2c3d4e5f60718293a4b5c6d7e8f90";

    #[test]
    fn known_digest_and_hex_roundtrip() {
        // SHA-256("abc") from FIPS 180-2.
        let h = TokenHash::of("abc");
        assert_eq!(
            h.to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(TokenHash::from_hex(&h.to_string()), Ok(h));
        assert_eq!(TokenHash::from_hex(&h.to_string().to_uppercase()), Ok(h));
    }

    #[test]
    fn bad_hex_is_rejected() {
        assert_eq!(TokenHash::from_hex("abc"), Err(TokenError::HashLength(3)));
        let bad = format!("{}g", "0".repeat(63));
        assert_eq!(TokenHash::from_hex(&bad), Err(TokenError::HashDigit('g')));
        let multibyte = format!("{}é", "0".repeat(62));
        assert!(TokenHash::from_hex(&multibyte).is_err());
    }

    #[test]
    fn hash_token_refuses_weak_tokens() {
        assert_eq!(hash_token("short"), Err(TokenError::TooShort(5)));
        assert_eq!(
            hash_token(&format!("{TOKEN} x")),
            Err(TokenError::BadCharacter)
        );
        assert_eq!(
            hash_token("tøken-0123456789abcdef0123456789abcdef"),
            Err(TokenError::BadCharacter)
        );
        assert_eq!(hash_token(TOKEN), Ok(TokenHash::of(TOKEN)));
        assert_eq!(hash_token(&format!("{TOKEN}\n")), Ok(TokenHash::of(TOKEN)));
    }

    #[test]
    fn find_token_matches_only_the_right_digest() {
        let hashes = [TokenHash::of("other-token"), TokenHash::of(TOKEN)];
        assert_eq!(find_token(TOKEN, &hashes), Some(1));
        assert_eq!(find_token("wrong", &hashes), None);
        assert_eq!(find_token(TOKEN, &[]), None);
    }

    #[test]
    fn config_entry_is_yaml() {
        let entry = token_config_entry("team: a", &TokenHash::of("abc"));
        assert_eq!(
            entry,
            "- principal: \"team: a\"\n  sha256: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"
        );
    }
}
