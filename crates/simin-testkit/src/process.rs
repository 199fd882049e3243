//! One child process of the `simin` binary, logging to its own file, killed on drop.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tracing::debug;

use crate::TestkitError;

/// Log filter of node processes unless `SIMIN_TEST_LOG` says otherwise.
const LOG_DEFAULT: &str = "info,arc_malachitebft=warn,libp2p=warn";
/// Poll interval while waiting for a process to exit.
const EXIT_POLL: Duration = Duration::from_millis(20);

/// A running `simin` process. Dropping it kills it (SIGKILL) and reaps it.
#[derive(Debug)]
pub struct Process {
    name: String,
    log: PathBuf,
    child: Mutex<Child>,
}

impl Process {
    /// Runs `binary args...` with stdout and stderr appended to `log`.
    pub fn spawn(
        name: &str,
        binary: &Path,
        args: &[&str],
        log: &Path,
    ) -> Result<Process, TestkitError> {
        let file = File::options()
            .create(true)
            .append(true)
            .open(log)
            .map_err(TestkitError::io("open", log))?;
        let stderr = file.try_clone().map_err(TestkitError::io("clone", log))?;
        let filter = std::env::var("SIMIN_TEST_LOG").unwrap_or_else(|_| LOG_DEFAULT.into());
        let child = Command::new(binary)
            .args(args)
            .env("RUST_LOG", filter)
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(stderr)
            .spawn()
            .map_err(TestkitError::io("run", binary))?;
        debug!(name, pid = child.id(), ?args, "started");
        Ok(Process {
            name: name.to_owned(),
            log: log.to_owned(),
            child: Mutex::new(child),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn log(&self) -> &Path {
        &self.log
    }

    pub fn pid(&self) -> u32 {
        self.lock().id()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Child> {
        // A poisoned lock only means a panicking test held it; the child is still valid.
        self.child.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Err(Exited)` if the process has exited (it should be running).
    pub fn check_running(&self) -> Result<(), TestkitError> {
        match self.lock().try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(self.exited(status)),
            Err(e) => Err(TestkitError::io("wait for", &self.log)(e)),
        }
    }

    fn exited(&self, status: ExitStatus) -> TestkitError {
        TestkitError::Exited {
            node: self.name.clone(),
            status: status.to_string(),
            log: self.log.clone(),
        }
    }

    /// SIGKILL: the process dies at once, mid-write if it was writing.
    pub fn kill(self) -> Result<ExitStatus, TestkitError> {
        let mut child = self.lock();
        // `kill` fails only if the child was already reaped or exited; `wait` tells which.
        let _ = child.kill();
        child
            .wait()
            .map_err(TestkitError::io("wait for", &self.log))
    }

    /// SIGTERM, then waits up to `timeout` for a clean exit; SIGKILL after that.
    pub fn terminate(self, timeout: Duration) -> Result<ExitStatus, TestkitError> {
        let pid = self.pid().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .map_err(TestkitError::io("run", "kill"))?;
        if !status.success() {
            return Err(TestkitError::Command {
                command: format!("kill -TERM {pid}"),
                detail: status.to_string(),
            });
        }
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self
                .lock()
                .try_wait()
                .map_err(TestkitError::io("wait for", &self.log))?
            {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                let _ = self.kill();
                return Err(TestkitError::Timeout {
                    what: format!("{} to exit after SIGTERM", pid),
                    secs: timeout.as_secs(),
                });
            }
            std::thread::sleep(EXIT_POLL);
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Ok(None) = child.try_wait() {
            let _ = child.kill();
        }
        let _ = child.wait();
    }
}
