//! `kv put`, `get`, `cas`, `delete` and `status`: an HTTP client that finds
//! the leader from any node it is given ([`Client`]).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::config::default_members;

/// The nodes a client may ask, in order.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Nodes {
    /// A node's base URL (repeat the flag); default: the `kv cluster`
    /// defaults, http://127.0.0.1:8001 to :8003.
    #[arg(long = "node", value_name = "URL", global = true)]
    nodes: Vec<String>,
}

impl Nodes {
    pub(crate) fn urls(&self) -> Vec<String> {
        if self.nodes.is_empty() {
            default_members().iter().map(|member| member.url()).collect()
        } else {
            self.nodes.iter().map(|url| url.trim_end_matches('/').to_owned()).collect()
        }
    }
}

/// `kv put KEY VALUE`: writes whatever the key's version.
#[derive(Debug, clap::Args)]
pub(crate) struct PutArgs {
    key: String,
    value: String,
    #[command(flatten)]
    nodes: Nodes,
}

/// `kv cas KEY VALUE --version N`: writes only if the key is at version N
/// (0 creates a missing key).
#[derive(Debug, clap::Args)]
pub(crate) struct CasArgs {
    key: String,
    value: String,
    /// The version the key must be at.
    #[arg(long)]
    version: u64,
    #[command(flatten)]
    nodes: Nodes,
}

/// `kv get KEY`: reads a key, linearizably unless `--stale`.
#[derive(Debug, clap::Args)]
pub(crate) struct GetArgs {
    key: String,
    /// Read the first node's local replica, which may lag.
    #[arg(long)]
    stale: bool,
    #[command(flatten)]
    nodes: Nodes,
}

/// `kv delete KEY`: removes a key, at a version if given.
#[derive(Debug, clap::Args)]
pub(crate) struct DeleteArgs {
    key: String,
    /// The version the key must be at.
    #[arg(long)]
    version: Option<u64>,
    #[command(flatten)]
    nodes: Nodes,
}

/// `kv status`: the cluster's status as one node sees it.
#[derive(Debug, clap::Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    nodes: Nodes,
}

/// Why a client command failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClientError {
    /// No node answered at all.
    #[error("no node answered (tried {tried}); is the cluster running?")]
    NoNodeReachable {
        /// The URLs tried.
        tried: String,
    },
    /// The service answered with an error.
    #[error("{status} {code}: {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The error's code (`no_key`, `version_mismatch`, ...).
        code: String,
        /// Its message.
        message: String,
    },
    /// The node's answer was not what the API promises.
    #[error("unexpected answer from {url}")]
    Garbled {
        /// Who answered.
        url: String,
        /// What was wrong.
        #[source]
        source: std::io::Error,
    },
    /// The bench's async runtime would not start.
    #[error("could not start the bench's runtime")]
    Runtime(#[source] std::io::Error),
}

/// How long a client keeps retrying an operation that finds no leader.
const RETRY_FOR: Duration = Duration::from_secs(10);

/// A client of the HTTP API that sends each operation to the leader it
/// found, looking again when the answer says there is none or the node does
/// not answer.
#[derive(Debug)]
pub(crate) struct Client {
    urls: Vec<String>,
    agent: ureq::Agent,
    leader: Option<String>,
}

/// One answer of the API: its status and JSON body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

impl Client {
    pub(crate) fn new(urls: Vec<String>, timeout: Duration) -> Client {
        let agent = ureq::AgentBuilder::new().timeout(timeout).build();
        Client { urls, agent, leader: None }
    }

    /// The URL of the node that leads, as the first node that answers says;
    /// `None` if none answered or none knows a leader.
    pub(crate) fn find_leader(&mut self) -> Option<String> {
        for url in &self.urls {
            let answer = self.agent.get(&format!("{url}/cluster/status")).call();
            let Ok(response) = answer else { continue };
            let Ok(status) = response.into_json::<Value>() else { continue };
            let leader = status["leader"].as_u64();
            let found = status["nodes"].as_array().and_then(|nodes| {
                nodes.iter().find(|node| node["id"].as_u64() == leader)?["url"].as_str()
            });
            if let Some(found) = found {
                self.leader = Some(found.to_owned());
                return self.leader.clone();
            }
        }
        None
    }

