//! `kv cluster` itself: it starts three nodes and says where they are, a
//! node killed with SIGKILL is started again, Ctrl-C (SIGINT) stops it and
//! its nodes cleanly, and running it again on the same directory resumes
//! from the same data.

#[path = "support/cluster.rs"]
mod cluster;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cluster::{get, kv_binary, put};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// A `kv cluster` process, killed if the test ends without stopping it.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = kill(Pid::from_raw(self.0.id() as i32), Signal::SIGINT);
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A Raft base port and an HTTP base port with three free ports each.
fn three_free_port_pairs() -> (u16, u16) {
    for attempt in 0..200u16 {
        let raft = 20_000 + (std::process::id() as u16 % 500) * 20 + attempt * 7 % 10_000;
        let http = raft + 10;
        let all = (0..3).flat_map(|i| [raft + i, http + i]);
        let free: Vec<_> = all.map(|port| TcpListener::bind(("127.0.0.1", port))).collect();
        if free.iter().all(Result::is_ok) {
            return (raft, http);
        }
    }
    panic!("no run of free ports found");
}

/// Starts `kv cluster` and reads its output until it names the status page;
/// returns the process and what it printed.
fn start_cluster(dir: &str, raft: u16, http: u16) -> (Running, Vec<String>) {
    let mut child = Command::new(kv_binary())
        .args(["cluster", "--data-dir", dir])
        .args(["--raft-port", &raft.to_string(), "--http-port", &http.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start kv cluster");
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let mut lines = Vec::new();
    let mut output = BufReader::new(stdout).lines();
    for line in &mut output {
        let line = line.expect("read kv cluster's output");
        let done = line.starts_with("status page:");
        lines.push(line);
        if done {
            // Keep reading, so its last words find a reader.
            std::thread::spawn(move || output.for_each(drop));
            return (running, lines);
        }
    }
    panic!("kv cluster ended before it was ready: {lines:?}");
}

/// Sends SIGINT and waits for a clean exit.
fn interrupt(mut running: Running) {
    kill(Pid::from_raw(running.0.id() as i32), Signal::SIGINT).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = running.0.try_wait().unwrap() {
            assert!(status.success(), "kv cluster exits cleanly on Ctrl-C: {status}");
            return;
        }
        assert!(Instant::now() < deadline, "kv cluster did not stop on Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Polls `url` for a leader-backed linearizable read of `key`, with a
/// deadline; returns the answer's body.
fn read_when_ready(url: &str, key: &str) -> serde_json::Value {
    let deadline = Instant::now() + cluster::SETTLE_WITHIN;
    loop {
        if let Ok(answer) = get(&format!("{url}/kv/{key}"))
            && answer.status != 503
        {
            return answer.body;
        }
        assert!(Instant::now() < deadline, "no answer for {key} at {url}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_killed_node_is_restarted_ctrl_c_stops_everything_and_a_restart_resumes_from_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let (raft, http) = three_free_port_pairs();

    let (running, lines) = start_cluster(data, raft, http);
    for node in 0..3u16 {
        let url = format!("http://127.0.0.1:{}", http + node);
        assert!(
            lines.iter().any(|line| line.contains(&url)),
            "it names node {}: {lines:?}",
            node + 1
        );
    }
    let url = format!("http://127.0.0.1:{}", http + 1);
    let _ = read_when_ready(&url, "warm-up");
    let answer = put(&url, "survivor", "still here", None).unwrap();
    assert_eq!(answer.status, 200, "{:?}", answer.body);

    // A node killed with SIGKILL is started again by the supervisor, on its
    // data.
    let health = format!("http://127.0.0.1:{}/health", http + 2);
    let pid = get(&health).unwrap().body["pid"].as_i64().expect("the node's pid");
    kill(Pid::from_raw(pid as i32), Signal::SIGKILL).unwrap();
    let deadline = Instant::now() + cluster::SETTLE_WITHIN;
    loop {
        let now = get(&health).ok().and_then(|answer| answer.body["pid"].as_i64());
        if now.is_some_and(|now| now != pid) {
            break;
        }
        assert!(Instant::now() < deadline, "the killed node was not started again");
        std::thread::sleep(Duration::from_millis(50));
    }
    let body = read_when_ready(&format!("http://127.0.0.1:{}", http + 2), "survivor");
    assert_eq!(body["value"], "still here", "{body}");
    interrupt(running);

    for node in 0..3u16 {
        let url = format!("http://127.0.0.1:{}/health", http + node);
        assert!(get(&url).is_err(), "node {} stopped with the cluster", node + 1);
        let lock =
            File::open(dir.path().join("data").join(format!("node-{}", node + 1)).join("kv.lock"))
                .unwrap();
        lock.try_lock().expect("no node process still holds its data directory");
    }

    let (running, _) = start_cluster(data, raft, http);
    let body = read_when_ready(&format!("http://127.0.0.1:{http}"), "survivor");
    assert_eq!(body["value"], "still here", "the restarted cluster resumed from its data: {body}");
    interrupt(running);
}
