//! What the hub does, whoever asks: accounts and sign-in, presence and delivery, the
//! directory, IM sessions and their messages, customer interactions, voice consultations and
//! the telephony switch. Services know nothing of WebSockets or HTTP; they use the store.

pub mod accounts;
pub mod clock;
pub mod cluster;
pub mod committed;
pub mod consultations;
pub mod contacts;
pub mod delivery;
pub mod directory;
pub mod error;
pub mod fold;
pub mod hashing;
pub mod housekeeping;
pub mod integration;
pub mod interactions;
pub mod latency;
pub mod messages;
pub mod password;
pub mod presence;
pub mod registry;
pub mod sessions;
pub mod telephony;
pub mod throttle;
pub mod tokens;
pub mod writer;
