//! The node's [`Metrics`], the persister and transport wrappers that count
//! into them ([`CountingPersister`], [`CountingTransport`]), and their
//! Prometheus text form.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use raft_core::{NodeId, Request, Response, Role, Status};
use raft_persist::{PersistError, PersistedState, Persister, Update};
use raft_transport::{Handler, ReplyCallback, Responder, Transport, TransportError};
use serde::Serialize;

/// The upper bounds, in seconds, of the save-latency histogram's buckets.
const SAVE_BUCKETS: [f64; 12] =
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0];

/// Bytes a TCP frame adds to a message's postcard payload: the 4-byte length
/// prefix, the frame kind and the 8-byte request id.
const FRAME_OVERHEAD: u64 = 9 + 4;

const COUNTER: &str = "counter";
const GAUGE: &str = "gauge";

/// What one node counts: its HTTP layer's proposals, its persister's saves
/// and its transport's traffic. Raft's own counters come from
/// [`Status`] when the metrics are rendered.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    /// Operations this node's HTTP layer submitted to the log.
    pub(crate) proposals: AtomicU64,
    /// Of those, the ones that got no answer (not leader, busy, timed out).
    pub(crate) proposals_failed: AtomicU64,
    /// Requests this node forwarded to the leader.
    pub(crate) forwarded: AtomicU64,
    /// Stale reads served from the local replica.
    pub(crate) stale_reads: AtomicU64,
    /// Linearizable reads (ReadIndex) this node served or tried to.
    pub(crate) reads: AtomicU64,
    saves: AtomicU64,
    save_nanos: AtomicU64,
    save_buckets: [AtomicU64; SAVE_BUCKETS.len()],
    raft_messages_out: AtomicU64,
    raft_bytes_out: AtomicU64,
    raft_messages_in: AtomicU64,
    raft_bytes_in: AtomicU64,
}

impl Metrics {
    fn record_save(&self, started: Instant) {
        let elapsed = started.elapsed();
        self.saves.fetch_add(1, Ordering::Relaxed);
        self.save_nanos.fetch_add(elapsed.as_nanos() as u64, Ordering::Relaxed);
        let seconds = elapsed.as_secs_f64();
        if let Some(bucket) = SAVE_BUCKETS.iter().position(|bound| seconds <= *bound) {
            self.save_buckets[bucket].fetch_add(1, Ordering::Relaxed);
        }
    }

    fn sent(&self, message: &impl Serialize) {
        self.raft_messages_out.fetch_add(1, Ordering::Relaxed);
        self.raft_bytes_out.fetch_add(wire_size(message), Ordering::Relaxed);
    }

    fn received(&self, message: &impl Serialize) {
        self.raft_messages_in.fetch_add(1, Ordering::Relaxed);
        self.raft_bytes_in.fetch_add(wire_size(message), Ordering::Relaxed);
    }

