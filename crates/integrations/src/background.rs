//! The dispatcher's own Tokio runtime, whose threads run at a lower OS scheduling priority
//! than the request path's (decision 0029). Draining a large backlog is CPU work (claims,
//! payloads, HTTP to the target, acknowledgements) that must not lengthen the requests'
//! latency: on Linux each of its threads raises its own niceness by `nice` when it starts
//! (`setpriority(PRIO_PROCESS, tid, ..)` applies to one thread), so when the cores are busy
//! the scheduler gives the request threads (nice 0) about ten times the CPU of a dispatcher
//! thread at nice 10, and the dispatcher takes whatever is left. With `idle` its threads go to
//! Linux's `SCHED_IDLE` class instead (decision 0041): they run only on time no other thread
//! wants, and a request thread that wakes takes the core at once.

use std::io;

pub use motcua_store::priority::{set_thread_idle, set_thread_nice, thread_is_idle, thread_nice};

/// Name of the runtime's threads (shown by `top -H`, `ps -L`).
pub const THREAD_NAME: &str = "motcua-outbox";

/// Niceness is at most this (the lowest priority).
const MAX_NICE: i32 = 19;

/// A multi-threaded runtime of `threads` workers (at least 1; its blocking threads too) whose
/// every thread makes itself `nice` levels nicer than the thread that built it when it starts
/// (0: same priority; at most 19). A thread that cannot change its priority says so in the log
/// and runs on at the inherited one. With `idle` the threads join the `SCHED_IDLE` class
/// instead, and `nice` does not apply.
pub fn runtime(threads: usize, nice: i32, idle: bool) -> io::Result<tokio::runtime::Runtime> {
    let nice = nice.clamp(0, MAX_NICE);
    let base = thread_nice().unwrap_or(0);
    let target = (base + nice).min(MAX_NICE);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .max_blocking_threads(threads.max(1) * 4)
        .thread_name(THREAD_NAME)
        .enable_all()
        .on_thread_start(move || {
            if idle {
                if let Err(e) = set_thread_idle() {
                    tracing::warn!(error = %e, "could not put the outbox dispatcher thread in the idle class");
                }
                return;
            }
            if nice == 0 {
                return;
            }
            if let Err(e) = set_thread_nice(target) {
                tracing::warn!(error = %e, nice = target, "could not lower the outbox dispatcher thread's priority");
            }
        })
        .build()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn the_runtime_threads_run_nicer_and_the_caller_does_not() {
        let before = thread_nice().unwrap();
        let rt = runtime(2, 7, false).unwrap();
        let (worker, name) = rt.block_on(async {
            tokio::spawn(async {
                (
                    thread_nice().unwrap(),
                    std::thread::current().name().map(str::to_string),
                )
            })
            .await
            .unwrap()
        });
        assert_eq!(
            worker,
            (before + 7).min(19),
            "a worker thread is 7 levels nicer"
        );
        assert_eq!(name.as_deref(), Some(THREAD_NAME));
        let blocking = rt.block_on(async {
            tokio::task::spawn_blocking(|| thread_nice().unwrap())
                .await
                .unwrap()
        });
        assert_eq!(blocking, (before + 7).min(19), "blocking threads too");
        assert_eq!(
            thread_nice().unwrap(),
            before,
            "the caller keeps its priority"
        );
        rt.shutdown_background();
        // 0 leaves the threads alone.
        let rt = runtime(1, 0, false).unwrap();
        let same = rt.block_on(async { tokio::spawn(async { thread_nice().unwrap() }).await });
        assert_eq!(same.unwrap(), before);
        rt.shutdown_background();
    }

    #[test]
    fn idle_runtime_threads_run_in_the_idle_class_and_the_caller_does_not() {
        let rt = runtime(1, 7, true).unwrap();
        let worker = rt.block_on(async { tokio::spawn(async { thread_is_idle() }).await });
        assert!(worker.unwrap(), "a worker thread is in SCHED_IDLE");
        let blocking =
            rt.block_on(async { tokio::task::spawn_blocking(thread_is_idle).await.unwrap() });
        assert!(blocking, "blocking threads too");
        assert!(!thread_is_idle(), "the caller keeps its class");
        rt.shutdown_background();
    }

    #[test]
    fn a_thread_can_make_itself_nicer() {
        // A thread may always make itself nicer.
        std::thread::spawn(|| {
            let n = thread_nice().unwrap();
            set_thread_nice((n + 3).min(19)).unwrap();
            assert_eq!(thread_nice().unwrap(), (n + 3).min(19));
        })
        .join()
        .unwrap();
    }
}
