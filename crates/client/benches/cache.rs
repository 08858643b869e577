//! Insert throughput into the local cache and search latency over it, at 100,000 and
//! 1,000,000 cached messages.
//!
//! `cargo bench -p huddle-client --bench cache` (release build). `HUDDLE_BENCH_SIZES`
//! overrides the sizes, for example `10000,100000`.

use std::time::{Duration, Instant};

use huddle_client::cache::Cache;
use huddle_protocol::Message;

const WORDS: [&str; 24] = [
    "customer",
    "order",
    "refund",
    "delivery",
    "invoice",
    "account",
    "password",
    "address",
    "supervisor",
    "approved",
    "pending",
    "shipped",
    "return",
    "warranty",
    "discount",
    "billing",
    "callback",
    "escalate",
    "ticket",
    "queue",
    "tracking",
    "cancel",
    "upgrade",
    "contract",
];

fn text(i: u64) -> String {
    // A cheap, repeatable spread of words, so that searches hit a realistic share.
    let mut x = i
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut words = Vec::with_capacity(10);
    for _ in 0..10 {
        x ^= x >> 29;
        x = x.wrapping_mul(0xbf58476d1ce4e5b9);
        words.push(WORDS[(x % WORDS.len() as u64) as usize]);
    }
    format!("{} #{i}", words.join(" "))
}

fn message(i: u64) -> Message {
    Message {
        id: format!("m-{i}"),
        session_id: format!("s-{}", i / 200),
        seq: (i % 200) as i64 + 1,
        from: (i % 7) as i64,
        text: text(i),
        at: 1_764_000_000_000 + i as i64,
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let sizes: Vec<u64> = std::env::var("HUDDLE_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![100_000, 1_000_000]);
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = Cache::open(&dir.path().join("bench.db"))
        .await
        .expect("cache");

    // One message at a time, as events arrive: one transaction and one sync each.
    let one_by_one = 2_000;
    let t = Instant::now();
    for i in 0..one_by_one {
        cache.put_message(&message(i)).await.expect("put");
    }
    println!(
        "insert one at a time: {:.0} messages/s ({one_by_one} messages)",
        one_by_one as f64 / t.elapsed().as_secs_f64()
    );

    let mut have = one_by_one;
    for size in sizes {
        let t = Instant::now();
        let added = size.saturating_sub(have);
        while have < size {
            let batch: Vec<Message> = (have..(have + 10_000).min(size)).map(message).collect();
            cache.put_messages(&batch).await.expect("put");
            have += batch.len() as u64;
        }
        let took = t.elapsed();
        if added > 0 {
            println!(
                "insert in batches of 10,000 up to {size}: {:.0} messages/s",
                added as f64 / took.as_secs_f64()
            );
        }
        for query in ["refund", "supervisor approved", "tracking #4242", "warr"] {
            let mut runs = Vec::new();
            let mut hits = 0;
            for _ in 0..21 {
                let t = Instant::now();
                hits = cache.search(query, 50).await.expect("search").len();
                runs.push(t.elapsed());
            }
            println!(
                "search {query:?} at {size} messages: median {:.2} ms ({hits} hits shown)",
                median(runs).as_secs_f64() * 1000.0
            );
        }
    }
}
