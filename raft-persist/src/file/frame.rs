//! The frame every file record travels in: a checksummed length prefix and a
//! checksummed payload, and the reader that tells a torn tail from corruption.
//!
//! ```text
//! [0..4)   payload length, u32 little-endian
//! [4..8)   crc32 of the payload, u32 little-endian
//! [8..12)  crc32 of bytes [0..8), u32 little-endian
//! [12..)   payload
//! ```
//!
//! The header's own checksum means a damaged length is recognised as damage,
//! not followed off the end of the file (which would look like a torn tail and
//! silently drop every record after it).

use serde::Serialize;

use crate::PersistError;

/// The bytes before a frame's payload.
pub(crate) const HEADER_LEN: usize = 12;

/// The largest payload a frame can hold.
pub(crate) const MAX_PAYLOAD: u64 = u32::MAX as u64;

/// Appends to `out` one frame holding `value` encoded with postcard.
///
/// # Errors
/// [`PersistError::RecordTooLarge`] if the payload exceeds [`MAX_PAYLOAD`];
/// `out` is unchanged then.
pub(crate) fn encode<T: Serialize + ?Sized>(
    value: &T,
    out: &mut Vec<u8>,
) -> Result<(), PersistError> {
    let start = out.len();
    out.extend_from_slice(&[0; HEADER_LEN]);
    let buffer = std::mem::take(out);
    // Extending a vector cannot run out of room, and the persisted types have
    // no fallible serialisation.
    *out = postcard::to_extend(value, buffer).expect("postcard can encode any persisted value");
    let size = (out.len() - start - HEADER_LEN) as u64;
    let Ok(length) = u32::try_from(size) else {
        out.truncate(start);
        return Err(PersistError::RecordTooLarge { size, limit: MAX_PAYLOAD });
    };
    let payload_crc = crc32fast::hash(&out[start + HEADER_LEN..]);
    out[start..start + 4].copy_from_slice(&length.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&payload_crc.to_le_bytes());
    let header_crc = crc32fast::hash(&out[start..start + 8]);
    out[start + 8..start + HEADER_LEN].copy_from_slice(&header_crc.to_le_bytes());
    Ok(())
}

/// One intact frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Frame<'a> {
    /// Where the frame starts in the file.
    pub(crate) offset: u64,
    /// The payload, checksum verified.
    pub(crate) payload: &'a [u8],
}

/// Why reading stopped before the end of the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Damage {
    /// The last frame was cut short by a crash mid-write: drop it and
    /// everything after `offset`, and carry on.
    Torn {
        /// Where the torn frame starts.
        offset: u64,
    },
    /// A frame with more data after it failed its checksum.
    Corrupt {
        /// Where the damaged frame starts.
        offset: u64,
    },
}

/// Reads frames one after another from a file's bytes.
#[derive(Debug)]
pub(crate) struct Frames<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Frames<'a> {
    /// A reader of the frames in `bytes` starting at `position`.
    pub(crate) fn new(bytes: &'a [u8], position: usize) -> Frames<'a> {
        Frames { bytes, position }
    }

    /// The next frame, `Ok(None)` at a clean end.
    ///
    /// A frame counts as torn (a crash cut it) when its header is incomplete,
    /// when an intact header announces more bytes than the file holds, when the
    /// payload fails its checksum and the frame ends exactly at the end of the
    /// file, or when the header fails its checksum and only zeros follow (a
    /// file system that extended the file before writing the data). Any other
    /// failure is corruption.
    ///
    /// # Errors
    /// [`Damage`] saying where the damaged frame starts and which kind it is;
    /// the reader does not move past it.
    pub(crate) fn next_frame(&mut self) -> Result<Option<Frame<'a>>, Damage> {
        let rest = &self.bytes[self.position..];
        let offset = self.position as u64;
        if rest.is_empty() {
            return Ok(None);
        }
        let torn = Damage::Torn { offset };
        let corrupt = Damage::Corrupt { offset };
        if rest.len() < HEADER_LEN {
            return Err(torn);
        }
        let word =
            |at: usize| u32::from_le_bytes([rest[at], rest[at + 1], rest[at + 2], rest[at + 3]]);
        let (length, payload_crc, header_crc) = (word(0), word(4), word(8));
        if crc32fast::hash(&rest[..8]) != header_crc {
            return Err(if rest.iter().all(|&byte| byte == 0) { torn } else { corrupt });
        }
        let end = HEADER_LEN.saturating_add(length as usize);
        let Some(payload) = rest.get(HEADER_LEN..end) else {
            return Err(torn);
        };
        if crc32fast::hash(payload) != payload_crc {
            return Err(if end == rest.len() { torn } else { corrupt });
        }
        self.position += end;
        Ok(Some(Frame { offset, payload }))
    }

    /// Where the next frame would start: after the last intact one.
    pub(crate) fn position(&self) -> u64 {
        self.position as u64
    }
}

#[cfg(test)]
mod tests;