    /// Sends one request to the leader (or, without one, to the first node
    /// that answers, which forwards it), retrying for a while when there is
    /// no leader. Answers with a status, good or bad, are returned.
    pub(crate) fn send(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, ClientError> {
        let started = Instant::now();
        loop {
            let targets: Vec<String> =
                self.leader.iter().cloned().chain(self.urls.clone()).collect();
            for url in &targets {
                let request = self.agent.request(method, &format!("{url}{path}"));
                let result = match body {
                    Some(body) => request.send_json(body.clone()),
                    None => request.call(),
                };
                let response = match result {
                    Ok(response) | Err(ureq::Error::Status(_, response)) => response,
                    Err(_) => {
                        self.leader = None;
                        continue;
                    }
                };
                let status = response.status();
                let body: Value = response
                    .into_json()
                    .map_err(|source| ClientError::Garbled { url: url.clone(), source })?;
                let no_leader = status == 503 && body["error"] != "timed_out";
                if no_leader && started.elapsed() < RETRY_FOR {
                    self.leader = None;
                    continue;
                }
                return Ok(Answer { status, body });
            }
            if started.elapsed() >= RETRY_FOR {
                return Err(ClientError::NoNodeReachable { tried: self.urls.join(", ") });
            }
            std::thread::sleep(Duration::from_millis(100));
            self.find_leader();
        }
    }
}

/// The path of `key`, escaped for a URL.
pub(crate) fn key_path(key: &str) -> String {
    let mut path = String::from("/kv/");
    for byte in key.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            path.push(byte as char);
        } else {
            path.push_str(&format!("%{byte:02X}"));
        }
    }
    path
}

fn client(nodes: &Nodes) -> Client {
    let mut client = Client::new(nodes.urls(), Duration::from_secs(15));
    client.find_leader();
    client
}

/// Prints a good answer's body, or returns the error it carries.
fn report(answer: Answer) -> Result<(), ClientError> {
    if answer.status == 200 || answer.status == 202 {
        println!("{}", answer.body);
        return Ok(());
    }
    Err(ClientError::Refused {
        status: answer.status,
        code: answer.body["error"].as_str().unwrap_or("unknown").to_owned(),
        message: answer.body["message"].as_str().unwrap_or_default().to_owned(),
    })
}

pub(crate) fn put(args: PutArgs) -> Result<(), ClientError> {
    let body = json!({ "value": args.value });
    report(client(&args.nodes).send("PUT", &key_path(&args.key), Some(&body))?)
}

pub(crate) fn cas(args: CasArgs) -> Result<(), ClientError> {
    let body = json!({ "value": args.value, "version": args.version });
    report(client(&args.nodes).send("PUT", &key_path(&args.key), Some(&body))?)
}

pub(crate) fn get(args: GetArgs) -> Result<(), ClientError> {
    if args.stale {
        let mut client = Client::new(args.nodes.urls()[..1].to_vec(), Duration::from_secs(15));
        return report(client.send("GET", &format!("{}?stale=true", key_path(&args.key)), None)?);
    }
    report(client(&args.nodes).send("GET", &key_path(&args.key), None)?)
}

pub(crate) fn delete(args: DeleteArgs) -> Result<(), ClientError> {
    let path = match args.version {
        Some(version) => format!("{}?version={version}", key_path(&args.key)),
        None => key_path(&args.key),
    };
    report(client(&args.nodes).send("DELETE", &path, None)?)
}

pub(crate) fn status(args: StatusArgs) -> Result<(), ClientError> {
    let mut client = Client::new(args.nodes.urls(), Duration::from_secs(5));
    let answer = client.send("GET", "/cluster/status", None)?;
    if answer.status != 200 {
        return report(answer);
    }
    let status = &answer.body;
    println!(
        "leader: {}",
        status["leader"].as_u64().map_or("none".to_owned(), |id| format!("node {id}"))
    );
    for node in status["nodes"].as_array().into_iter().flatten() {
        let (id, url) = (&node["id"], node["url"].as_str().unwrap_or_default());
        let line = match node.get("status") {
            Some(s) => format!(
                "{:<9} term {:<4} commit {:<8} applied {:<8}",
                s["role"].as_str().unwrap_or_default(),
                s["term"],
                s["commit_index"],
                s["applied_index"]
            ),
            None => format!("unreachable ({})", node["error"].as_str().unwrap_or_default()),
        };
        println!("node {id}  {url:<24} {line}");
    }
    Ok(())
}
