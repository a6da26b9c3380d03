//! [`Responder`]: how a handler answers one request, at once or later, from any thread.

use std::fmt;

/// Where the answer to a request goes: the reply, or `None` for no answer.
type Answer<Resp> = Box<dyn FnOnce(Option<Resp>) + Send + 'static>;

/// Answers one request, exactly once. Dropping it unanswered counts as
/// [`refuse`](Self::refuse).
///
/// A [`Handler`](crate::Handler) gets one with each request. It may answer
/// inside [`Handler::handle`](crate::Handler::handle) or keep the responder and
/// answer later, from any thread: the usual case is a node's event loop
/// answering once the state the reply depends on is durable. Both methods take
/// the responder by value, so a request cannot be answered twice.
///
/// Answering never blocks, but it may run the caller's reply callback on the
/// answering thread (an in-process backend completes the call there), so do
/// not answer while holding a lock a reply callback might take. An answer that
/// comes after the caller's deadline, or after either transport has shut
/// down, is dropped.
pub struct Responder<Resp> {
    /// `None` once answered.
    answer: Option<Answer<Resp>>,
}

impl<Resp: Send + 'static> Responder<Resp> {
    /// For backends and tests: a responder whose answer goes to `answer`
    /// (`None` = no answer). `answer` runs exactly once, on the thread that
    /// answers or drops the responder.
    pub fn new(answer: impl FnOnce(Option<Resp>) + Send + 'static) -> Responder<Resp> {
        Responder { answer: Some(Box::new(answer)) }
    }

    /// Sends `reply` to the caller.
    pub fn respond(mut self, reply: Resp) {
        self.answer(Some(reply));
    }

    /// Sends no answer: the caller sees
    /// [`CallError::Unavailable`](crate::CallError::Unavailable).
    pub fn refuse(mut self) {
        self.answer(None);
    }
}

impl<Resp> Responder<Resp> {
    fn answer(&mut self, reply: Option<Resp>) {
        if let Some(answer) = self.answer.take() {
            answer(reply);
        }
    }
}

impl<Resp> Drop for Responder<Resp> {
    /// An unanswered responder refuses the request.
    fn drop(&mut self) {
        self.answer(None);
    }
}

impl<Resp> fmt::Debug for Responder<Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Responder").field("answered", &self.answer.is_none()).finish()
    }
}

#[cfg(test)]
mod tests;
