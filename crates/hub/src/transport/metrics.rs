//! The hub's figures for `/metrics`, in the Prometheus text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 5.0,
];

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
}

/// Counters updated by connections and read by `/metrics`.
#[derive(Default)]
pub struct Metrics {
    connections: AtomicI64,
    refused: AtomicU64,
    messages: AtomicU64,
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
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
        let secs = took.as_secs_f64();
        for (bound, bucket) in BUCKETS.iter().zip(&self.latency_buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
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
        let _ = writeln!(
            out,
            "# HELP huddle_hub_messages_total Messages committed since start."
        );
        let _ = writeln!(out, "# TYPE huddle_hub_messages_total counter");
        let _ = writeln!(out, "huddle_hub_messages_total {}", self.messages.load(r));
        let _ = writeln!(out, "# HELP huddle_hub_message_seconds Time from a message's arrival to its commit and delivery.");
        let _ = writeln!(out, "# TYPE huddle_hub_message_seconds histogram");
        for (bound, bucket) in BUCKETS.iter().zip(&self.latency_buckets) {
            let _ = writeln!(
                out,
                "huddle_hub_message_seconds_bucket{{le=\"{bound}\"}} {}",
                bucket.load(r)
            );
        }
        let count = self.latency_count.load(r);
        let _ = writeln!(
            out,
            "huddle_hub_message_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let sum = self.latency_sum_micros.load(r) as f64 / 1e6;
        let _ = writeln!(out, "huddle_hub_message_seconds_sum {sum}");
        let _ = writeln!(out, "huddle_hub_message_seconds_count {count}");
        out
    }
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
        let text = m.render(&Readings {
            held: 3,
            limit: 20,
            devices: 1,
            open_sessions: 2,
            store_failing: false,
            free_bytes: Some(1 << 30),
        });
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
