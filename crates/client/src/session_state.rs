//! Where one IM session stands, as this agent sees it: a pure state machine, no I/O.
//!
//! The hub knows a session as `inviting`, `connected` or `ended`; the client adds what only it
//! knows: a consultation drafted but not sent yet, which side of an invitation this agent is
//! on, and who ended the session in this agent's words. The agent's actions go through
//! [`SessionStatus::perform`]; the hub's `session` events go through [`SessionStatus::apply`],
//! which the hub's word always wins over except when it would move the session backwards.

use huddle_protocol::{EndReason, SessionInfo, SessionState};

/// Where an IM session stands for this agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    /// A consultation window before its first message: nothing was sent ("Not Connected").
    Draft,
    /// This agent invited the other and waits for an answer.
    Inviting,
    /// The other agent invited this one, who has not answered yet.
    Invited,
    /// Both agents are in the session.
    Connected,
    /// The session is over.
    Ended(EndCause),
}

/// Why a session ended, in this agent's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndCause {
    /// This agent ended the connected session.
    EndedByMe,
    /// The other agent ended the connected session.
    EndedByOther {
        /// That agent's id.
        by: i64,
    },
    /// The target turned the invitation down.
    Rejected {
        /// Whether this agent was the target who rejected.
        by_me: bool,
    },
    /// Nobody answered the invitation in time.
    TimedOut,
    /// The hub no longer has the session (it was restored from a backup older than the
    /// session, or another hub answers at its address); kept ended by nobody.
    Lost,
    /// The inviter withdrew the invitation, or discarded a draft that was never sent.
    Cancelled {
        /// Whether this agent was the inviter who cancelled.
        by_me: bool,
    },
}

/// What this agent can do to a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send a draft's first message, which invites the target.
    SendFirstMessage,
    /// Close a draft with Done: it is discarded and nothing is sent.
    DiscardDraft,
    /// Withdraw this agent's invitation.
    Cancel,
    /// Accept the invitation this agent received.
    Accept,
    /// Turn down the invitation this agent received.
    Reject,
    /// End the connected session for both agents.
    End,
    /// Send a message into the connected session.
    Send,
}

/// An action that the session's status does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action:?} a session that is {from:?}")]
pub struct IllegalTransition {
    /// The action asked for.
    pub action: Action,
    /// The status that refused it, unchanged.
    pub from: SessionStatus,
}

/// Why a session update from the hub was not applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateRefused {
    /// This agent is neither the inviter nor the target.
    #[error("agent {me} takes no part in session {session}")]
    NotAParticipant {
        /// This agent's id.
        me: i64,
        /// The session's id.
        session: String,
    },
    /// The update says this agent is on the other side of the invitation than it is.
    #[error("the update makes this agent {update:?} in a session where it is {current:?}")]
    WrongSide {
        /// The status held.
        current: SessionStatus,
        /// The status the update describes.
        update: SessionStatus,
    },
    /// The update is older than the status held; applying it would move backwards.
    #[error("the update ({update:?}) is older than the session's status ({current:?})")]
    Stale {
        /// The status held, kept.
        current: SessionStatus,
        /// The status the update describes.
        update: SessionStatus,
    },
    /// An ended session without the end's reason or author that the protocol requires.
    #[error("session {0} is ended without saying how")]
    Malformed(String),
}

impl SessionStatus {
    /// The status that `action` leads to, or why it is not allowed now.
    ///
    /// Only a draft's transitions are purely local. The others are requests to the hub: the
    /// status they return is the one the hub's answering `session` event will bring, and it
    /// should be applied from that event, since the other agent may have acted first (an
    /// accept crossing a cancel) and the hub decides which one counts.
    pub fn perform(self, action: Action) -> Result<Self, IllegalTransition> {
        use Action::*;
        use SessionStatus::*;
        match (self, action) {
            (Draft, SendFirstMessage) => Ok(Inviting),
            (Draft, DiscardDraft) | (Inviting, Cancel) => {
                Ok(Ended(EndCause::Cancelled { by_me: true }))
            }
            (Invited, Accept) => Ok(Connected),
            (Invited, Reject) => Ok(Ended(EndCause::Rejected { by_me: true })),
            (Connected, End) => Ok(Ended(EndCause::EndedByMe)),
            (Connected, Send) => Ok(Connected),
            (from, action) => Err(IllegalTransition { action, from }),
        }
    }

