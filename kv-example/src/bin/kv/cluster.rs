//! `kv cluster`: a local cluster of `kv serve` child processes on loopback,
//! supervised until Ctrl-C.

use std::fs::{File, OpenOptions};
use std::io;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::config::{ConfigError, Member, listen_error, lock_data_directory, members_from};

/// How long a node may take to answer its health check after it starts.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// How long a node may take to stop after SIGTERM before it is killed.
const STOP_WITHIN: Duration = Duration::from_secs(10);

/// A node that exits sooner than this after it started died quickly: it is
/// started again after a pause that doubles with each quick death in a row.
const QUICK_DEATH: Duration = Duration::from_secs(3);

/// The pause before restarting a node after its first quick death.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// After this many quick deaths in a row a node is left down: it would most
/// likely fail again the same way.
const QUICK_DEATHS_TOLERATED: u32 = 5;

/// How often the supervisor checks its nodes.
const SUPERVISE_INTERVAL: Duration = Duration::from_millis(200);

/// Runs a local cluster: each node is this program's `serve` in a child
/// process, with its data under one directory. Ctrl-C stops them all; running
/// it again on the same directory resumes from the same data. A node that
/// dies (say, to `kill -9`) is started again, after a growing pause if it
/// keeps dying right after it starts.
#[derive(Debug, clap::Args)]
pub(crate) struct ClusterArgs {
    /// Where the nodes keep their data, one directory each (DIR/node-1, ...).
    #[arg(long, value_name = "DIR", default_value = "kv-cluster-data")]
    data_dir: PathBuf,
    /// How many nodes.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=9))]
    nodes: u16,
    /// Node 1's Raft port; node i uses this plus i - 1.
    #[arg(long, default_value_t = 7001)]
    raft_port: u16,
    /// Node 1's HTTP port; node i uses this plus i - 1.
    #[arg(long, default_value_t = 8001)]
    http_port: u16,
}

/// Why the cluster could not run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClusterError {
    /// The data directory or a port is not usable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// This program's own path is unknown, so it cannot start its nodes.
    #[error("could not find this program's executable to start the nodes")]
    Executable(#[source] io::Error),
    /// A node's process could not be started.
    #[error("could not start node {id}")]
    Spawn {
        /// The node.
        id: u64,
        /// What failed.
        #[source]
        source: io::Error,
    },
    /// A node exited while starting.
    #[error("node {id} exited while starting ({status}); the end of {}:\n{tail}", log.display())]
    NodeFailed {
        /// The node.
        id: u64,
        /// How it exited.
        status: String,
        /// Its log file.
        log: PathBuf,
        /// The end of its log.
        tail: String,
    },
    /// A node did not answer its health check in time.
    #[error("node {id} did not answer at {url} within {seconds} s; see {}", log.display())]
    NotReady {
        /// The node.
        id: u64,
        /// Its URL.
        url: String,
        /// How long it was given.
        seconds: u64,
        /// Its log file.
        log: PathBuf,
    },
    /// The signal handlers could not be installed.
    #[error("could not listen for Ctrl-C")]
    Signals(#[source] io::Error),
}

/// One supervised node.
#[derive(Debug)]
struct Supervised {
    member: Member,
    dir: PathBuf,
    log: PathBuf,
    child: Option<Child>,
    started: Instant,
    /// Quick deaths in a row (see [`QUICK_DEATH`]).
    quick_deaths: u32,
    /// When a node that died is to be started again; `None` while it runs
    /// or once it is left down.
    restart_at: Option<Instant>,
}

/// Starts the cluster and supervises it until Ctrl-C or SIGTERM.
pub(crate) fn run(args: ClusterArgs) -> Result<(), ClusterError> {
    let members = members_from(args.nodes, args.raft_port, args.http_port);
    let _lock = lock_data_directory(&args.data_dir)?;
    for member in &members {
        for (what, addr) in [("raft", member.raft), ("http", member.http)] {
            drop(TcpListener::bind(addr).map_err(|error| listen_error(what, addr, error))?);
        }
    }
    let executable = std::env::current_exe().map_err(ClusterError::Executable)?;
    let mut nodes = Vec::new();
    for member in &members {
        let dir = args.data_dir.join(format!("node-{}", member.id));
        let log = dir.join("serve.log");
        let mut node = Supervised {
            member: *member,
            dir,
            log,
            child: None,
            started: Instant::now(),
            quick_deaths: 0,
            restart_at: None,
        };
        start(&executable, &members, &mut node)?;
        nodes.push(node);
    }
    let ready = wait_ready(&mut nodes);
    if let Err(error) = ready {
        stop(&mut nodes);
        return Err(error);
    }
    println!("kv cluster: {} nodes, data in {}", nodes.len(), args.data_dir.display());
    for node in &nodes {
        println!(
            "  node {}  {}  (raft {}, log {})",
            node.member.id,
            node.member.url(),
            node.member.raft,
            node.log.display()
        );
    }
    println!("status page: {}/", members[0].url());
    println!("Ctrl-C stops the cluster; running it again resumes from the same data.");

    let supervised = supervise(&executable, &members, &mut nodes);
    stop(&mut nodes);
    say(format_args!("kv cluster: stopped"));
    supervised
}

/// Starts `node`'s process.
fn start(executable: &Path, members: &[Member], node: &mut Supervised) -> Result<(), ClusterError> {
    let id = node.member.id.0;
    let spawn_error = |source| ClusterError::Spawn { id, source };
    std::fs::create_dir_all(&node.dir).map_err(spawn_error)?;
    let log = OpenOptions::new().create(true).append(true).open(&node.log).map_err(spawn_error)?;
    let mut command = Command::new(executable);
    command.arg("serve").arg("--id").arg(id.to_string()).arg("--data-dir").arg(&node.dir);
    for member in members {
        command.arg("--member").arg(format!("{}={},{}", member.id, member.raft, member.http));
    }
    let child = command
        .arg("--exit-with-stdin")
        .stdin(Stdio::piped())
        .stdout(log.try_clone().map_err(spawn_error)?)
        .stderr(log)
        // Its own process group: Ctrl-C reaches the supervisor alone, which
        // then stops the nodes in order.
        .process_group(0)
        .spawn()
        .map_err(spawn_error)?;
    node.child = Some(child);
    node.started = Instant::now();
    Ok(())
}

/// Waits until every node answers its health check.
fn wait_ready(nodes: &mut [Supervised]) -> Result<(), ClusterError> {
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_millis(500)).build();
    let deadline = Instant::now() + READY_WITHIN;
    for node in nodes {
        let url = node.member.url();
        loop {
            if let Some(child) = &mut node.child
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(ClusterError::NodeFailed {
                    id: node.member.id.0,
                    status: status.to_string(),
                    log: node.log.clone(),
                    tail: tail(&node.log),
                });
            }
            if agent.get(&format!("{url}/health")).call().is_ok() {
                break;
            }
            if Instant::now() >= deadline {
                return Err(ClusterError::NotReady {
                    id: node.member.id.0,
                    url,
                    seconds: READY_WITHIN.as_secs(),
                    log: node.log.clone(),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Ok(())
}

/// Restarts nodes that die, until Ctrl-C or SIGTERM.
fn supervise(
    executable: &Path,
    members: &[Member],
    nodes: &mut [Supervised],
) -> Result<(), ClusterError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ClusterError::Signals)?;
    runtime.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).map_err(ClusterError::Signals)?;
        let mut terminate = signal(SignalKind::terminate()).map_err(ClusterError::Signals)?;
        let mut interval = tokio::time::interval(SUPERVISE_INTERVAL);
        loop {
            tokio::select! {
                _ = interrupt.recv() => return Ok(()),
                _ = terminate.recv() => return Ok(()),
                _ = interval.tick() => {}
            }
            for node in nodes.iter_mut() {
                watch(executable, members, node);
            }
        }
    })
}

