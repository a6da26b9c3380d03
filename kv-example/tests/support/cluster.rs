//! A cluster of real `kv serve` processes on loopback for the tests: start,
//! SIGKILL, pause (SIGSTOP) and resume (SIGCONT) nodes, wait for a leader
//! and for the nodes to agree. Every process is killed when the cluster is
//! dropped, a panicking test included, and its files are removed.

#![allow(dead_code, unreachable_pub)]

use std::fs::File;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;
use tempfile::TempDir;

/// How long a node may take to answer its health check after it starts.
pub const READY_WITHIN: Duration = Duration::from_secs(30);

/// How long the tests wait for a leader, or for the nodes to agree.
pub const SETTLE_WITHIN: Duration = Duration::from_secs(30);

/// The interval of every readiness poll.
const POLL: Duration = Duration::from_millis(50);

/// The `kv` binary under test.
pub fn kv_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kv"))
}

/// One node's addresses.
#[derive(Clone, Copy, Debug)]
pub struct Ports {
    pub raft: u16,
    pub http: u16,
}

/// `count` ports free on loopback right now (the system picks them; they
/// are released before return, so another process could take one first).
pub fn free_ports(count: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> =
        (0..count).map(|_| TcpListener::bind("127.0.0.1:0").expect("bind a free port")).collect();
    listeners.iter().map(|listener| listener.local_addr().unwrap().port()).collect()
}

/// A cluster of `kv serve` processes; node `i` (from 0) has id `i + 1`.
#[derive(Debug)]
pub struct Cluster {
    dir: TempDir,
    ports: Vec<Ports>,
    nodes: Vec<Option<Child>>,
    extra: Vec<String>,
}

