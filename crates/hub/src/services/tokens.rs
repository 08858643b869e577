//! Session tokens: random, handed to the client once, kept by the hub only as a hash.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::store::sql::{statement, Store};

use crate::store::now_millis;

/// A freshly issued token and when it expires.
pub struct Issued {
    /// The token to give the client (never stored).
    pub token: String,
    /// When it stops working, in Unix milliseconds.
    pub expires_at: i64,
}

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Issues a token for an agent, valid for `ttl_days`.
pub async fn issue(db: &Store, agent_id: i64, ttl_days: u32) -> sqlx::Result<Issued> {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let now = now_millis();
    let expires_at = now + i64::from(ttl_days) * 24 * 3600 * 1000;
    db.execute(statement!(
        "INSERT INTO tokens (hash, agent_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        hash(&token),
        agent_id,
        now,
        expires_at,
    ))
    .await?;
    Ok(Issued { token, expires_at })
}

/// The agent and expiry of a valid token, or `None` if it is unknown, expired or revoked.
pub async fn check(db: &Store, token: &str) -> sqlx::Result<Option<(i64, i64)>> {
    db.optional(statement!(
        "SELECT agent_id, expires_at FROM tokens WHERE hash = $1 AND expires_at > $2",
        hash(token),
        now_millis(),
    ))
    .await
}

/// Revokes a token; revoking an unknown token does nothing.
pub async fn revoke(db: &Store, token: &str) -> sqlx::Result<()> {
    db.execute(statement!(
        "DELETE FROM tokens WHERE hash = $1",
        hash(token)
    ))
    .await?;
    Ok(())
}

/// Forgets expired tokens.
pub async fn prune(db: &Store) -> sqlx::Result<u64> {
    db.execute(statement!(
        "DELETE FROM tokens WHERE expires_at <= $1",
        now_millis()
    ))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_token_works_until_revoked_and_is_stored_only_hashed() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::open(&dir.path().join("hub.db"))
            .await
            .unwrap();
        let db = Store::Sqlite(db);
        let ana = crate::services::accounts::add(&db, "ana", "Ana", "password-1")
            .await
            .unwrap();
        let issued = issue(&db, ana.id, 30).await.unwrap();
        assert!(issued.token.len() >= 43, "256 bits in base64");
        assert_eq!(
            check(&db, &issued.token).await.unwrap().map(|t| t.0),
            Some(ana.id)
        );
        let stored: Vec<u8> = db
            .value(statement!("SELECT hash FROM tokens"))
            .await
            .unwrap();
        assert_ne!(stored, issued.token.as_bytes());
        assert_eq!(check(&db, "forged").await.unwrap(), None);
        revoke(&db, &issued.token).await.unwrap();
        assert_eq!(check(&db, &issued.token).await.unwrap(), None);

        let expired = issue(&db, ana.id, 0).await.unwrap();
        assert_eq!(check(&db, &expired.token).await.unwrap(), None);
        assert_eq!(prune(&db).await.unwrap(), 1);
    }
}
