//! [`ClientEnds`]: one client's ends to the servers of a service, with
//! blocking calls.

use std::fmt;

use crossbeam_channel::bounded;

use crate::Network;

/// One client's ends to the servers of a service (the lab's clerk ends),
/// one per server, of which some are enabled: `call(j, request)` sends to
/// server `j` and waits for the outcome.
#[derive(Clone)]
pub struct ClientEnds {
    network: Network,
    ends: Vec<String>,
}

impl ClientEnds {
    pub(crate) fn new(network: Network, ends: Vec<String>) -> ClientEnds {
        ClientEnds { network, ends }
    }

    /// How many servers there are (reachable or not).
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Lets this client reach every server (the lab's clerk `ConnectAll`).
    pub fn connect_all(&self) {
        for end in &self.ends {
            self.network.enable(end, true);
        }
    }

    /// Calls server `k` with `request` and waits for the reply bytes, or
    /// `None` (labrpc's `false`: lost, cut off, or no answer). Every call
    /// ends: the network fails calls it cannot deliver.
    ///
    /// # Panics
    /// If `k` is not below [`len`](Self::len).
    pub fn call(&self, k: usize, request: Vec<u8>) -> Option<Vec<u8>> {
        let (sender, receiver) = bounded(1);
        self.network.call(
            &self.ends[k],
            request,
            Box::new(move |reply| {
                let _ = sender.send(reply);
            }),
        );
        receiver.recv().ok().flatten()
    }
}

impl fmt::Debug for ClientEnds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientEnds").field("ends", &self.ends.len()).finish()
    }
}
