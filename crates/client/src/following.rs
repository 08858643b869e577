//! Whose presence this device follows: the colleagues the agent sees (those the Team
//! Communicator lists, and the other agent of every open session). The hub is told the set
//! on every connection and whenever it changes; it never guesses it.

use std::collections::HashMap;
use std::sync::Mutex;

use huddle_protocol::Presence;

/// The agents followed, and what was last heard of each.
#[derive(Default)]
pub(crate) struct Following {
    state: Mutex<State>,
    /// Held while the set is declared, so that an older declaration never lands after a
    /// newer one.
    pub declaring: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct State {
    /// The agents the last directory search listed.
    listed: Vec<i64>,
    /// The set the hub has on the current connection (`None`: not told yet).
    declared: Option<Vec<i64>>,
    /// The last presence heard of each agent.
    known: HashMap<i64, Presence>,
}

impl Following {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The directory now lists these agents, with these presences.
    pub fn listed(&self, entries: impl IntoIterator<Item = (i64, Option<Presence>)>) {
        let mut state = self.lock();
        state.listed.clear();
        for (id, presence) in entries {
            state.listed.push(id);
            if let Some(presence) = presence {
                state.known.insert(id, presence);
            }
        }
    }

    /// A new connection: the hub follows nobody for it yet, and what was heard before may
    /// have changed unseen, so the hub's next word on each agent is news.
    pub fn connected(&self) {
        let mut state = self.lock();
        state.declared = None;
        state.known.clear();
    }

    /// The set to declare: the other agents of open sessions first (they matter most), then
    /// those listed, each once, at most `max` of them; `None` when the hub has it already.
    pub fn to_declare(&self, peers: impl IntoIterator<Item = i64>, max: usize) -> Option<Vec<i64>> {
        let state = self.lock();
        let mut wanted: Vec<i64> = Vec::new();
        for id in peers.into_iter().chain(state.listed.iter().copied()) {
            if wanted.len() == max {
                break;
            }
            if !wanted.contains(&id) {
                wanted.push(id);
            }
        }
        wanted.sort_unstable();
        (state.declared.as_ref() != Some(&wanted)).then_some(wanted)
    }

    /// The hub follows `set` for this connection now.
    pub fn declared(&self, set: Vec<i64>) {
        self.lock().declared = Some(set);
    }

    /// An agent's presence was heard; returns whether it is news.
    pub fn heard(&self, agent_id: i64, presence: Presence) -> bool {
        self.lock().known.insert(agent_id, presence) != Some(presence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_set_puts_session_peers_first_and_is_declared_once() {
        let following = Following::default();
        following.listed([(5, Some(Presence::Ready)), (3, None), (9, None)]);
        // Peers 9 and 7 first, then the listed 5; the listed 3 does not fit.
        let set = following.to_declare([9, 7], 3).unwrap();
        assert_eq!(set, vec![5, 7, 9]);
        following.declared(set);
        assert_eq!(following.to_declare([9, 7], 3), None);
        following.connected();
        assert_eq!(following.to_declare([9, 7], 3), Some(vec![5, 7, 9]));
    }

    #[test]
    fn only_changes_of_presence_are_news() {
        let following = Following::default();
        following.listed([(5, Some(Presence::Ready))]);
        assert!(!following.heard(5, Presence::Ready));
        assert!(following.heard(5, Presence::Away));
        assert!(following.heard(6, Presence::Offline));
        following.connected();
        assert!(following.heard(5, Presence::Away));
    }
}
