//! Who is connected: every device (connection) of every logged-in agent, and the presence
//! that follows from it. Frames for an agent go to all of its devices. A device hears the
//! presence of the agents it follows (the colleagues its agent sees, as the client declares
//! them on every connection) and of its own agent: telling every device of every change
//! would cost the hub the square of the agents connected.
//!
//! A device too slow to take its frames is dropped at once and told so: its connection
//! ends, and the client resumes from its last event, missing nothing.
//!
//! Events reach an agent's devices in the order of their numbers. Those this node's writer
//! committed come with their frames; those another node committed come as a number to read
//! (see `cluster`). For each agent with a device here the registry keeps the number
//! delivered last; an event further on than the next one means some are missing, and they
//! are read from the store (`delivery`) and delivered in order before any later one.

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

/// Where an agent's events stand on this node.
#[derive(Default)]
struct Cursor {
    /// The last event delivered to the agent's devices here; unknown until the first device
    /// has read the agent's latest number.
    delivered: Option<i64>,
    /// The latest event known to be committed.
    known: i64,
    /// Whether the events after `delivered` are being read from the store.
    reading: bool,
}

#[derive(Default)]
struct Agent {
    devices: Vec<Device>,
    cursor: Cursor,
    /// The presence the agent chose; shown while a device is connected.
    chosen: Option<Presence>,
    /// Whether the agent shows Offline.
    offline: bool,
    /// Counts disconnections, so that a grace timer knows whether it is still current.
    epoch: u64,
}

/// An agent with a device on other nodes, as this node knows it.
struct Remote {
    /// The nodes where the agent is online.
    nodes: HashSet<i64>,
    /// The presence the agent chose.
    chosen: Presence,
}

/// Every logged-in device, by agent.
pub struct Registry {
    inner: Mutex<Inner>,
    next_device: AtomicU64,
    /// Agents whose missing events must be read from the store.
    behind: mpsc::UnboundedSender<i64>,
}

/// The agents whose events must be read from the store, as the registry finds them.
pub type Behind = mpsc::UnboundedReceiver<i64>;

#[derive(Default)]
struct Inner {
    agents: HashMap<i64, Agent>,
    /// The agents online on other nodes.
    remote: HashMap<i64, Remote>,
    /// For each agent, the devices (agent, device) that hear its presence.
    watchers: HashMap<i64, HashSet<(i64, u64)>>,
    /// For each device that watches, the agents it hears.
    watching: HashMap<u64, Vec<i64>>,
}

