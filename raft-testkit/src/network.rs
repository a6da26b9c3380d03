//! The labrpc-style simulated network: named ends, named servers, the lab's fault model and counters.

mod pool;
mod scheduler;

use std::collections::HashMap;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rand::Rng;

use self::pool::Pool;
use self::scheduler::{Fire, Scheduler};

/// labrpc `SHORTDELAY`: an unreliable network holds each request 0..27 ms.
const SHORT_DELAY_MS: u64 = 27;
/// labrpc `LONGDELAY`: with long delays on, a call to a disabled end or a dead
/// server fails after 0..7000 ms.
const LONG_DELAY_MS: u64 = 7000;
/// Without long delays, such a call fails after 0..100 ms.
const FAILURE_DELAY_MS: u64 = 100;
/// An unreliable network drops this many requests, and as many replies, per 1000.
const DROP_PER_MILLE: u32 = 100;
/// Long reordering delays a reply when `rand(REORDER_OUT_OF) < REORDER_BELOW`
/// (2/3 of them)...
const REORDER_OUT_OF: u32 = 900;
const REORDER_BELOW: u32 = 600;
/// ...by `REORDER_BASE_MS + rand(1 + rand(REORDER_SPREAD_MS))` ms.
const REORDER_BASE_MS: u64 = 200;
const REORDER_SPREAD_MS: u64 = 2000;

/// Where the outcome of one [`Network::call`] goes: the reply bytes, or `None`
/// (labrpc's `false`).
type OnReply = Box<dyn FnOnce(Option<Vec<u8>>) + Send + 'static>;

type HandlerFn = dyn Fn(Vec<u8>) -> Option<Vec<u8>> + Send + Sync + 'static;

/// The simulated network of the MIT 6.5840 labs (labrpc's `Network`).
///
/// Clients talk to servers through *ends*: named, one-way ports from one caller
/// to one server. A new end is disabled and unconnected; the tester
/// [`connect`](Self::connect)s it to a server name and [`enable`](Self::enable)s
/// or disables it to cut and heal links. Servers are registered under names with
/// [`add_server`](Self::add_server); registering again under the same name makes
/// a new server object (a restart), and [`delete_server`](Self::delete_server)
/// kills one.
///
/// # Fault model (labrpc's numbers)
/// Every [`call`](Self::call) counts one RPC and its request bytes at once. The
/// state of the end is sampled when the call starts:
/// - **Enabled, connected, server registered.** If unreliable, the request
///   waits 0–26 ms and then 10 % of requests are dropped (the handler does not
///   run). Otherwise the handler runs (the server's [`count`](Self::count)
///   grows). If the server is *dead* before the handler returns (the end was
///   disabled or deleted, or the server was deleted or replaced) the call fails
///   at once and the handler's answer is thrown away. If unreliable, 10 % of
///   replies are then dropped. With long reordering, 2/3 of replies are
///   delivered after 200–2199 ms (skewed low); the others, at once. Reply bytes
///   count when a reply is delivered.
/// - **Disabled, unconnected, or no server.** The handler does not run; the
///   call fails after 0–6999 ms with long delays on, else after 0–99 ms.
///
/// A reply from a server that has since been deleted or replaced is never
/// delivered, not even one held back by long reordering. labrpc delivers a
/// held-back reply regardless; this network is stricter on purpose, so that a
/// killed server's replies, including those in flight when it died, never
/// reach anyone. Every call returns
/// exactly once, unless its handler never returns and its server never dies.
///
/// labrpc polls for a dead server every 100 ms while a handler runs; this
/// network fails the waiting calls as soon as the end or the server changes,
/// which is the same as a poll that happens to fall right after the change.
///
/// Callbacks run on the network's own threads (a handler thread or the timer
/// thread), never inside [`call`](Self::call) and never inside the method that
/// decided their outcome, so they must be quick and must not block. A handler
/// or a callback that panics is logged; the network goes on.
///
/// A `Network` is cheap to clone; clones share one network.
#[derive(Clone)]
pub struct Network {
    inner: Arc<Inner>,
}

