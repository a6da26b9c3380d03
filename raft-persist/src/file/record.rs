//! [`Record`]: what the frames of the log file carry, and the byte layout of
//! the log and snapshot files.

use std::borrow::Cow;

use raft_log::{Entry, Index, Term};
use serde::{Deserialize, Serialize};

use crate::file::frame::{self, Frames};
use crate::image::{Image, encoded_len};
use crate::{HardState, PersistError, Snapshot, Update};

/// The first bytes of a log file: the format and its version.
pub(crate) const LOG_MAGIC: &[u8; 8] = b"RAFTLOG1";

/// The first bytes of a snapshot file, before the one frame holding the
/// [`Snapshot`](crate::Snapshot).
pub(crate) const SNAPSHOT_MAGIC: &[u8; 8] = b"RAFTSNP1";

/// About how many bytes of entries one record of a rewritten log holds, so no
/// record comes near the frame limit however long the tail.
const REWRITE_CHUNK: u64 = 1 << 20;

/// One record of the log file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Record<'a> {
    /// The first record of every log file: the snapshot the log follows.
    /// Writing a new log file (with a new `Base`) is what commits a snapshot.
    Base {
        /// The number of the snapshot file, `snapshot.<generation>`; 0 means
        /// no snapshot.
        generation: u64,
        /// Where that snapshot ends, checked against the snapshot file.
        point: Option<(Index, Term)>,
    },
    /// One save without a snapshot, applied as [`Update`] documents.
    Change {
        /// A new hard state.
        hard_state: Option<HardState>,
        /// Drop the entries from this index on.
        truncate_from: Option<Index>,
        /// Entries to append.
        append: Cow<'a, [Entry]>,
    },
}

impl Record<'_> {
    /// The record of a save without a snapshot, borrowing its entries.
    pub(crate) fn change(update: &Update) -> Record<'_> {
        Record::Change {
            hard_state: update.hard_state,
            truncate_from: update.truncate_from,
            append: Cow::Borrowed(&update.append),
        }
    }

    /// The update a `Change` record stands for, or `None` for a `Base`.
    pub(crate) fn into_update(self) -> Option<Update> {
        match self {
            Record::Base { .. } => None,
            Record::Change { hard_state, truncate_from, append } => Some(Update {
                hard_state,
                snapshot: None,
                truncate_from,
                append: append.into_owned(),
            }),
        }
    }
}

/// Decodes a value that must fill `payload` exactly.
pub(crate) fn decode<'a, T: Deserialize<'a>>(payload: &'a [u8]) -> Option<T> {
    match postcard::take_from_bytes(payload) {
        Ok((value, [])) => Some(value),
        _ => None,
    }
}

/// The bytes of a log file holding `image` whole: the base record naming the
/// snapshot file of `generation`, then the hard state and the entries in
/// records of about [`REWRITE_CHUNK`] bytes each.
///
/// # Errors
/// [`PersistError::RecordTooLarge`] if one entry alone exceeds a frame.
pub(crate) fn log_file(generation: u64, image: &mut Image) -> Result<Vec<u8>, PersistError> {
    let mut bytes = LOG_MAGIC.to_vec();
    let point = image.snapshot().map(|snapshot| (snapshot.index, snapshot.term));
    frame::encode(&Record::Base { generation, point }, &mut bytes)?;
    let mut hard_state = Some(image.hard_state());
    let mut rest = image.contiguous_entries();
    loop {
        let mut size = 0;
        let count = rest
            .iter()
            .take_while(|entry| {
                let fits = size < REWRITE_CHUNK;
                size += encoded_len(*entry);
                fits
            })
            .count();
        let (chunk, after) = rest.split_at(count);
        let change = Record::Change {
            hard_state: hard_state.take(),
            truncate_from: None,
            append: Cow::Borrowed(chunk),
        };
        frame::encode(&change, &mut bytes)?;
        rest = after;
        if rest.is_empty() {
            return Ok(bytes);
        }
    }
}

/// The bytes of a snapshot file holding `snapshot`.
///
/// # Errors
/// [`PersistError::RecordTooLarge`] if the snapshot exceeds a frame.
pub(crate) fn snapshot_file(snapshot: &Snapshot) -> Result<Vec<u8>, PersistError> {
    let mut bytes = SNAPSHOT_MAGIC.to_vec();
    frame::encode(snapshot, &mut bytes)?;
    Ok(bytes)
}

/// Parses a snapshot file, or gives the offset where it is damaged. The file
/// is renamed into place only once complete, so any damage is corruption.
pub(crate) fn parse_snapshot_file(bytes: &[u8]) -> Result<Snapshot, u64> {
    if !bytes.starts_with(SNAPSHOT_MAGIC) {
        return Err(0);
    }
    let start = SNAPSHOT_MAGIC.len() as u64;
    let mut frames = Frames::new(bytes, SNAPSHOT_MAGIC.len());
    let frame = frames.next_frame().ok().flatten().ok_or(start)?;
    let snapshot = decode::<Snapshot>(frame.payload).ok_or(start)?;
    if frames.position() != bytes.len() as u64 {
        return Err(frames.position());
    }
    Ok(snapshot)
}
