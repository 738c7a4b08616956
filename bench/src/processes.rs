//! The hub's binaries run as processes, for the benchmarks (`musubi-bench run`, `soak`): finding
//! `musubi`, running it, serving a data folder, and reading a process's memory.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The `musubi` binary next to this one (same cargo profile).
pub fn musubi() -> Result<PathBuf, crate::Failed> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let path = me.with_file_name("musubi");
    path.exists().then_some(path.clone()).ok_or_else(|| crate::Failed(format!("{} not found: cargo build --release -p musubi-gateway", path.display())))
}

/// This binary, `musubi-bench`, to run its peers (`index`, `naive-sparql`) as processes of their own.
pub fn musubi_bench() -> Result<PathBuf, crate::Failed> {
    std::env::current_exe().map_err(|e| crate::Failed(format!("cannot find musubi-bench itself: {e}")))
}

pub fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else { return 0 };
    entries
        .filter_map(Result::ok)
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Peak and current resident memory of a process, in MiB, from /proc.
pub fn memory_mib(pid: u32) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
    };
    Some((field("VmHWM:")?, field("VmRSS:")?))
}

pub fn run(command: &mut Command, what: &str) -> Result<String, crate::Failed> {
    let out = command.output().map_err(|e| format!("{what}: cannot run: {e}"))?;
    if !out.status.success() {
        return Err(format!("{what} failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub struct Server {
    pub child: Child,
    pub url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `musubi serve` and waits for the line that gives its URL.
pub fn serve(musubi: &Path, data: &Path) -> Result<(Server, Instant), crate::Failed> {
    serve_sources(musubi, data, None)
}

/// As [`serve`], with the manifests of another folder than `<data>/sources`.
pub fn serve_sources(musubi: &Path, data: &Path, sources: Option<&Path>) -> Result<(Server, Instant), crate::Failed> {
    let log = data.join("serve.log");
    let started = Instant::now();
    let mut command = Command::new(musubi);
    command.args(["--data"]).arg(data);
    if let Some(sources) = sources {
        command.arg("--sources").arg(sources);
    }
    let child = command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(std::fs::File::create(&log).map_err(|e| e.to_string())?)
        // Kept: a server that dies mid-run says why there.
        .stderr(std::fs::File::create(data.join("serve.err")).map_err(|e| e.to_string())?)
        .spawn()
        .map_err(|e| format!("musubi serve: {e}"))?;
    let mut server = Server { child, url: String::new() };
    // Start-up projects the read model from the graph: minutes at 100,000 datasets and more.
    for _ in 0..START_LIMIT_TICKS {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(url) = text.lines().find_map(|l| l.strip_prefix("open ")) {
            server.url = url.trim().to_owned();
            return Ok((server, started));
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            return Err(format!("musubi serve exited ({status}): {text}").into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Err(format!("musubi serve did not print its URL within {} s", START_LIMIT_TICKS / 100).into())
}

/// How long a server may take to start, in 10 ms ticks (30 min).
pub const START_LIMIT_TICKS: u64 = 180_000;

pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| c.lines().find_map(|l| l.strip_prefix("model name").map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())))
        .unwrap_or_else(|| "unknown CPU".into())
}

/// A child process killed when dropped, with every process it started: peers run through `npx`,
/// which starts the gateway under a shell, and killing `npx` alone left the gateway serving.
pub struct Peer(pub Child);

impl Drop for Peer {
    fn drop(&mut self) {
        // The peer leads its own process group (see `start_peer`): signal the whole group.
        let _ = Command::new("kill").args(["-TERM", "--", &format!("-{}", self.0.id())]).status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `command` (a peer server) with its output in `log`, and waits until `log` holds a line
/// containing `ready`. The peer is killed (its whole process group) when dropped.
pub fn start_peer(command: &mut Command, log: &Path, ready: &str) -> Result<Peer, crate::Failed> {
    use std::os::unix::process::CommandExt;
    let child = command
        .process_group(0)
        .stdout(std::fs::File::create(log).map_err(|e| e.to_string())?)
        .stderr(std::fs::File::create(log.with_extension("err")).map_err(|e| e.to_string())?)
        .spawn()
        .map_err(|e| format!("{command:?}: {e}"))?;
    let mut peer = Peer(child);
    for _ in 0..START_LIMIT_TICKS {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.lines().any(|l| l.contains(ready)) {
            return Ok(peer);
        }
        if let Ok(Some(status)) = peer.0.try_wait() {
            let err = std::fs::read_to_string(log.with_extension("err")).unwrap_or_default();
            return Err(format!("{command:?} exited ({status}): {text}{err}").into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Err(format!("{command:?} did not say {ready:?} within {} s", START_LIMIT_TICKS / 100).into())
}

