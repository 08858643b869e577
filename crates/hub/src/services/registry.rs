//! Who is connected: every device (connection) of every logged-in agent, and the presence
//! that follows from it. Frames for an agent go to all of its devices. A device hears the
//! presence of the agents it follows (the colleagues its agent sees, as the client declares
//! them on every connection) and of its own agent: telling every device of every change
//! would cost the hub the square of the agents connected.
//!
//! A device too slow to take its frames is dropped at once and told so: its connection
//! ends, and the client resumes from its last event, missing nothing.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use huddle_protocol::{AgentPresence, Presence, Pushed};
use tokio::sync::{mpsc, Notify};

/// A frame ready to be written to a connection, serialized once for all recipients.
#[derive(Clone, Debug)]
pub struct Outgoing {
    /// The agent's event number, for an event (a device skips events it already sent).
    pub seq: Option<i64>,
    /// The frame's JSON text.
    pub text: Arc<str>,
}

impl Outgoing {
    /// Serializes a frame.
    pub fn new(seq: Option<i64>, frame: &Pushed) -> Self {
        Self {
            seq,
            text: frame.encode().into(),
        }
    }
}

/// How many frames may wait for a slow device before it is disconnected (it then resumes
/// from its last event and misses nothing).
pub const DEVICE_QUEUE: usize = 1024;

/// How a connection is told that it must end, and why.
#[derive(Default)]
pub struct Kick {
    notify: Notify,
    why: Mutex<Option<(u16, &'static str)>>,
}

impl Kick {
    /// Tells the connection to close with this close code and reason (the first word
    /// stands).
    pub fn send(&self, code: u16, reason: &'static str) {
        self.why
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert((code, reason));
        self.notify.notify_one();
    }

