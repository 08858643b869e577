//! Slowing down whoever sends too much: guessed passwords, messages and invitations.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Failed sign-ins before the next one waits.
const FREE_FAILURES: u32 = 3;
/// The longest wait between two sign-ins.
const MAX_LOGIN_DELAY: Duration = Duration::from_secs(16);
/// Failures are forgotten after this long without attempts.
const FAILURE_MEMORY: Duration = Duration::from_secs(15 * 60);
/// How many logins and addresses the throttle keeps at most; the oldest go first.
const MAX_TRACKED: usize = 65_536;

/// Failed sign-ins per login and source address. A login's attempts from one address run one
/// at a time, and after three failures each must wait (1 s, doubling to 16 s) before it is
/// even checked: many connections guessing in parallel guess no faster than one. The agent
/// signing in from elsewhere is not held back by them. Unknown logins are throttled alike,
/// so the throttle tells nobody which logins exist. Memory is bounded, each step O(1).
pub struct LoginThrottle {
    table: Mutex<Table>,
}

type Key = (String, IpAddr);

#[derive(Default)]
struct Table {
    entries: HashMap<Key, Entry>,
    /// Keys in the order they were added, to forget the oldest when the table is full.
    added: VecDeque<Key>,
}

struct Entry {
    failures: u32,
    /// When the next attempt may be checked.
    next_at: Instant,
    /// When the last attempt ended.
    last: Instant,
    /// An attempt is being checked.
    checking: bool,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            table: Mutex::new(Table::default()),
        }
    }
}

impl LoginThrottle {
    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        // Every update under the lock is a few assignments that cannot panic half-way.
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts an attempt for `login` from `from`, or says how long to wait first.
    pub fn begin(self: &Arc<Self>, login: &str, from: IpAddr) -> Result<Attempt, Duration> {
        let now = Instant::now();
        let key = (login.to_string(), from);
        let mut table = self.lock();
        match table.entries.get_mut(&key) {
            Some(entry) if now.duration_since(entry.last) >= FAILURE_MEMORY && !entry.checking => {
                entry.failures = 0;
                entry.next_at = now;
                entry.checking = true;
            }
            Some(entry) if entry.checking => return Err(MIN_WAIT),
            Some(entry) if now < entry.next_at => return Err(entry.next_at - now),
            Some(entry) => entry.checking = true,
            None => {
                if table.entries.len() >= MAX_TRACKED {
                    if let Some(oldest) = table.added.pop_front() {
                        table.entries.remove(&oldest);
                    }
                }
                table.entries.insert(
                    key.clone(),
                    Entry {
                        failures: 0,
                        next_at: now,
                        last: now,
                        checking: true,
                    },
                );
                table.added.push_back(key.clone());
            }
        }
        Ok(Attempt {
            throttle: self.clone(),
            key: Some(key),
        })
    }

    fn end(&self, key: &Key, outcome: Outcome) {
        let now = Instant::now();
        let mut table = self.lock();
        match outcome {
            Outcome::Succeeded => {
                table.entries.remove(key);
            }
            Outcome::Unchecked => {
                if let Some(entry) = table.entries.get_mut(key) {
                    entry.checking = false;
                }
            }
            Outcome::Failed => {
                if let Some(entry) = table.entries.get_mut(key) {
                    entry.failures = entry.failures.saturating_add(1);
                    entry.checking = false;
                    entry.last = now;
                    entry.next_at = now + delay_after(entry.failures);
                }
            }
        }
    }

    /// How many logins and addresses are tracked.
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.lock().entries.len()
    }
}

/// The wait told to an attempt made while another one of the same login and address is
/// being checked.
const MIN_WAIT: Duration = Duration::from_secs(1);

fn delay_after(failures: u32) -> Duration {
    if failures < FREE_FAILURES {
        return Duration::ZERO;
    }
    let doublings = (failures - FREE_FAILURES).min(5);
    Duration::from_secs(1u64 << doublings).min(MAX_LOGIN_DELAY)
}

enum Outcome {
    Succeeded,
    Failed,
    /// Not checked at all (the hub was too busy): it counts for nothing.
    Unchecked,
}

/// A sign-in attempt being checked. Dropped without an outcome (its connection went away
/// meanwhile), it counts as failed.
pub struct Attempt {
    throttle: Arc<LoginThrottle>,
    key: Option<Key>,
}

impl Attempt {
    /// The password was right.
    pub fn succeeded(mut self) {
        self.finish(Outcome::Succeeded);
    }

    /// The password was wrong, or the login unknown.
    pub fn failed(mut self) {
        self.finish(Outcome::Failed);
    }

    /// The attempt could not be checked.
    pub fn unchecked(mut self) {
        self.finish(Outcome::Unchecked);
    }

    fn finish(&mut self, outcome: Outcome) {
        if let Some(key) = self.key.take() {
            self.throttle.end(&key, outcome);
        }
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        self.finish(Outcome::Failed);
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

/// What an agent spends from a budget of their own, shared by all their devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Spend {
    /// A message.
    Message,
    /// A read that costs the hub (a search, a snapshot, an interaction's details).
    Read,
}

/// Each agent's budgets, across all of their connections: twenty connections send no more
/// than one.
#[derive(Default)]
pub struct AgentBudgets {
    buckets: Mutex<HashMap<(i64, Spend), Bucket>>,
}

impl AgentBudgets {
    /// Takes one from the agent's budget for `spend` (`rate` a second, `burst` at once), if
    /// there is one left.
    pub fn take(&self, agent_id: i64, spend: Spend, rate: u32, burst: u32) -> bool {
        self.buckets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((agent_id, spend))
            .or_insert_with(|| Bucket::new(rate, burst))
            .take()
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

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const ELSEWHERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn sign_ins_wait_after_three_failures_one_at_a_time_and_recover_on_success() {
        let t = Arc::new(LoginThrottle::default());
        for _ in 0..3 {
            t.begin("ana", HOME).unwrap().failed();
        }
        let wait = t
            .begin("ana", HOME)
            .err()
            .expect("a wait after three failures");
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1));
        // Another address is not held back, and one attempt at a time is checked there.
        let checking = t.begin("ana", ELSEWHERE).unwrap();
        assert!(t.begin("ana", ELSEWHERE).is_err(), "two at once");
        checking.succeeded();
        t.begin("ana", ELSEWHERE).unwrap().succeeded();
        assert_eq!(delay_after(4), Duration::from_secs(2));
        assert_eq!(delay_after(30), MAX_LOGIN_DELAY);
        // An attempt that was never checked counts for nothing; one dropped, as failed.
        let t = Arc::new(LoginThrottle::default());
        for _ in 0..5 {
            t.begin("ben", HOME).unwrap().unchecked();
        }
        for _ in 0..3 {
            drop(t.begin("ben", HOME).unwrap());
        }
        assert!(t.begin("ben", HOME).is_err());
    }

    #[test]
    fn the_table_keeps_at_most_its_bound() {
        let t = Arc::new(LoginThrottle::default());
        for n in 0..MAX_TRACKED + 100 {
            t.begin(&format!("guess-{n}"), HOME).unwrap().failed();
        }
        assert_eq!(t.tracked(), MAX_TRACKED);
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
