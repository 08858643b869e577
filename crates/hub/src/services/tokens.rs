//! Session tokens: random, handed to the client once, kept by the hub only as a hash.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;

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
pub async fn issue(db: &SqlitePool, agent_id: i64, ttl_days: u32) -> sqlx::Result<Issued> {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let now = now_millis();
    let expires_at = now + i64::from(ttl_days) * 24 * 3600 * 1000;
    sqlx::query("INSERT INTO tokens (hash, agent_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
        .bind(hash(&token))
        .bind(agent_id)
        .bind(now)
        .bind(expires_at)
        .execute(db)
        .await?;
    Ok(Issued { token, expires_at })
}

/// The agent and expiry of a valid token, or `None` if it is unknown, expired or revoked.
pub async fn check(db: &SqlitePool, token: &str) -> sqlx::Result<Option<(i64, i64)>> {
    sqlx::query_as("SELECT agent_id, expires_at FROM tokens WHERE hash = ? AND expires_at > ?")
        .bind(hash(token))
        .bind(now_millis())
        .fetch_optional(db)
        .await
}

/// Revokes a token; revoking an unknown token does nothing.
pub async fn revoke(db: &SqlitePool, token: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM tokens WHERE hash = ?")
        .bind(hash(token))
        .execute(db)
        .await?;
    Ok(())
}

/// Forgets expired tokens.
pub async fn prune(db: &SqlitePool) -> sqlx::Result<u64> {
    Ok(sqlx::query("DELETE FROM tokens WHERE expires_at <= ?")
        .bind(now_millis())
        .execute(db)
        .await?
        .rows_affected())
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
        let ana = crate::services::accounts::add(&db, "ana", "Ana", "password-1")
            .await
            .unwrap();
        let issued = issue(&db, ana.id, 30).await.unwrap();
        assert!(issued.token.len() >= 43, "256 bits in base64");
        assert_eq!(
            check(&db, &issued.token).await.unwrap().map(|t| t.0),
            Some(ana.id)
        );
        let stored: Vec<u8> = sqlx::query_scalar("SELECT hash FROM tokens")
            .fetch_one(&db)
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
