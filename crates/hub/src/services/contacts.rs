//! Contacts and their history in the database, as the integration gives them, and the
//! full-text search agents run over a contact's history.

use huddle_protocol::{ContactInfo, HistoryEntry, Media};

use crate::store::sql::{statement, Conn, Dialect};

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
pub async fn load(db: &mut Conn<'_>, id: &str) -> sqlx::Result<Option<ContactInfo>> {
    let row: Option<ContactRow> = db
        .optional(statement!(
            "SELECT id, first_name, last_name, phones, emails FROM contacts WHERE id = $1",
            id
        ))
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
pub async fn exists(db: &mut Conn<'_>, id: &str) -> sqlx::Result<bool> {
    db.value(statement!(
        "SELECT EXISTS (SELECT 1 FROM contacts WHERE id = $1)",
        id
    ))
    .await
}

/// Creates a contact or replaces its information (not its history). Returns whether it
/// was created.
pub async fn upsert(db: &mut Conn<'_>, contact: &ContactInfo, now: i64) -> sqlx::Result<bool> {
    let existed = exists(db, &contact.id).await?;
    db.execute(statement!(
        "INSERT INTO contacts (id, first_name, last_name, phones, emails, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET first_name = excluded.first_name,
             last_name = excluded.last_name, phones = excluded.phones,
             emails = excluded.emails, updated_at = excluded.updated_at",
        &contact.id,
        &contact.first_name,
        &contact.last_name,
        json_array(&contact.phones),
        json_array(&contact.emails),
        now,
    ))
    .await?;
    Ok(!existed)
}

/// Replaces a contact's whole history.
pub async fn replace_history(
    db: &mut Conn<'_>,
    contact_id: &str,
    entries: &[HistoryEntry],
) -> sqlx::Result<()> {
    db.execute(statement!(
        "DELETE FROM contact_history WHERE contact_id = $1",
        contact_id
    ))
    .await?;
    for entry in entries {
        add_history(db, contact_id, entry).await?;
    }
    Ok(())
}

/// Adds one entry to a contact's history.
pub async fn add_history(
    db: &mut Conn<'_>,
    contact_id: &str,
    entry: &HistoryEntry,
) -> sqlx::Result<()> {
    db.execute(statement!(
        "INSERT INTO contact_history (contact_id, id, at, media, subject, outcome, notes)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        contact_id,
        &entry.id,
        entry.at,
        entry.media.as_str(),
        &entry.subject,
        &entry.outcome,
        &entry.notes,
    ))
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
    db: &mut Conn<'_>,
    contact_id: &str,
    id: &str,
) -> sqlx::Result<Option<HistoryEntry>> {
    let row: Option<EntryRow> = db
        .optional(statement!(
            "SELECT id, at, media, subject, outcome, notes FROM contact_history
              WHERE contact_id = $1 AND id = $2",
            contact_id,
            id,
        ))
        .await?;
    row.map(HistoryEntry::try_from).transpose()
}

/// How many entries a contact's history has.
pub async fn history_count(db: &mut Conn<'_>, contact_id: &str) -> sqlx::Result<i64> {
    db.value(statement!(
        "SELECT count(*) FROM contact_history WHERE contact_id = $1",
        contact_id
    ))
    .await
}

/// A contact's history entries matching `query`, newest first; an empty query (or one with
/// no words) matches every entry.
pub async fn search_history(
    db: &mut Conn<'_>,
    contact_id: &str,
    query: &str,
    limit: u32,
) -> sqlx::Result<Vec<HistoryEntry>> {
    let limit = i64::from(limit);
    let words = words(query);
    let search = if words.is_empty() {
        statement!(
            "SELECT id, at, media, subject, outcome, notes FROM contact_history
              WHERE contact_id = $1 ORDER BY at DESC, entry DESC LIMIT $2",
            contact_id,
            limit,
        )
    } else {
        match db.dialect() {
            Dialect::Sqlite => statement!(
                "SELECT h.id, h.at, h.media, h.subject, h.outcome, h.notes
                   FROM contact_history h
                  WHERE h.contact_id = $1
                    AND h.entry IN (SELECT rowid FROM contact_history_fts
                                     WHERE contact_history_fts MATCH $2)
                  ORDER BY h.at DESC, h.entry DESC LIMIT $3",
                contact_id,
                fts5_expression(&words),
                limit,
            ),
            Dialect::Postgres => statement!(
                "SELECT id, at, media, subject, outcome, notes FROM contact_history
                  WHERE contact_id = $1
                    AND huddle_search_text(subject, outcome, notes)
                        @@ to_tsquery('simple', public.unaccent($2))
                  ORDER BY at DESC, entry DESC LIMIT $3",
                contact_id,
                tsquery_expression(&words),
                limit,
            ),
        }
    };
    entries(db.all(search).await?)
}

/// The words an agent typed that can match anything: each must start a word of the entry.
fn words(query: &str) -> Vec<String> {
    query
        .split_whitespace()
        .map(|w| w.replace(['"', '\''], ""))
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .collect()
}

/// The words as an FTS5 expression. Each word is quoted, so FTS5's own syntax (`OR`,
/// `NEAR`, `*`, columns) typed by an agent is searched for as text rather than obeyed or
/// failing.
fn fts5_expression(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("\"{w}\"*"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The words as a PostgreSQL text-search query, each quoted (so that `&`, `|` or `!` typed
/// by an agent are text) and matched as a prefix.
fn tsquery_expression(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("'{w}':*"))
        .collect::<Vec<_>>()
        .join(" & ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_words_become_quoted_prefixes() {
        assert!(words("  -- * ").is_empty());
        assert_eq!(
            fts5_expression(&words("addr Chang")),
            "\"addr\"* \"Chang\"*"
        );
        assert_eq!(
            fts5_expression(&words("refund OR \"x\" NEAR(")),
            "\"refund\"* \"OR\"* \"x\"* \"NEAR(\"*"
        );
        assert_eq!(
            tsquery_expression(&words("don't & !refund")),
            "'dont':* & '!refund':*"
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
        let both = crate::store::test_stores().await;
        for store in &both.stores {
            let mut pooled = store.acquire().await.unwrap();
            searched_alike(&mut pooled.conn()).await;
        }
    }

    async fn searched_alike(db: &mut Conn<'_>) {
        let d = db.dialect();
        for id in ["c-1", "c-2"] {
            let contact = ContactInfo {
                id: id.into(),
                first_name: "Zoë".into(),
                last_name: "Lefèvre".into(),
                phones: vec!["+33 1 5555 0100".into()],
                emails: vec![],
            };
            assert!(upsert(db, &contact, 1).await.unwrap());
        }
        replace_history(
            db,
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
            db,
            "c-2",
            &entry("h-1", 400, "Delivery delay", "another contact"),
        )
        .await
        .unwrap();
        let ids = |found: Vec<HistoryEntry>| found.into_iter().map(|e| e.id).collect::<Vec<_>>();
        assert_eq!(
            ids(search_history(db, "c-1", "", 10).await.unwrap()),
            ["h-2", "h-3", "h-1"]
        );
        assert_eq!(
            ids(search_history(db, "c-1", "deliv", 10).await.unwrap()),
            ["h-2", "h-3"],
            "{d:?}: a prefix, in notes or subject, this contact only"
        );
        assert_eq!(
            ids(search_history(db, "c-1", "BESANCON", 10).await.unwrap()),
            ["h-1"],
            "{d:?}: case and accents are ignored"
        );
        assert_eq!(
            ids(search_history(db, "c-1", "delivery parcel", 10)
                .await
                .unwrap()),
            ["h-3"],
            "{d:?}: every word must match"
        );
        assert_eq!(
            ids(search_history(db, "c-1", "OR NEAR(", 10).await.unwrap()),
            Vec::<String>::new()
        );
        assert_eq!(search_history(db, "c-1", "", 1).await.unwrap().len(), 1);

        // Replacing the history keeps the index in step.
        replace_history(db, "c-1", &[entry("h-9", 50, "Password reset", "")])
            .await
            .unwrap();
        assert_eq!(
            ids(search_history(db, "c-1", "delivery", 10).await.unwrap()),
            Vec::<String>::new()
        );
        assert_eq!(
            ids(search_history(db, "c-1", "pass", 10).await.unwrap()),
            ["h-9"]
        );
        assert_eq!(history_count(db, "c-1").await.unwrap(), 1);
    }
}
