//! Each session's status as the engine tracks it against a real hub: the inviter's and the
//! target's views of every ending, actions the status forbids refused before the hub is
//! asked, and the retention of ended sessions in the cache.

mod common;

use std::time::Duration;

use common::sign_in;
use huddle_client::{Action, ClientError, EndCause, EngineEvent, SessionStatus};
use tokio::sync::broadcast::Receiver;

const DEADLINE: Duration = Duration::from_secs(20);

/// Waits until the engine reports `session` with `status`.
async fn status(events: &mut Receiver<EngineEvent>, session: &str, status: SessionStatus) {
    let seen = tokio::time::timeout(DEADLINE, async {
        loop {
            match events.recv().await {
                Ok(EngineEvent::Session(s)) if s.info.id == session && s.status == status => return,
                Ok(_) => {}
                Err(e) => panic!("event stream failed: {e}"),
            }
        }
    })
    .await;
    seen.unwrap_or_else(|_| panic!("{session} never became {status:?}"));
}

/// Waits until Ana's and Ben's engines both report `session` ended, each with its cause.
async fn ends(
    ana: &mut Receiver<EngineEvent>,
    ben: &mut Receiver<EngineEvent>,
    session: &str,
    (for_ana, for_ben): (EndCause, EndCause),
) {
    status(ana, session, SessionStatus::Ended(for_ana)).await;
    status(ben, session, SessionStatus::Ended(for_ben)).await;
}

#[tokio::test]
async fn both_sides_see_each_ending_in_their_own_words() {
    let (dir, hub) = common::hub_with(&[("ana", "Ana Lima"), ("ben", "Ben Okafor")]).await;
    let address = hub.addr.to_string();
    let ana = sign_in(&address, "ana", &dir.path().join("ana")).await;
    let ben = sign_in(&address, "ben", &dir.path().join("ben")).await;
    let (mut ana_events, mut ben_events) = (ana.subscribe(), ben.subscribe());
    let ben_id = ben.agent().id;

    // Rejected.
    let rejected = ana.invite(ben_id, None, None).await.unwrap();
    assert_eq!(
        ana.session_status(&rejected.id),
        Some(SessionStatus::Inviting)
    );
    status(&mut ben_events, &rejected.id, SessionStatus::Invited).await;
    ben.reject(&rejected.id).await.unwrap();
    let causes = (
        EndCause::Rejected { by_me: false },
        EndCause::Rejected { by_me: true },
    );
    ends(&mut ana_events, &mut ben_events, &rejected.id, causes).await;

    // Cancelled.
    let cancelled = ana.invite(ben_id, None, None).await.unwrap();
    status(&mut ben_events, &cancelled.id, SessionStatus::Invited).await;
    ana.cancel(&cancelled.id).await.unwrap();
    let causes = (
        EndCause::Cancelled { by_me: true },
        EndCause::Cancelled { by_me: false },
    );
    ends(&mut ana_events, &mut ben_events, &cancelled.id, causes).await;

    // Connected, then ended by the target.
    let ended = ana.invite(ben_id, None, None).await.unwrap();
    status(&mut ben_events, &ended.id, SessionStatus::Invited).await;
    ben.accept(&ended.id).await.unwrap();
    status(&mut ana_events, &ended.id, SessionStatus::Connected).await;
    ben.end(&ended.id).await.unwrap();
    let causes = (EndCause::EndedByOther { by: ben_id }, EndCause::EndedByMe);
    ends(&mut ana_events, &mut ben_events, &ended.id, causes).await;

    // A fresh sign-in rebuilds the same statuses from the cache and the hub.
    drop(ana);
    let again = sign_in(&address, "ana", &dir.path().join("ana")).await;
    let statuses: Vec<_> = again
        .sessions()
        .into_iter()
        .map(|s| (s.info.id, s.status))
        .collect();
    assert_eq!(
        statuses,
        [
            (
                ended.id.clone(),
                SessionStatus::Ended(EndCause::EndedByOther { by: ben_id })
            ),
            (
                cancelled.id.clone(),
                SessionStatus::Ended(EndCause::Cancelled { by_me: true })
            ),
            (
                rejected.id.clone(),
                SessionStatus::Ended(EndCause::Rejected { by_me: false })
            ),
        ]
    );
}

#[tokio::test]
async fn an_action_the_status_forbids_is_refused_without_asking_the_hub() {
    let (dir, hub) = common::hub_with(&[("ana", "Ana Lima"), ("ben", "Ben Okafor")]).await;
    let address = hub.addr.to_string();
    let ana = sign_in(&address, "ana", &dir.path().join("ana")).await;
    let ben = sign_in(&address, "ben", &dir.path().join("ben")).await;
    let mut ben_events = ben.subscribe();

    let session = ana.invite(ben.agent().id, None, None).await.unwrap();
    status(&mut ben_events, &session.id, SessionStatus::Invited).await;

    // The inviter cannot accept her own invitation, and the target cannot cancel it.
    match ana.accept(&session.id).await {
        Err(ClientError::Illegal(e)) => {
            assert_eq!(e.action, Action::Accept);
            assert_eq!(e.from, SessionStatus::Inviting);
        }
        other => panic!("accepting one's own invitation gave {other:?}"),
    }
    assert!(matches!(
        ben.cancel(&session.id).await,
        Err(ClientError::Illegal(_))
    ));
    assert!(matches!(
        ben.end(&session.id).await,
        Err(ClientError::Illegal(_))
    ));
    // Nothing of that reached the hub: the invitation still waits, and can be accepted.
    assert_eq!(
        ben.session_status(&session.id),
        Some(SessionStatus::Invited)
    );
    ben.accept(&session.id).await.unwrap();
    status(&mut ben_events, &session.id, SessionStatus::Connected).await;
    assert!(matches!(
        ben.accept(&session.id).await,
        Err(ClientError::Illegal(_))
    ));
}

