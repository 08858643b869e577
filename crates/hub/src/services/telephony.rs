//! Telephony for voice consultations: the few call operations the hub needs from a switch,
//! and the built-in simulated switch that stands in for one.
//!
//! A consultation involves two calls: the customer's call with the agent (active, held) and
//! the consult call from that agent to a colleague (dialing, ringing, established). Every
//! operation answers with the new states of the calls it changed, or refuses with the reason.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use futures_util::future::BoxFuture;

/// A switch's id of a call.
pub type CallId = String;

/// Where a call is. Customer calls are `Active` or `Held`; consult calls go `Dialing`,
/// `Ringing`, `Established`; both end `Released`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    /// The customer is talking with the agent.
    Active,
    /// The customer is on hold.
    Held,
    /// The consult call is being set up.
    Dialing,
    /// The consulted agent's phone rings.
    Ringing,
    /// The two agents are talking.
    Established,
    /// The call is over.
    Released,
}

impl std::fmt::Display for CallState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Active => "active",
            Self::Held => "held",
            Self::Dialing => "dialing",
            Self::Ringing => "ringing",
            Self::Established => "established",
            Self::Released => "released",
        })
    }
}

/// A call and the state it is now in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallStatus {
    /// The call.
    pub call: CallId,
    /// Its new state.
    pub state: CallState,
}

/// What `consult` made: the new consult call, and the calls it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consulted {
    /// The call between the agent and the consulted colleague.
    pub consult: CallId,
    /// The new states of the calls the operation changed.
    pub calls: Vec<CallStatus>,
}

/// Why a switch refused or failed an operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TelephonyError {
    /// The switch knows no such call.
    #[error("the switch knows no call {0}")]
    UnknownCall(CallId),
    /// The call's state does not allow the operation.
    #[error("the call {call} is {state}; it cannot be {action}")]
    Refused {
        /// The call.
        call: CallId,
        /// Its state.
        state: CallState,
        /// What was asked, as a past participle ("held", "connected").
        action: &'static str,
    },
    /// The switch could not be reached or failed.
    #[error("the telephony switch failed: {0}")]
    Failed(String),
}

/// The results of call operations.
pub type CallResult<T> = Result<T, TelephonyError>;

/// The call operations a voice consultation needs. An adapter to a real switch implements
/// them; [`SimulatedSwitch`] is the built-in one.
pub trait Telephony: Send + Sync {
    /// Puts a customer's call on hold.
    fn hold<'a>(&'a self, call: &'a str) -> BoxFuture<'a, CallResult<Vec<CallStatus>>>;
    /// Takes a customer's call off hold.
    fn retrieve<'a>(&'a self, call: &'a str) -> BoxFuture<'a, CallResult<Vec<CallStatus>>>;
    /// Dials a colleague from the agent of a held customer call; `target_agent` is the
    /// colleague's login (the simulated switch's extensions are logins).
    fn consult<'a>(
        &'a self,
        call: &'a str,
        target_agent: &'a str,
    ) -> BoxFuture<'a, CallResult<Consulted>>;
    /// Connects a ringing consult call (the colleague answered).
    fn connect<'a>(&'a self, consult: &'a str) -> BoxFuture<'a, CallResult<Vec<CallStatus>>>;
    /// Hangs up a call.
    fn release<'a>(&'a self, call: &'a str) -> BoxFuture<'a, CallResult<Vec<CallStatus>>>;
    /// Told at start, for each consultation that had not ended when the hub stopped: its
    /// customer's call is held and its consult call is in `consult_state`. A real switch
    /// keeps its calls itself and ignores this.
    fn restore(&self, customer_call: &str, consult_call: &str, consult_state: CallState) {
        let _ = (customer_call, consult_call, consult_state);
    }
}

/// An operation on a call, for the table of transitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Hold,
    Retrieve,
    /// The consulted agent's phone starts ringing.
    Alert,
    Connect,
    Release,
}

