//! Password hashing on a few threads of its own. argon2id is built to cost memory (19 MiB a
//! hash) and time: run without a bound, a shift change of agents signing in at once took the
//! hub to gigabytes. Here at most one hash runs per worker (about one per core), a bounded
//! queue waits for them, and what is over the queue is refused at once, so signing everyone
//! in goes at the rate the cores allow and costs at most a worker's memory each. The memory
//! of each hash is given back to the system as soon as it is done.
//!
//! The workers run at a lower scheduling priority than the rest of the hub: a sign-in waits
//! a few milliseconds more when the cores are busy, while conversations already going on
//! (whose latency agents feel on every message) are not slowed by a flood of password
//! guesses.

use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::services::password;

/// What a worker is asked to do.
enum Job {
    /// Whether `password` matches the stored `hash`.
    Verify {
        password: String,
        hash: String,
        done: oneshot::Sender<bool>,
    },
}

/// The hashing workers and their queue.
pub struct Hashing {
    queue: std_mpsc::SyncSender<Job>,
    /// A hash in the format and with the parameters of stored ones, to verify against when
    /// the login is unknown, so that the answer takes as long as for a real one.
    decoy: Arc<str>,
}

/// Every worker is busy and the queue is full: the hub signs in as many agents as it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the hub is busy signing agents in")]
pub struct Busy;

impl Hashing {
    /// Starts `workers` hashing threads (at least one) behind a queue of `queued` waiting
    /// hashes.
    pub fn start(workers: usize, queued: usize) -> anyhow::Result<Self> {
        give_large_allocations_back();
        let (queue, jobs) = std_mpsc::sync_channel::<Job>(queued);
        let jobs = Arc::new(Mutex::new(jobs));
        for n in 0..workers.max(1) {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("hashing-{n}"))
                .spawn(move || {
                    yield_to_the_rest_of_the_hub();
                    work(&jobs)
                })?;
        }
        let decoy = password::hash("a password nobody has")?;
        Ok(Self {
            queue,
            decoy: decoy.into(),
        })
    }

    /// Whether `password` matches `hash` (`None`: the login is unknown, and a decoy is
    /// verified instead so that the answer takes as long). Refused at once when the queue is
    /// full.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, Busy> {
        let known = hash.is_some();
        let (done, answer) = oneshot::channel();
        let job = Job::Verify {
            password: password.to_string(),
            hash: hash.unwrap_or(&self.decoy).to_string(),
            done,
        };
        self.queue.try_send(job).map_err(|_| Busy)?;
        // A worker that died takes its jobs with it: a failed check, never a match.
        let matches = answer.await.unwrap_or(false);
        Ok(known && matches)
    }
}

fn work(jobs: &Mutex<std_mpsc::Receiver<Job>>) {
    loop {
        // One worker takes the next job; the others wait for the lock, then for theirs.
        let job = match jobs.lock() {
            Ok(jobs) => jobs.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        let Ok(job) = job else {
            return; // the hub stopped
        };
        match job {
            Job::Verify {
                password,
                hash,
                done,
            } => {
                let _ = done.send(password::verify(&password, &hash));
            }
        }
    }
}

/// Lowers the calling thread's priority (nice 10) where the system allows a thread its own;
/// elsewhere hashing keeps the process's priority.
fn yield_to_the_rest_of_the_hub() {
    #[cfg(target_os = "linux")]
    {
        const NICE: libc::c_int = 10;
        // SAFETY: gettid has no preconditions; on Linux a thread id names that thread alone
        // for setpriority, which only changes its scheduling weight.
        let changed = unsafe {
            let thread = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, thread as libc::id_t, NICE)
        };
        if changed != 0 {
            tracing::debug!("cannot lower the priority of password hashing");
        }
    }
}

/// glibc serves a large allocation with a mapping of its own and unmaps it when freed, until
/// a freed one raises the threshold for that (up to 32 MiB): from then on argon2's 19 MiB
/// blocks come from the heap and stay with the process after a burst. A fixed threshold
/// keeps every such block a mapping of its own, given back when freed.
fn give_large_allocations_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const THRESHOLD: libc::c_int = 1 << 20;
        // SAFETY: mallopt only changes glibc's allocation settings; a refused setting
        // (return 0) leaves the defaults, which are safe too.
        let set = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, THRESHOLD) };
        if set == 0 {
            tracing::debug!("cannot fix glibc's mmap threshold");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn verifies_and_refuses_beyond_the_queue() {
        let hashing = Hashing::start(1, 1).unwrap();
        let stored = password::hash("correct horse").unwrap();
        assert_eq!(
            hashing.verify("correct horse", Some(&stored)).await,
            Ok(true)
        );
        assert_eq!(hashing.verify("wrong", Some(&stored)).await, Ok(false));
        // An unknown login never matches, even with the decoy's own password.
        assert_eq!(
            hashing.verify("a password nobody has", None).await,
            Ok(false)
        );
        // One running, one waiting: the third of a burst is refused.
        let burst = (0..8).map(|_| hashing.verify("wrong", Some(&stored)));
        let answers = futures_util::future::join_all(burst).await;
        assert!(answers.contains(&Err(Busy)), "{answers:?}");
        assert!(answers.contains(&Ok(false)), "{answers:?}");
    }

    /// The workers' niceness as the kernel sees it (field 19 of /proc/self/task/N/stat).
    #[cfg(target_os = "linux")]
    fn hashing_niceness() -> Vec<i32> {
        let mut found = Vec::new();
        for task in std::fs::read_dir("/proc/self/task").unwrap() {
            let dir = task.unwrap().path();
            let name = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
            if !name.starts_with("hashing-") {
                continue;
            }
            let stat = std::fs::read_to_string(dir.join("stat")).unwrap();
            // The command name may hold spaces; fields are counted after its ')'.
            let after = &stat[stat.rfind(')').unwrap() + 2..];
            let nice = after.split(' ').nth(16).unwrap().parse().unwrap();
            found.push(nice);
        }
        found
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn workers_run_below_the_rest_of_the_hub() {
        let _hashing = Hashing::start(2, 1).unwrap();
        // A thread lowers itself as it starts: wait for every one to have started.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let niceness = hashing_niceness();
            if niceness.len() >= 2 && niceness.iter().all(|n| *n == 10) {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{niceness:?}");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}
