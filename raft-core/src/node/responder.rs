//! [`Answer`]: how the event loop answers a peer's request once the state
//! it depends on is durable, without the transport thread waiting for it.

use crossbeam_channel::Sender;

use crate::Response;

/// The transport's way to send one answer back.
#[derive(Debug)]
pub(crate) struct Answer(pub(crate) Sender<Response>);

impl Answer {
    pub(crate) fn respond(self, response: Response) {
        // A requester that gave up no longer listens; that is fine.
        let _ = self.0.send(response);
    }

    pub(crate) fn refuse(self) {}
}