impl Op {
    fn done(self) -> &'static str {
        match self {
            Op::Hold => "held",
            Op::Retrieve => "retrieved",
            Op::Alert => "alerted",
            Op::Connect => "connected",
            Op::Release => "released",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Customer,
    Consult,
}

/// Every legal transition; anything else is refused.
fn next(kind: Kind, state: CallState, op: Op) -> Option<CallState> {
    use CallState::*;
    match (kind, state, op) {
        (Kind::Customer, Active, Op::Hold) => Some(Held),
        (Kind::Customer, Held, Op::Retrieve) => Some(Active),
        (Kind::Customer, Active | Held, Op::Release) => Some(Released),
        (Kind::Consult, Dialing, Op::Alert) => Some(Ringing),
        (Kind::Consult, Ringing, Op::Connect) => Some(Established),
        (Kind::Consult, Dialing | Ringing | Established, Op::Release) => Some(Released),
        _ => None,
    }
}

struct Call {
    kind: Kind,
    state: CallState,
    /// For a consult call: the customer call it consults about.
    about: Option<CallId>,
}

#[derive(Default)]
struct Calls {
    calls: HashMap<CallId, Call>,
    /// Released calls in the order they were released, so the oldest are forgotten first.
    released: VecDeque<CallId>,
}

/// How many released calls the simulated switch remembers (to refuse operations on them).
const REMEMBERED_RELEASED: usize = 4096;

/// A switch in memory, with real call states and the transitions a switch allows.
///
/// Routing does not announce customer calls to it: a call it has never seen is taken as a
/// customer call that is active (the hub asks only about voice interactions it knows are).
/// Consult calls ring at once: every agent's extension is reachable.
#[derive(Default)]
pub struct SimulatedSwitch {
    calls: Mutex<Calls>,
}

impl SimulatedSwitch {
    /// A switch with no calls.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Calls> {
        // Every update under the lock is a few assignments that cannot panic half-way.
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Brings back a consultation's calls after a restart of the hub: the customer's call
    /// held, the consult call in `consult_state`.
    pub fn restore(&self, customer_call: &str, consult_call: &str, consult_state: CallState) {
        let mut calls = self.lock();
        calls.calls.insert(
            customer_call.to_string(),
            Call {
                kind: Kind::Customer,
                state: CallState::Held,
                about: None,
            },
        );
        calls.calls.insert(
            consult_call.to_string(),
            Call {
                kind: Kind::Consult,
                state: consult_state,
                about: Some(customer_call.to_string()),
            },
        );
    }

    /// A call's state now, if the switch knows it.
    pub fn state(&self, call: &str) -> Option<CallState> {
        self.lock().calls.get(call).map(|c| c.state)
    }

    fn step(&self, call: &str, op: Op) -> CallResult<Vec<CallStatus>> {
        let mut calls = self.lock();
        let calls = &mut *calls;
        if !calls.calls.contains_key(call) {
            if op == Op::Connect {
                return Err(TelephonyError::UnknownCall(call.to_string()));
            }
            calls.calls.insert(
                call.to_string(),
                Call {
                    kind: Kind::Customer,
                    state: CallState::Active,
                    about: None,
                },
            );
        }
        // A customer's call comes back only after the consult call is over: the agent
        // cannot talk to both at once.
        if op == Op::Retrieve && has_live_consult(calls, call) {
            return Err(TelephonyError::Refused {
                call: call.to_string(),
                state: CallState::Held,
                action: "retrieved while its consult call is up",
            });
        }
        let Some(entry) = calls.calls.get_mut(call) else {
            return Err(TelephonyError::UnknownCall(call.to_string()));
        };
        let Some(state) = next(entry.kind, entry.state, op) else {
            return Err(TelephonyError::Refused {
                call: call.to_string(),
                state: entry.state,
                action: op.done(),
            });
        };
        entry.state = state;
        if state == CallState::Released {
            calls.released.push_back(call.to_string());
            while calls.released.len() > REMEMBERED_RELEASED {
                if let Some(old) = calls.released.pop_front() {
                    calls.calls.remove(&old);
                }
            }
        }
        Ok(vec![CallStatus {
            call: call.to_string(),
            state,
        }])
    }

