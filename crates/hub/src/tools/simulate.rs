//! The simulator: stands in for the contact center's routing and CRM in demos and tests. It
//! calls a running hub's integration API like those systems would: it loads believable demo
//! contacts with their history, and delivers calls, emails and chats to agents.

use anyhow::Context;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use huddle_protocol::Media;
use serde_json::{json, Value};

use crate::store::now_millis;
use crate::tools::http_client::HttpClient;

/// The case-data key the simulator adds for the hub to hide (list it in
/// `hidden_case_data_keys`).
pub const HIDDEN_KEY: &str = "internal_score";

const DAY_MS: i64 = 24 * 3600 * 1000;

/// One past interaction of a demo contact: days ago, media, subject, outcome, notes.
type Past = (i64, Media, &'static str, &'static str, &'static str);

/// A demo contact with its history and the case it calls about.
pub struct DemoContact {
    /// Its id.
    pub id: &'static str,
    /// Given name.
    pub first_name: &'static str,
    /// Family name.
    pub last_name: &'static str,
    phone: &'static str,
    email: &'static str,
    segment: &'static str,
    order: &'static str,
    history: &'static [Past],
}

impl DemoContact {
    /// The full name.
    pub fn name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    fn info(&self) -> Value {
        json!({
            "first_name": self.first_name,
            "last_name": self.last_name,
            "phones": [self.phone],
            "emails": [self.email],
        })
    }

    fn history(&self, now: i64) -> Value {
        let entries: Vec<Value> = self
            .history
            .iter()
            .enumerate()
            .map(|(i, (days, media, subject, outcome, notes))| {
                json!({
                    "id": format!("h-{}-{}", self.id, i + 1),
                    // A working hour of that day, so the dates look like real contacts.
                    "at": now - days * DAY_MS - (i as i64 % 5) * 3600 * 1000,
                    "media": media,
                    "subject": subject,
                    "outcome": outcome,
                    "notes": notes,
                })
            })
            .collect();
        Value::Array(entries)
    }
}

/// The demo contacts.
pub const DEMO_CONTACTS: [DemoContact; 5] = [
    DemoContact {
        id: "c-1001",
        first_name: "Maria",
        last_name: "Souza",
        phone: "+55 11 5555 0101",
        email: "maria.souza@example.com",
        segment: "Gold",
        order: "5521",
        history: &[
            (
                12,
                Media::Voice,
                "Where is my order?",
                "Escalated to carrier",
                "Parcel stuck at the Campinas depot; carrier ticket 88-231 opened.",
            ),
            (
                35,
                Media::Email,
                "Delivery address change",
                "Resolved",
                "Moved the delivery to her office address before dispatch.",
            ),
            (
                61,
                Media::Chat,
                "Promo code not applied",
                "Refund issued",
                "Refunded the 10% difference as store credit.",
            ),
            (
                118,
                Media::Voice,
                "New account setup",
                "Resolved",
                "Walked her through two-step sign-in.",
            ),
        ],
    },
    DemoContact {
        id: "c-1002",
        first_name: "James",
        last_name: "O'Connor",
        phone: "+353 1 555 0142",
        email: "james.oconnor@example.net",
        segment: "Silver",
        order: "4410",
        history: &[
            (
                8,
                Media::Email,
                "Item arrived damaged",
                "Replacement sent",
                "Photos showed a cracked lid; replacement shipped by express.",
            ),
            (
                40,
                Media::Voice,
                "Invoice copy",
                "Resolved",
                "Emailed a VAT invoice for order 4188.",
            ),
            (
                95,
                Media::Chat,
                "Return label",
                "Resolved",
                "Sent a prepaid return label for the blue kettle.",
            ),
        ],
    },
    DemoContact {
        id: "c-1003",
        first_name: "Zoë",
        last_name: "Lefèvre",
        phone: "+33 1 55 55 01 77",
        email: "zoe.lefevre@example.fr",
        segment: "Platinum",
        order: "6093",
        history: &[
            (
                3,
                Media::Chat,
                "Refund status",
                "Pending",
                "Refund approved by finance; 3 to 5 working days to show.",
            ),
            (
                21,
                Media::Voice,
                "Cancel subscription",
                "Retained",
                "Offered three months at half price; she stayed.",
            ),
            (
                50,
                Media::Email,
                "Réclamation livraison",
                "Resolved",
                "Livraison retardée à Besançon ; bon d'achat de 15 € offert.",
            ),
            (
                77,
                Media::Voice,
                "Payment declined",
                "Resolved",
                "Her card had expired; updated the payment method with her.",
            ),
            (
                140,
                Media::Email,
                "Welcome pack missing",
                "Resolved",
                "Sent the welcome pack again.",
            ),
        ],
    },
    DemoContact {
        id: "c-1004",
        first_name: "Kenji",
        last_name: "Watanabe",
        phone: "+81 3 5555 0199",
        email: "kenji.watanabe@example.jp",
        segment: "Bronze",
        order: "3307",
        history: &[
            (
                15,
                Media::Voice,
                "Warranty claim",
                "In progress",
                "Blender motor failure; waiting for the workshop's report.",
            ),
            (
                66,
                Media::Chat,
                "Order tracking",
                "Resolved",
                "Shared the tracking link; delivered the next day.",
            ),
            (
                101,
                Media::Email,
                "Change of email address",
                "Resolved",
                "Updated the contact email after an identity check.",
            ),
        ],
    },
    DemoContact {
        id: "c-1005",
        first_name: "Amara",
        last_name: "Nwosu",
        phone: "+44 20 5555 0123",
        email: "amara.nwosu@example.co.uk",
        segment: "Gold",
        order: "7782",
        history: &[
            (
                2,
                Media::Email,
                "Double charge",
                "Refund issued",
                "Card charged twice for order 7782; refunded one charge.",
            ),
            (
                30,
                Media::Voice,
                "Delivery slot",
                "Resolved",
                "Moved the delivery to Saturday morning.",
            ),
            (
                58,
                Media::Chat,
                "Loyalty points",
                "Resolved",
                "Added 500 points missing from the spring promotion.",
            ),
            (
                89,
                Media::Voice,
                "Product advice",
                "Sale",
                "Recommended the 5-litre model; she ordered during the call.",
            ),
            (
                150,
                Media::Email,
                "Account locked",
                "Resolved",
                "Unlocked after a password reset.",
            ),
            (
                170,
                Media::Chat,
                "Gift wrapping",
                "Resolved",
                "Added gift wrap to order 6120.",
            ),
        ],
    },
];

/// What a delivery's case is about, by media.
fn scenario(media: Media) -> (&'static str, &'static str) {
    match media {
        Media::Voice => ("Where is my order?", "Delivery delay"),
        Media::Email => ("Item arrived damaged", "Damaged item"),
        Media::Chat => ("Refund status", "Refund status"),
    }
}

/// The case data of a delivery: what routing and the CRM know when the customer arrives.
pub fn case_data(contact: &DemoContact, media: Media) -> Value {
    let (_, reason) = scenario(media);
    let channel = match media {
        Media::Voice => json!({"key": "ivr_path", "label": "IVR path",
                               "value": "Orders > Where is my order"}),
        Media::Email => json!({"key": "mailbox", "label": "Mailbox",
                               "value": "support@example.com"}),
        Media::Chat => json!({"key": "page", "label": "Page",
                              "value": format!("/orders/{}", contact.order)}),
    };
    json!([
        {"key": "segment", "label": "Customer segment", "value": contact.segment},
        {"key": "order_id", "label": "Order", "value": contact.order},
        {"key": "reason", "label": "Reason", "value": reason},
        channel,
        {"key": HIDDEN_KEY, "label": "Internal score", "value": "87"},
    ])
}

/// Turns a refusal of the hub into an error that says what the hub said.
fn refused(what: &str, status: u16, body: &Value) -> anyhow::Error {
    let code = body["error"]["code"].as_str().unwrap_or("?");
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or("no explanation");
    anyhow::anyhow!("the hub refused {what} ({status} {code}): {message}")
}

async fn put_contact(
    hub: &HttpClient,
    token: &str,
    contact: &DemoContact,
    with_history: bool,
) -> anyhow::Result<i64> {
    let mut body = contact.info();
    if with_history {
        body["history"] = contact.history(now_millis());
    }
    let path = format!("/integration/v1/contacts/{}", contact.id);
    let (status, answer) = hub.json("PUT", &path, token, &body).await?;
    if !(200..300).contains(&status) {
        return Err(refused(
            &format!("the contact {}", contact.id),
            status,
            &answer,
        ));
    }
    Ok(answer["history_entries"].as_i64().unwrap_or(0))
}

/// Loads every demo contact with its history (replacing what the hub had for them).
/// Returns a line per contact.
pub async fn seed_contacts(hub: &HttpClient, token: &str) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::with_capacity(DEMO_CONTACTS.len());
    for contact in &DEMO_CONTACTS {
        let entries = put_contact(hub, token, contact, true).await?;
        lines.push(format!(
            "{}\t{}\t{entries} history entries",
            contact.id,
            contact.name()
        ));
    }
    Ok(lines)
}

