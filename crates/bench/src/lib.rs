//! What Huddle's benchmarks share: the memory of a process tree, latency summaries, and the
//! medians and ratios they print. The benchmarks themselves are binaries run on demand
//! (`scripts/bench-load.sh`, `scripts/bench-footprint.sh`), never in the timed test path.

pub mod hub_process;

use std::fmt::Write as _;
use std::path::Path;

use hdrhistogram::Histogram;

/// The proportional set size (PSS) of a process and all its descendants, in KiB: what the
/// tree costs the machine, each shared page counted in proportion to its sharers.
pub fn tree_pss_kib(root: u32) -> std::io::Result<u64> {
    let mut total = 0;
    for pid in tree(root) {
        // A process may end while the tree is read; it then costs nothing.
        if let Ok(kib) = pss_kib(pid) {
            total += kib;
        }
    }
    Ok(total)
}

/// The CPU time a process has used so far (user and system, all its threads), in seconds.
pub fn cpu_seconds(pid: u32) -> std::io::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields are counted after the command name, which may hold spaces and ends at the last ')'.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let field = |n: usize| -> std::io::Result<f64> {
        after
            .split_whitespace()
            .nth(n)
            .and_then(|v| v.parse::<f64>().ok())
            .ok_or_else(|| std::io::Error::other("unexpected /proc/PID/stat"))
    };
    // utime and stime (fields 14 and 15), in clock ticks: USER_HZ, 100 in Linux's ABI.
    Ok((field(11)? + field(12)?) / 100.0)
}

/// The CPU time processes and all their descendants have used so far, in seconds (those
/// that ended meanwhile are not counted).
pub fn trees_cpu_seconds(roots: &[u32]) -> std::io::Result<f64> {
    let mut total = 0.0;
    for root in roots {
        for pid in tree(*root) {
            // A process may end while the tree is read.
            if let Ok(seconds) = cpu_seconds(pid) {
                total += seconds;
            }
        }
    }
    Ok(total)
}

/// A process and its descendants, from the kernel's `children` lists.
pub fn tree(root: u32) -> Vec<u32> {
    let mut found = vec![root];
    let mut next = 0;
    while next < found.len() {
        let pid = found[next];
        next += 1;
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            found.extend(
                children
                    .split_whitespace()
                    .filter_map(|c| c.parse::<u32>().ok()),
            );
        }
    }
    found
}

/// The PSS of one process, in KiB, from `/proc/<pid>/smaps_rollup`.
pub fn pss_kib(pid: u32) -> std::io::Result<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))?;
    pss_of_rollup(&text).ok_or_else(|| std::io::Error::other("no Pss line in smaps_rollup"))
}

fn pss_of_rollup(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The name of a process (`/proc/<pid>/comm`).
pub fn process_name(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| format!("pid {pid}"))
}

/// The median of some figures (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    }
}

/// A histogram of latencies in microseconds, from 1 µs to 60 s at 3 significant digits.
pub fn latency_histogram() -> Histogram<u64> {
    match Histogram::new_with_bounds(1, 60_000_000, 3) {
        Ok(h) => h,
        Err(e) => unreachable!("constant histogram bounds are valid: {e}"),
    }
}

/// p50, p99, p99.9 and max of a latency histogram, in milliseconds.
pub fn percentiles_ms(h: &Histogram<u64>) -> [f64; 4] {
    let ms = |us: u64| us as f64 / 1000.0;
    [
        ms(h.value_at_quantile(0.5)),
        ms(h.value_at_quantile(0.99)),
        ms(h.value_at_quantile(0.999)),
        ms(h.max()),
    ]
}

/// A table of figures with a column for each system and one for the ratio of the first to
/// the second (the baseline).
#[derive(Default)]
pub struct Table {
    rows: Vec<[String; 4]>,
}

impl Table {
    /// Adds a row: what, the measured figure, the baseline's, and their ratio (when both are
    /// numbers and the baseline is not zero).
    pub fn row(&mut self, what: &str, value: f64, baseline: Option<f64>, unit: &str) {
        let shown = |v: f64| format!("{} {unit}", human(v));
        let (base, ratio) = match baseline {
            Some(b) if b.is_finite() && b != 0.0 && value.is_finite() => {
                (shown(b), format!("{:.2}×", value / b))
            }
            Some(b) => (shown(b), "–".to_string()),
            None => ("–".to_string(), "–".to_string()),
        };
        self.rows
            .push([what.to_string(), shown(value), base, ratio]);
    }

    /// The table as text, under a header naming the two columns.
    pub fn render(&self, measured: &str, baseline: &str) -> String {
        let header = ["figure", measured, baseline, "ratio"].map(String::from);
        let all: Vec<&[String; 4]> = std::iter::once(&header).chain(&self.rows).collect();
        let width = |i: usize| all.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
        let widths = [width(0), width(1), width(2), width(3)];
        let mut out = String::new();
        for row in all {
            let _ = writeln!(
                out,
                "  {:<w0$}  {:>w1$}  {:>w2$}  {:>w3$}",
                row[0],
                row[1],
                row[2],
                row[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3]
            );
        }
        out
    }
}

/// A figure with a sensible number of decimals.
pub fn human(v: f64) -> String {
    if !v.is_finite() {
        "–".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A budget check line: `ok` or `MISSED`, what was measured and what the budget allows.
pub fn budget(what: &str, measured: f64, limit: f64, unit: &str) -> String {
    let verdict = if measured <= limit {
        "ok    "
    } else {
        "MISSED"
    };
    format!(
        "  {verdict} {what}: {} {unit} (budget {} {unit})",
        human(measured),
        human(limit)
    )
}

/// A budget check line for a figure that must reach at least `floor`.
pub fn budget_at_least(what: &str, measured: f64, floor: f64, unit: &str) -> String {
    let verdict = if measured >= floor {
        "ok    "
    } else {
        "MISSED"
    };
    format!(
        "  {verdict} {what}: {} {unit} (budget at least {} {unit})",
        human(measured),
        human(floor)
    )
}

/// Where a benchmark keeps what it prepares once and reuses (`~/.cache/huddle-bench/<name>`).
pub fn cache_dir(name: &str) -> std::path::PathBuf {
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("huddle-bench")
        .join(name)
}

/// Whether a path exists and is a file.
pub fn is_file(path: &Path) -> bool {
    path.metadata().is_ok_and(|m| m.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pss_line_is_read_from_smaps_rollup() {
        let text = "55d0-7ffe ---p 00000000 00:00 0 [rollup]\nRss: 2048 kB\nPss: 1234 kB\nPss_Anon: 100 kB\n";
        assert_eq!(pss_of_rollup(text), Some(1234));
        assert_eq!(pss_of_rollup("Rss: 1 kB\n"), None);
    }

    #[test]
    fn this_process_has_a_pss_and_is_in_its_own_tree() {
        let me = std::process::id();
        assert!(pss_kib(me).unwrap() > 0);
        assert!(tree(me).contains(&me));
        let child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let found = tree(me).contains(&child.id());
        let mut child = child;
        let _ = child.kill();
        let _ = child.wait();
        assert!(found, "a child process belongs to the tree");
    }

    #[test]
    fn medians_and_ratios() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        let mut t = Table::default();
        t.row("start", 300.0, Some(200.0), "ms");
        t.row("floor only", 5.0, None, "ms");
        let text = t.render("Huddle", "hello");
        assert!(text.contains("1.50×"), "{text}");
        assert!(budget("x", 2.0, 1.0, "ms").contains("MISSED"));
        assert!(budget("x", 1.0, 1.0, "ms").contains("ok"));
    }
}
