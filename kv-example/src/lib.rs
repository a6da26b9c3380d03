//! A replicated, versioned key/value service on Raft: the sample
//! application of the workspace (the MIT 6.5840 2025 Lab 4 service).
//!
//! - [`KvStore`]: the state machine, `key -> (value, version)`. A `Put`
//!   applies only at the key's current version (0 creates a missing key),
//!   which makes retries safe without a table of client ids; a `Set` writes
//!   whatever the version and a `Delete` removes a key.
//! - [`KvServer`]: one replica, the store replicated through `raft-rsm`'s
//!   [`Rsm`](raft_rsm::Rsm); [`KvServer::handle`] runs every operation,
//!   reads included, through the log (the lab's way). The `kv` binary reads
//!   with `Rsm::read_async` instead: ReadIndex, no log entry.
//! - [`Clerk`]: the client; it finds the leader, retries across servers, and
//!   reports [`KvError::Maybe`] when a retried `Put` finds the version moved
//!   on (an earlier attempt may have applied). It speaks to the servers over
//!   any [`Connection`].
//!
//! The lab's Lab 4 tests run this service on the simulated network of
//! `raft-testkit` (`tests/lab_4b.rs`, `tests/lab_4c.rs`), with their
//! histories checked for linearizability. The crate's `kv` binary runs the
//! service as a real cluster of processes over TCP, with files on disk, an
//! HTTP API, a status page and metrics (`kv cluster`, `kv serve`), and is
//! its command-line client and bench (see the workspace README).
//!
//! # Example
//!
//! One server, reached directly:
//!
//! ```
//! use kv_example::{Clerk, Connection, KvError, KvServer, Reply, Request};
//! use raft_core::{Config, Node, NodeId};
//! use raft_persist::MemPersister;
//! use raft_rsm::RsmConfig;
//! use raft_transport::ChannelNetwork;
//!
//! /// The clerk's way to the one server: a direct call.
//! struct Direct(KvServer);
//!
//! impl Connection for Direct {
//!     fn servers(&self) -> usize {
//!         1
//!     }
//!     fn call(&self, _server: usize, request: &Request) -> Option<Reply> {
//!         Some(self.0.handle(request.clone()))
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let network = ChannelNetwork::new();
//! let builder = Node::builder(Config::new(NodeId(1), vec![NodeId(1)]))
//!     .persister(MemPersister::new())
//!     .transport(network.transport(NodeId(1))?);
//! let server = KvServer::start(builder, RsmConfig::default())?;
//! let clerk = Clerk::new(Direct(server.clone()));
//!
//! clerk.put("greeting", "hello", 0)?;
//! assert_eq!(clerk.get("greeting")?, ("hello".to_owned(), 1));
//! assert_eq!(clerk.put("greeting", "again", 0), Err(KvError::VersionMismatch));
//! assert_eq!(clerk.get("missing"), Err(KvError::NoKey));
//! server.shutdown();
//! # Ok(())
//! # }
//! ```

mod clerk;
mod command;
mod error;
mod server;
mod store;

pub use crate::clerk::{Clerk, Connection};
pub use crate::command::{Reply, Request, Version};
pub use crate::error::KvError;
pub use crate::server::KvServer;
pub use crate::store::KvStore;