/// Notices that `node` died and schedules its restart, or restarts it when
/// its time has come.
fn watch(executable: &Path, members: &[Member], node: &mut Supervised) {
    let id = node.member.id;
    if let Some(child) = &mut node.child {
        let Ok(Some(status)) = child.try_wait() else { return };
        node.child = None;
        if node.started.elapsed() < QUICK_DEATH {
            node.quick_deaths += 1;
        } else {
            node.quick_deaths = 0;
        }
        if node.quick_deaths >= QUICK_DEATHS_TOLERATED {
            eprintln!(
                "kv cluster: node {id} exited ({status}) {} times in a row right after starting; leaving it down (see {})",
                node.quick_deaths,
                node.log.display()
            );
            return;
        }
        let pause = match node.quick_deaths {
            0 => Duration::ZERO,
            deaths => FIRST_BACKOFF * 2u32.pow(deaths - 1),
        };
        eprintln!("kv cluster: node {id} exited ({status}); restarting it in {pause:?}");
        node.restart_at = Some(Instant::now() + pause);
    }
    if node.restart_at.is_some_and(|at| Instant::now() >= at) {
        node.restart_at = None;
        if let Err(error) = start(executable, members, node) {
            eprintln!("kv cluster: {error}");
        }
    }
}

/// Stops every node: SIGTERM, then SIGKILL for one that does not stop in
/// time.
fn stop(nodes: &mut [Supervised]) {
    for node in nodes.iter_mut() {
        if let Some(child) = &node.child
            && let Ok(pid) = i32::try_from(child.id())
        {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
    }
    let deadline = Instant::now() + STOP_WITHIN;
    for node in nodes.iter_mut() {
        let Some(mut child) = node.child.take() else { continue };
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => {
                    eprintln!(
                        "kv cluster: node {} did not stop in time; killing it",
                        node.member.id
                    );
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
            }
        }
    }
}

/// Prints a line to standard output, ignoring a closed one (the reader went
/// away; the cluster still has to stop its nodes).
fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(io::stdout(), "{line}");
}

/// The last lines of the file at `path`.
fn tail(path: &Path) -> String {
    let text = File::open(path).and_then(io::read_to_string).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}
