//! The hub's figures for `/metrics`, in the Prometheus text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use crate::services::latency::{self, Histogram};

/// What `/metrics` reads at the time of the scrape, beside the counters.
pub struct Readings {
    /// Connections of any kind the hub holds.
    pub held: usize,
    /// The most it will hold.
    pub limit: u32,
    /// Logged-in connections.
    pub devices: usize,
    /// IM sessions inviting or connected.
    pub open_sessions: i64,
    /// Whether the hub cannot store changes.
    pub store_failing: bool,
    /// Bytes free on the database's disk, where the system says.
    pub free_bytes: Option<u64>,
    /// This node among those serving the store.
    pub node: NodeReadings,
}

/// What a node reports (a hub on SQLite is one node, which runs the timers).
pub struct NodeReadings {
    /// Whether this node runs the timers.
    pub timers: bool,
    /// The live nodes, as the timers' node counts them (only it reports them).
    pub live_nodes: Option<i64>,
    /// The delays between another node's commit and this node hearing of it.
    pub lag: latency::Reading,
}

/// Counters updated by connections and read by `/metrics`.
#[derive(Default)]
pub struct Metrics {
    connections: AtomicI64,
    refused: AtomicU64,
    messages: AtomicU64,
    latency: Histogram,
}

impl Metrics {
    /// A WebSocket connection opened.
    pub fn connection_opened(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection was refused: the hub holds as many as it may, in all or from its
    /// address.
    pub fn connection_refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    /// A WebSocket connection closed.
    pub fn connection_closed(&self) {
        self.connections.fetch_sub(1, Ordering::Relaxed);
    }

    /// A message was committed and delivered, `took` after its request arrived.
    pub fn message_committed(&self, took: Duration) {
        self.messages.fetch_add(1, Ordering::Relaxed);
        self.latency.observe(took);
    }

    /// The figures as Prometheus text, with what was read at the time.
    pub fn render(&self, now: &Readings) -> String {
        let mut out = String::new();
        let r = Ordering::Relaxed;
        let _ = writeln!(
            out,
            "# HELP huddle_hub_build_info The hub's version, as a label; always 1."
        );
        let _ = writeln!(out, "# TYPE huddle_hub_build_info gauge");
        let _ = writeln!(
            out,
            "huddle_hub_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        let _ = writeln!(
            out,
            "# HELP huddle_hub_connections_held Connections held: HTTP and WebSocket, signed in or not."
        );
        let _ = writeln!(out, "# TYPE huddle_hub_connections_held gauge");
        let _ = writeln!(out, "huddle_hub_connections_held {}", now.held);
        let _ = writeln!(
            out,
            "# HELP huddle_hub_connections_limit The most connections the hub holds at once."
        );
        let _ = writeln!(out, "# TYPE huddle_hub_connections_limit gauge");
        let _ = writeln!(out, "huddle_hub_connections_limit {}", now.limit);
        let _ = writeln!(
            out,
            "# HELP huddle_hub_connections Open WebSocket connections."
        );
        let _ = writeln!(out, "# TYPE huddle_hub_connections gauge");
        let _ = writeln!(out, "huddle_hub_connections {}", self.connections.load(r));
        let _ = writeln!(
            out,
            "# HELP huddle_hub_connections_refused_total Connections refused for want of a place."
        );
        let _ = writeln!(out, "# TYPE huddle_hub_connections_refused_total counter");
        let _ = writeln!(
            out,
            "huddle_hub_connections_refused_total {}",
            self.refused.load(r)
        );
        let _ = writeln!(out, "# HELP huddle_hub_devices Logged-in connections.");
        let _ = writeln!(out, "# TYPE huddle_hub_devices gauge");
        let _ = writeln!(out, "huddle_hub_devices {}", now.devices);
        let _ = writeln!(
            out,
            "# HELP huddle_hub_open_sessions IM sessions inviting or connected."
        );
        let _ = writeln!(out, "# TYPE huddle_hub_open_sessions gauge");
        let _ = writeln!(out, "huddle_hub_open_sessions {}", now.open_sessions);
        let _ = writeln!(
            out,
            "# HELP huddle_hub_store_failing 1 while the hub cannot store changes (a full disk, an I/O error)."
        );
        let _ = writeln!(out, "# TYPE huddle_hub_store_failing gauge");
        let _ = writeln!(
            out,
            "huddle_hub_store_failing {}",
            u8::from(now.store_failing)
        );
        if let Some(free) = now.free_bytes {
            let _ = writeln!(
                out,
                "# HELP huddle_hub_store_free_bytes Bytes free for the hub on the database's disk."
            );
            let _ = writeln!(out, "# TYPE huddle_hub_store_free_bytes gauge");
            let _ = writeln!(out, "huddle_hub_store_free_bytes {free}");
        }
        render_node(&mut out, &now.node);
        let _ = writeln!(
            out,
            "# HELP huddle_hub_messages_total Messages committed since start."
        );
        let _ = writeln!(out, "# TYPE huddle_hub_messages_total counter");
        let _ = writeln!(out, "huddle_hub_messages_total {}", self.messages.load(r));
        render_histogram(
            &mut out,
            "huddle_hub_message_seconds",
            "Time from a message's arrival to its commit and delivery.",
            &self.latency.read(),
        );
        out
    }
}

/// The figures of a node of several.
fn render_node(out: &mut String, node: &NodeReadings) {
    let _ = writeln!(
        out,
        "# HELP huddle_hub_node_timers 1 on the node that runs the timers (invitation time-outs, retention, silent nodes)."
    );
    let _ = writeln!(out, "# TYPE huddle_hub_node_timers gauge");
    let _ = writeln!(out, "huddle_hub_node_timers {}", u8::from(node.timers));
    if let Some(live) = node.live_nodes {
        let _ = writeln!(
            out,
            "# HELP huddle_hub_nodes Live nodes serving the database, as the timers' node counts them."
        );
        let _ = writeln!(out, "# TYPE huddle_hub_nodes gauge");
        let _ = writeln!(out, "huddle_hub_nodes {live}");
    }
    render_histogram(
        out,
        "huddle_hub_node_delivery_seconds",
        "Time from another node's commit to this node hearing of it.",
        &node.lag,
    );
}

/// A histogram in the Prometheus text format.
fn render_histogram(out: &mut String, name: &str, help: &str, h: &latency::Reading) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} histogram");
    for (bound, n) in &h.buckets {
        let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {n}");
    }
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", h.count);
    let _ = writeln!(out, "{name}_sum {}", h.sum_secs);
    let _ = writeln!(out, "{name}_count {}", h.count);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_land_in_cumulative_buckets() {
        let m = Metrics::default();
        m.connection_opened();
        m.message_committed(Duration::from_micros(800));
        m.message_committed(Duration::from_millis(30));
        let lag = Histogram::default();
        lag.observe(Duration::from_millis(3));
        lag.observe(Duration::from_secs(2));
        let text = m.render(&Readings {
            held: 3,
            limit: 20,
            devices: 1,
            open_sessions: 2,
            store_failing: false,
            free_bytes: Some(1 << 30),
            node: NodeReadings {
                timers: true,
                live_nodes: Some(3),
                lag: lag.read(),
            },
        });
        assert!(text.contains("huddle_hub_nodes 3\n"), "{text}");
        assert!(
            text.contains("huddle_hub_node_delivery_seconds_bucket{le=\"0.005\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("huddle_hub_node_delivery_seconds_count 2\n"),
            "{text}"
        );
        assert!(text.contains("huddle_hub_connections_limit 20\n"), "{text}");
        assert!(
            text.contains("huddle_hub_store_free_bytes 1073741824\n"),
            "{text}"
        );
        assert!(text.contains("huddle_hub_build_info{version=\""), "{text}");
        assert!(text.contains("huddle_hub_connections 1\n"), "{text}");
        assert!(text.contains("huddle_hub_messages_total 2\n"));
        assert!(text.contains("huddle_hub_message_seconds_bucket{le=\"0.0005\"} 0\n"));
        assert!(text.contains("huddle_hub_message_seconds_bucket{le=\"0.001\"} 1\n"));
        assert!(text.contains("huddle_hub_message_seconds_bucket{le=\"0.05\"} 2\n"));
        assert!(text.contains("huddle_hub_message_seconds_count 2\n"));
    }
}
