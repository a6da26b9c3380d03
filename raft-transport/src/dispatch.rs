//! [`Dispatcher`]: the installed handler, and handing requests to it.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use crate::{Handler, Responder, TransportError};

/// The server side every backend shares: hands each request to the handler on
/// the thread that received it.
pub(crate) struct Dispatcher<Req, Resp> {
    handler: OnceLock<Arc<dyn Handler<Req, Resp>>>,
    /// Set by [`close`](Self::close); requests dispatched after it are refused.
    closed: AtomicBool,
}

impl<Req: 'static, Resp: Send + 'static> Dispatcher<Req, Resp> {
    /// A dispatcher with no handler yet.
    pub(crate) fn new() -> Dispatcher<Req, Resp> {
        Dispatcher { handler: OnceLock::new(), closed: AtomicBool::new(false) }
    }

    /// Installs the handler.
    ///
    /// # Errors
    /// [`TransportError::Shutdown`] after [`close`](Self::close),
    /// [`TransportError::AlreadyServing`] if a handler is installed already.
    pub(crate) fn serve(&self, handler: Arc<dyn Handler<Req, Resp>>) -> Result<(), TransportError> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(TransportError::Shutdown);
        }
        self.handler.set(handler).map_err(|_| TransportError::AlreadyServing)
    }

    /// Hands `request` to the handler on the current thread; the handler
    /// answers through `responder`, now or later. Refuses the request if no
    /// handler is installed or the dispatcher is closed.
    ///
    /// A handler that panics is logged; the unwinding drops the responder, and
    /// so refuses the request, unless the handler had handed it on.
    pub(crate) fn dispatch(&self, request: Req, responder: Responder<Resp>) {
        let handler = match self.handler.get() {
            Some(handler) if !self.closed.load(Ordering::SeqCst) => handler,
            _ => return responder.refuse(),
        };
        if panic::catch_unwind(AssertUnwindSafe(|| handler.handle(request, responder))).is_err() {
            tracing::error!("a request handler panicked; its request is refused");
        }
    }
}

impl<Req, Resp> Dispatcher<Req, Resp> {
    /// Stops dispatching: requests dispatched from now on are refused; a
    /// `handle` call in progress finishes. Idempotent.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }
}

impl<Req, Resp> fmt::Debug for Dispatcher<Req, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dispatcher")
            .field("serving", &self.handler.get().is_some())
            .field("closed", &self.closed.load(Ordering::SeqCst))
            .finish()
    }
}

#[cfg(test)]
mod tests;