/// One server's request handler on bytes (a labrpc `Server` with its services).
///
/// The handler runs on a network thread, possibly for several requests at once,
/// and may block. It returns the encoded reply, or `None` to give no answer,
/// which the caller sees as a failed call, like a dropped reply.
#[derive(Clone)]
pub struct Service {
    handler: Arc<HandlerFn>,
}

struct Inner {
    state: Mutex<State>,
    /// labrpc `count`: every call, whatever became of it.
    total_count: AtomicU64,
    /// labrpc `bytes`: every request, plus every delivered reply.
    total_bytes: AtomicU64,
    /// Set by [`Network::cleanup`]: new calls fail at once.
    closed: AtomicBool,
    scheduler: Scheduler,
    pool: Pool,
}

struct State {
    reliable: bool,
    long_delays: bool,
    long_reordering: bool,
    ends: HashMap<String, End>,
    /// The live server object under each name; identity (`Arc::ptr_eq`) tells a
    /// restarted server from its predecessor.
    servers: HashMap<String, Arc<Server>>,
    /// Calls whose handler has been started and whose outcome is not yet
    /// decided, by call number.
    running: HashMap<u64, Running>,
    next_call: u64,
}

#[derive(Default)]
struct End {
    enabled: bool,
    server: Option<String>,
}

/// One registered server object.
struct Server {
    service: Service,
    /// Requests handed to this object's handler (labrpc `GetCount`).
    count: AtomicU64,
}

/// Where one call goes, fixed when it starts.
struct Target {
    end: String,
    server_name: String,
    server: Arc<Server>,
    faults: Faults,
}

/// The network's fault settings, sampled when a call starts.
#[derive(Clone, Copy)]
struct Faults {
    reliable: bool,
    long_reordering: bool,
}

struct Running {
    target: Target,
    on_reply: OnReply,
}

