//! Per-thread OS scheduling priority (Linux: `setpriority(PRIO_PROCESS, tid, ..)` applies to one
//! thread). The outbox dispatcher's threads make themselves nicer (decision 0029); the SQLite
//! writer and its WAL syncer ask for a higher priority than the request threads (decision
//! 0040), which only a process allowed to (`CAP_SYS_NICE`, or `LimitNICE=` in a systemd unit)
//! gets.

use std::io;

/// Niceness is at least this (the highest priority).
const MIN_NICE: i32 = -20;

/// How many levels above the request threads the SQLite writer and its syncer ask to run.
pub const WRITER_BOOST: i32 = 10;

/// Raises the calling thread's priority by [`WRITER_BOOST`] levels, or says in the log why it
/// stays where it is (most often: the process may not raise priorities).
pub fn raise_writer_thread(what: &str) {
    let Ok(base) = thread_nice() else {
        return;
    };
    let target = (base - WRITER_BOOST).max(MIN_NICE);
    match set_thread_nice(target) {
        Ok(()) => tracing::debug!(thread = what, nice = target, "priority raised"),
        Err(e) => tracing::info!(
            thread = what,
            error = %e,
            "runs at the request threads' priority (raising it needs CAP_SYS_NICE or LimitNICE)"
        ),
    }
}

/// Sets the calling thread's niceness (Linux: the thread alone; elsewhere: not supported).
pub fn set_thread_nice(nice: i32) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain system calls on this thread's own id, no memory shared.
        let r = unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            libc::setpriority(libc::PRIO_PROCESS, tid, nice)
        };
        if r == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = nice;
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "per-thread priority is only set on Linux",
        ))
    }
}

/// Puts the calling thread in Linux's `SCHED_IDLE` class: it runs only on CPU time that no
/// other thread wants, and a normal thread that wakes takes its core at once (elsewhere: not
/// supported). A thread may always do this to itself.
pub fn set_thread_idle() -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: a plain system call on the calling thread (pid 0); `param` outlives it.
        let r = unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) };
        if r == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "scheduling classes are only set on Linux",
        ))
    }
}

/// Whether the calling thread is in the `SCHED_IDLE` class (Linux; elsewhere: false).
pub fn thread_is_idle() -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: a plain system call on the calling thread.
        unsafe { libc::sched_getscheduler(0) == libc::SCHED_IDLE }
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// The calling thread's niceness (Linux; elsewhere: not supported).
pub fn thread_nice() -> io::Result<i32> {
    #[cfg(target_os = "linux")]
    {
        // getpriority may return -1 as a value: errno tells an error apart.
        // SAFETY: plain system calls on this thread's own id; errno is thread-local.
        unsafe {
            *libc::__errno_location() = 0;
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            let v = libc::getpriority(libc::PRIO_PROCESS, tid);
            if v == -1 && *libc::__errno_location() != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(v)
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "per-thread priority is only read on Linux",
        ))
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// The writer's thread is raised when the process may raise priorities, and left as it was
    /// otherwise; its caller never changes.
    #[test]
    fn a_writer_thread_is_raised_when_allowed_and_left_alone_otherwise() {
        let caller = thread_nice().unwrap();
        let (before, after) = std::thread::spawn(|| {
            let before = thread_nice().unwrap();
            raise_writer_thread("test");
            (before, thread_nice().unwrap())
        })
        .join()
        .unwrap();
        let allowed = (before - WRITER_BOOST).max(MIN_NICE);
        assert!(after == allowed || after == before, "{before} -> {after}");
        assert_eq!(thread_nice().unwrap(), caller);
    }
}