    /// The metrics in the Prometheus text exposition format, with the
    /// node's own counters from `status`.
    #[rustfmt::skip]
    pub(crate) fn render(&self, status: &Status) -> String {
        let mut out = String::new();
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let counters = &status.counters;
        let rows: [(&str, &str, &str, u64); 22] = [
            ("kv_proposals_total", COUNTER, "Operations this node submitted to the Raft log.", load(&self.proposals)),
            ("kv_proposals_failed_total", COUNTER, "Submitted operations that got no answer here (not the leader, busy, timed out).", load(&self.proposals_failed)),
            ("kv_forwarded_total", COUNTER, "Requests forwarded to the leader.", load(&self.forwarded)),
            ("kv_stale_reads_total", COUNTER, "Reads served from the local replica (?stale=true).", load(&self.stale_reads)),
            ("kv_reads_total", COUNTER, "Linearizable reads (ReadIndex, no log entry) this node took.", load(&self.reads)),
            ("raft_reads_confirmed_total", COUNTER, "Read indices this node confirmed as leader (one per follower's batch).", counters.reads_confirmed),
            ("raft_term", GAUGE, "The node's current term.", status.term.0),
            ("raft_is_leader", GAUGE, "1 if the node leads, else 0.", u64::from(status.role == Role::Leader)),
            ("raft_commit_index", GAUGE, "The highest log index known committed (its rate is commits per second).", status.commit_index.0),
            ("raft_applied_index", GAUGE, "The highest log index handed to the state machine (its rate is applies per second).", status.applied_index.0),
            ("raft_persisted_index", GAUGE, "The highest log index durable on this node.", status.persisted_index.0),
            ("raft_snapshot_index", GAUGE, "The last index the latest snapshot covers.", status.snapshot_index.0),
            ("raft_elections_total", COUNTER, "Elections this node started since it started.", counters.elections),
            ("raft_appends_sent_total", COUNTER, "AppendEntries requests sent, heartbeats included.", counters.appends_sent),
            ("raft_entries_sent_total", COUNTER, "Entries carried by AppendEntries requests.", counters.entries_sent),
            ("raft_append_rejections_total", COUNTER, "AppendEntries answers that rejected the request.", counters.rejections),
            ("raft_snapshots_sent_total", COUNTER, "InstallSnapshot requests sent.", counters.snapshots_sent),
            ("raft_messages_out_total", COUNTER, "Raft messages sent (requests and answers).", load(&self.raft_messages_out)),
            ("raft_bytes_out_total", COUNTER, "Bytes of Raft messages sent, as framed on the wire (payload and frame header; no TCP/IP headers, no handshakes).", load(&self.raft_bytes_out)),
            ("raft_messages_in_total", COUNTER, "Raft messages received (requests and answers).", load(&self.raft_messages_in)),
            ("raft_bytes_in_total", COUNTER, "Bytes of Raft messages received, as framed on the wire.", load(&self.raft_bytes_in)),
            ("raft_fsyncs_total", COUNTER, "Saves of the Raft state, each synced to disk before it returns.", load(&self.saves)),
        ];
        for (name, kind, help, value) in rows {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
        }
        let _ = writeln!(
            out,
            "# HELP raft_fsync_seconds Time a save of the Raft state took, sync included.\n# TYPE raft_fsync_seconds histogram"
        );
        let mut cumulative = 0;
        for (bound, count) in SAVE_BUCKETS.iter().zip(&self.save_buckets) {
            cumulative += load(count);
            let _ = writeln!(out, "raft_fsync_seconds_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let saves = load(&self.saves);
        let _ = writeln!(out, "raft_fsync_seconds_bucket{{le=\"+Inf\"}} {saves}");
        let _ = writeln!(out, "raft_fsync_seconds_sum {}", load(&self.save_nanos) as f64 / 1e9);
        let _ = writeln!(out, "raft_fsync_seconds_count {saves}");
        out
    }
}

/// The size of `message` as a frame on the wire: its postcard encoding and
/// the frame's header.
fn wire_size(message: &impl Serialize) -> u64 {
    postcard::experimental::serialized_size(message).map_or(0, |size| size as u64) + FRAME_OVERHEAD
}

/// A [`Persister`] that counts and times every save of the one it wraps.
#[derive(Debug)]
pub(crate) struct CountingPersister<P> {
    inner: P,
    metrics: Arc<Metrics>,
}

impl<P> CountingPersister<P> {
    pub(crate) fn new(inner: P, metrics: Arc<Metrics>) -> CountingPersister<P> {
        CountingPersister { inner, metrics }
    }
}

impl<P: Persister> Persister for CountingPersister<P> {
    fn load(&self) -> Result<PersistedState, PersistError> {
        self.inner.load()
    }

    fn save(&self, update: &Update) -> Result<(), PersistError> {
        let started = Instant::now();
        let result = self.inner.save(update);
        self.metrics.record_save(started);
        result
    }

    fn raft_state_size(&self) -> u64 {
        self.inner.raft_state_size()
    }

    fn snapshot_size(&self) -> u64 {
        self.inner.snapshot_size()
    }
}

/// A [`Transport`] that counts the messages and bytes of the one it wraps:
/// requests and answers, both ways, sized as the TCP transport frames them.
#[derive(Debug)]
pub(crate) struct CountingTransport<T> {
    inner: T,
    metrics: Arc<Metrics>,
}

impl<T> CountingTransport<T> {
    pub(crate) fn new(inner: T, metrics: Arc<Metrics>) -> CountingTransport<T> {
        CountingTransport { inner, metrics }
    }
}

impl<T: Transport<Request, Response>> Transport<Request, Response> for CountingTransport<T> {
    fn local_id(&self) -> NodeId {
        self.inner.local_id()
    }

    fn call(&self, to: NodeId, request: Request, on_reply: ReplyCallback<Response>) {
        self.metrics.sent(&request);
        let metrics = Arc::clone(&self.metrics);
        self.inner.call(
            to,
            request,
            Box::new(move |reply| {
                if let Ok(response) = &reply {
                    metrics.received(response);
                }
                on_reply(reply);
            }),
        );
    }

    fn serve(&self, handler: Arc<dyn Handler<Request, Response>>) -> Result<(), TransportError> {
        self.inner
            .serve(Arc::new(CountingHandler { inner: handler, metrics: Arc::clone(&self.metrics) }))
    }

    fn max_message_size(&self) -> Option<u64> {
        self.inner.max_message_size()
    }

    fn shutdown(&self) {
        self.inner.shutdown();
    }
}

/// The server side of [`CountingTransport`]: counts each request and the
/// answer given to it.
struct CountingHandler {
    inner: Arc<dyn Handler<Request, Response>>,
    metrics: Arc<Metrics>,
}

impl Handler<Request, Response> for CountingHandler {
    fn handle(&self, request: Request, responder: Responder<Response>) {
        self.metrics.received(&request);
        let metrics = Arc::clone(&self.metrics);
        let counted = Responder::new(move |answer: Option<Response>| match answer {
            Some(response) => {
                metrics.sent(&response);
                responder.respond(response);
            }
            None => responder.refuse(),
        });
        self.inner.handle(request, counted);
    }
}

#[cfg(test)]
mod tests {
    use raft_persist::MemPersister;

    use super::*;

    #[test]
    fn saves_are_counted_timed_and_rendered() {
        let metrics = Arc::new(Metrics::default());
        let persister = CountingPersister::new(MemPersister::new(), Arc::clone(&metrics));
        persister.save(&Update::default()).unwrap();
        persister.save(&Update::default()).unwrap();
        let status = raft_core::Raft::new(
            raft_core::Config::new(NodeId(1), vec![NodeId(1)]),
            persister.load().unwrap(),
        )
        .unwrap()
        .status();
        let text = metrics.render(&status);
        assert!(text.contains("\nraft_fsyncs_total 2\n"), "{text}");
        assert!(text.contains("raft_fsync_seconds_bucket{le=\"+Inf\"} 2\n"), "{text}");
        assert!(text.contains("raft_fsync_seconds_count 2\n"), "{text}");
        assert!(text.contains("# TYPE raft_elections_total counter\n"), "{text}");
    }

    #[test]
    fn a_message_counts_its_postcard_size_and_the_frame_header() {
        let bytes = vec![7u8; 100];
        // A byte string: one length byte, then the bytes.
        assert_eq!(wire_size(&bytes), 1 + 100 + FRAME_OVERHEAD);
    }
}
