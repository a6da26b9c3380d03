//! The HTTP API of one node ([`router`]): keys, cluster status, metrics, the
//! status page and the admin route, with JSON errors.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kv_example::{KvError, KvServer, Reply, Request};
use raft_core::NodeId;
use raft_rsm::SubmitError;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::Member;
use crate::metrics::Metrics;
use crate::node_ops::{linearizable_get, transfer_leadership, write};
use crate::status::{ClusterStatus, LeaderLog, MemberStatus, NodeStatus};
use raft_core::TransferError;

/// The largest request body accepted, in bytes; larger ones get 413.
pub(crate) const MAX_BODY_BYTES: usize = 256 * 1024;

/// The longest key accepted, in bytes.
pub(crate) const MAX_KEY_BYTES: usize = 1024;

/// Marks a request one node forwarded to another, so it is forwarded once at
/// most.
const FORWARDED_BY: &str = "x-kv-forwarded-by";

/// How long a forwarded request may take, the leader's submit timeout
/// included.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(15);

/// How long the cluster status waits for each member.
const MEMBER_STATUS_TIMEOUT: Duration = Duration::from_millis(800);

/// The status page, one file with its script inline.
const PAGE: &str = include_str!("page.html");

/// What every handler of one node shares.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) server: KvServer,
    pub(crate) me: Member,
    pub(crate) members: Vec<Member>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) leaders: Mutex<LeaderLog>,
    /// For forwarding to the leader and asking the members' status.
    pub(crate) agent: ureq::Agent,
}

impl App {
    pub(crate) fn new(
        server: KvServer,
        me: Member,
        members: Vec<Member>,
        metrics: Arc<Metrics>,
    ) -> App {
        let agent = ureq::AgentBuilder::new().timeout(FORWARD_TIMEOUT).build();
        App { server, me, members, metrics, leaders: Mutex::new(LeaderLog::default()), agent }
    }

    /// Notes the node's current leader in the leader log.
    pub(crate) fn observe_leader(&self) {
        let status = self.server.rsm().node().status();
        self.leaders.lock().unwrap_or_else(PoisonError::into_inner).observe(&status);
    }

    fn node_status(&self) -> NodeStatus {
        let status = self.server.rsm().node().status();
        let changes = self.leaders.lock().unwrap_or_else(PoisonError::into_inner).changes();
        NodeStatus::new(&status, self.me.url(), changes)
    }
}

/// The routes of one node.
pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/health", get(health))
        .route("/status", get(node_status))
        .route("/cluster/status", get(cluster_status))
        .route("/metrics", get(metrics))
        .route("/kv/{key}", get(get_key).put(put_key).delete(delete_key))
        .route("/admin/transfer-leader", post(transfer_leader))
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(refuse_long_bodies))
        .with_state(app)
}

/// Answers 413 at once to a request whose declared length is over the
/// limit, before its body is read. (A body without a declared length is cut
/// at the limit as it is read.)
async fn refuse_long_bodies(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return too_large().into_response();
    }
    next.run(request).await
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("the request body is over the limit of {MAX_BODY_BYTES} bytes"),
    )
}