    /// Resolves once the connection is told to end, with the close code and reason.
    pub async fn received(&self) -> (u16, &'static str) {
        self.notify.notified().await;
        self.why
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .unwrap_or((close_code::AGAIN, FELL_BEHIND))
    }
}

/// Why a device too slow to take its frames is disconnected.
pub const FELL_BEHIND: &str = "the client fell too far behind; resume";
/// Why the devices of an agent whose account changed are disconnected.
pub const ACCOUNT_CHANGED: &str = "an administrator changed this account; sign in again";

/// WebSocket close codes the registry asks for.
pub mod close_code {
    /// The client may try again later: it resumes.
    pub const AGAIN: u16 = 1013;
    /// The connection breaks a rule of the hub's.
    pub const POLICY: u16 = 1008;
}

/// A connected device, as the registry holds it.
struct Device {
    id: u64,
    /// The number of the last account change stored when its sign-in began to read the
    /// account: a later change may not be in what it read.
    since: i64,
    queue: mpsc::Sender<Outgoing>,
    /// Told when the device must go, so that its connection ends.
    kick: Arc<Kick>,
}

impl Device {
    /// Queues a frame; a device whose queue is full is told it is dropped. Returns whether
    /// the frame was queued.
    fn offer(&self, frame: &Outgoing) -> bool {
        match self.queue.try_send(frame.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.kick.send(close_code::AGAIN, FELL_BEHIND);
                false
            }
            // The connection is ending already.
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

#[derive(Default)]
struct Agent {
    devices: Vec<Device>,
    /// The presence the agent chose; shown while a device is connected.
    chosen: Option<Presence>,
    /// Whether the agent shows Offline.
    offline: bool,
    /// Counts disconnections, so that a grace timer knows whether it is still current.
    epoch: u64,
}

/// Every logged-in device, by agent.
#[derive(Default)]
pub struct Registry {
    inner: Mutex<Inner>,
    next_device: AtomicU64,
}

#[derive(Default)]
struct Inner {
    agents: HashMap<i64, Agent>,
    /// For each agent, the devices (agent, device) that hear its presence.
    watchers: HashMap<i64, HashSet<(i64, u64)>>,
    /// For each device that watches, the agents it hears.
    watching: HashMap<u64, Vec<i64>>,
}

impl Inner {
    /// What others see of an agent now.
    fn presence(&self, agent_id: i64) -> Presence {
        match self.agents.get(&agent_id) {
            Some(a) if !a.devices.is_empty() || !a.offline => a.chosen.unwrap_or(Presence::Offline),
            _ => Presence::Offline,
        }
    }

    /// Stops `device` of `agent_id` from hearing anyone's presence.
    fn unwatch(&mut self, agent_id: i64, device: u64) {
        for w in self.watching.remove(&device).unwrap_or_default() {
            if let Some(set) = self.watchers.get_mut(&w) {
                set.remove(&(agent_id, device));
                if set.is_empty() {
                    self.watchers.remove(&w);
                }
            }
        }
    }
}

/// What a device's disconnection means for the agent's presence.
pub enum Departure {
    /// Other devices remain.
    StillConnected,
    /// It was the last device: if `epoch` is still current after the grace period, the agent
    /// goes offline.
    LastDevice {
        /// The disconnection's epoch.
        epoch: u64,
    },
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Every update under the lock is a few assignments that cannot panic half-way.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a device of an agent whose chosen presence is `chosen`, unless the agent has
    /// `max_devices` already. Returns the device id and, if the agent was offline, the
    /// presence others should now see.
    pub fn connect(
        &self,
        agent_id: i64,
        chosen: Presence,
        queue: mpsc::Sender<Outgoing>,
        kick: Arc<Kick>,
        max_devices: u32,
        since: i64,
    ) -> Option<(u64, Option<Presence>)> {
        let mut inner = self.lock();
        let agent = inner.agents.entry(agent_id).or_default();
        if agent.devices.len() >= max_devices as usize {
            return None;
        }
        let id = self.next_device.fetch_add(1, Ordering::Relaxed);
        agent.devices.push(Device {
            id,
            since,
            queue,
            kick,
        });
        let chosen = *agent.chosen.get_or_insert(chosen);
        // A reconnection within the grace period cancels the pending offline.
        agent.epoch += 1;
        let changed = (agent.offline || agent.devices.len() == 1).then_some(chosen);
        agent.offline = false;
        Some((id, changed))
    }

    /// Unregisters a device.
    pub fn disconnect(&self, agent_id: i64, device: u64) -> Departure {
        let mut inner = self.lock();
        let Some(agent) = inner.agents.get_mut(&agent_id) else {
            return Departure::StillConnected;
        };
        agent.devices.retain(|d| d.id != device);
        let last = agent.devices.is_empty();
        inner.unwatch(agent_id, device);
        let Some(agent) = inner.agents.get_mut(&agent_id) else {
            return Departure::StillConnected;
        };
        if last {
            agent.epoch += 1;
            Departure::LastDevice { epoch: agent.epoch }
        } else {
            Departure::StillConnected
        }
    }

    /// After the grace period: marks the agent offline if nothing reconnected meanwhile.
    /// Returns whether the agent went offline.
    pub fn go_offline_if_still_gone(&self, agent_id: i64, epoch: u64) -> bool {
        let mut inner = self.lock();
        match inner.agents.get_mut(&agent_id) {
            Some(agent) if agent.epoch == epoch && agent.devices.is_empty() => {
                agent.offline = true;
                true
            }
            _ => false,
        }
    }

    /// Records a newly chosen presence.
    pub fn choose(&self, agent_id: i64, presence: Presence) {
        self.lock().agents.entry(agent_id).or_default().chosen = Some(presence);
    }

    /// What others see of an agent now.
    pub fn presence(&self, agent_id: i64) -> Presence {
        self.lock().presence(agent_id)
    }

    /// Sends a frame to every device of an agent. A device whose queue is full is dropped
    /// from the registry (its connection ends and it resumes later).
    pub fn send_to(&self, agent_id: i64, frame: &Outgoing) {
        let mut inner = self.lock();
        if let Some(agent) = inner.agents.get_mut(&agent_id) {
            agent.devices.retain(|d| d.offer(frame));
        }
    }

    /// From now on, `device` of `agent_id` hears the presence of `followed` (and of its own
    /// agent), and no longer that of the agents it followed before. Their presence now goes
    /// to the device first, in one `presences` frame queued before any later change.
    pub fn follow(&self, agent_id: i64, device: u64, followed: Vec<i64>) {
        let mut inner = self.lock();
        inner.unwatch(agent_id, device);
        let Some(me) = inner
            .agents
            .get(&agent_id)
            .and_then(|a| a.devices.iter().find(|d| d.id == device))
        else {
            return;
        };
        let presences = followed
            .iter()
            .map(|&id| AgentPresence {
                agent_id: id,
                presence: inner.presence(id),
            })
            .collect();
        let frame = Outgoing::new(None, &Pushed::Presences { presences });
        if !me.offer(&frame) {
            if let Some(agent) = inner.agents.get_mut(&agent_id) {
                agent.devices.retain(|d| d.id != device);
            }
            return;
        }
        for w in &followed {
            inner
                .watchers
                .entry(*w)
                .or_default()
                .insert((agent_id, device));
        }
        inner.watching.insert(device, followed);
    }

    /// Tells an agent's presence to its own devices and to the devices that watch it.
    pub fn broadcast_presence(&self, agent_id: i64, presence: Presence) {
        let frame = Pushed::Presence { agent_id, presence };
        let frame = Outgoing::new(None, &frame);
        let mut inner = self.lock();
        let mut to: Vec<(i64, u64)> = inner
            .watchers
            .get(&agent_id)
            .map(|set| set.iter().copied().collect())
            .unwrap_or_default();
        to.retain(|(watcher, _)| *watcher != agent_id);
        if let Some(agent) = inner.agents.get_mut(&agent_id) {
            agent.devices.retain(|d| d.offer(&frame));
        }
        let mut full = Vec::new();
        for (watcher, device) in to {
            let sent = inner
                .agents
                .get(&watcher)
                .and_then(|a| a.devices.iter().find(|d| d.id == device))
                .is_none_or(|d| d.offer(&frame));
            if !sent {
                full.push((watcher, device));
            }
        }
        // A device too slow to take the frame is dropped, as for any other frame.
        for (watcher, device) in full {
            if let Some(agent) = inner.agents.get_mut(&watcher) {
                agent.devices.retain(|d| d.id != device);
            }
        }
    }

    /// Tells the devices of an agent that signed in before account change number `change` to
    /// close their connections, with `reason`; those that signed in after it read the account
    /// as it is now.
    pub fn kick_agent(&self, agent_id: i64, change: i64, reason: &'static str) {
        if let Some(agent) = self.lock().agents.get(&agent_id) {
            for device in agent.devices.iter().filter(|d| d.since < change) {
                device.kick.send(close_code::POLICY, reason);
            }
        }
    }

    /// How many devices are connected.
    pub fn device_count(&self) -> usize {
        self.lock().agents.values().map(|a| a.devices.len()).sum()
    }
}
