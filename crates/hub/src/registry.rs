//! Who is connected: every device (connection) of every logged-in agent, and the presence
//! that follows from it. Frames for an agent go to all of its devices.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use huddle_protocol::{Presence, Reply, ServerFrame};
use tokio::sync::mpsc;

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
    pub fn new(seq: Option<i64>, frame: &ServerFrame) -> Self {
        // Serializing these plain data types cannot fail.
        let text = serde_json::to_string(frame).unwrap_or_default();
        Self {
            seq,
            text: text.into(),
        }
    }
}

/// How many frames may wait for a slow device before it is disconnected (it then resumes
/// from its last event and misses nothing).
pub const DEVICE_QUEUE: usize = 1024;

/// A connected device, as the registry holds it.
struct Device {
    id: u64,
    queue: mpsc::Sender<Outgoing>,
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
    agents: Mutex<HashMap<i64, Agent>>,
    next_device: AtomicU64,
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
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Agent>> {
        // Every update under the lock is a few assignments that cannot panic half-way.
        self.agents.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a device of an agent whose chosen presence is `chosen`. Returns the device id
    /// and, if the agent was offline, the presence others should now see.
    pub fn connect(
        &self,
        agent_id: i64,
        chosen: Presence,
        queue: mpsc::Sender<Outgoing>,
    ) -> (u64, Option<Presence>) {
        let id = self.next_device.fetch_add(1, Ordering::Relaxed);
        let mut agents = self.lock();
        let agent = agents.entry(agent_id).or_default();
        agent.devices.push(Device { id, queue });
        let chosen = *agent.chosen.get_or_insert(chosen);
        // A reconnection within the grace period cancels the pending offline.
        agent.epoch += 1;
        let changed = (agent.offline || agent.devices.len() == 1).then_some(chosen);
        agent.offline = false;
        (id, changed)
    }

    /// Unregisters a device.
    pub fn disconnect(&self, agent_id: i64, device: u64) -> Departure {
        let mut agents = self.lock();
        let Some(agent) = agents.get_mut(&agent_id) else {
            return Departure::StillConnected;
        };
        agent.devices.retain(|d| d.id != device);
        if agent.devices.is_empty() {
            agent.epoch += 1;
            Departure::LastDevice { epoch: agent.epoch }
        } else {
            Departure::StillConnected
        }
    }

    /// After the grace period: marks the agent offline if nothing reconnected meanwhile.
    /// Returns whether the agent went offline.
    pub fn go_offline_if_still_gone(&self, agent_id: i64, epoch: u64) -> bool {
        let mut agents = self.lock();
        match agents.get_mut(&agent_id) {
            Some(agent) if agent.epoch == epoch && agent.devices.is_empty() => {
                agent.offline = true;
                true
            }
            _ => false,
        }
    }

    /// Records a newly chosen presence.
    pub fn choose(&self, agent_id: i64, presence: Presence) {
        self.lock().entry(agent_id).or_default().chosen = Some(presence);
    }

    /// What others see of an agent now.
    pub fn presence(&self, agent_id: i64) -> Presence {
        match self.lock().get(&agent_id) {
            Some(a) if !a.devices.is_empty() || !a.offline => a.chosen.unwrap_or(Presence::Offline),
            _ => Presence::Offline,
        }
    }

    /// Sends a frame to every device of an agent. A device whose queue is full is dropped
    /// from the registry (its connection ends and it resumes later).
    pub fn send_to(&self, agent_id: i64, frame: &Outgoing) {
        let mut agents = self.lock();
        if let Some(agent) = agents.get_mut(&agent_id) {
            agent
                .devices
                .retain(|d| d.queue.try_send(frame.clone()).is_ok());
        }
    }

    /// Sends a frame to every connected device of every agent.
    pub fn broadcast(&self, frame: &Outgoing) {
        let mut agents = self.lock();
        for agent in agents.values_mut() {
            agent
                .devices
                .retain(|d| d.queue.try_send(frame.clone()).is_ok());
        }
    }

    /// Tells everyone an agent's presence.
    pub fn broadcast_presence(&self, agent_id: i64, presence: Presence) {
        let frame = ServerFrame {
            re: None,
            reply: Reply::Presence { agent_id, presence },
        };
        self.broadcast(&Outgoing::new(None, &frame));
    }

    /// How many devices are connected.
    pub fn device_count(&self) -> usize {
        self.lock().values().map(|a| a.devices.len()).sum()
    }
}
