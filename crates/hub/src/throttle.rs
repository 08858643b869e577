//! Slowing down whoever sends too much: guessed passwords, messages and invitations.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed logins before answers slow down.
const FREE_FAILURES: u32 = 3;
/// The longest wait before a login answer.
const MAX_LOGIN_DELAY: Duration = Duration::from_secs(16);
/// Failures are forgotten after this long without attempts.
const FAILURE_MEMORY: Duration = Duration::from_secs(15 * 60);

/// Consecutive failed logins per login name.
#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginThrottle {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u32, Instant)>> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How long to wait before answering a login attempt for `login`.
    pub fn delay(&self, login: &str) -> Duration {
        let mut failures = self.lock();
        let now = Instant::now();
        failures.retain(|_, (_, last)| now.duration_since(*last) < FAILURE_MEMORY);
        match failures.get(login) {
            Some((n, _)) if *n >= FREE_FAILURES => {
                let doublings = (*n - FREE_FAILURES).min(5);
                Duration::from_secs(1u64 << doublings).min(MAX_LOGIN_DELAY)
            }
            _ => Duration::ZERO,
        }
    }

    /// Records the outcome of an attempt.
    pub fn record(&self, login: &str, succeeded: bool) {
        let mut failures = self.lock();
        if succeeded {
            failures.remove(login);
        } else {
            let entry = failures
                .entry(login.to_string())
                .or_insert((0, Instant::now()));
            entry.0 += 1;
            entry.1 = Instant::now();
        }
    }
}

/// A token bucket: `rate` per second on average, `burst` at once.
pub struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    /// A full bucket.
    pub fn new(rate: u32, burst: u32) -> Self {
        Self {
            rate: f64::from(rate),
            burst: f64::from(burst.max(1)),
            tokens: f64::from(burst.max(1)),
            last: Instant::now(),
        }
    }

    /// Takes a token if there is one.
    pub fn take(&mut self) -> bool {
        self.take_at(Instant::now())
    }

    fn take_at(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Invitations per agent in the last minute.
#[derive(Default)]
pub struct InviteWindow {
    sent: Mutex<HashMap<i64, Vec<Instant>>>,
}

impl InviteWindow {
    /// Records an invitation if fewer than `per_minute` were sent in the last minute.
    pub fn allow(&self, agent_id: i64, per_minute: u32) -> bool {
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let times = sent.entry(agent_id).or_default();
        times.retain(|t| now.duration_since(*t) < Duration::from_secs(60));
        if times.len() >= per_minute as usize {
            return false;
        }
        times.push(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_slow_down_after_three_failures_and_recover_on_success() {
        let t = LoginThrottle::default();
        for _ in 0..3 {
            assert_eq!(t.delay("ana"), Duration::ZERO);
            t.record("ana", false);
        }
        assert_eq!(t.delay("ana"), Duration::from_secs(1));
        t.record("ana", false);
        assert_eq!(t.delay("ana"), Duration::from_secs(2));
        for _ in 0..10 {
            t.record("ana", false);
        }
        assert_eq!(t.delay("ana"), MAX_LOGIN_DELAY);
        assert_eq!(
            t.delay("ben"),
            Duration::ZERO,
            "other logins are not affected"
        );
        t.record("ana", true);
        assert_eq!(t.delay("ana"), Duration::ZERO);
    }

    #[test]
    fn a_bucket_allows_a_burst_then_the_rate() {
        let start = Instant::now();
        let mut b = Bucket::new(10, 3);
        b.last = start;
        assert!(b.take_at(start) && b.take_at(start) && b.take_at(start));
        assert!(!b.take_at(start));
        assert!(b.take_at(start + Duration::from_millis(100)));
        assert!(!b.take_at(start + Duration::from_millis(150)));
    }

    #[test]
    fn invitations_are_counted_per_agent() {
        let w = InviteWindow::default();
        assert!(w.allow(1, 2) && w.allow(1, 2));
        assert!(!w.allow(1, 2));
        assert!(w.allow(2, 2));
    }
}