impl Network {
    /// A reliable network without long delays or long reordering, with no ends
    /// and no servers. Starts the network's timer thread.
    ///
    /// # Panics
    /// If the operating system refuses to start a thread.
    #[must_use]
    pub fn new() -> Network {
        Network {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    reliable: true,
                    long_delays: false,
                    long_reordering: false,
                    ends: HashMap::new(),
                    servers: HashMap::new(),
                    running: HashMap::new(),
                    next_call: 0,
                }),
                total_count: AtomicU64::new(0),
                total_bytes: AtomicU64::new(0),
                closed: AtomicBool::new(false),
                scheduler: Scheduler::start(),
                pool: Pool::new(),
            }),
        }
    }

    /// Makes the network reliable, or unreliable: 0–26 ms request delays and
    /// 10 % of requests and of replies dropped. Applies to calls started later.
    pub fn set_reliable(&self, reliable: bool) {
        self.inner.lock().reliable = reliable;
    }

    /// Whether the network is reliable.
    #[must_use]
    pub fn is_reliable(&self) -> bool {
        self.inner.lock().reliable
    }

    /// Turns long delays on or off: calls that cannot reach their server fail
    /// after up to 7 s instead of up to 100 ms (the Raft tests turn them on, so a
    /// leader that sends synchronously falls behind).
    pub fn set_long_delays(&self, on: bool) {
        self.inner.lock().long_delays = on;
    }

    /// Turns long reordering on or off: 2/3 of replies arrive 200–2199 ms late.
    /// Independent of [`set_reliable`](Self::set_reliable).
    pub fn set_long_reordering(&self, on: bool) {
        self.inner.lock().long_reordering = on;
    }

    /// Creates the end `end`, disabled and unconnected.
    ///
    /// # Panics
    /// If an end with that name exists already (labrpc aborts too: it is a bug
    /// in the test).
    pub fn make_end(&self, end: &str) {
        let mut state = self.inner.lock();
        assert!(
            !state.ends.contains_key(end),
            "the simulated network already has an end named {end:?}"
        );
        state.ends.insert(end.to_owned(), End::default());
    }

    /// Points `end` at the server named `server` (registered now or later).
    /// An unknown end is left alone.
    pub fn connect(&self, end: &str, server: &str) {
        match self.inner.lock().ends.get_mut(end) {
            Some(state) => state.server = Some(server.to_owned()),
            None => tracing::warn!(end, server, "connect: no such end"),
        }
    }

    /// Enables or disables `end`. Disabling it fails the calls on it whose
    /// handler is still running. An unknown end is left alone.
    pub fn enable(&self, end: &str, enabled: bool) {
        let mut state = self.inner.lock();
        match state.ends.get_mut(end) {
            Some(known) => known.enabled = enabled,
            None => {
                tracing::warn!(end, enabled, "enable: no such end");
                return;
            }
        }
        if !enabled {
            self.inner.fail_dead_calls(state);
        }
    }

    /// Removes `end`; later calls on it fail like calls on a disabled end, and
    /// so do the ones whose handler is still running.
    pub fn delete_end(&self, end: &str) {
        let mut state = self.inner.lock();
        if state.ends.remove(end).is_some() {
            self.inner.fail_dead_calls(state);
        }
    }

    /// Registers a new server object under `server`, replacing (killing) any
    /// previous one; its [`count`](Self::count) starts at 0.
    pub fn add_server(&self, server: &str, service: Service) {
        let fresh = Arc::new(Server { service, count: AtomicU64::new(0) });
        let mut state = self.inner.lock();
        if state.servers.insert(server.to_owned(), fresh).is_some() {
            self.inner.fail_dead_calls(state);
        }
    }

    /// Kills the server registered under `server`: calls waiting for its
    /// handlers fail at once, and no reply of it is delivered any more.
    pub fn delete_server(&self, server: &str) {
        let mut state = self.inner.lock();
        if state.servers.remove(server).is_some() {
            self.inner.fail_dead_calls(state);
        }
    }

    /// Sends `request` through `end` (labrpc's `Call`) and returns at once.
    ///
    /// `on_reply` runs exactly once, later and on a network thread (never inside
    /// `call`), with the reply, or with `None` if the request or the reply was
    /// lost or the server is unreachable or dead (labrpc's `false`). After
    /// [`cleanup`](Self::cleanup) it runs at once with `None`, and the call is
    /// not counted.
    pub fn call(
        &self,
        end: &str,
        request: Vec<u8>,
        on_reply: Box<dyn FnOnce(Option<Vec<u8>>) + Send + 'static>,
    ) {
        if self.inner.closed.load(Ordering::Acquire) {
            self.defer(move || on_reply(None));
            return;
        }
        self.inner.total_count.fetch_add(1, Ordering::Relaxed);
        self.inner.total_bytes.fetch_add(byte_count(&request), Ordering::Relaxed);

        let (target, long_delays) = self.inner.route(end);
        let Some(target) = target else {
            let limit = if long_delays { LONG_DELAY_MS } else { FAILURE_DELAY_MS };
            let delay = rand::thread_rng().gen_range(0..limit);
            self.inner
                .scheduler
                .after(Duration::from_millis(delay), Box::new(move |_| on_reply(None)));
            return;
        };
        if target.faults.reliable {
            self.inner.dispatch(target, request, on_reply);
            return;
        }
        let delay = rand::thread_rng().gen_range(0..SHORT_DELAY_MS);
        let inner = Arc::clone(&self.inner);
        self.inner.scheduler.after(
            Duration::from_millis(delay),
            Box::new(move |fire| {
                if fire == Fire::Due && !drops() {
                    inner.dispatch(target, request, on_reply);
                } else {
                    on_reply(None);
                }
            }),
        );
    }

    /// Every call so far (labrpc `GetTotalCount`), whatever became of it.
    #[must_use]
    pub fn total_count(&self) -> u64 {
        self.inner.total_count.load(Ordering::Relaxed)
    }

    /// The bytes of every request so far plus those of every delivered reply
    /// (labrpc `GetTotalBytes`).
    #[must_use]
    pub fn total_bytes(&self) -> u64 {
        self.inner.total_bytes.load(Ordering::Relaxed)
    }

    /// The requests handed to the handler of the server object now registered
    /// under `server` (labrpc `GetCount`); 0 if none is registered.
    #[must_use]
    pub fn count(&self, server: &str) -> u64 {
        self.inner.lock().servers.get(server).map_or(0, |known| known.count.load(Ordering::Relaxed))
    }

    /// Shuts the network down (labrpc `Cleanup`): new calls fail at once, calls
    /// waiting for a delay or a delayed reply fail now, and the network's threads
    /// exit once the handlers running on them return. Idempotent.
    pub fn cleanup(&self) {
        self.inner.closed.store(true, Ordering::Release);
        self.inner.scheduler.stop();
        self.inner.pool.close();
    }

    /// Runs `task` soon on the network's timer thread (after
    /// [`cleanup`](Self::cleanup), on a short-lived thread of its own). For
    /// outcomes that are known at once but must not reach a callback before the
    /// call that produced them returns.
    pub(crate) fn defer(&self, task: impl FnOnce() + Send + 'static) {
        self.inner.scheduler.after(Duration::ZERO, Box::new(move |_| task()));
    }
}

