//! Round trips through each transport backend: latency with one call in flight
//! and throughput with 64 in flight.

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_main};
use crossbeam_channel::{Receiver, Sender, unbounded};
use raft_transport::{CallError, ChannelNetwork, ClusterId, NodeId, TcpTransport, Transport};

/// Calls in flight at once in each measured batch.
const IN_FLIGHT: [u64; 2] = [1, 64];

type Outcome = Result<u64, CallError>;

/// Measures `caller` calling node 2 (which echoes) as `<backend>::call/inflight_<k>`.
fn bench_calls(c: &mut Criterion, backend: &str, caller: &impl Transport<u64, u64>) {
    let (tx, rx) = unbounded();
    let mut group = c.benchmark_group(format!("{backend}::call"));
    for in_flight in IN_FLIGHT {
        group.throughput(Throughput::Elements(in_flight));
        group.bench_function(format!("inflight_{in_flight}"), |b| {
            b.iter(|| round_trips(caller, in_flight, &tx, &rx));
        });
    }
    group.finish();
}

/// Makes `in_flight` calls at once and waits for all their replies.
fn round_trips(
    caller: &impl Transport<u64, u64>,
    in_flight: u64,
    tx: &Sender<Outcome>,
    rx: &Receiver<Outcome>,
) {
    for n in 0..in_flight {
        let tx = tx.clone();
        caller.call(NodeId(2), n, Box::new(move |outcome| tx.send(outcome).unwrap()));
    }
    for _ in 0..in_flight {
        rx.recv().unwrap().unwrap();
    }
}

fn channel_transport(c: &mut Criterion) {
    let network = ChannelNetwork::<u64, u64>::new();
    let caller = network.transport(NodeId(1)).unwrap();
    let callee = network.transport(NodeId(2)).unwrap();
    callee.serve(Arc::new(|n: u64| Some(n))).unwrap();
    bench_calls(c, "ChannelTransport", &caller);
}

fn tcp_transport(c: &mut Criterion) {
    let callee: TcpTransport<u64, u64> =
        TcpTransport::builder(NodeId(2), ClusterId(1)).start().unwrap();
    callee.serve(Arc::new(|n: u64| Some(n))).unwrap();
    let caller: TcpTransport<u64, u64> = TcpTransport::builder(NodeId(1), ClusterId(1))
        .peer(NodeId(2), callee.local_addr())
        .start()
        .unwrap();
    bench_calls(c, "TcpTransport", &caller);
}

/// The benchmark group; `criterion_group!` defines an undocumented public
/// function, so it lives in a module of its own.
#[allow(missing_docs)]
mod group {
    use super::{channel_transport, tcp_transport};

    criterion::criterion_group!(benches, channel_transport, tcp_transport);
}

criterion_main!(group::benches);
