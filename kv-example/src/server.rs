//! [`KvServer`]: one replica of the service: the store, replicated through
//! `raft-rsm`, answering [`Request`]s.

use raft_core::NodeBuilder;
use raft_rsm::{Rsm, RsmConfig, StartError, SubmitError};

use crate::{KvError, KvStore, Reply, Request};

/// One server of the key/value service: a [`KvStore`] replicated over a Raft
/// node. Every operation, reads included, goes through the log, so answers
/// are linearizable; a server that does not lead answers
/// [`KvError::WrongLeader`].
///
/// Transport-agnostic: a server speaks [`Request`] and [`Reply`]; the lab's
/// tests carry them over the simulated network, and a cluster binary over
/// its own.
#[derive(Clone, Debug)]
pub struct KvServer {
    rsm: Rsm<KvStore>,
}

impl KvServer {
    /// Starts the server on the node `builder` describes.
    ///
    /// # Errors
    /// As [`Rsm::start`].
    pub fn start(builder: NodeBuilder, config: RsmConfig) -> Result<KvServer, StartError> {
        Ok(KvServer { rsm: Rsm::start(builder, KvStore::default(), config)? })
    }

    /// Carries out one operation through the log.
    pub fn handle(&self, request: Request) -> Reply {
        match self.rsm.submit(request) {
            Ok(reply) => reply,
            Err(SubmitError::WrongLeader { .. }) => Reply::Failed(KvError::WrongLeader),
            Err(error) => {
                tracing::debug!(%error, "an operation got no answer");
                Reply::Failed(KvError::Unavailable)
            }
        }
    }

    /// The replicated state machine underneath.
    pub fn rsm(&self) -> &Rsm<KvStore> {
        &self.rsm
    }

    /// Stops the server; operations waiting return [`KvError::Unavailable`].
    pub fn shutdown(&self) {
        self.rsm.shutdown();
    }
}
