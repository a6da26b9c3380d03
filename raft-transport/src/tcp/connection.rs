//! [`FrameReader`] and [`FrameWriter`]: frames in and out of one connection,
//! for both its ends.

use std::io::{self, BufWriter, ErrorKind, Read, Write};

use raft_log::NodeId;

use crate::error::{Report, WireError};
use crate::tcp::frame::{self, FrameKind};

/// How much a reader asks the socket for at a time. The buffer grows with the
/// bytes that actually arrive, never with what a length prefix claims.
const READ_CHUNK: usize = 16 * 1024;

/// One frame as read: borrowed from the reader's buffer until the next read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Frame<'a> {
    pub(crate) kind: FrameKind,
    pub(crate) id: u64,
    pub(crate) payload: &'a [u8],
}

/// Reads whole frames from a byte stream.
#[derive(Debug)]
pub(crate) struct FrameReader<R> {
    source: R,
    max_frame_size: u32,
    /// Bytes read and not yet consumed start at `start`.
    /// Invariant: `start <= buffer.len()`.
    buffer: Vec<u8>,
    start: usize,
    /// The length of the frame last returned, consumed at the next read.
    returned: usize,
}

impl<R: Read> FrameReader<R> {
    pub(crate) fn new(source: R, max_frame_size: u32) -> FrameReader<R> {
        FrameReader { source, max_frame_size, buffer: Vec::new(), start: 0, returned: 0 }
    }

    /// The next frame, or `None` if the stream ended cleanly between frames.
    ///
    /// # Errors
    /// [`WireError::Truncated`] if it ended inside a frame; the codec's errors
    /// for a malformed frame; [`WireError::Io`] if reading failed.
    pub(crate) fn next_frame(&mut self) -> Result<Option<Frame<'_>>, WireError> {
        self.start += std::mem::take(&mut self.returned);
        let decoded = loop {
            if let Some(decoded) = frame::decode(&self.buffer[self.start..], self.max_frame_size)? {
                break decoded;
            }
            if !self.fill()? {
                let buffered = self.buffer.len() - self.start;
                return if buffered == 0 {
                    Ok(None)
                } else {
                    Err(WireError::Truncated { buffered })
                };
            }
        };
        self.returned = decoded.len;
        let payload = &self.buffer[self.start..][decoded.payload];
        Ok(Some(Frame { kind: decoded.kind, id: decoded.id, payload }))
    }

    /// Hands each frame to `on_frame` until the stream ends cleanly (`Ok`), a
    /// frame is malformed or `on_frame` refuses one (that error).
    ///
    /// # Errors
    /// As for [`next_frame`](Self::next_frame), and `on_frame`'s.
    pub(crate) fn read_all(
        &mut self,
        mut on_frame: impl FnMut(Frame<'_>) -> Result<(), WireError>,
    ) -> Result<(), WireError> {
        while let Some(frame) = self.next_frame()? {
            on_frame(frame)?;
        }
        Ok(())
    }

    /// Reads what the source has, up to one chunk. Returns `false` at the end
    /// of the stream.
    fn fill(&mut self) -> Result<bool, WireError> {
        if self.start > 0 {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        let filled = self.buffer.len();
        self.buffer.resize(filled + READ_CHUNK, 0);
        let read = loop {
            match self.source.read(&mut self.buffer[filled..]) {
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        match read {
            Ok(read) => {
                self.buffer.truncate(filled + read);
                Ok(read > 0)
            }
            Err(error) => {
                self.buffer.truncate(filled);
                Err(error.into())
            }
        }
    }

    /// The bytes the reader's buffer has reserved.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.buffer.capacity()
    }
}

/// Writes encoded frames, batching those queued back to back into one send.
#[derive(Debug)]
pub(crate) struct FrameWriter<W: Write> {
    sink: BufWriter<W>,
}

impl<W: Write> FrameWriter<W> {
    pub(crate) fn new(sink: W) -> FrameWriter<W> {
        FrameWriter { sink: BufWriter::with_capacity(64 * 1024, sink) }
    }

    /// Writes `frame`; sends what is buffered unless `more_queued` says another
    /// frame follows at once.
    ///
    /// # Errors
    /// The socket's error.
    pub(crate) fn write(&mut self, frame: &[u8], more_queued: bool) -> io::Result<()> {
        self.sink.write_all(frame)?;
        if !more_queued {
            self.sink.flush()?;
        }
        Ok(())
    }
}

/// Logs why a connection of node `node` ended: a warning for malformed or
/// refused input, a debug line for a peer that closed or a socket that failed
/// (or anything at all once the transport is `closing`).
pub(crate) fn log_end(
    closing: bool,
    node: NodeId,
    connection: &str,
    ended: &Result<(), WireError>,
) {
    match ended {
        Ok(()) => tracing::debug!(%node, "{connection} closed by the peer"),
        Err(error) if closing => {
            tracing::debug!(%node, error = %Report(error), "{connection} closed")
        }
        Err(error @ WireError::Io(_)) => {
            tracing::debug!(%node, error = %Report(error), "{connection} failed")
        }
        Err(error) => tracing::warn!(%node, error = %Report(error), "closing {connection}"),
    }
}

#[cfg(test)]
mod tests;
