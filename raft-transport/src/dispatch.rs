//! [`Dispatcher`]: the installed handler and the workers that run it.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, OnceLock};

use crate::worker_pool::{Rejected, WorkerPool};
use crate::{Handler, TransportConfig, TransportError};

/// The server side every backend shares: hands requests to the handler on
/// worker threads and passes its answer on.
pub(crate) struct Dispatcher<Req, Resp> {
    handler: OnceLock<Arc<dyn Handler<Req, Resp>>>,
    workers: WorkerPool,
}

/// Why a request was not handed to the handler: none is installed yet, or the
/// transport is shutting down. The request gets no answer.
#[derive(Debug)]
pub(crate) struct Refused;

impl<Req: Send + 'static, Resp: Send + 'static> Dispatcher<Req, Resp> {
    /// A dispatcher with no handler yet, whose workers are named `name-<n>`.
    pub(crate) fn new(name: String, config: &TransportConfig) -> Dispatcher<Req, Resp> {
        Dispatcher {
            handler: OnceLock::new(),
            workers: WorkerPool::new(name, config.handler_threads),
        }
    }

    /// Installs the handler.
    ///
    /// # Errors
    /// [`TransportError::Shutdown`] after [`close`](Self::close),
    /// [`TransportError::AlreadyServing`] if a handler is installed already.
    pub(crate) fn serve(&self, handler: Arc<dyn Handler<Req, Resp>>) -> Result<(), TransportError> {
        if self.workers.is_closed() {
            return Err(TransportError::Shutdown);
        }
        self.handler.set(handler).map_err(|_| TransportError::AlreadyServing)
    }

    /// Runs the handler on `request` on a worker thread, then `answer` with what
    /// it returned (`None` also if the handler panicked).
    ///
    /// # Errors
    /// [`Refused`] if no handler is installed or the dispatcher is closed;
    /// `answer` is then dropped without running.
    pub(crate) fn dispatch(
        &self,
        request: Req,
        answer: impl FnOnce(Option<Resp>) + Send + 'static,
    ) -> Result<(), Refused> {
        let handler = Arc::clone(self.handler.get().ok_or(Refused)?);
        let job = Box::new(move || {
            let reply = panic::catch_unwind(AssertUnwindSafe(|| handler.handle(request)))
                .unwrap_or_else(|_| {
                    tracing::error!("a request handler panicked; the caller gets no answer");
                    None
                });
            answer(reply);
        });
        self.workers.submit(job).map_err(|Rejected| Refused)
    }
}

impl<Req, Resp> Dispatcher<Req, Resp> {
    /// Stops dispatching: queued requests are dropped unanswered and the
    /// workers end (see [`WorkerPool::close`]). Idempotent.
    pub(crate) fn close(&self) {
        self.workers.close();
    }
}

impl<Req, Resp> fmt::Debug for Dispatcher<Req, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dispatcher")
            .field("serving", &self.handler.get().is_some())
            .field("workers", &self.workers)
            .finish()
    }
}