/// One HTTP answer: status and JSON body (`Value::Null` if none).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Cluster {
    /// Starts `size` nodes, each with `extra` flags added, and waits until
    /// every one answers its health check.
    pub fn start(size: usize, extra: &[&str]) -> Cluster {
        let ports = free_ports(size * 2);
        let ports =
            (0..size).map(|i| Ports { raft: ports[2 * i], http: ports[2 * i + 1] }).collect();
        let mut cluster = Cluster {
            dir: tempfile::tempdir().expect("a temporary directory"),
            ports,
            nodes: (0..size).map(|_| None).collect(),
            extra: extra.iter().map(|flag| (*flag).to_owned()).collect(),
        };
        for node in 0..size {
            cluster.spawn(node);
        }
        for node in 0..size {
            cluster.wait_healthy(node);
        }
        cluster
    }

    pub fn size(&self) -> usize {
        self.ports.len()
    }

    /// Node `node`'s base URL.
    pub fn url(&self, node: usize) -> String {
        format!("http://127.0.0.1:{}", self.ports[node].http)
    }

    /// Node `node`'s Raft address.
    pub fn raft_address(&self, node: usize) -> String {
        format!("127.0.0.1:{}", self.ports[node].raft)
    }

    /// Node `node`'s data directory.
    pub fn data_dir(&self, node: usize) -> PathBuf {
        self.dir.path().join(format!("node-{}", node + 1))
    }

    fn log(&self, node: usize) -> PathBuf {
        self.dir.path().join(format!("node-{}.log", node + 1))
    }

    /// The `--member` flags of every node.
    pub fn member_flags(&self) -> Vec<String> {
        let mut flags = Vec::new();
        for (index, ports) in self.ports.iter().enumerate() {
            flags.push("--member".to_owned());
            flags.push(format!("{}=127.0.0.1:{},127.0.0.1:{}", index + 1, ports.raft, ports.http));
        }
        flags
    }

    fn spawn(&mut self, node: usize) {
        assert!(self.nodes[node].is_none(), "node {} is running already", node + 1);
        let log = File::options().create(true).append(true).open(self.log(node)).unwrap();
        let child = Command::new(kv_binary())
            .arg("serve")
            .arg("--id")
            .arg((node + 1).to_string())
            .arg("--data-dir")
            .arg(self.data_dir(node))
            .args(self.member_flags())
            .args(&self.extra)
            .arg("--exit-with-stdin")
            .stdin(Stdio::piped())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start kv serve");
        self.nodes[node] = Some(child);
    }

    /// Polls node `node`'s `/health` until it answers; panics with its log
    /// if it exits or does not answer in time.
    fn wait_healthy(&mut self, node: usize) {
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if let Some(child) = &mut self.nodes[node]
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "node {} exited ({status}) while starting:\n{}",
                    node + 1,
                    self.log_tail(node)
                );
            }
            if let Ok(answer) = get(&format!("{}/health", self.url(node))) {
                assert_eq!(answer.status, 200, "node {} is unhealthy: {:?}", node + 1, answer.body);
                return;
            }
            assert!(
                Instant::now() < deadline,
                "node {} did not answer within {READY_WITHIN:?}:\n{}",
                node + 1,
                self.log_tail(node)
            );
            sleep(POLL);
        }
    }

    /// Everything node `node` has logged.
    pub fn log_text(&self, node: usize) -> String {
        std::fs::read_to_string(self.log(node)).unwrap_or_default()
    }

    /// The end of node `node`'s log.
    pub fn log_tail(&self, node: usize) -> String {
        let text = self.log_text(node);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Whether node `node` is running (started and not killed).
    pub fn is_running(&self, node: usize) -> bool {
        self.nodes[node].is_some()
    }

    /// SIGKILLs node `node` and reaps it.
    pub fn kill(&mut self, node: usize) {
        let mut child = self.nodes[node].take().expect("the node runs");
        child.kill().expect("SIGKILL");
        child.wait().expect("reap the node");
    }

    /// Stops node `node` with SIGTERM and reaps it; SIGKILLs it if it has not
    /// exited within [`READY_WITHIN`]. Returns how it exited.
    pub fn terminate(&mut self, node: usize) -> ExitStatus {
        self.signal(node, Signal::SIGTERM);
        let mut child = self.nodes[node].take().expect("the node runs");
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if let Some(status) = child.try_wait().expect("wait for the node") {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                panic!("node {} did not stop on SIGTERM:\n{}", node + 1, self.log_tail(node));
            }
            sleep(POLL);
        }
    }

    /// Starts node `node` again on its data and waits until it answers.
    pub fn restart(&mut self, node: usize) {
        self.spawn(node);
        self.wait_healthy(node);
    }

    fn signal(&self, node: usize, signal: Signal) {
        let child = self.nodes[node].as_ref().expect("the node runs");
        kill(Pid::from_raw(child.id() as i32), signal).expect("signal the node");
    }

    /// Freezes node `node` (SIGSTOP): it neither sends nor answers, as if cut
    /// off from everyone, until [`resume`](Self::resume).
    pub fn pause(&self, node: usize) {
        self.signal(node, Signal::SIGSTOP);
    }

    /// Lets a paused node run again (SIGCONT).
    pub fn resume(&self, node: usize) {
        self.signal(node, Signal::SIGCONT);
    }

    /// Node `node`'s `/status`, if it answers.
    pub fn status(&self, node: usize) -> Option<Value> {
        let answer = get(&format!("{}/status", self.url(node))).ok()?;
        (answer.status == 200).then_some(answer.body)
    }

    /// Waits until one of `among` leads and every other one of them follows
    /// it in its term; returns the leader's index.
    pub fn wait_for_leader(&self, among: &[usize]) -> usize {
        let deadline = Instant::now() + SETTLE_WITHIN;
        loop {
            let statuses: Vec<Option<Value>> =
                among.iter().map(|&node| self.status(node)).collect();
            if statuses.iter().all(Option::is_some) {
                let statuses: Vec<Value> = statuses.into_iter().flatten().collect();
                let leaders: Vec<usize> = among
                    .iter()
                    .zip(&statuses)
                    .filter(|(_, status)| status["role"] == "leader")
                    .map(|(&node, _)| node)
                    .collect();
                if let [leader] = leaders[..] {
                    let term = &statuses[among.iter().position(|&n| n == leader).unwrap()]["term"];
                    let agreed = statuses.iter().all(|status| {
                        status["term"] == *term && status["leader"] == (leader as u64 + 1)
                    });
                    if agreed {
                        return leader;
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "no single leader among {among:?} in {SETTLE_WITHIN:?}"
            );
            sleep(POLL);
        }
    }

    /// Waits until every running node has applied everything the leader
    /// had committed when this was called (after a fresh write, so the
    /// commit covers the whole history).
    pub fn wait_converged(&self) {
        let running: Vec<usize> = (0..self.size()).filter(|&node| self.is_running(node)).collect();
        let leader = self.wait_for_leader(&running);
        let marker =
            put(&self.url(leader), "converged-marker", "done", None).expect("the marker write");
        assert_eq!(marker.status, 200, "the marker write failed: {:?}", marker.body);
        let target =
            self.status(leader).expect("the leader answers")["commit_index"].as_u64().unwrap();
        let deadline = Instant::now() + SETTLE_WITHIN;
        for &node in &running {
            loop {
                let applied = self.status(node).and_then(|status| status["applied_index"].as_u64());
                if applied.is_some_and(|applied| applied >= target) {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "node {} did not apply index {target} in {SETTLE_WITHIN:?} (at {applied:?})",
                    node + 1
                );
                sleep(POLL);
            }
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in self.nodes.iter_mut().flatten() {
            // A paused process dies of SIGKILL too; resume it anyway so
            // nothing is left stopped if the kill fails.
            let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGCONT);
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(timeout).build()
}

/// How long a test's request may take: past the nodes' submit timeout.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends one request; `Err` when no HTTP answer came (refused, reset, timed
/// out).
pub fn request(method: &str, url: &str, body: Option<&[u8]>) -> Result<Answer, String> {
    let request =
        agent(REQUEST_TIMEOUT).request(method, url).set("content-type", "application/json");
    let result = match body {
        Some(body) => request.send_bytes(body),
        None => request.call(),
    };
    match result {
        Ok(response) | Err(ureq::Error::Status(_, response)) => {
            let status = response.status();
            let text = response.into_string().map_err(|error| error.to_string())?;
            let body = if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text)
                    .map_err(|error| format!("not JSON ({error}): {text}"))?
            };
            Ok(Answer { status, body })
        }
        Err(error) => Err(error.to_string()),
    }
}

pub fn get(url: &str) -> Result<Answer, String> {
    request("GET", url, None)
}

/// `PUT {base}/kv/{key}` with `value` and, if given, the expected version.
pub fn put(base: &str, key: &str, value: &str, version: Option<u64>) -> Result<Answer, String> {
    let body = match version {
        Some(version) => serde_json::json!({ "value": value, "version": version }),
        None => serde_json::json!({ "value": value }),
    };
    request("PUT", &format!("{base}/kv/{key}"), Some(body.to_string().as_bytes()))
}