impl Inner {
    /// What others see of an agent now: the presence it chose while it is online on any
    /// node.
    fn presence(&self, agent_id: i64) -> Presence {
        match (self.agents.get(&agent_id), self.remote.get(&agent_id)) {
            (Some(a), _) if !a.devices.is_empty() || !a.offline => {
                a.chosen.unwrap_or(Presence::Offline)
            }
            (_, Some(r)) if !r.nodes.is_empty() => r.chosen,
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
    /// An empty registry, and where it asks for agents' missing events.
    pub fn new() -> (Self, Behind) {
        let (behind, asked) = mpsc::unbounded_channel();
        let registry = Self {
            inner: Mutex::default(),
            next_device: AtomicU64::new(0),
            behind,
        };
        (registry, asked)
    }

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
        if agent.devices.is_empty() {
            // What was delivered before is of no use to the devices to come: they read the
            // agent's latest number (`seen`) and replay up to it.
            agent.cursor = Cursor::default();
        }
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

    /// After the grace period: marks the agent offline here if nothing reconnected
    /// meanwhile. Returns whether it did, and then what others now see of the agent (still
    /// its presence while it is online on another node).
    pub fn go_offline_if_still_gone(&self, agent_id: i64, epoch: u64) -> Option<Presence> {
        let mut inner = self.lock();
        match inner.agents.get_mut(&agent_id) {
            Some(agent) if agent.epoch == epoch && agent.devices.is_empty() => {
                agent.offline = true;
                Some(inner.presence(agent_id))
            }
            _ => None,
        }
    }

    /// Records a newly chosen presence, here or on another node.
    pub fn choose(&self, agent_id: i64, presence: Presence) {
        let mut inner = self.lock();
        if let Some(agent) = inner.agents.get_mut(&agent_id) {
            agent.chosen = Some(presence);
        }
        if let Some(remote) = inner.remote.get_mut(&agent_id) {
            remote.chosen = presence;
        }
    }

    /// An agent is online on another node, with the presence it chose. Returns what others
    /// now see of it, if that changed.
    pub fn online_on(&self, node: i64, agent_id: i64, chosen: Presence) -> Option<Presence> {
        let mut inner = self.lock();
        let before = inner.presence(agent_id);
        let remote = inner.remote.entry(agent_id).or_insert_with(|| Remote {
            nodes: HashSet::new(),
            chosen,
        });
        remote.nodes.insert(node);
        remote.chosen = chosen;
        if let Some(agent) = inner.agents.get_mut(&agent_id) {
            agent.chosen = Some(chosen);
        }
        let after = inner.presence(agent_id);
        (after != before).then_some(after)
    }

    /// An agent is no longer online on another node. Returns what others now see of it, if
    /// that changed.
    pub fn offline_on(&self, node: i64, agent_id: i64) -> Option<Presence> {
        let mut inner = self.lock();
        let before = inner.presence(agent_id);
        if let Some(remote) = inner.remote.get_mut(&agent_id) {
            remote.nodes.remove(&node);
            if remote.nodes.is_empty() {
                inner.remote.remove(&agent_id);
            }
        }
        let after = inner.presence(agent_id);
        (after != before).then_some(after)
    }

    /// Another node is gone: its agents are no longer online there. Returns the agents whose
    /// presence changed, with what others now see.
    pub fn node_gone(&self, node: i64) -> Vec<(i64, Presence)> {
        let agents: Vec<i64> = self
            .lock()
            .remote
            .iter()
            .filter(|(_, r)| r.nodes.contains(&node))
            .map(|(id, _)| *id)
            .collect();
        agents
            .into_iter()
            .filter_map(|agent| self.offline_on(node, agent).map(|p| (agent, p)))
            .collect()
    }

    /// Replaces what this node knows of the agents online on other nodes (read from the
    /// store after notifications may have been missed). Returns the agents whose presence
    /// changed, with what others now see.
    pub fn replace_remote(&self, online: Vec<(i64, i64, Presence)>) -> Vec<(i64, Presence)> {
        let mut inner = self.lock();
        let mut touched: HashSet<i64> = inner.remote.keys().copied().collect();
        let before: HashMap<i64, Presence> = touched
            .iter()
            .chain(online.iter().map(|(_, agent, _)| agent))
            .map(|&a| (a, inner.presence(a)))
            .collect();
        inner.remote.clear();
        for (node, agent_id, chosen) in online {
            touched.insert(agent_id);
            let remote = inner.remote.entry(agent_id).or_insert_with(|| Remote {
                nodes: HashSet::new(),
                chosen,
            });
            remote.nodes.insert(node);
        }
        touched
            .into_iter()
            .filter_map(|agent| {
                let after = inner.presence(agent);
                (before.get(&agent) != Some(&after)).then_some((agent, after))
            })
            .collect()
    }

    /// The agents with a device here or within their grace period: those this node says
    /// are online.
    pub fn online_here(&self) -> Vec<i64> {
        self.lock()
            .agents
            .iter()
            .filter(|(_, a)| !a.devices.is_empty() || !a.offline)
            .map(|(id, _)| *id)
            .collect()
    }

    /// What others see of an agent now.
    pub fn presence(&self, agent_id: i64) -> Presence {
        self.lock().presence(agent_id)
    }

    /// Sends a frame to every device of an agent. A device whose queue is full is dropped
    /// from the registry (its connection ends and it resumes later). An event is sent only
    /// as the next of the agent's events here; one further on has the missing ones read
    /// first, and comes with them.
    pub fn send_to(&self, agent_id: i64, frame: &Outgoing) {
        let mut inner = self.lock();
        let Some(agent) = inner.agents.get_mut(&agent_id) else {
            return;
        };
        if agent.devices.is_empty() {
            return;
        }
        let Some(seq) = frame.seq else {
            agent.devices.retain(|d| d.offer(frame));
            return;
        };
        let cursor = &mut agent.cursor;
        match cursor.delivered {
            Some(delivered) if seq <= delivered => {}
            Some(delivered) if seq == delivered + 1 && !cursor.reading => {
                cursor.delivered = Some(seq);
                cursor.known = cursor.known.max(seq);
                agent.devices.retain(|d| d.offer(frame));
            }
            _ => self.fall_behind(agent_id, agent, seq),
        }
    }

    /// Another node committed events of an agent, up to `seq`: those this node has not
    /// delivered are read from the store.
    pub fn committed_elsewhere(&self, agent_id: i64, seq: i64) {
        let mut inner = self.lock();
        if let Some(agent) = inner.agents.get_mut(&agent_id) {
            if !agent.devices.is_empty() && agent.cursor.delivered.is_none_or(|d| seq > d) {
                self.fall_behind(agent_id, agent, seq);
            }
        }
    }

    /// The agent's first device read its latest event number, `seq`: its devices hold
    /// everything up to there (in their replay), and later events come here.
    pub fn seen(&self, agent_id: i64, seq: i64) {
        let mut inner = self.lock();
        let Some(agent) = inner.agents.get_mut(&agent_id) else {
            return;
        };
        if agent.cursor.delivered.is_some() {
            return;
        }
        agent.cursor.delivered = Some(seq);
        if agent.cursor.known > seq && !agent.cursor.reading {
            agent.cursor.reading = true;
            let _ = self.behind.send(agent_id);
        }
    }

    /// Event `seq` is committed but cannot be delivered yet: those before it are missing, or
    /// the agent's devices have not read where they stand.
    fn fall_behind(&self, agent_id: i64, agent: &mut Agent, seq: i64) {
        let cursor = &mut agent.cursor;
        cursor.known = cursor.known.max(seq);
        if cursor.delivered.is_some() && !cursor.reading {
            cursor.reading = true;
            let _ = self.behind.send(agent_id);
        }
    }

    /// What is missing of an agent's events here: after which number, up to which. `None`
    /// when nothing is, and the reading ends.
    pub fn missing(&self, agent_id: i64) -> Option<(i64, i64)> {
        let mut inner = self.lock();
        let agent = inner.agents.get_mut(&agent_id)?;
        let cursor = &mut agent.cursor;
        match cursor.delivered {
            Some(delivered) if delivered < cursor.known && !agent.devices.is_empty() => {
                Some((delivered, cursor.known))
            }
            _ => {
                cursor.reading = false;
                None
            }
        }
    }

    /// Delivers events read from the store, in order, from the next one the agent's devices
    /// lack; a hole (events no longer kept) is stepped over.
    pub fn deliver_read(&self, agent_id: i64, frames: &[Outgoing]) {
        let mut inner = self.lock();
        let Some(agent) = inner.agents.get_mut(&agent_id) else {
            return;
        };
        for frame in frames {
            let (Some(seq), Some(delivered)) = (frame.seq, agent.cursor.delivered) else {
                continue;
            };
            if seq > delivered {
                agent.cursor.delivered = Some(seq);
                agent.devices.retain(|d| d.offer(frame));
            }
        }
    }

    /// Gives up reading an agent's events (the store failed): they are read again at the
    /// next event or notification.
    pub fn stop_reading(&self, agent_id: i64) {
        if let Some(agent) = self.lock().agents.get_mut(&agent_id) {
            agent.cursor.reading = false;
        }
    }

    /// The agents with a device here: after notifications may have been missed, each
    /// checks its events against the store.
    pub fn connected_agents(&self) -> Vec<i64> {
        self.lock()
            .agents
            .iter()
            .filter(|(_, a)| !a.devices.is_empty())
            .map(|(id, _)| *id)
            .collect()
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