/// An error as the API returns it: a status code and a JSON body
/// `{"error": code, "message": text}`, with the leader when it helps.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    leader: Option<NodeId>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), leader: None }
    }

    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    fn unavailable(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }

    fn from_body(rejection: BytesRejection) -> ApiError {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::new(rejection.status(), "bad_body", rejection.body_text())
        }
    }

    fn from_kv(error: KvError) -> ApiError {
        match error {
            KvError::NoKey => ApiError::new(StatusCode::NOT_FOUND, "no_key", error.to_string()),
            KvError::VersionMismatch => {
                ApiError::new(StatusCode::CONFLICT, "version_mismatch", error.to_string())
            }
            _ => ApiError::unavailable("unavailable", error.to_string()),
        }
    }

    fn from_submit(error: SubmitError) -> ApiError {
        match error {
            SubmitError::WrongLeader { leader_hint } => ApiError {
                leader: leader_hint,
                ..ApiError::unavailable("no_leader", "no leader is known; try again")
            },
            SubmitError::TimedOut => ApiError::unavailable(
                "timed_out",
                "no answer within the submit timeout; the operation may still apply",
            ),
            SubmitError::Busy => ApiError::unavailable("busy", "the leader is busy; try again"),
            SubmitError::TooLarge { .. } => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", error.to_string())
            }
            SubmitError::Stopped => ApiError::unavailable("stopped", "the node is stopping"),
            other => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", other.to_string())
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.code, "message": self.message });
        if let Some(leader) = self.leader {
            body["leader"] = json!(leader.0);
        }
        json_response(self.status, &body)
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut text = body.to_string();
    text.push('\n');
    (status, [(header::CONTENT_TYPE, "application/json")], text).into_response()
}

async fn page() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE).into_response()
}

async fn health(State(app): State<Arc<App>>) -> Response {
    json_response(
        StatusCode::OK,
        &json!({ "ok": true, "id": app.me.id.0, "pid": std::process::id() }),
    )
}

async fn node_status(State(app): State<Arc<App>>) -> Response {
    json_response(StatusCode::OK, &json!(app.node_status()))
}

async fn cluster_status(State(app): State<Arc<App>>) -> Result<Response, ApiError> {
    let mut asks = Vec::new();
    for member in app.members.clone() {
        let app = Arc::clone(&app);
        asks.push(tokio::task::spawn_blocking(move || member_status(&app, member)));
    }
    let mut nodes = Vec::new();
    for ask in asks {
        nodes.push(ask.await.map_err(internal)?);
    }
    let leader = nodes
        .iter()
        .filter_map(|member| member.status.as_ref())
        .filter(|status| status.role == "leader")
        .max_by_key(|status| status.term)
        .map(|status| status.id);
    let changes = app.leaders.lock().unwrap_or_else(PoisonError::into_inner).changes();
    let status = ClusterStatus { answered_by: app.me.id.0, leader, nodes, leader_changes: changes };
    Ok(json_response(StatusCode::OK, &json!(status)))
}

/// One member's status: this node's own, or another's over HTTP.
fn member_status(app: &App, member: Member) -> MemberStatus {
    let (id, url) = (member.id.0, member.url());
    if member.id == app.me.id {
        let status = Some(app.node_status());
        return MemberStatus { id, url, reachable: true, error: None, status };
    }
    let answer = app
        .agent
        .get(&format!("{url}/status"))
        .timeout(MEMBER_STATUS_TIMEOUT)
        .call()
        .map_err(|error| error.to_string())
        .and_then(|response| response.into_json::<NodeStatus>().map_err(|error| error.to_string()));
    match answer {
        Ok(status) => MemberStatus { id, url, reachable: true, error: None, status: Some(status) },
        Err(error) => MemberStatus { id, url, reachable: false, error: Some(error), status: None },
    }
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    let status = app.server.rsm().node().status();
    let text = app.metrics.render(&status);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// `?stale=true` on a read.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadParams {
    #[serde(default)]
    stale: bool,
}

/// `?version=N` on a delete.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeleteParams {
    version: Option<u64>,
}

/// A write's body: `{"value": "...", "version": N}`, the version optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PutBody {
    value: String,
    version: Option<u64>,
}

/// The parts of a request needed to forward it to the leader.
#[derive(Debug)]
struct Original {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

fn key_from(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    let Path(key) = path.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(ApiError::bad_request(format!("a key takes 1 to {MAX_KEY_BYTES} bytes")));
    }
    Ok(key)
}

fn query_from<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query
        .map(|Query(params)| params)
        .map_err(|rejection| ApiError::bad_request(rejection.body_text()))
}