/// What a delivery made.
pub struct Delivered {
    /// The new interaction's id.
    pub id: String,
    /// The contact's id.
    pub contact_id: String,
    /// The contact's name, when it is a demo contact.
    pub contact_name: Option<String>,
    /// What it is about.
    pub subject: String,
}

/// Delivers an interaction to an agent. Without `contact`, a demo contact is picked and its
/// information stored first (its history is left as it is: `seed_contacts` loads it).
pub async fn deliver(
    hub: &HttpClient,
    token: &str,
    media: Media,
    agent: &str,
    contact: Option<&str>,
) -> anyhow::Result<Delivered> {
    let demo = match contact {
        Some(id) => DEMO_CONTACTS.iter().find(|c| c.id == id),
        None => {
            let pick = (OsRng.next_u32() as usize) % DEMO_CONTACTS.len();
            let demo = &DEMO_CONTACTS[pick];
            put_contact(hub, token, demo, false).await?;
            Some(demo)
        }
    };
    let contact_id = contact
        .map(str::to_string)
        .or_else(|| demo.map(|d| d.id.to_string()))
        .context("no contact to deliver to")?;
    let (subject, _) = scenario(media);
    let case_data = match demo {
        Some(demo) => case_data(demo, media),
        None => json!([{"key": "reason", "label": "Reason", "value": scenario(media).1}]),
    };
    let id = format!("sim-{:012x}", OsRng.next_u64() >> 16);
    let body = json!({
        "id": id,
        "agent": agent,
        "media": media,
        "contact_id": contact_id,
        "subject": subject,
        "case_data": case_data,
    });
    let (status, answer) = hub
        .json("POST", "/integration/v1/interactions", token, &body)
        .await?;
    if !(200..300).contains(&status) {
        return Err(refused("the interaction", status, &answer));
    }
    Ok(Delivered {
        id,
        contact_id,
        contact_name: demo.map(DemoContact::name),
        subject: subject.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_contacts_have_three_to_six_entries_over_past_months() {
        let now = now_millis();
        for contact in &DEMO_CONTACTS {
            let history = contact.history(now);
            let entries = history.as_array().unwrap();
            assert!((3..=6).contains(&entries.len()), "{}", contact.id);
            for e in entries {
                let at = e["at"].as_i64().unwrap();
                assert!(at < now && at > now - 200 * DAY_MS, "{e}");
            }
        }
    }

    #[test]
    fn case_data_carries_the_hidden_key_last() {
        let data = case_data(&DEMO_CONTACTS[0], Media::Voice);
        let keys: Vec<&str> = data
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["key"].as_str().unwrap())
            .collect();
        assert_eq!(
            keys,
            ["segment", "order_id", "reason", "ivr_path", HIDDEN_KEY]
        );
        assert_eq!(data[1]["value"], "5521");
    }
}
