//! Keeps `ui/src/lib/bindings.ts` equal to what the Rust types generate, so the UI and the
//! shell cannot drift apart. Run with `UPDATE_BINDINGS=1` to rewrite the file.

use ts_rs::{Config, TS};

use crate::ready::ReadyMarks;
use crate::session_view::{
    ConsultTarget, EndCauseView, ImWindowView, InvitationView, MessageHitView, RevealView,
    SessionView, StatusView, ToastView, TranscriptPageView,
};
use crate::view::{
    ConnectionView, Failure, LastSignIn, LoginFailure, LoginField, LoginForm, Preferences,
    PresenceChange,
};
use crate::window_events::WindowEvent;
use huddle_client::cache::{CachedMessage, Delivery, SnippetPart};
use huddle_protocol::{
    AgentProfile, CaseDatum, ContactInfo, ContactRef, DirectoryEntry, DirectoryFilter, EntryKind,
    HistoryEntry, InteractionDetails, InteractionState, InteractionSummary, Media, Presence,
    VoiceConsultation, VoiceConsultationState,
};

const HEADER: &str =
    "// Generated from the Rust types by `cargo test -p huddle ui_bindings`; do not edit.\n";

fn generate() -> String {
    let cfg = Config::new().with_large_int("number");
    let decls = [
        AgentProfile::decl(&cfg),
        Presence::decl(&cfg),
        DirectoryFilter::decl(&cfg),
        EntryKind::decl(&cfg),
        DirectoryEntry::decl(&cfg),
        LoginForm::decl(&cfg),
        LoginField::decl(&cfg),
        LoginFailure::decl(&cfg),
        LastSignIn::decl(&cfg),
        ConnectionView::decl(&cfg),
        PresenceChange::decl(&cfg),
        Failure::decl(&cfg),
        StatusView::decl(&cfg),
        EndCauseView::decl(&cfg),
        SessionView::decl(&cfg),
        Delivery::decl(&cfg),
        CachedMessage::decl(&cfg),
        ImWindowView::decl(&cfg),
        TranscriptPageView::decl(&cfg),
        SnippetPart::decl(&cfg),
        RevealView::decl(&cfg),
        MessageHitView::decl(&cfg),
        InvitationView::decl(&cfg),
        ToastView::decl(&cfg),
        Preferences::decl(&cfg),
        ConsultTarget::decl(&cfg),
        Media::decl(&cfg),
        InteractionState::decl(&cfg),
        CaseDatum::decl(&cfg),
        ContactRef::decl(&cfg),
        InteractionSummary::decl(&cfg),
        ContactInfo::decl(&cfg),
        HistoryEntry::decl(&cfg),
        InteractionDetails::decl(&cfg),
        VoiceConsultationState::decl(&cfg),
        VoiceConsultation::decl(&cfg),
        ReadyMarks::decl(&cfg),
        WindowEvent::decl(&cfg),
    ];
    let mut out = String::from(HEADER);
    for decl in decls {
        out.push_str("\nexport ");
        out.push_str(&decl);
        out.push('\n');
    }
    out
}

#[test]
fn ui_bindings_are_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/lib/bindings.ts");
    let generated = generate();
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == generated,
        "{} is out of date: run `UPDATE_BINDINGS=1 cargo test -p huddle ui_bindings`\n\
         --- expected ---\n{generated}",
        path.display()
    );
}