async fn get_key(
    State(app): State<Arc<App>>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<ReadParams>, QueryRejection>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let key = key_from(path)?;
    let params = query_from(query)?;
    if params.stale {
        app.metrics.stale_reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let found = app.server.rsm().read_local(|store| {
            store.get(&key).map(|(value, version)| (value.to_owned(), version))
        });
        return match found {
            Some((value, version)) => Ok(value_response(&key, &value, version)),
            None => Err(ApiError::from_kv(KvError::NoKey)),
        };
    }
    let original = Original { method: Method::GET, uri, headers, body: Bytes::new() };
    match on_this_node(&app, Request::Get { key: key.clone() }, original).await? {
        Outcome::Forwarded(response) => Ok(response),
        Outcome::Reply(Reply::Value { value, version }) => {
            Ok(value_response(&key, &value, version))
        }
        Outcome::Reply(reply) => reply_error(reply),
    }
}

async fn put_key(
    State(app): State<Arc<App>>,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let key = key_from(path)?;
    let body = body.map_err(ApiError::from_body)?;
    let put: PutBody = serde_json::from_slice(&body).map_err(|error| {
        ApiError::bad_request(format!(
            "the body is not {{\"value\": string, \"version\": optional number}}: {error}"
        ))
    })?;
    let request = match put.version {
        Some(version) => Request::Put { key: key.clone(), value: put.value, version },
        None => Request::Set { key: key.clone(), value: put.value },
    };
    let original = Original { method: Method::PUT, uri, headers, body };
    match on_this_node(&app, request, original).await? {
        Outcome::Forwarded(response) => Ok(response),
        Outcome::Reply(Reply::Done) => {
            let version = put.version.unwrap_or_default() + 1;
            Ok(json_response(StatusCode::OK, &json!({ "key": key, "version": version })))
        }
        Outcome::Reply(Reply::Written { version }) => {
            Ok(json_response(StatusCode::OK, &json!({ "key": key, "version": version })))
        }
        Outcome::Reply(reply) => reply_error(reply),
    }
}

async fn delete_key(
    State(app): State<Arc<App>>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<DeleteParams>, QueryRejection>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let key = key_from(path)?;
    let params = query_from(query)?;
    let original = Original { method: Method::DELETE, uri, headers, body: Bytes::new() };
    let request = Request::Delete { key: key.clone(), version: params.version };
    match on_this_node(&app, request, original).await? {
        Outcome::Forwarded(response) => Ok(response),
        Outcome::Reply(Reply::Done) => {
            Ok(json_response(StatusCode::OK, &json!({ "key": key, "deleted": true })))
        }
        Outcome::Reply(reply) => reply_error(reply),
    }
}

fn value_response(key: &str, value: &str, version: u64) -> Response {
    json_response(StatusCode::OK, &json!({ "key": key, "value": value, "version": version }))
}

fn reply_error(reply: Reply) -> Result<Response, ApiError> {
    match reply {
        Reply::Failed(error) => Err(ApiError::from_kv(error)),
        other => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("unexpected reply {other:?}"),
        )),
    }
}

/// A request's result: this node's answer, or the leader's.
enum Outcome {
    Reply(Reply),
    Forwarded(Response),
}

/// Runs `request` on this node, on the runtime with no thread held while it
/// waits: a write through the log (until committed and applied), a `Get` as a
/// linearizable read (ReadIndex, no log entry; a follower serves it
/// locally once it has applied through the leader's read index). If no
/// leader answers this node, forwards the original request to the leader.
async fn on_this_node(
    app: &Arc<App>,
    request: Request,
    original: Original,
) -> Result<Outcome, ApiError> {
    use std::sync::atomic::Ordering::Relaxed;
    let counter = match request {
        Request::Get { .. } => &app.metrics.reads,
        _ => &app.metrics.proposals,
    };
    counter.fetch_add(1, Relaxed);
    let result = match request {
        Request::Get { key } => linearizable_get(&app.server, key).await,
        request => write(&app.server, request).await,
    };
    match result {
        Ok(reply) => Ok(Outcome::Reply(reply)),
        Err(SubmitError::WrongLeader { leader_hint }) => {
            app.metrics.proposals_failed.fetch_add(1, Relaxed);
            forward(app, leader_hint, original).await.map(Outcome::Forwarded)
        }
        Err(error) => {
            app.metrics.proposals_failed.fetch_add(1, Relaxed);
            Err(ApiError::from_submit(error))
        }
    }
}

