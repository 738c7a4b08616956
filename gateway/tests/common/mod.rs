//! What the gateway's process tests share: the `musubi` binary on a data folder, a child process
//! killed when the test ends, and a server's address read from what it prints.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The `musubi` binary on `data`, logging warnings only.
pub fn musubi(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_musubi"));
    c.arg("--data").arg(data).env("RUST_LOG", "warn");
    c
}

/// A child process, killed on drop.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `command` (a server: `serve`, `bench naive-sparql`), waits for the `open http://…` line
/// and returns the child with the address; stdout keeps being drained so the server never writes
/// into a closed pipe.
pub fn listening(command: Command) -> (Killed, SocketAddr) {
    let (child, addr, _) = listening_saying(command);
    (child, addr)
}

/// [`listening`], with the lines the server printed before its URL.
pub fn listening_saying(mut command: Command) -> (Killed, SocketAddr, Vec<String>) {
    let mut child = Killed(command.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("musubi starts"));
    let stdout = child.0.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut said = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("line");
        if let Some(url) = line.strip_prefix("open http://") {
            let addr = url.trim_end_matches("/graphql").parse().expect("address");
            std::thread::spawn(move || for _ in lines {});
            return (child, addr, said);
        }
        said.push(line);
    }
    panic!("{command:?} never printed its URL: {said:?}");
}