    fn dial(&self, call: &str, target_agent: &str) -> CallResult<Consulted> {
        if target_agent.is_empty() {
            return Err(TelephonyError::Failed(
                "the consult call needs a target extension".into(),
            ));
        }
        let mut calls = self.lock();
        let calls = &mut *calls;
        let state = calls.calls.get(call).map_or(CallState::Active, |c| c.state);
        // The customer must not hear the agents: a consult starts from a held call, and one
        // at a time.
        if state != CallState::Held || has_live_consult(calls, call) {
            return Err(TelephonyError::Refused {
                call: call.to_string(),
                state,
                action: "consulted from (it must be held, with no other consult call)",
            });
        }
        let consult = format!("sim-{:016x}", OsRng.next_u64());
        let mut entry = Call {
            kind: Kind::Consult,
            state: CallState::Dialing,
            about: Some(call.to_string()),
        };
        // The simulated extension of every agent is reachable: it rings at once.
        entry.state = next(Kind::Consult, entry.state, Op::Alert).unwrap_or(entry.state);
        let state = entry.state;
        calls.calls.insert(consult.clone(), entry);
        Ok(Consulted {
            calls: vec![CallStatus {
                call: consult.clone(),
                state,
            }],
            consult,
        })
    }
}

/// Whether a consult call about `call` is still up.
fn has_live_consult(calls: &Calls, call: &str) -> bool {
    calls
        .calls
        .values()
        .any(|c| c.about.as_deref() == Some(call) && c.state != CallState::Released)
}

impl Telephony for SimulatedSwitch {
    fn hold<'a>(&'a self, call: &'a str) -> BoxFuture<'a, CallResult<Vec<CallStatus>>> {
        Box::pin(std::future::ready(self.step(call, Op::Hold)))
    }

    fn retrieve<'a>(&'a self, call: &'a str) -> BoxFuture<'a, CallResult<Vec<CallStatus>>> {
        Box::pin(std::future::ready(self.step(call, Op::Retrieve)))
    }