/// Sends `original` to the leader and returns its answer as this node's.
/// A request forwarded once is not forwarded again: a node that got one and
/// does not lead either answers 503.
async fn forward(
    app: &Arc<App>,
    hint: Option<NodeId>,
    original: Original,
) -> Result<Response, ApiError> {
    let no_leader = |leader| ApiError {
        leader,
        ..ApiError::unavailable("no_leader", "no leader is known; try again")
    };
    if original.headers.contains_key(FORWARDED_BY) {
        return Err(no_leader(hint));
    }
    let leader = hint
        .or(app.server.rsm().node().status().leader)
        .filter(|leader| *leader != app.me.id)
        .and_then(|leader| app.members.iter().find(|member| member.id == leader).copied())
        .ok_or_else(|| no_leader(None))?;
    app.metrics.forwarded.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = original.uri.path_and_query().map_or("/", |path| path.as_str()).to_owned();
    let url = format!("{}{path}", leader.url());
    let agent = app.agent.clone();
    let me = app.me.id.0.to_string();
    let answer = tokio::task::spawn_blocking(move || {
        let request = agent
            .request(original.method.as_str(), &url)
            .set(FORWARDED_BY, &me)
            .set("content-type", "application/json");
        let response = if original.body.is_empty() {
            request.call()
        } else {
            request.send_bytes(&original.body)
        };
        match response {
            Ok(response) | Err(ureq::Error::Status(_, response)) => {
                let status = response.status();
                response.into_string().map(|body| (status, body)).map_err(|error| error.to_string())
            }
            Err(error) => Err(error.to_string()),
        }
    })
    .await
    .map_err(internal)?;
    match answer {
        Ok((status, body)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            let mut response = (status, body).into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            Ok(response)
        }
        Err(error) => Err(ApiError {
            leader: Some(leader.id),
            ..ApiError::unavailable(
                "leader_unreachable",
                format!("the leader did not answer: {error}"),
            )
        }),
    }
}

/// `{"to": ID}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TransferBody {
    to: u64,
}

/// Asks the leader to hand its lead to `to`; a follower forwards the request
/// to the leader. 202 once the leader has taken it in: the cluster status
/// shows the new leader when the transfer is done.
async fn transfer_leader(
    State(app): State<Arc<App>>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(ApiError::from_body)?;
    let transfer: TransferBody = serde_json::from_slice(&body).map_err(|error| {
        ApiError::bad_request(format!("the body is not {{\"to\": node id}}: {error}"))
    })?;
    let to = NodeId(transfer.to);
    if !app.members.iter().any(|member| member.id == to) {
        return Err(ApiError::bad_request(format!("node {to} is not a member")));
    }
    let node = app.server.rsm().node().clone();
    let result = tokio::task::spawn_blocking(move || transfer_leadership(&node, to))
        .await
        .map_err(internal)?;
    match result {
        Ok(()) => Ok(json_response(StatusCode::ACCEPTED, &json!({ "transferring_to": to.0 }))),
        Err(TransferError::NotLeader { leader_hint }) => {
            let original = Original { method: Method::POST, uri, headers, body };
            forward(&app, leader_hint, original).await
        }
        Err(error @ TransferError::UnknownPeer(_)) => Err(ApiError::bad_request(error.to_string())),
        Err(error) => Err(ApiError::unavailable("stopped", error.to_string())),
    }
}

async fn unknown_route(uri: Uri) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "unknown_route", format!("no route for {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not allowed on {}", uri.path()),
    )
}

fn internal(error: tokio::task::JoinError) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", error.to_string())
}
