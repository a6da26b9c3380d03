//! [`Message`] and [`RequestId`]: what a driver feeds the core through
//! [`Raft::step`](crate::Raft::step).

use raft_log::NodeId;

use crate::{Request, Response, Sent};

/// The driver's name for a request it stepped. The core echoes it on the
/// answer, in [`Outgoing::Response`](crate::Outgoing::Response), so the driver
/// can route the answer back to the caller. Any numbering the driver likes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub u64);

/// One input from the network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A request from peer `from`. Its answer comes out in a later
    /// [`Ready`](crate::Ready), tagged with `id`.
    Request {
        /// The peer that sent it.
        from: NodeId,
        /// The driver's name for it.
        id: RequestId,
        /// The request.
        request: Request,
    },
    /// The outcome of a request this node sent to `from`.
    Response {
        /// The peer the request went to.
        from: NodeId,
        /// What the driver remembered of the request ([`Sent::of`]).
        sent: Sent,
        /// The peer's answer, or `None` when the call failed (unreachable,
        /// timed out, refused): the core then backs off that peer.
        response: Option<Response>,
    },
}