#[tokio::test]
async fn the_retention_setting_prunes_ended_sessions_and_keeps_open_ones() {
    let (dir, hub) = common::hub_with(&[("ana", "Ana Lima"), ("ben", "Ben Okafor")]).await;
    let address = hub.addr.to_string();
    let ana = sign_in(&address, "ana", &dir.path().join("ana")).await;
    let ben = sign_in(&address, "ben", &dir.path().join("ben")).await;
    let (mut ana_events, mut ben_events) = (ana.subscribe(), ben.subscribe());
    let ben_id = ben.agent().id;

    let old = ana.invite(ben_id, None, None).await.unwrap();
    status(&mut ben_events, &old.id, SessionStatus::Invited).await;
    ben.accept(&old.id).await.unwrap();
    status(&mut ana_events, &old.id, SessionStatus::Connected).await;
    ana.send_message(&old.id, "the refund went through")
        .await
        .unwrap();
    ana.end(&old.id).await.unwrap();
    status(
        &mut ana_events,
        &old.id,
        SessionStatus::Ended(EndCause::EndedByMe),
    )
    .await;
    let open = ana.invite(ben_id, None, None).await.unwrap();

    // A week's retention keeps what just ended.
    let week = Duration::from_secs(7 * 24 * 3600);
    assert_eq!(ana.set_retention(Some(week)).await.unwrap(), 0);
    assert_eq!(ana.cache().search("refund", 10).await.unwrap().len(), 1);

    // No retention at all forgets every ended session, and only those.
    assert_eq!(ana.set_retention(Some(Duration::ZERO)).await.unwrap(), 1);
    assert!(ana.cache().search("refund", 10).await.unwrap().is_empty());
    assert_eq!(ana.session_status(&old.id), None);
    let left: Vec<_> = ana.sessions().into_iter().map(|s| s.info.id).collect();
    assert_eq!(left, [open.id]);
}

#[tokio::test]
async fn a_discarded_draft_never_reaches_the_hub() {
    let (dir, hub) = common::hub_with(&[("ana", "Ana Lima"), ("ben", "Ben Okafor")]).await;
    let address = hub.addr.to_string();
    let ana = sign_in(&address, "ana", &dir.path().join("ana")).await;
    let ben = sign_in(&address, "ben", &dir.path().join("ben")).await;

    let context = huddle_protocol::ConsultContext {
        interaction_id: "call-1".into(),
    };
    let draft = ana.draft(ben.agent().clone(), context);
    assert_eq!(draft.status, SessionStatus::Draft);
    assert_eq!(
        ana.session_status(&draft.info.id),
        Some(SessionStatus::Draft)
    );
    let listed: Vec<_> = ana.sessions().into_iter().map(|s| s.status).collect();
    assert_eq!(listed, [SessionStatus::Draft]);

    ana.discard_draft(&draft.info.id).unwrap();
    assert_eq!(
        ana.session_status(&draft.info.id),
        Some(SessionStatus::Ended(EndCause::Cancelled { by_me: true }))
    );
    assert!(ana.sessions().is_empty());
    // Gone for good: it can be neither sent nor discarded again.
    assert!(matches!(
        ana.send_draft(&draft.info.id, "too late").await,
        Err(ClientError::Illegal(_))
    ));
    assert!(matches!(
        ana.discard_draft("no-such-draft"),
        Err(ClientError::UnknownSession(_))
    ));
    // Ben never heard of it.
    assert!(ben.sessions().is_empty());
    let snapshot = ben.search("ana", Default::default()).await.unwrap();
    assert!(snapshot.iter().all(|e| e.recent_at.is_none()));
}

#[tokio::test]
async fn a_colleagues_messages_count_as_unread_until_the_agent_looks() {
    let (dir, hub) = common::hub_with(&[("ana", "Ana Lima"), ("ben", "Ben Okafor")]).await;
    let address = hub.addr.to_string();
    let ana = sign_in(&address, "ana", &dir.path().join("ana")).await;
    let ben = sign_in(&address, "ben", &dir.path().join("ben")).await;
    let (mut ana_events, mut ben_events) = (ana.subscribe(), ben.subscribe());
    let session = ana.invite(ben.agent().id, None, None).await.unwrap();
    status(&mut ben_events, &session.id, SessionStatus::Invited).await;
    ben.accept(&session.id).await.unwrap();
    status(&mut ana_events, &session.id, SessionStatus::Connected).await;

    ana.send_message(&session.id, "mine does not count")
        .await
        .unwrap();
    for text in ["first", "second"] {
        ben.send_message(&session.id, text).await.unwrap();
    }
    common::wait_for(&mut ana_events, "Ben's second message", |e| match e {
        EngineEvent::Message(m) if m.text == "second" => Some(()),
        _ => None,
    })
    .await;
    // Her own message is not among them.
    assert_eq!(ana.unread(), 2);
    assert!(ana.mark_read(&session.id));
    assert_eq!(ana.unread(), 0);
    assert!(!ana.mark_read(&session.id), "nothing left to read");
}
