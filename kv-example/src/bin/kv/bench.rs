//! `kv bench`: C concurrent clients against a running cluster, with a
//! progress line every second and throughput and latency percentiles at the
//! end.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::json;

use crate::client::{Client, ClientError, Nodes, key_path};

/// Which operations the clients run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Mix {
    /// Only writes (PUT without a version).
    Write,
    /// Only linearizable reads.
    Read,
    /// Half writes, half reads.
    Mixed,
}

/// Measures a running cluster.
#[derive(Debug, clap::Args)]
pub(crate) struct BenchArgs {
    /// Concurrent clients, each with one request outstanding.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    clients: u64,
    /// Which operations to run.
    #[arg(long, value_enum, default_value_t = Mix::Mixed)]
    mix: Mix,
    /// The size of each written value, in bytes.
    #[arg(long, default_value_t = 256)]
    value_bytes: usize,
    /// How long to measure, in seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    seconds: u64,
    /// How many distinct keys the clients use.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    keys: u64,
    #[command(flatten)]
    nodes: Nodes,
}

/// What the clients share while they run.
#[derive(Debug, Default)]
struct Shared {
    done: AtomicU64,
    errors: AtomicU64,
    stop: AtomicBool,
}

/// Runs the benchmark and prints its results.
pub(crate) fn run(args: BenchArgs) -> Result<(), ClientError> {
    let urls = args.nodes.urls();
    let mut probe = Client::new(urls.clone(), Duration::from_secs(5));
    let Some(leader) = probe.find_leader() else {
        return Err(ClientError::NoNodeReachable { tried: urls.join(", ") });
    };
    let value = "v".repeat(args.value_bytes);
    if args.mix != Mix::Write {
        eprintln!("bench: writing {} keys for the reads to find", args.keys);
        let mut client = Client::new(urls.clone(), Duration::from_secs(15));
        for key in 0..args.keys {
            client.send(
                "PUT",
                &key_path(&format!("bench-{key}")),
                Some(&json!({ "value": value })),
            )?;
        }
    }
    eprintln!(
        "bench: {} clients, {:?} mix, {}-byte values, {} keys, {} s, leader {leader}",
        args.clients, args.mix, args.value_bytes, args.keys, args.seconds
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ClientError::Runtime)?;
    let address = leader.trim_start_matches("http://").trim_end_matches('/').to_owned();
    let value: Arc<str> = Arc::from(value.as_str());
    let shared = Arc::new(Shared::default());
    let started = Instant::now();
    let mut workers = Vec::new();
    for client in 0..args.clients {
        let shared = Arc::clone(&shared);
        let (address, value) = (address.clone(), Arc::clone(&value));
        let (mix, keys) = (args.mix, args.keys);
        workers.push(runtime.spawn(run_client(client, address, mix, keys, value, shared)));
    }
    let deadline = started + Duration::from_secs(args.seconds);
    let mut last = (started, 0);
    while Instant::now() < deadline {
        std::thread::sleep(
            Duration::from_secs(1).min(deadline.saturating_duration_since(Instant::now())),
        );
        let now = Instant::now();
        let done = shared.done.load(Ordering::Relaxed);
        let rate = (done - last.1) as f64 / now.duration_since(last.0).as_secs_f64();
        eprintln!(
            "bench: {:>4.0} s  {:>9.0} ops/s  ({done} done, {} errors)",
            now.duration_since(started).as_secs_f64(),
            rate,
            shared.errors.load(Ordering::Relaxed)
        );
        last = (now, done);
    }
    shared.stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();
    let mut latencies: Vec<u64> = Vec::new();
    for worker in workers {
        if let Ok(mut mine) = runtime.block_on(worker) {
            latencies.append(&mut mine);
        }
    }
    latencies.sort_unstable();
    let ops = latencies.len();
    let percentile = |p: f64| {
        if ops == 0 {
            return 0.0;
        }
        let rank = ((p / 100.0) * ops as f64).ceil() as usize;
        latencies[rank.clamp(1, ops) - 1] as f64 / 1000.0
    };
    println!(
        "clients {}  mix {:?}  value {} B  ops {ops}  errors {}  ops/s {:.0}  p50 {:.2} ms  p99 {:.2} ms  p99.9 {:.2} ms",
        args.clients,
        args.mix,
        args.value_bytes,
        shared.errors.load(Ordering::Relaxed),
        ops as f64 / elapsed.as_secs_f64(),
        percentile(50.0),
        percentile(99.0),
        percentile(99.9),
    );
    Ok(())
}

/// One client's loop: one request at a time, on one keep-alive connection to
/// the leader at `address` (opened again after a failure), until told to
/// stop; returns the latency of each successful one, in microseconds.
async fn run_client(
    index: u64,
    address: String,
    mix: Mix,
    keys: u64,
    value: Arc<str>,
    shared: Arc<Shared>,
) -> Vec<u64> {
    let mut random = index.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut latencies = Vec::new();
    let body = Bytes::from(json!({ "value": &*value }).to_string());
    let mut connection = None;
    while !shared.stop.load(Ordering::Relaxed) {
        let sender = match &mut connection {
            Some(sender) => sender,
            None => match connect(&address).await {
                Ok(sender) => connection.insert(sender),
                Err(_) => {
                    shared.errors.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // xorshift64: a cheap, seeded choice of key and operation.
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        let path = key_path(&format!("bench-{}", random % keys));
        let write = match mix {
            Mix::Write => true,
            Mix::Read => false,
            Mix::Mixed => (random >> 32) & 1 == 0,
        };
        let request = hyper::Request::builder()
            .uri(path)
            .header(hyper::header::HOST, address.as_str())
            .header(hyper::header::CONTENT_TYPE, "application/json");
        let request = if write {
            request.method("PUT").body(Full::new(body.clone()))
        } else {
            request.method("GET").body(Full::new(Bytes::new()))
        };
        let Ok(request) = request else { break };
        let began = Instant::now();
        let status = match sender.send_request(request).await {
            Ok(response) => {
                let status = response.status().as_u16();
                response.into_body().collect().await.ok().map(|_| status)
            }
            Err(_) => None,
        };
        match status {
            Some(status) if status == 200 || (!write && status == 404) => {
                latencies.push(began.elapsed().as_micros() as u64);
                shared.done.fetch_add(1, Ordering::Relaxed);
            }
            Some(_) => {
                shared.errors.fetch_add(1, Ordering::Relaxed);
            }
            None => {
                shared.errors.fetch_add(1, Ordering::Relaxed);
                connection = None;
            }
        }
    }
    latencies
}

/// An HTTP/1.1 connection to `address`, its driver running on the runtime.
async fn connect(
    address: &str,
) -> Result<
    hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    Box<dyn std::error::Error + Send + Sync>,
> {
    let stream = tokio::net::TcpStream::connect(address).await?;
    stream.set_nodelay(true)?;
    let (sender, driver) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(driver);
    Ok(sender)
}