    /// The status a hub's session object describes for agent `me`.
    pub fn from_hub(info: &SessionInfo, me: i64) -> Result<Self, UpdateRefused> {
        let inviter = if info.inviter.id == me {
            true
        } else if info.target.id == me {
            false
        } else {
            return Err(UpdateRefused::NotAParticipant {
                me,
                session: info.id.clone(),
            });
        };
        let malformed = || UpdateRefused::Malformed(info.id.clone());
        Ok(match info.state {
            SessionState::Inviting if inviter => Self::Inviting,
            SessionState::Inviting => Self::Invited,
            SessionState::Connected => Self::Connected,
            SessionState::Ended => {
                let end = info.end.as_ref().ok_or_else(malformed)?;
                Self::Ended(match end.reason {
                    EndReason::Rejected => EndCause::Rejected { by_me: !inviter },
                    EndReason::Cancelled => EndCause::Cancelled { by_me: inviter },
                    EndReason::TimedOut => EndCause::TimedOut,
                    EndReason::Ended => match end.by {
                        Some(by) if by == me => EndCause::EndedByMe,
                        Some(by) => EndCause::EndedByOther { by },
                        // Ended by nobody: the hub no longer has it (see `EndCause::Lost`).
                        None => EndCause::Lost,
                    },
                })
            }
        })
    }

    /// Applies a hub's session object (from a `session` event or answer) for agent `me`, and
    /// returns the new status: `self` again when the update says nothing new.
    ///
    /// The same session can reach the client from several places (the answer to `invite`,
    /// events, a snapshot, the cache), not always in order, so an update that would move the
    /// session backwards (`inviting` after `connected`) is refused and the status kept. Between
    /// two ends the hub's wins: a session ends once on the hub, while the client may have
    /// guessed the end from its own request.
    pub fn apply(self, info: &SessionInfo, me: i64) -> Result<Self, UpdateRefused> {
        let update = Self::from_hub(info, me)?;
        let sides = (self.is_inviter(), update.is_inviter());
        if let (Some(held), Some(told)) = sides {
            if held != told {
                return Err(UpdateRefused::WrongSide {
                    current: self,
                    update,
                });
            }
        }
        if update.progress() < self.progress() {
            return Err(UpdateRefused::Stale {
                current: self,
                update,
            });
        }
        Ok(update)
    }

    /// The status after the hub confirmed an action that leads to `next`: `next`, unless the
    /// hub's events already moved the session further (the other agent ended it first).
    pub fn confirmed(self, next: Self) -> Self {
        if next.progress() > self.progress() {
            next
        } else {
            self
        }
    }

    /// How far along its life the session is; the hub only ever moves a session forwards.
    fn progress(self) -> u8 {
        match self {
            Self::Draft => 0,
            Self::Inviting | Self::Invited => 1,
            Self::Connected => 2,
            Self::Ended(_) => 3,
        }
    }

