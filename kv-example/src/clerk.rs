//! [`Clerk`]: the service's client, which finds the leader and retries, over
//! any [`Connection`] to the servers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::{KvError, Reply, Request, Version};

/// A way to reach the servers of the service.
pub trait Connection: Send + Sync {
    /// How many servers there are.
    fn servers(&self) -> usize;

    /// Sends `request` to server `server` and waits for the reply, or `None`
    /// if the call failed (lost, cut off, no answer).
    fn call(&self, server: usize, request: &Request) -> Option<Reply>;
}

/// The pause after a whole round of servers without a leader.
const ROUND_PAUSE: Duration = Duration::from_millis(10);

/// The service's client (the lab's clerk): it sends each operation to the
/// server it believes leads, tries the next on a failed call or
/// [`KvError::WrongLeader`], and remembers the leader it found.
///
/// It retries until an answer comes, as the lab's clerk does: with no
/// reachable majority, a call does not return.
#[derive(Debug)]
pub struct Clerk<C> {
    connection: C,
    leader: AtomicUsize,
}

impl<C: Connection> Clerk<C> {
    /// A clerk over `connection`.
    pub fn new(connection: C) -> Clerk<C> {
        Clerk { connection, leader: AtomicUsize::new(0) }
    }

    /// The connection to the servers.
    pub fn connection(&self) -> &C {
        &self.connection
    }

    /// The value and version of `key`.
    ///
    /// # Errors
    /// [`KvError::NoKey`] if it does not exist.
    pub fn get(&self, key: &str) -> Result<(String, Version), KvError> {
        let request = Request::Get { key: key.to_owned() };
        match self.until_answered(&request, |_| {}) {
            Reply::Value { value, version } => Ok((value, version)),
            Reply::Failed(error) => Err(error),
            _ => Err(KvError::Unavailable),
        }
    }

    /// Writes `value` at `key` if its version is `version` (0 creates it).
    ///
    /// # Errors
    /// [`KvError::VersionMismatch`] if the first attempt found another
    /// version; [`KvError::Maybe`] if a retry did (an earlier attempt may have
    /// applied); [`KvError::NoKey`] for a missing key with a non-zero version.
    pub fn put(&self, key: &str, value: &str, version: Version) -> Result<(), KvError> {
        let request = Request::Put { key: key.to_owned(), value: value.to_owned(), version };
        let mut attempts = 0;
        match self.until_answered(&request, |_| attempts += 1) {
            Reply::Done => Ok(()),
            Reply::Failed(KvError::VersionMismatch) if attempts > 1 => Err(KvError::Maybe),
            Reply::Failed(error) => Err(error),
            _ => Err(KvError::Unavailable),
        }
    }

    /// Sends `request` until a server answers it for good, calling `attempt`
    /// before every send.
    fn until_answered(&self, request: &Request, mut attempt: impl FnMut(usize)) -> Reply {
        let servers = self.connection.servers().max(1);
        let mut server = self.leader.load(Ordering::Relaxed) % servers;
        loop {
            for _ in 0..servers {
                attempt(server);
                match self.connection.call(server, request) {
                    None | Some(Reply::Failed(KvError::WrongLeader | KvError::Unavailable)) => {
                        server = (server + 1) % servers;
                    }
                    Some(reply) => {
                        self.leader.store(server, Ordering::Relaxed);
                        return reply;
                    }
                }
            }
            std::thread::sleep(ROUND_PAUSE);
        }
    }
}
