//! The applier thread: hands committed entries to the service, in order,
//! without ever making the event loop wait for the service.

use crossbeam_channel::{Receiver, Sender, select};

use crate::Applied;

/// Forwards items from the event loop's unbounded queue to the service's
/// rendezvous channel until either side closes or `stop` fires. The service
/// may take as long as it likes, and may call back into the node (for a
/// snapshot) from the thread that reads: the event loop never waits on it.
pub(crate) fn run(queue: Receiver<Applied>, service: Sender<Applied>, stop: Receiver<()>) {
    loop {
        let item = select! {
            recv(queue) -> item => match item {
                Ok(item) => item,
                Err(_) => return,
            },
            recv(stop) -> _ => return,
        };
        select! {
            send(service, item) -> sent => if sent.is_err() { return },
            recv(stop) -> _ => return,
        }
    }
}
