//! The frame codec: a length prefix, a frame kind, a request id and a postcard
//! payload.
//!
//! ```text
//! u32 LE  length of what follows (kind + id + payload), at most the maximum frame size
//! u8      kind: 0 request, 1 reply, 2 no answer, 3 rejected
//! u64 LE  request id, chosen by the caller and echoed in the answer
//! ...     payload: the postcard encoding of the request, the reply, nothing
//!         (no answer) or the reason as a string (rejected)
//! ```

use std::ops::Range;

use serde::Serialize;

use crate::error::WireError;

/// Bytes of the length prefix.
const LENGTH_LEN: usize = 4;
/// Bytes of the kind and request id, counted in the length.
const HEADER_LEN: usize = 1 + 8;

/// The largest payload a frame of at most `max_frame_size` bytes (after the
/// length prefix) can carry: the rest after the kind and the request id.
pub(crate) fn max_payload_size(max_frame_size: u32) -> u64 {
    u64::from(max_frame_size).saturating_sub(HEADER_LEN as u64)
}

/// What a frame carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FrameKind {
    /// A request, from caller to callee.
    Request,
    /// The handler's reply.
    Reply,
    /// The callee has no answer: not serving, or the handler returned `None`.
    NoAnswer,
    /// The callee could not handle the request; the payload says why.
    Rejected,
}

impl FrameKind {
    fn to_byte(self) -> u8 {
        match self {
            FrameKind::Request => 0,
            FrameKind::Reply => 1,
            FrameKind::NoAnswer => 2,
            FrameKind::Rejected => 3,
        }
    }

    fn from_byte(byte: u8) -> Result<FrameKind, WireError> {
        match byte {
            0 => Ok(FrameKind::Request),
            1 => Ok(FrameKind::Reply),
            2 => Ok(FrameKind::NoAnswer),
            3 => Ok(FrameKind::Rejected),
            other => Err(WireError::UnknownFrameKind(other)),
        }
    }
}

/// A frame found at the start of a buffer, described by positions in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Decoded {
    pub(crate) kind: FrameKind,
    pub(crate) id: u64,
    /// Where the payload lies in the buffer.
    pub(crate) payload: Range<usize>,
    /// The bytes the whole frame takes, prefix included.
    pub(crate) len: usize,
}

/// Encodes one frame.
///
/// # Errors
/// [`WireError::Encode`] if `payload` does not encode,
/// [`WireError::FrameTooLarge`] if the frame would exceed `max_frame_size`.
pub(crate) fn encode(
    kind: FrameKind,
    id: u64,
    payload: &impl Serialize,
    max_frame_size: u32,
) -> Result<Vec<u8>, WireError> {
    let mut frame = Vec::with_capacity(64);
    frame.extend_from_slice(&[0; LENGTH_LEN]);
    frame.push(kind.to_byte());
    frame.extend_from_slice(&id.to_le_bytes());
    let mut frame = postcard::to_extend(payload, frame).map_err(WireError::Encode)?;
    let claimed = (frame.len() - LENGTH_LEN) as u64;
    let length = u32::try_from(claimed)
        .ok()
        .filter(|&length| length <= max_frame_size)
        .ok_or(WireError::FrameTooLarge { claimed, max: max_frame_size })?;
    frame[..LENGTH_LEN].copy_from_slice(&length.to_le_bytes());
    Ok(frame)
}

/// Decodes the frame at the start of `buffer`: `Ok(None)` while `buffer` holds
/// only part of one (any prefix of a valid frame), the frame once it holds all
/// of it.
///
/// Only the prefix is trusted for nothing: a claimed length is checked against
/// `max_frame_size` before anything else, and nothing is allocated here.
///
/// # Errors
/// [`WireError::FrameTooLarge`], [`WireError::FrameTooShort`] or
/// [`WireError::UnknownFrameKind`] as soon as the bytes that show it are in.
pub(crate) fn decode(buffer: &[u8], max_frame_size: u32) -> Result<Option<Decoded>, WireError> {
    let Some(prefix) = buffer.first_chunk::<LENGTH_LEN>() else {
        return Ok(None);
    };
    let claimed = u32::from_le_bytes(*prefix);
    if claimed > max_frame_size {
        return Err(WireError::FrameTooLarge { claimed: u64::from(claimed), max: max_frame_size });
    }
    if (claimed as usize) < HEADER_LEN {
        return Err(WireError::FrameTooShort(claimed));
    }
    let Some(&kind) = buffer.get(LENGTH_LEN) else {
        return Ok(None);
    };
    let kind = FrameKind::from_byte(kind)?;
    let len = LENGTH_LEN + claimed as usize;
    if buffer.len() < len {
        return Ok(None);
    }
    let mut id = [0; 8];
    id.copy_from_slice(&buffer[LENGTH_LEN + 1..LENGTH_LEN + HEADER_LEN]);
    Ok(Some(Decoded {
        kind,
        id: u64::from_le_bytes(id),
        payload: LENGTH_LEN + HEADER_LEN..len,
        len,
    }))
}

#[cfg(test)]
mod tests;
