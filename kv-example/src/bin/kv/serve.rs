//! `kv serve`: one node of the cluster: a [`KvServer`] over a
//! [`TcpTransport`] and a [`FilePersister`], and its HTTP API.

use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use kv_example::KvServer;
use raft_core::{Config, Node, NodeId, StopReason};
use raft_persist::FilePersister;
use raft_rsm::RsmConfig;
use raft_transport::{ClusterId, TcpTransport, TransportError};
use tokio::sync::Notify;

use crate::config::{ConfigError, Member, check_members, listen_error, lock_data_directory};
use crate::http::{App, router};
use crate::metrics::{CountingPersister, CountingTransport, Metrics};

/// How often the node notes its leader in its leader log.
const LEADER_WATCH_INTERVAL: Duration = Duration::from_millis(50);

/// Runs one node of a cluster until Ctrl-C or SIGTERM.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// This node's id, one of the --member ids.
    #[arg(long)]
    id: u64,
    /// Every member of the cluster, this node included, as
    /// ID=RAFT_ADDR,HTTP_ADDR (repeat the flag).
    #[arg(long = "member", value_name = "ID=RAFT_ADDR,HTTP_ADDR", required = true)]
    members: Vec<Member>,
    /// Where this node keeps its Raft state (created if missing; locked
    /// while the node runs).
    #[arg(long, value_name = "DIR")]
    data_dir: PathBuf,
    /// The cluster's id: nodes of different clusters refuse each other.
    #[arg(long, default_value_t = 1)]
    cluster_id: u64,
    /// Snapshot the store once the persisted Raft state reaches this many
    /// bytes.
    #[arg(long, default_value_t = 8 * 1024 * 1024)]
    snapshot_bytes: u64,
    /// How long a write or read waits for its commit before it answers 503
    /// timed_out, in milliseconds.
    #[arg(long, default_value_t = 5000)]
    submit_timeout_ms: u64,
    /// Stop when standard input closes (how `kv cluster` ties its nodes'
    /// lives to its own).
    #[arg(long, hide = true)]
    exit_with_stdin: bool,
}

/// Starts the node and serves until told to stop.
pub(crate) fn run(args: ServeArgs) -> Result<(), ConfigError> {
    let me = check_members(NodeId(args.id), &args.members)?;
    let _lock = lock_data_directory(&args.data_dir)?;
    let http = TcpListener::bind(me.http).map_err(|error| listen_error("http", me.http, error))?;
    http.set_nonblocking(true).map_err(|error| listen_error("http", me.http, error))?;

    let metrics = Arc::new(Metrics::default());
    let mut transport = TcpTransport::builder(me.id, ClusterId(args.cluster_id)).listen(me.raft);
    for peer in args.members.iter().filter(|member| member.id != me.id) {
        transport = transport.peer(peer.id, peer.raft);
    }
    let transport = transport.start().map_err(|error| match error {
        TransportError::Io { source, .. } => listen_error("raft", me.raft, source),
        other => ConfigError::Transport(other),
    })?;
    let raft_dir = args.data_dir.join("raft");
    let persister = FilePersister::open(&raft_dir)
        .map_err(|source| ConfigError::Persist { path: raft_dir.clone(), source })?;
    let ids = args.members.iter().map(|member| member.id).collect();
    let builder = Node::builder(Config::new(me.id, ids))
        .persister(CountingPersister::new(persister, Arc::clone(&metrics)))
        .transport(CountingTransport::new(transport, Arc::clone(&metrics)));
    let rsm_config = RsmConfig {
        max_raft_state: Some(args.snapshot_bytes),
        submit_timeout: Duration::from_millis(args.submit_timeout_ms),
        ..RsmConfig::default()
    };
    let server = KvServer::start(builder, rsm_config).map_err(ConfigError::Start)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(1024)
        .enable_all()
        .build()
        .map_err(ConfigError::Runtime)?;
    let app = Arc::new(App::new(server.clone(), me, args.members.clone(), metrics));
    let stop = Arc::new(Notify::new());
    if args.exit_with_stdin {
        watch_stdin(Arc::clone(&stop));
    }
    eprintln!(
        "kv: node {} serving {} (raft {}, data {})",
        me.id,
        me.url(),
        me.raft,
        args.data_dir.display()
    );
    let failed = Arc::new(Mutex::new(None));
    let failure = Arc::clone(&failed);
    let served = runtime.block_on(async {
        let listener = tokio::net::TcpListener::from_std(http)
            .map_err(|error| listen_error("http", me.http, error))?;
        let watcher = Arc::clone(&app);
        let failed_stop = Arc::clone(&stop);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(LEADER_WATCH_INTERVAL);
            loop {
                interval.tick().await;
                watcher.observe_leader();
                // A node that stopped on its own (its disk failed) leaves
                // nothing to serve: the process ends, with an error, so
                // whoever runs it can start it again.
                if let Some(reason @ StopReason::PersisterFailed(_)) =
                    watcher.server.rsm().node().stop_reason()
                {
                    *failed.lock().unwrap_or_else(PoisonError::into_inner) = Some(reason);
                    failed_stop.notify_one();
                    return;
                }
            }
        });
        let stopping = server.clone();
        axum::serve(listener, router(app))
            .with_graceful_shutdown(async move {
                stop_signal(stop).await;
                // Waiting operations answer at once instead of holding the
                // graceful shutdown up.
                stopping.shutdown();
            })
            .await
            .map_err(ConfigError::Serve)
    });
    server.shutdown();
    runtime.shutdown_timeout(Duration::from_secs(1));
    if let Some(reason) = failure.lock().unwrap_or_else(PoisonError::into_inner).take() {
        return Err(ConfigError::NodeFailed(reason));
    }
    eprintln!("kv: node {} stopped", me.id);
    served
}

/// Wakes `stop` once standard input ends.
fn watch_stdin(stop: Arc<Notify>) {
    let spawned = std::thread::Builder::new().name("kv-stdin".into()).spawn(move || {
        let mut buffer = [0; 64];
        while matches!(std::io::stdin().read(&mut buffer), Ok(n) if n > 0) {}
        stop.notify_one();
    });
    if let Err(error) = spawned {
        tracing::warn!(%error, "could not watch standard input");
    }
}

/// Ctrl-C, SIGTERM or `stop`, whichever comes first.
async fn stop_signal(stop: Arc<Notify>) {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
        () = stop.notified() => {}
    }
}
