//! Stalls of this process, told apart by who overslept. A thread of its own that wakes late was
//! not given a CPU: the machine was busy, or its host took the time. A task on the async
//! runtime that wakes late while that thread did not waited for a worker thread another task
//! held: work that blocks the runtime. Each stall of 25 ms or more is counted and logged, so a
//! slow request in the log can be read beside what stalled at that moment.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Once};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::PROCESS;

/// How often each watcher wakes: a hundred cheap wake-ups a second.
const TICK: Duration = Duration::from_millis(10);

/// A stall shorter than this is not reported (the slow-request threshold).
pub(super) const REPORTED: Duration = Duration::from_millis(25);

/// Which watcher overslept: `process` (a plain thread: no CPU for the process) or `runtime` (a
/// task: the runtime's worker threads were held while the process had the CPU).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stall {
    Process,
    Runtime,
}

impl Stall {
    pub fn as_str(self) -> &'static str {
        match self {
            Stall::Process => "process",
            Stall::Runtime => "runtime",
        }
    }
}

/// When the process watcher last woke late, in milliseconds since [`EPOCH`], and until when.
static PROCESS_STALLED_FROM: AtomicU64 = AtomicU64::new(0);
static PROCESS_STALLED_UNTIL: AtomicU64 = AtomicU64::new(0);
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

fn millis(at: Instant) -> u64 {
    at.saturating_duration_since(*EPOCH).as_millis() as u64
}

/// The thread watcher is the process's: started by the first [`watch`], whoever serves later.
static THREAD_WATCHER: Once = Once::new();

/// Starts both watchers; the runtime one ends with `stop`, the thread (one per process, however
/// often the portal is served in it, as the tests do) with the process.
pub fn watch(stop: CancellationToken) {
    LazyLock::force(&EPOCH);
    THREAD_WATCHER.call_once(watch_from_a_thread);
    tokio::spawn(async move {
        loop {
            let asleep = Instant::now();
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(TICK) => {}
            }
            let woke = Instant::now();
            let late = woke.duration_since(asleep).saturating_sub(TICK);
            if late >= REPORTED {
                let (from, until) = (
                    PROCESS_STALLED_FROM.load(Ordering::Relaxed),
                    PROCESS_STALLED_UNTIL.load(Ordering::Relaxed),
                );
                // What the thread overslept at the same time is the process's, counted by the
                // thread; the rest is the runtime's.
                let overlap = overlap_ms(millis(asleep), millis(woke), from, until);
                let held = late.saturating_sub(Duration::from_millis(overlap));
                if held >= REPORTED {
                    report(Stall::Runtime, held);
                }
            }
        }
    });
}

/// The process watcher: a plain thread that sleeps a tick and notes how late it woke.
fn watch_from_a_thread() {
    let thread = std::thread::Builder::new()
        .name("stall-watch".to_string())
        .spawn(|| {
            loop {
                let asleep = Instant::now();
                std::thread::sleep(TICK);
                let woke = Instant::now();
                let late = woke.duration_since(asleep).saturating_sub(TICK);
                if late >= REPORTED {
                    PROCESS_STALLED_FROM.store(millis(asleep), Ordering::Relaxed);
                    PROCESS_STALLED_UNTIL.store(millis(woke), Ordering::Relaxed);
                    report(Stall::Process, late);
                }
            }
        });
    if let Err(e) = thread {
        tracing::warn!(error = %e, "the stall watcher's thread did not start");
    }
}

/// How much of a runtime watcher's sleep `[asleep, woke]` the thread watcher's latest stall
/// `[from, until]` covered, in milliseconds.
fn overlap_ms(asleep: u64, woke: u64, from: u64, until: u64) -> u64 {
    woke.min(until).saturating_sub(asleep.max(from))
}

fn report(kind: Stall, late: Duration) {
    PROCESS
        .stalls
        .get_or_create(&super::StallLabels {
            kind: kind.as_str().to_string(),
        })
        .inc();
    let late_ms = late.as_millis() as u64;
    match kind {
        Stall::Process => tracing::info!(late_ms, "stall: the process waited for a CPU"),
        Stall::Runtime => {
            tracing::info!(late_ms, "stall: the runtime's threads were held by a task")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_the_thread_did_not_oversleep_too_is_the_runtimes() {
        // The thread overslept from 100 to 160 ms.
        assert_eq!(overlap_ms(120, 170, 100, 160), 40);
        assert_eq!(overlap_ms(90, 110, 100, 160), 10);
        assert_eq!(overlap_ms(50, 400, 100, 160), 60);
        // Before, after, or no thread stall at all: none of it.
        assert_eq!(overlap_ms(200, 260, 100, 160), 0);
        assert_eq!(overlap_ms(20, 80, 100, 160), 0);
        assert_eq!(overlap_ms(20, 80, 0, 0), 0);
    }

    fn runtime_stalls() -> u64 {
        PROCESS
            .stalls
            .get_or_create(&crate::metrics::StallLabels {
                kind: Stall::Runtime.as_str().to_string(),
            })
            .get()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_task_that_blocks_the_only_worker_thread_is_a_runtime_stall() {
        let stop = CancellationToken::new();
        watch(stop.clone());
        tokio::time::sleep(Duration::from_millis(30)).await;
        let before = runtime_stalls();
        // Blocks the runtime's one worker for 150 ms; the thread watcher keeps its CPU.
        tokio::spawn(async { std::thread::sleep(Duration::from_millis(150)) })
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(40)).await;
        let after = runtime_stalls();
        stop.cancel();
        assert!(
            after > before,
            "the held worker was seen ({before} → {after})"
        );
    }
}