impl Default for Network {
    fn default() -> Network {
        Network::new()
    }
}

impl fmt::Debug for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.lock();
        f.debug_struct("Network")
            .field("reliable", &state.reliable)
            .field("long_delays", &state.long_delays)
            .field("long_reordering", &state.long_reordering)
            .field("ends", &state.ends.len())
            .field("servers", &state.servers.len())
            .field("running", &state.running.len())
            .field("total_count", &self.total_count())
            .field("total_bytes", &self.total_bytes())
            .field("closed", &self.inner.closed.load(Ordering::Relaxed))
            .finish()
    }
}

impl Service {
    /// A service that answers each request with `handler`.
    pub fn new(handler: impl Fn(Vec<u8>) -> Option<Vec<u8>> + Send + Sync + 'static) -> Service {
        Service { handler: Arc::new(handler) }
    }

    /// Answers one request.
    pub(crate) fn handle(&self, request: Vec<u8>) -> Option<Vec<u8>> {
        (self.handler)(request)
    }
}

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Service").finish_non_exhaustive()
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Callbacks and handlers run outside the lock, so a poisoned lock still
        // holds a consistent network.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Samples the end when a call starts: where it goes, or `None` if it cannot
    /// get there; and whether long delays are on.
    fn route(&self, end: &str) -> (Option<Target>, bool) {
        let state = self.lock();
        let target = state.ends.get(end).and_then(|known| {
            let server_name = known.server.as_ref().filter(|_| known.enabled)?;
            let server = state.servers.get(server_name)?;
            Some(Target {
                end: end.to_owned(),
                server_name: server_name.clone(),
                server: Arc::clone(server),
                faults: Faults { reliable: state.reliable, long_reordering: state.long_reordering },
            })
        });
        (target, state.long_delays)
    }

    /// Runs the handler of the call's server on a pool thread, then decides the
    /// outcome in [`complete`](Self::complete).
    fn dispatch(self: &Arc<Self>, target: Target, request: Vec<u8>, on_reply: OnReply) {
        let service = target.server.service.clone();
        target.server.count.fetch_add(1, Ordering::Relaxed);
        let mut state = self.lock();
        let id = state.next_call;
        state.next_call += 1;
        let faults = target.faults;
        if state.is_dead(&target) {
            // Killed during the short delay: the handler still runs, as in
            // labrpc, but the caller learns at once.
            drop(state);
            self.scheduler.after(Duration::ZERO, Box::new(move |_| on_reply(None)));
        } else {
            state.running.insert(id, Running { target, on_reply });
            drop(state);
        }

        let inner = Arc::clone(self);
        self.pool.execute(Box::new(move || {
            let answer = panic::catch_unwind(AssertUnwindSafe(|| service.handle(request)));
            match answer {
                Ok(reply) => inner.complete(id, faults, reply),
                Err(payload) => {
                    inner.complete(id, faults, None);
                    panic::resume_unwind(payload);
                }
            }
        }));
    }

    /// The handler of call `id` returned `reply`: deliver it, drop it, or hold it
    /// back, as the fault model says.
    fn complete(self: &Arc<Self>, id: u64, faults: Faults, reply: Option<Vec<u8>>) {
        let Running { target, on_reply } = {
            let mut state = self.lock();
            // Absent: the server died while the handler ran, and the caller has
            // been told already.
            let Some(running) = state.running.remove(&id) else {
                return;
            };
            if state.is_dead(&running.target) {
                drop(state);
                (running.on_reply)(None);
                return;
            }
            running
        };
        let Some(reply) = reply else {
            on_reply(None);
            return;
        };
        if !faults.reliable && drops() {
            on_reply(None);
            return;
        }
        if faults.long_reordering && reorders() {
            let delay = {
                let mut rng = rand::thread_rng();
                let spread = rng.gen_range(0..REORDER_SPREAD_MS);
                REORDER_BASE_MS + rng.gen_range(0..=spread)
            };
            let inner = Arc::clone(self);
            self.scheduler.after(
                Duration::from_millis(delay),
                Box::new(move |fire| {
                    if fire == Fire::Due && inner.lock().is_registered(&target) {
                        inner.deliver(reply, on_reply);
                    } else {
                        on_reply(None);
                    }
                }),
            );
            return;
        }
        self.deliver(reply, on_reply);
    }

    fn deliver(&self, reply: Vec<u8>, on_reply: OnReply) {
        self.total_bytes.fetch_add(byte_count(&reply), Ordering::Relaxed);
        on_reply(Some(reply));
    }

    /// Fails, soon and on the timer thread, every running call whose server is
    /// now dead. Called with the lock after a change that can kill servers.
    fn fail_dead_calls(&self, mut state: MutexGuard<'_, State>) {
        let dead: Vec<u64> = state
            .running
            .iter()
            .filter(|(_, running)| state.is_dead(&running.target))
            .map(|(id, _)| *id)
            .collect();
        if dead.is_empty() {
            return;
        }
        let callbacks: Vec<OnReply> = dead
            .iter()
            .filter_map(|id| state.running.remove(id))
            .map(|running| running.on_reply)
            .collect();
        drop(state);
        tracing::debug!(calls = callbacks.len(), "failing calls to dead servers");
        self.scheduler.after(
            Duration::ZERO,
            Box::new(move |_| {
                for on_reply in callbacks {
                    on_reply(None);
                }
            }),
        );
    }
}

impl State {
    /// labrpc `isServerDead`: the end is disabled or gone, or the server object
    /// the call started with is no longer the one registered under its name.
    fn is_dead(&self, target: &Target) -> bool {
        let enabled = self.ends.get(&target.end).is_some_and(|end| end.enabled);
        !enabled || !self.is_registered(target)
    }

    /// Whether the call's server object is still the one registered.
    fn is_registered(&self, target: &Target) -> bool {
        self.servers
            .get(&target.server_name)
            .is_some_and(|server| Arc::ptr_eq(server, &target.server))
    }
}

/// Whether an unreliable network loses this message (10 %).
fn drops() -> bool {
    rand::thread_rng().gen_range(0..1000) < DROP_PER_MILLE
}

/// Whether long reordering holds this reply back (2/3).
fn reorders() -> bool {
    rand::thread_rng().gen_range(0..REORDER_OUT_OF) < REORDER_BELOW
}

fn byte_count(bytes: &[u8]) -> u64 {
    u64::try_from(bytes.len()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests;