    fn consult<'a>(
        &'a self,
        call: &'a str,
        target_agent: &'a str,
    ) -> BoxFuture<'a, CallResult<Consulted>> {
        Box::pin(std::future::ready(self.dial(call, target_agent)))
    }

    fn connect<'a>(&'a self, consult: &'a str) -> BoxFuture<'a, CallResult<Vec<CallStatus>>> {
        let known = self
            .lock()
            .calls
            .get(consult)
            .map(|c| c.kind == Kind::Consult);
        let result = match known {
            Some(true) => self.step(consult, Op::Connect),
            Some(false) => Err(TelephonyError::Refused {
                call: consult.to_string(),
                state: self.state(consult).unwrap_or(CallState::Active),
                action: "connected (it is not a consult call)",
            }),
            None => Err(TelephonyError::UnknownCall(consult.to_string())),
        };
        Box::pin(std::future::ready(result))
    }

    fn release<'a>(&'a self, call: &'a str) -> BoxFuture<'a, CallResult<Vec<CallStatus>>> {
        Box::pin(std::future::ready(self.step(call, Op::Release)))
    }

    fn restore(&self, customer_call: &str, consult_call: &str, consult_state: CallState) {
        SimulatedSwitch::restore(self, customer_call, consult_call, consult_state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CallState::*;

    #[test]
    fn every_edge_of_the_call_state_machines() {
        let ops = [Op::Hold, Op::Retrieve, Op::Alert, Op::Connect, Op::Release];
        let legal = [
            (Kind::Customer, Active, Op::Hold, Held),
            (Kind::Customer, Held, Op::Retrieve, Active),
            (Kind::Customer, Active, Op::Release, Released),
            (Kind::Customer, Held, Op::Release, Released),
            (Kind::Consult, Dialing, Op::Alert, Ringing),
            (Kind::Consult, Ringing, Op::Connect, Established),
            (Kind::Consult, Dialing, Op::Release, Released),
            (Kind::Consult, Ringing, Op::Release, Released),
            (Kind::Consult, Established, Op::Release, Released),
        ];
        for kind in [Kind::Customer, Kind::Consult] {
            for state in [Active, Held, Dialing, Ringing, Established, Released] {
                for op in ops {
                    let expected = legal
                        .iter()
                        .find(|(k, s, o, _)| *k == kind && *s == state && *o == op)
                        .map(|(_, _, _, to)| *to);
                    assert_eq!(next(kind, state, op), expected, "{kind:?} {state} {op:?}");
                }
            }
        }
    }

    async fn consulted(switch: &SimulatedSwitch) -> CallId {
        switch.hold("i-1").await.unwrap();
        switch.consult("i-1", "ben").await.unwrap().consult
    }

    #[tokio::test]
    async fn a_customer_call_goes_on_hold_and_comes_back() {
        let switch = SimulatedSwitch::new();
        assert_eq!(
            switch.hold("i-1").await.unwrap(),
            vec![CallStatus {
                call: "i-1".into(),
                state: Held
            }]
        );
        assert!(matches!(
            switch.hold("i-1").await,
            Err(TelephonyError::Refused { state: Held, .. })
        ));
        assert_eq!(switch.retrieve("i-1").await.unwrap()[0].state, Active);
        assert!(matches!(
            switch.retrieve("i-1").await,
            Err(TelephonyError::Refused { state: Active, .. })
        ));
        assert_eq!(switch.release("i-1").await.unwrap()[0].state, Released);
        for refused in [
            switch.hold("i-1").await,
            switch.retrieve("i-1").await,
            switch.release("i-1").await,
        ] {
            assert!(
                matches!(
                    refused,
                    Err(TelephonyError::Refused {
                        state: Released,
                        ..
                    })
                ),
                "{refused:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_consult_call_rings_is_connected_and_released() {
        let switch = SimulatedSwitch::new();
        let refused = switch.consult("i-1", "ben").await;
        assert!(
            matches!(refused, Err(TelephonyError::Refused { state: Active, .. })),
            "not from an active customer call: {refused:?}"
        );
        switch.hold("i-1").await.unwrap();
        let consulted = switch.consult("i-1", "ben").await.unwrap();
        assert_eq!(
            consulted.calls,
            vec![CallStatus {
                call: consulted.consult.clone(),
                state: Ringing
            }]
        );
        assert!(
            switch.consult("i-1", "cho").await.is_err(),
            "one consult call at a time"
        );
        let refused = switch.retrieve("i-1").await;
        assert!(
            matches!(refused, Err(TelephonyError::Refused { .. })),
            "not while the consult call is up: {refused:?}"
        );
        assert_eq!(
            switch.connect(&consulted.consult).await.unwrap()[0].state,
            Established
        );
        assert!(matches!(
            switch.connect(&consulted.consult).await,
            Err(TelephonyError::Refused {
                state: Established,
                ..
            })
        ));
        assert_eq!(
            switch.release(&consulted.consult).await.unwrap()[0].state,
            Released
        );
        assert!(switch.connect(&consulted.consult).await.is_err());
        assert!(switch.release(&consulted.consult).await.is_err());
        assert_eq!(switch.retrieve("i-1").await.unwrap()[0].state, Active);
    }

    #[tokio::test]
    async fn a_ringing_consult_call_can_be_declined_and_only_consult_calls_connect() {
        let switch = SimulatedSwitch::new();
        let consult = consulted(&switch).await;
        assert_eq!(switch.release(&consult).await.unwrap()[0].state, Released);
        assert!(matches!(
            switch.connect(&consult).await,
            Err(TelephonyError::Refused {
                state: Released,
                ..
            })
        ));
        assert!(matches!(
            switch.connect("i-1").await,
            Err(TelephonyError::Refused { .. })
        ));
        assert!(matches!(
            switch.connect("never-dialed").await,
            Err(TelephonyError::UnknownCall(_))
        ));
        assert!(switch.consult("i-1", "").await.is_err());
    }

    #[tokio::test]
    async fn restored_calls_carry_on_where_they_were() {
        let switch = SimulatedSwitch::new();
        switch.restore("i-1", "sim-1", Ringing);
        assert_eq!(switch.state("i-1"), Some(Held));
        assert!(switch.retrieve("i-1").await.is_err());
        assert_eq!(switch.connect("sim-1").await.unwrap()[0].state, Established);
        switch.release("sim-1").await.unwrap();
        assert_eq!(switch.retrieve("i-1").await.unwrap()[0].state, Active);
    }
}