    /// Which side of the invitation this status implies this agent is on, if any.
    fn is_inviter(self) -> Option<bool> {
        match self {
            Self::Draft | Self::Inviting => Some(true),
            Self::Invited => Some(false),
            Self::Connected | Self::Ended(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use huddle_protocol::{AgentProfile, SessionEnd};
    use Action::*;
    use EndCause::*;
    use SessionStatus::*;

    const ME: i64 = 1;
    const OTHER: i64 = 2;

    const ALL_ACTIONS: [Action; 7] = [
        SendFirstMessage,
        DiscardDraft,
        Cancel,
        Accept,
        Reject,
        End,
        Send,
    ];

    fn all_statuses() -> Vec<SessionStatus> {
        let mut all = vec![Draft, Inviting, Invited, Connected];
        all.extend(all_causes().map(Ended));
        all
    }

    fn all_causes() -> [EndCause; 7] {
        [
            EndedByMe,
            EndedByOther { by: OTHER },
            Rejected { by_me: true },
            Rejected { by_me: false },
            TimedOut,
            Cancelled { by_me: true },
            Cancelled { by_me: false },
        ]
    }

    #[test]
    fn a_confirmed_action_never_moves_a_session_backwards() {
        assert_eq!(Invited.confirmed(Connected), Connected);
        assert_eq!(Connected.confirmed(Ended(EndedByMe)), Ended(EndedByMe));
        // The other agent's end arrived before the hub's answer to ours.
        let theirs = Ended(EndedByOther { by: OTHER });
        assert_eq!(theirs.confirmed(Ended(EndedByMe)), theirs);
        // The accept's answer came after the session had already been ended.
        assert_eq!(theirs.confirmed(Connected), theirs);
    }

    #[test]
    fn every_action_from_every_status() {
        let legal = [
            (Draft, SendFirstMessage, Inviting),
            (Draft, DiscardDraft, Ended(Cancelled { by_me: true })),
            (Inviting, Cancel, Ended(Cancelled { by_me: true })),
            (Invited, Accept, Connected),
            (Invited, Reject, Ended(Rejected { by_me: true })),
            (Connected, End, Ended(EndedByMe)),
            (Connected, Send, Connected),
        ];
        for from in all_statuses() {
            for action in ALL_ACTIONS {
                let expected = legal
                    .iter()
                    .find(|(f, a, _)| (*f, *a) == (from, action))
                    .map(|(_, _, to)| *to)
                    .ok_or(IllegalTransition { action, from });
                assert_eq!(from.perform(action), expected, "{action:?} from {from:?}");
            }
        }
    }

    fn profile(id: i64) -> AgentProfile {
        AgentProfile {
            id,
            login: format!("agent{id}"),
            display_name: format!("Agent {id}"),
        }
    }

    /// The hub's view of a session that `inviter` opened with the other agent.
    fn open(inviter: i64, state: SessionState) -> SessionInfo {
        let target = if inviter == ME { OTHER } else { ME };
        SessionInfo {
            id: "s-1".into(),
            inviter: profile(inviter),
            target: profile(target),
            state,
            end: None,
            created_at: 1,
            invite_expires_at: 60_001,
            first_message: None,
            context: None,
        }
    }

    fn ended(inviter: i64, reason: EndReason, by: Option<i64>) -> SessionInfo {
        let end = Some(SessionEnd { reason, by, at: 5 });
        SessionInfo {
            end,
            ..open(inviter, SessionState::Ended)
        }
    }

    /// Every session object the hub can send to ME, with the status it means.
    fn every_update() -> Vec<(SessionInfo, SessionStatus)> {
        use EndReason as R;
        use SessionState::{Connected as C, Inviting as I};
        vec![
            (open(ME, I), Inviting),
            (open(OTHER, I), Invited),
            (open(ME, C), Connected),
            (open(OTHER, C), Connected),
            (ended(ME, R::Ended, Some(ME)), Ended(EndedByMe)),
            (ended(OTHER, R::Ended, Some(ME)), Ended(EndedByMe)),
            (
                ended(ME, R::Ended, Some(OTHER)),
                Ended(EndedByOther { by: OTHER }),
            ),
            (
                ended(OTHER, R::Ended, Some(OTHER)),
                Ended(EndedByOther { by: OTHER }),
            ),
            (
                ended(OTHER, R::Rejected, Some(ME)),
                Ended(Rejected { by_me: true }),
            ),
            (
                ended(ME, R::Rejected, Some(OTHER)),
                Ended(Rejected { by_me: false }),
            ),
            (ended(ME, R::TimedOut, None), Ended(TimedOut)),
            (ended(OTHER, R::TimedOut, None), Ended(TimedOut)),
            (
                ended(ME, R::Cancelled, Some(ME)),
                Ended(Cancelled { by_me: true }),
            ),
            (
                ended(OTHER, R::Cancelled, Some(OTHER)),
                Ended(Cancelled { by_me: false }),
            ),
        ]
    }

    #[test]
    fn hub_objects_read_from_my_side() {
        for (info, status) in every_update() {
            assert_eq!(SessionStatus::from_hub(&info, ME), Ok(status), "{info:?}");
        }
    }

    #[test]
    fn the_protocols_edges_are_applied() {
        use EndReason as R;
        let edges = [
            (Draft, open(ME, SessionState::Inviting), Inviting),
            (Inviting, open(ME, SessionState::Connected), Connected),
            (Invited, open(OTHER, SessionState::Connected), Connected),
            (
                Inviting,
                ended(ME, R::Rejected, Some(OTHER)),
                Ended(Rejected { by_me: false }),
            ),
            (
                Invited,
                ended(OTHER, R::Rejected, Some(ME)),
                Ended(Rejected { by_me: true }),
            ),
            (
                Inviting,
                ended(ME, R::Cancelled, Some(ME)),
                Ended(Cancelled { by_me: true }),
            ),
            (
                Invited,
                ended(OTHER, R::Cancelled, Some(OTHER)),
                Ended(Cancelled { by_me: false }),
            ),
            (Inviting, ended(ME, R::TimedOut, None), Ended(TimedOut)),
            (Invited, ended(OTHER, R::TimedOut, None), Ended(TimedOut)),
            (
                Connected,
                ended(OTHER, R::Ended, Some(ME)),
                Ended(EndedByMe),
            ),
            (
                Connected,
                ended(OTHER, R::Ended, Some(OTHER)),
                Ended(EndedByOther { by: OTHER }),
            ),
        ];
        for (from, info, to) in edges {
            assert_eq!(from.apply(&info, ME), Ok(to), "{from:?} -> {to:?}");
        }
    }

    #[test]
    fn every_update_onto_every_status() {
        // Besides the protocol's edges: a draft whose invite went out before the client could
        // note it, and ends, where the hub's word replaces the client's guess.
        let forwards = [
            (Draft, Inviting),
            (Draft, Connected),
            (Inviting, Connected),
            (Invited, Connected),
        ];
        for current in all_statuses() {
            for (info, update) in every_update() {
                let wrong_side = matches!(
                    (current, update),
                    (Draft | Inviting, Invited) | (Invited, Inviting)
                );
                let expected = if update == current {
                    Ok(current)
                } else if wrong_side {
                    Err(UpdateRefused::WrongSide { current, update })
                } else if forwards.contains(&(current, update)) || matches!(update, Ended(_)) {
                    Ok(update)
                } else {
                    Err(UpdateRefused::Stale { current, update })
                };
                let result = current.apply(&info, ME);
                assert_eq!(result, expected, "{update:?} onto {current:?}");
            }
        }
    }

    #[test]
    fn a_repeated_update_changes_nothing() {
        for (info, _) in every_update() {
            let once = Draft.apply(&info, ME).or_else(|_| Invited.apply(&info, ME));
            let once = once.expect("every update applies to a draft or an invitation");
            assert_eq!(once.apply(&info, ME), Ok(once));
        }
    }

    #[test]
    fn going_backwards_is_refused() {
        let stale = Connected.apply(&open(ME, SessionState::Inviting), ME);
        let kept = UpdateRefused::Stale {
            current: Connected,
            update: Inviting,
        };
        assert_eq!(stale, Err(kept));
    }

    #[test]
    fn an_outsider_or_an_end_without_its_reason_is_refused() {
        let outsider = Connected.apply(&open(ME, SessionState::Connected), 99);
        let session = "s-1".to_string();
        assert_eq!(
            outsider,
            Err(UpdateRefused::NotAParticipant { me: 99, session })
        );

        let malformed = Err(UpdateRefused::Malformed("s-1".into()));
        let no_end = open(ME, SessionState::Ended);
        assert_eq!(Connected.apply(&no_end, ME), malformed);
        // Ended by nobody is how the cache keeps a session the hub no longer has.
        let by_nobody = ended(ME, EndReason::Ended, None);
        assert_eq!(Connected.apply(&by_nobody, ME), Ok(Ended(EndCause::Lost)));
    }
}
