//! [`Record`]: what the frames of the log file carry, and the byte layout of
//! the log and snapshot files, with the versions of the log's format.

pub(crate) mod v1;

use std::borrow::Cow;

use raft_log::{Entry, Index, Term};
use serde::{Deserialize, Serialize};

use crate::file::frame::{self, Frames};
use crate::image::{Image, encoded_len};
use crate::{HardState, PersistError, Snapshot, Update};

/// The first bytes of every log file. The byte after them is the format
/// version as an ASCII digit, so a log file starts `RAFTLOG1` or `RAFTLOG2`.
pub(crate) const LOG_PREFIX: &[u8; 7] = b"RAFTLOG";

/// The bytes of a log file's header: [`LOG_PREFIX`] and the version digit.
pub(crate) const LOG_HEADER_LEN: usize = LOG_PREFIX.len() + 1;

/// The first bytes of a snapshot file, before the one frame holding the
/// [`Snapshot`](crate::Snapshot).
///
/// Still version 1 while the log is at version 2: a snapshot file holds the
/// service's bytes and the index and term they reach, never an [`Entry`], so
/// the entry kinds that made log version 2 leave its layout as it was. Both
/// log versions name snapshot files of this one layout.
pub(crate) const SNAPSHOT_MAGIC: &[u8; 8] = b"RAFTSNP1";

/// A version of the log file's format, named by the byte after
/// [`LOG_PREFIX`].
///
/// - Version 1: entries are `index, term, data`.
/// - Version 2: entries are `index, term, kind, data`, the layout of
///   [`Entry`] since it gained its [`EntryKind`](raft_log::EntryKind).
///
/// New logs are written in [`LogFormat::CURRENT`]; a log of an older version
/// is read and then rewritten in the current one. The frames and the
/// [`Record`] variants are the same in every version; only the encoding of
/// the entries inside `Change` records differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LogFormat {
    /// Entries without a kind: every one is a command.
    V1,
    /// Entries with a kind.
    V2,
}

impl LogFormat {
    /// The version new log files are written in.
    pub(crate) const CURRENT: LogFormat = LogFormat::V2;

    /// The version numbers this build reads, oldest first.
    pub(crate) const SUPPORTED: &'static [u32] = &[1, 2];

    /// The version's number, as the header spells it.
    pub(crate) fn number(self) -> u32 {
        match self {
            LogFormat::V1 => 1,
            LogFormat::V2 => 2,
        }
    }

    /// The first bytes of a log file of this version.
    pub(crate) fn header(self) -> [u8; LOG_HEADER_LEN] {
        let mut header = [0; LOG_HEADER_LEN];
        header[..LOG_PREFIX.len()].copy_from_slice(LOG_PREFIX);
        // A version number is a single digit.
        header[LOG_PREFIX.len()] = b'0' + self.number() as u8;
        header
    }

    /// Reads the header at the start of a log file's bytes.
    pub(crate) fn of_log(bytes: &[u8]) -> Header {
        let Some(rest) = bytes.strip_prefix(LOG_PREFIX) else {
            return Header::NotALog;
        };
        match rest.first() {
            Some(b'1') => Header::Supported(LogFormat::V1),
            Some(b'2') => Header::Supported(LogFormat::V2),
            Some(&digit @ b'0'..=b'9') => Header::Unsupported(u32::from(digit - b'0')),
            _ => Header::NotALog,
        }
    }

    /// Decodes one record of a log of this version, which must fill
    /// `payload` exactly.
    pub(crate) fn decode_record(self, payload: &[u8]) -> Option<Record<'_>> {
        match self {
            LogFormat::V1 => decode::<v1::Record>(payload).map(Record::from),
            LogFormat::V2 => decode::<Record<'_>>(payload),
        }
    }
}

/// What the header of a log file says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Header {
    /// A version this build reads.
    Supported(LogFormat),
    /// A log of another version, by its number: newer than this build, or
    /// never written by any.
    Unsupported(u32),
    /// Not the header of a log file at all.
    NotALog,
}

/// About how many bytes of entries one record of a rewritten log holds, so no
/// record comes near the frame limit however long the tail.
const REWRITE_CHUNK: u64 = 1 << 20;

/// One record of the log file, as [`LogFormat::CURRENT`] lays it out.
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

/// The bytes of a log file holding `image` whole, in [`LogFormat::CURRENT`]:
/// the header, the base record naming the snapshot file of `generation`, then
/// the hard state and the entries in records of about [`REWRITE_CHUNK`] bytes
/// each.
///
/// # Errors
/// [`PersistError::RecordTooLarge`] if one entry alone exceeds a frame.
pub(crate) fn log_file(generation: u64, image: &mut Image) -> Result<Vec<u8>, PersistError> {
    let mut bytes = LogFormat::CURRENT.header().to_vec();
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
