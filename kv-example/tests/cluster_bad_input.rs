//! Bad input against real `kv` processes: malformed and oversized HTTP
//! requests, unknown routes, garbage bytes on the Raft and HTTP ports, and
//! bad command lines, busy ports and a locked data directory. Each gets a
//! clear error, and the nodes keep serving.

#[path = "support/cluster.rs"]
mod cluster;

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::time::Duration;

use cluster::{Answer, Cluster, get, kv_binary, put, request};

/// Asserts `answer` is the JSON error `code` with HTTP `status`.
fn assert_error(answer: &Answer, status: u16, code: &str) {
    assert_eq!(answer.status, status, "unexpected answer {:?}", answer.body);
    assert_eq!(answer.body["error"], code, "unexpected error body {:?}", answer.body);
    assert!(
        answer.body["message"].as_str().is_some_and(|message| !message.is_empty()),
        "an error says why: {:?}",
        answer.body
    );
}

/// Every node answers its health check and the cluster still takes a write
/// and reads it back from each node.
fn assert_still_serving(cluster: &Cluster, key: &str) {
    for node in 0..cluster.size() {
        let health = get(&format!("{}/health", cluster.url(node))).expect("the node answers");
        assert_eq!(health.status, 200);
    }
    let written = put(&cluster.url(0), key, "still-here", None).expect("the write is answered");
    assert_eq!(written.status, 200, "{:?}", written.body);
    cluster.wait_converged();
    for node in 0..cluster.size() {
        let read = get(&format!("{}/kv/{key}?stale=true", cluster.url(node))).unwrap();
        assert_eq!(read.body["value"], "still-here", "node {} lags: {:?}", node + 1, read.body);
    }
}

