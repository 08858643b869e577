//! Contacts and their history in the database, as the integration gives them, and the
//! full-text search agents run over a contact's history.

use huddle_protocol::{ContactInfo, HistoryEntry, Media};
use sqlx::SqliteConnection;

/// Reads a JSON array of strings stored by this module.
fn strings(json: &str) -> sqlx::Result<Vec<String>> {
    serde_json::from_str(json).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn json_array(items: &[String]) -> String {
    serde_json::Value::from(items.to_vec()).to_string()
}

/// Reads a media name stored by this module (the table's CHECK allows no other).
pub fn parse_media(name: &str) -> sqlx::Result<Media> {
    match name {
        "voice" => Ok(Media::Voice),
        "email" => Ok(Media::Email),
        "chat" => Ok(Media::Chat),
        other => Err(sqlx::Error::Decode(
            format!("unknown media {other:?} in the database").into(),
        )),
    }
}

#[derive(sqlx::FromRow)]
struct ContactRow {
    id: String,
    first_name: String,
    last_name: String,
    phones: String,
    emails: String,
}

/// A contact, or `None`.
pub async fn load(db: &mut SqliteConnection, id: &str) -> sqlx::Result<Option<ContactInfo>> {
    let row: Option<ContactRow> = sqlx::query_as(
        "SELECT id, first_name, last_name, phones, emails FROM contacts WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    row.map(|r| {
        Ok(ContactInfo {
            phones: strings(&r.phones)?,
            emails: strings(&r.emails)?,
            id: r.id,
            first_name: r.first_name,
            last_name: r.last_name,
        })
    })
    .transpose()
}

/// Whether a contact exists.
pub async fn exists(db: &mut SqliteConnection, id: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM contacts WHERE id = ?)")
        .bind(id)
        .fetch_one(db)
        .await
}

/// Creates a contact or replaces its information (not its history). Returns whether it
/// was created.
pub async fn upsert(
    db: &mut SqliteConnection,
    contact: &ContactInfo,
    now: i64,
) -> sqlx::Result<bool> {
    let existed = exists(&mut *db, &contact.id).await?;
    sqlx::query(
        "INSERT INTO contacts (id, first_name, last_name, phones, emails, updated_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET first_name = excluded.first_name,
             last_name = excluded.last_name, phones = excluded.phones,
             emails = excluded.emails, updated_at = excluded.updated_at",
    )
    .bind(&contact.id)
    .bind(&contact.first_name)
    .bind(&contact.last_name)
    .bind(json_array(&contact.phones))
    .bind(json_array(&contact.emails))
    .bind(now)
    .execute(db)
    .await?;
    Ok(!existed)
}

/// Replaces a contact's whole history.
pub async fn replace_history(
    db: &mut SqliteConnection,
    contact_id: &str,
    entries: &[HistoryEntry],
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM contact_history WHERE contact_id = ?")
        .bind(contact_id)
        .execute(&mut *db)
        .await?;
    for entry in entries {
        add_history(&mut *db, contact_id, entry).await?;
    }
    Ok(())
}

/// Adds one entry to a contact's history.
pub async fn add_history(
    db: &mut SqliteConnection,
    contact_id: &str,
    entry: &HistoryEntry,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO contact_history (contact_id, id, at, media, subject, outcome, notes)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(contact_id)
    .bind(&entry.id)
    .bind(entry.at)
    .bind(entry.media.as_str())
    .bind(&entry.subject)
    .bind(&entry.outcome)
    .bind(&entry.notes)
    .execute(db)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: String,
    at: i64,
    media: String,
    subject: String,
    outcome: String,
    notes: String,
}

impl TryFrom<EntryRow> for HistoryEntry {
    type Error = sqlx::Error;

    fn try_from(r: EntryRow) -> sqlx::Result<Self> {
        Ok(HistoryEntry {
            media: parse_media(&r.media)?,
            id: r.id,
            at: r.at,
            subject: r.subject,
            outcome: r.outcome,
            notes: r.notes,
        })
    }
}

fn entries(rows: Vec<EntryRow>) -> sqlx::Result<Vec<HistoryEntry>> {
    rows.into_iter().map(HistoryEntry::try_from).collect()
}

/// One entry of a contact's history, or `None`.
pub async fn history_entry(
    db: &mut SqliteConnection,
    contact_id: &str,
    id: &str,
) -> sqlx::Result<Option<HistoryEntry>> {
    let row: Option<EntryRow> = sqlx::query_as(
        "SELECT id, at, media, subject, outcome, notes FROM contact_history
          WHERE contact_id = ? AND id = ?",
    )
    .bind(contact_id)
    .bind(id)
    .fetch_optional(db)
    .await?;
    row.map(HistoryEntry::try_from).transpose()
}

/// How many entries a contact's history has.
pub async fn history_count(db: &mut SqliteConnection, contact_id: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM contact_history WHERE contact_id = ?")
        .bind(contact_id)
        .fetch_one(db)
        .await
}

