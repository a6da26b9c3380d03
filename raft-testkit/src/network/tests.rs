//! Unit tests of the fault model's bookkeeping: counters, ends, cleanup.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use super::{Network, Service};

const WAIT: Duration = Duration::from_secs(10);

/// A network with server `server` answering every request with its own bytes
/// reversed, and end `end` enabled and connected to it.
fn echo_network() -> Network {
    let network = Network::new();
    network.add_server(
        "server",
        Service::new(|mut request| {
            request.reverse();
            Some(request)
        }),
    );
    network.make_end("end");
    network.connect("end", "server");
    network.enable("end", true);
    network
}

/// Calls through `end` and waits for the outcome.
fn call(network: &Network, end: &str, request: &[u8]) -> Option<Vec<u8>> {
    let (sender, receiver) = mpsc::channel();
    network.call(
        end,
        request.to_vec(),
        Box::new(move |reply| sender.send(reply).expect("receiver alive")),
    );
    receiver.recv_timeout(WAIT).expect("every call returns")
}

#[test]
fn a_delivered_call_counts_its_request_and_its_reply() {
    let network = echo_network();
    assert_eq!(call(&network, "end", b"abc"), Some(b"cba".to_vec()));
    assert_eq!(network.total_count(), 1);
    assert_eq!(network.total_bytes(), 6);
    assert_eq!(network.count("server"), 1);
}

#[test]
fn a_failed_call_counts_its_request_only() {
    let network = echo_network();
    network.enable("end", false);
    assert_eq!(call(&network, "end", b"abcd"), None);
    assert_eq!(call(&network, "no-such-end", b"xy"), None);
    assert_eq!(network.total_count(), 2);
    assert_eq!(network.total_bytes(), 6);
    assert_eq!(network.count("server"), 0);
}

#[test]
fn an_unconnected_end_or_a_deleted_server_does_not_reach_a_handler() {
    let network = echo_network();
    network.make_end("loose");
    network.enable("loose", true);
    assert_eq!(call(&network, "loose", b"a"), None);
    network.delete_server("server");
    assert_eq!(call(&network, "end", b"a"), None);
    assert_eq!(network.count("server"), 0);
    assert_eq!(network.total_count(), 2);
}

#[test]
fn a_deleted_end_fails_its_calls() {
    let network = echo_network();
    network.delete_end("end");
    assert_eq!(call(&network, "end", b"a"), None);
    // The name is free again.
    network.make_end("end");
    network.connect("end", "server");
    network.enable("end", true);
    assert_eq!(call(&network, "end", b"ab"), Some(b"ba".to_vec()));
}

#[test]
#[should_panic(expected = "already has an end named")]
fn making_an_end_twice_is_a_bug_in_the_test() {
    let network = Network::new();
    network.make_end("end");
    network.make_end("end");
}

#[test]
fn a_replaced_server_counts_from_zero_and_unknown_servers_count_zero() {
    let network = echo_network();
    for _ in 0..3 {
        assert!(call(&network, "end", b"a").is_some());
    }
    assert_eq!(network.count("server"), 3);
    network.add_server("server", Service::new(Some));
    assert_eq!(network.count("server"), 0);
    assert!(call(&network, "end", b"a").is_some());
    assert_eq!(network.count("server"), 1);
    assert_eq!(network.count("nobody"), 0);
}

#[test]
fn a_handler_without_an_answer_fails_the_call_after_running() {
    let network = Network::new();
    network.add_server("server", Service::new(|_| None));
    network.make_end("end");
    network.connect("end", "server");
    network.enable("end", true);
    assert_eq!(call(&network, "end", b"abc"), None);
    assert_eq!(network.count("server"), 1);
    assert_eq!(network.total_bytes(), 3);
}

#[test]
fn a_panicking_handler_fails_its_call_and_leaves_the_network_working() {
    let network = echo_network();
    network.add_server(
        "server",
        Service::new(|request| {
            assert!(!request.is_empty(), "empty request");
            Some(request)
        }),
    );
    assert_eq!(call(&network, "end", b""), None);
    assert_eq!(call(&network, "end", b"ok"), Some(b"ok".to_vec()));
}

#[test]
fn disabling_an_end_fails_the_calls_whose_handler_is_running() {
    let network = echo_network();
    let (release, blocked) = crossbeam_channel::bounded::<()>(0);
    let (started, handler_started) = mpsc::channel();
    let started = std::sync::Mutex::new(started);
    network.add_server(
        "server",
        Service::new(move |request| {
            started.lock().expect("not poisoned").send(()).expect("receiver alive");
            // Held until the test ends (the sender is dropped).
            let _ = blocked.recv();
            Some(request)
        }),
    );
    let (sender, receiver) = mpsc::channel();
    network.call(
        "end",
        b"a".to_vec(),
        Box::new(move |reply| sender.send(reply).expect("receiver alive")),
    );
    handler_started.recv_timeout(WAIT).expect("the handler runs");
    network.enable("end", false);
    assert_eq!(receiver.recv_timeout(WAIT), Ok(None));
    drop(release);
}

#[test]
fn cleanup_fails_new_calls_at_once_without_counting_them() {
    let network = echo_network();
    network.cleanup();
    assert_eq!(call(&network, "end", b"a"), None);
    assert_eq!(network.total_count(), 0);
    assert_eq!(network.total_bytes(), 0);
}

#[test]
fn a_callback_never_runs_on_the_callers_thread() {
    let network = echo_network();
    network.enable("end", false);
    let (sender, receiver) = mpsc::channel();
    for _ in 0..2 {
        let sender = sender.clone();
        network.call(
            "end",
            b"a".to_vec(),
            Box::new(move |reply| {
                sender.send((reply, thread::current().id())).expect("receiver alive");
            }),
        );
        let (reply, callback_thread) = receiver.recv_timeout(WAIT).expect("the call returns");
        assert_eq!(reply, None);
        assert_ne!(callback_thread, thread::current().id());
        // Again after cleanup, when the call fails at once.
        network.cleanup();
    }
}

#[test]
fn cleanup_fails_calls_waiting_out_a_long_delay() {
    let network = echo_network();
    network.set_long_delays(true);
    network.enable("end", false);
    let (sender, receiver) = mpsc::channel();
    for _ in 0..20 {
        let sender = sender.clone();
        network.call(
            "end",
            b"a".to_vec(),
            Box::new(move |reply| sender.send(reply).expect("receiver alive")),
        );
    }
    network.cleanup();
    for _ in 0..20 {
        // Well under the 7 s a long delay may last.
        assert_eq!(receiver.recv_timeout(Duration::from_secs(1)), Ok(None));
    }
}

#[test]
fn settings_read_back() {
    let network = Network::default();
    assert!(network.is_reliable());
    network.set_reliable(false);
    assert!(!network.is_reliable());
    network.set_long_reordering(true);
    let shown = format!("{network:?}");
    assert!(shown.contains("long_reordering: true"), "{shown}");
}