#[test]
fn malformed_oversized_and_unroutable_requests_get_json_errors_and_crash_nothing() {
    let cluster = Cluster::start(3, &[]);
    cluster.wait_for_leader(&[0, 1, 2]);
    let base = cluster.url(1);
    let key = format!("{base}/kv/some-key");

    let answer = request("PUT", &key, Some(b"{\"value\": ")).unwrap();
    assert_error(&answer, 400, "bad_request");
    let answer = request("PUT", &key, Some(b"\xff\xfe not json at all")).unwrap();
    assert_error(&answer, 400, "bad_request");
    let answer = request("PUT", &key, Some(br#"{"value": 7}"#)).unwrap();
    assert_error(&answer, 400, "bad_request");
    let answer = request("PUT", &key, Some(br#"{"value": "a", "versoin": 1}"#)).unwrap();
    assert_error(&answer, 400, "bad_request");
    let answer = request("PUT", &key, Some(br#"{"value": "a", "version": -1}"#)).unwrap();
    assert_error(&answer, 400, "bad_request");

    // A body over the limit is refused from its length, before it is read
    // (a client that keeps sending then finds the connection closed, so the
    // request is written by hand and the answer read before any body).
    let address = base.trim_start_matches("http://");
    for length in [300 * 1024, 2 * 1024 * 1024, 1u64 << 40] {
        let head = format!(
            "PUT /kv/some-key HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n\r\n"
        );
        let answer = raw_http(address, head.as_bytes());
        assert!(
            answer.starts_with("HTTP/1.1 413"),
            "a {length}-byte body gets 413, not {answer:?}"
        );
        assert!(answer.contains(r#""error":"too_large""#), "{answer}");
    }
    // A chunked body declares no length: it is cut at the limit as it is read.
    let chunk = 300 * 1024;
    let mut chunked = format!(
        "PUT /kv/some-key HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n{chunk:x}\r\n"
    )
    .into_bytes();
    chunked.extend(std::iter::repeat_n(b'x', chunk));
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    let answer = raw_http(address, &chunked);
    assert!(answer.starts_with("HTTP/1.1 413"), "a long chunked body gets 413, not {answer:?}");

    let long_key = format!("{base}/kv/{}", "k".repeat(4096));
    assert_error(&get(&long_key).unwrap(), 400, "bad_request");
    assert_error(&get(&format!("{key}?stale=perhaps")).unwrap(), 400, "bad_request");
    assert_error(&get(&format!("{key}?colour=blue")).unwrap(), 400, "bad_request");
    assert_error(
        &request("DELETE", &format!("{key}?version=x"), None).unwrap(),
        400,
        "bad_request",
    );

    assert_error(&get(&format!("{base}/no/such/route")).unwrap(), 404, "unknown_route");
    assert_error(&get(&format!("{base}/kv")).unwrap(), 404, "unknown_route");
    assert_error(&request("POST", &key, Some(b"{}")).unwrap(), 405, "method_not_allowed");
    assert_error(&get(&format!("{base}/kv/never-written")).unwrap(), 404, "no_key");

    let transfer = format!("{base}/admin/transfer-leader");
    assert_error(
        &request("POST", &transfer, Some(b"{\"to\": \"two\"}")).unwrap(),
        400,
        "bad_request",
    );
    assert_error(&request("POST", &transfer, Some(br#"{"to": 9}"#)).unwrap(), 400, "bad_request");

    assert_still_serving(&cluster, "after-bad-http");
}

#[test]
fn garbage_on_the_raft_and_http_ports_closes_that_connection_and_crashes_nothing() {
    let cluster = Cluster::start(3, &[]);
    let leader = cluster.wait_for_leader(&[0, 1, 2]);
    let mut garbage: Vec<u8> =
        (0..64 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    // A length prefix that claims a 4 GiB frame.
    garbage.splice(0..0, [0xff, 0xff, 0xff, 0xff]);

    for node in [leader, (leader + 1) % 3] {
        let mut raft =
            TcpStream::connect(cluster.raft_address(node)).expect("the raft port accepts");
        raft.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        // The node may close the connection before it has read everything.
        let _ = raft.write_all(&garbage);
        let mut answer = Vec::new();
        assert_closed(raft.read_to_end(&mut answer), "raft");
        assert!(answer.is_empty(), "the node answers garbage with nothing, not {answer:?}");
        wait_for_log(&cluster, node, "not a raft-transport peer");

        let mut http = TcpStream::connect(cluster.url(node).trim_start_matches("http://")).unwrap();
        http.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let _ = http.write_all(b"\x16\x03\x01 NOT HTTP AT ALL\r\n\r\n");
        let mut answer = Vec::new();
        assert_closed(http.read_to_end(&mut answer), "http");
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 400"),
            "garbage on the http port gets a 400 or a closed connection, not {answer:?}"
        );
    }
    let status = cluster.status(leader).expect("the leader answers");
    assert_eq!(status["role"], "leader", "garbage did not depose the leader: {status}");
    assert_still_serving(&cluster, "after-garbage");
}

/// Waits until node `node`'s log says `text` (the reason it gave for
/// closing a connection).
fn wait_for_log(cluster: &Cluster, node: usize, text: &str) {
    let deadline = std::time::Instant::now() + cluster::SETTLE_WITHIN;
    while !cluster.log_text(node).contains(text) {
        assert!(std::time::Instant::now() < deadline, "node {} never logged {text:?}", node + 1);
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Writes `bytes` to `address` and reads the answer until the node closes
/// the connection or pauses.
fn raw_http(address: &str, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(address).expect("the http port accepts");
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // The node may answer and close before it has read everything.
    let _ = stream.write_all(bytes);
    let mut answer = Vec::new();
    let mut buffer = [0; 4096];
    while let Ok(n) = stream.read(&mut buffer) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buffer[..n]);
        if String::from_utf8_lossy(&answer).contains("}\n") {
            break;
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// Asserts that the node closed the connection (end of stream or a reset),
/// rather than leaving it open until the read timed out.
fn assert_closed(read: std::io::Result<usize>, port: &str) {
    match read {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(error) => panic!("the node kept the {port} connection open after garbage: {error}"),
    }
}

/// Runs `kv` with `args`; returns its exit code and standard error.
fn run_kv(args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(kv_binary()).args(args).output().expect("run kv");
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn a_bad_flag_a_busy_port_and_a_locked_data_directory_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    let data = data.to_str().unwrap();

    let (code, stderr) = run_kv(&[
        "serve",
        "--id",
        "one",
        "--member",
        "1=127.0.0.1:1,127.0.0.1:2",
        "--data-dir",
        data,
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("invalid value 'one' for '--id"), "{stderr}");

    let (code, stderr) =
        run_kv(&["serve", "--id", "1", "--member", "1=127.0.0.1:1", "--data-dir", data]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("expected ID=RAFT_ADDR,HTTP_ADDR"), "{stderr}");

    let (code, stderr) = run_kv(&[
        "serve",
        "--id",
        "2",
        "--member",
        "1=127.0.0.1:1,127.0.0.1:2",
        "--data-dir",
        data,
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("node 2 is not one of the --member list"), "{stderr}");

    let (code, stderr) = run_kv(&["bench", "--clients", "0"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--clients"), "{stderr}");

    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port();
    let free = cluster::free_ports(1)[0];
    let members = format!("1=127.0.0.1:{free},127.0.0.1:{busy_port}");
    let (code, stderr) = run_kv(&["serve", "--id", "1", "--member", &members, "--data-dir", data]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("the http address 127.0.0.1:{busy_port} is already in use")),
        "{stderr}"
    );
    let members = format!("1=127.0.0.1:{busy_port},127.0.0.1:{free}");
    let (code, stderr) = run_kv(&["serve", "--id", "1", "--member", &members, "--data-dir", data]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("the raft address 127.0.0.1:{busy_port} is already in use")),
        "{stderr}"
    );

    std::fs::create_dir_all(data).unwrap();
    let lock = File::create(dir.path().join("node").join("kv.lock")).unwrap();
    lock.try_lock().expect("the test takes the lock");
    let members = format!("1=127.0.0.1:{free},127.0.0.1:{}", cluster::free_ports(1)[0]);
    let (code, stderr) = run_kv(&["serve", "--id", "1", "--member", &members, "--data-dir", data]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("is in use by another process"), "{stderr}");
}