/// A contact's history entries matching `query`, newest first; an empty query (or one with
/// no words) matches every entry.
pub async fn search_history(
    db: &mut SqliteConnection,
    contact_id: &str,
    query: &str,
    limit: u32,
) -> sqlx::Result<Vec<HistoryEntry>> {
    let rows: Vec<EntryRow> = match match_expression(query) {
        None => {
            sqlx::query_as(
                "SELECT id, at, media, subject, outcome, notes FROM contact_history
                  WHERE contact_id = ? ORDER BY at DESC, entry DESC LIMIT ?",
            )
            .bind(contact_id)
            .bind(limit)
            .fetch_all(db)
            .await?
        }
        Some(expression) => {
            sqlx::query_as(
                "SELECT h.id, h.at, h.media, h.subject, h.outcome, h.notes
                   FROM contact_history h
                  WHERE h.contact_id = ?
                    AND h.entry IN (SELECT rowid FROM contact_history_fts
                                     WHERE contact_history_fts MATCH ?)
                  ORDER BY h.at DESC, h.entry DESC LIMIT ?",
            )
            .bind(contact_id)
            .bind(expression)
            .bind(limit)
            .fetch_all(db)
            .await?
        }
    };
    entries(rows)
}

/// Turns what an agent typed into an FTS5 expression: every word must start a word of the
/// entry. Each word is quoted, so FTS5's own syntax (`OR`, `NEAR`, `*`, columns) typed by
/// an agent is searched for as text rather than obeyed or failing.
fn match_expression(query: &str) -> Option<String> {
    let words: Vec<String> = query
        .split_whitespace()
        .map(|w| w.replace('"', ""))
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .map(|w| format!("\"{w}\"*"))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_words_become_quoted_prefixes() {
        assert_eq!(match_expression(""), None);
        assert_eq!(match_expression("  -- * "), None);
        assert_eq!(
            match_expression("addr Chang"),
            Some("\"addr\"* \"Chang\"*".into())
        );
        assert_eq!(
            match_expression("refund OR \"x\" NEAR("),
            Some("\"refund\"* \"OR\"* \"x\"* \"NEAR(\"*".into())
        );
    }

    fn entry(id: &str, at: i64, subject: &str, notes: &str) -> HistoryEntry {
        HistoryEntry {
            id: id.into(),
            at,
            media: Media::Voice,
            subject: subject.into(),
            outcome: "Resolved".into(),
            notes: notes.into(),
        }
    }

    #[tokio::test]
    async fn history_is_searched_by_word_prefix_ignoring_case_and_accents_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::store::open(&dir.path().join("hub.db"))
            .await
            .unwrap();
        let mut db = pool.acquire().await.unwrap();
        for id in ["c-1", "c-2"] {
            let contact = ContactInfo {
                id: id.into(),
                first_name: "Zoë".into(),
                last_name: "Lefèvre".into(),
                phones: vec!["+33 1 5555 0100".into()],
                emails: vec![],
            };
            assert!(upsert(&mut db, &contact, 1).await.unwrap());
        }
        replace_history(
            &mut db,
            "c-1",
            &[
                entry("h-1", 100, "Adresse de livraison", "Client à Besançon"),
                entry("h-2", 300, "Refund request", "Refunded the delivery fee"),
                entry("h-3", 200, "Delivery delay", "Carrier lost the parcel"),
            ],
        )
        .await
        .unwrap();
        add_history(
            &mut db,
            "c-2",
            &entry("h-1", 400, "Delivery delay", "another contact"),
        )
        .await
        .unwrap();
        let ids = |found: Vec<HistoryEntry>| found.into_iter().map(|e| e.id).collect::<Vec<_>>();
        assert_eq!(
            ids(search_history(&mut db, "c-1", "", 10).await.unwrap()),
            ["h-2", "h-3", "h-1"]
        );
        assert_eq!(
            ids(search_history(&mut db, "c-1", "deliv", 10).await.unwrap()),
            ["h-2", "h-3"],
            "a prefix, in notes or subject, this contact only"
        );
        assert_eq!(
            ids(search_history(&mut db, "c-1", "BESANCON", 10)
                .await
                .unwrap()),
            ["h-1"],
            "case and accents are ignored"
        );
        assert_eq!(
            ids(search_history(&mut db, "c-1", "delivery parcel", 10)
                .await
                .unwrap()),
            ["h-3"],
            "every word must match"
        );
        assert_eq!(
            ids(search_history(&mut db, "c-1", "OR NEAR(", 10)
                .await
                .unwrap()),
            Vec::<String>::new()
        );
        assert_eq!(
            search_history(&mut db, "c-1", "", 1).await.unwrap().len(),
            1
        );

        // Replacing the history keeps the index in step.
        replace_history(&mut db, "c-1", &[entry("h-9", 50, "Password reset", "")])
            .await
            .unwrap();
        assert_eq!(
            ids(search_history(&mut db, "c-1", "delivery", 10)
                .await
                .unwrap()),
            Vec::<String>::new()
        );
        assert_eq!(
            ids(search_history(&mut db, "c-1", "pass", 10).await.unwrap()),
            ["h-9"]
        );
        assert_eq!(history_count(&mut db, "c-1").await.unwrap(), 1);
    }
}
