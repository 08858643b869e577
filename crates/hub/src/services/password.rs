//! Password hashing with argon2id. Hashes are PHC strings that carry their own salt and
//! parameters, so parameters can be raised later without invalidating stored hashes.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

/// The shortest password an administrator may set.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The longest password an administrator may set, in characters.
pub const MAX_PASSWORD_CHARS: usize = 256;
/// The longest password a sign-in is checked with, in bytes (four a character at most).
pub const MAX_PASSWORD_BYTES: usize = MAX_PASSWORD_CHARS * 4;

/// Hashes a password with argon2id and a fresh random salt.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
}

/// Whether `password` matches the stored `hash`. A stored hash that cannot be parsed
/// matches nothing.
pub fn verify(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Checks a new password against the rules, with a message an administrator understands.
pub fn check_new(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!(
            "the password must have at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(format!(
            "the password must have at most {MAX_PASSWORD_CHARS} characters"
        ));
    }
    if password.trim() != password {
        return Err("the password must not start or end with white space".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify("correct horse", &h));
        assert!(!verify("correct horsf", &h));
        assert!(!verify("correct horse", "not a hash"));
    }

    #[test]
    fn two_hashes_of_one_password_differ() {
        assert_ne!(
            hash("same password").unwrap(),
            hash("same password").unwrap()
        );
    }

    #[test]
    fn short_or_padded_passwords_are_refused() {
        assert!(check_new("short").is_err());
        assert!(check_new(" padded-password").is_err());
        assert!(check_new("long enough").is_ok());
    }
}
