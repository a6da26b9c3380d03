//! Opening a directory: reading the log and the snapshot it names back into an
//! [`Image`], dropping a torn tail and removing what a crash left behind.

use std::fs::{self, File, OpenOptions};
use std::io::ErrorKind;

use crate::file::directory::{Directory, LOG, io_error, snapshot_name};
use crate::file::frame::{Damage, Frames};
use crate::file::record::{self, Header, LOG_HEADER_LEN, LogFormat, Record};
use crate::image::Image;
use crate::{PersistError, Snapshot, Update};

/// The open log file and the state the directory holds, ready for appending.
#[derive(Debug)]
pub(crate) struct Files {
    /// The durable state.
    pub(crate) image: Image,
    /// The log file, open for appending at `log_len`.
    pub(crate) log: File,
    /// The log file's length once any torn tail is cut off.
    pub(crate) log_len: u64,
    /// The generation of the current snapshot file (0 without one).
    pub(crate) generation: u64,
    /// The current snapshot file's length (0 without one).
    pub(crate) snapshot_len: u64,
}

/// Reads the directory's state back, or starts an empty one.
///
/// A crash can leave the directory between two steps of a save; each step
/// keeps the previous one readable, and the log's first record names the
/// snapshot it follows, so what this reads is always one whole saved state:
///
/// - a torn last record of the log (a crash mid-append) is cut off;
/// - a snapshot file the log does not name (a crash before the new log was
///   renamed into place, or before the old snapshot was removed) and any
///   temporary file are removed.
///
/// A log of an older [`LogFormat`] is read in its own layout and then
/// rewritten whole in [`LogFormat::CURRENT`] (by [`rewrite_log`], as a save
/// with a snapshot rewrites it), so nothing is ever appended to an old log. A
/// crash during the rewrite leaves the old log, which the next open upgrades
/// again.
///
/// # Errors
/// [`PersistError::UnsupportedFormat`] for a log of a version this build does
/// not read; [`PersistError::Corrupt`] for a log without the log header, for
/// damage anywhere but the log's last record, or a log that does not replay;
/// [`PersistError::Io`] for failing IO.
pub(crate) fn recover(directory: &Directory) -> Result<Files, PersistError> {
    let path = directory.file(LOG);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == ErrorKind::NotFound => return start_empty(directory),
        Err(error) => return Err(io_error("reading", &path)(error)),
    };
    let corrupt = |offset: u64| PersistError::Corrupt { path: path.clone(), offset };
    let format = match LogFormat::of_log(&bytes) {
        Header::Supported(format) => format,
        Header::Unsupported(version) => {
            return Err(PersistError::UnsupportedFormat {
                path,
                version,
                supported: LogFormat::SUPPORTED,
            });
        }
        Header::NotALog => return Err(corrupt(0)),
    };
    let mut frames = Frames::new(&bytes, LOG_HEADER_LEN);
    let base = frames.next_frame().ok().flatten();
    let base_offset = LOG_HEADER_LEN as u64;
    let Some(Record::Base { generation, point }) =
        base.and_then(|frame| format.decode_record(frame.payload))
    else {
        // The first record is written with the file, before it is renamed
        // into place: it cannot be torn, only damaged.
        return Err(corrupt(base_offset));
    };
    // Generation 0 is the state before any snapshot, and the next save with a
    // snapshot needs a generation after this one.
    if (generation == 0) != point.is_none() || generation == u64::MAX {
        return Err(corrupt(base_offset));
    }

    let mut image = Image::new();
    let mut snapshot_len = 0;
    if let Some((index, term)) = point {
        let (snapshot, len) = read_snapshot(directory, generation)?;
        if (snapshot.index, snapshot.term) != (index, term) {
            return Err(corrupt(base_offset));
        }
        image.save(&Update { snapshot: Some(snapshot), ..Update::default() })?;
        snapshot_len = len;
    }

    let log_len = loop {
        match frames.next_frame() {
            Ok(Some(frame)) => {
                let update = format
                    .decode_record(frame.payload)
                    .and_then(Record::into_update)
                    .ok_or_else(|| corrupt(frame.offset))?;
                image.save(&update).map_err(|_| corrupt(frame.offset))?;
            }
            Ok(None) => break frames.position(),
            Err(Damage::Torn { offset }) => break offset,
            Err(Damage::Corrupt { offset }) => return Err(corrupt(offset)),
        }
    };

    if format != LogFormat::CURRENT {
        // The rewrite drops a torn tail along with the old layout.
        directory.remove_leftovers(point.map(|_| generation))?;
        let (log, log_len) = rewrite_log(directory, generation, &mut image)?;
        tracing::info!(
            path = %path.display(),
            from = format.number(),
            to = LogFormat::CURRENT.number(),
            "rewrote the log in the current format version"
        );
        return Ok(Files { image, log, log_len, generation, snapshot_len });
    }
    let log = OpenOptions::new().append(true).open(&path).map_err(io_error("opening", &path))?;
    if log_len < bytes.len() as u64 {
        tracing::warn!(
            path = %path.display(),
            offset = log_len,
            dropped = bytes.len() as u64 - log_len,
            "dropping a torn record at the end of the log"
        );
        log.set_len(log_len).map_err(io_error("truncating", &path))?;
        directory.sync_file(&log, &path)?;
    }
    directory.remove_leftovers(point.map(|_| generation))?;
    Ok(Files { image, log, log_len, generation, snapshot_len })
}

/// Starts an empty directory: a log holding only its first records.
fn start_empty(directory: &Directory) -> Result<Files, PersistError> {
    directory.remove_leftovers(None)?;
    let mut image = Image::new();
    let (log, log_len) = rewrite_log(directory, 0, &mut image)?;
    Ok(Files { image, log, log_len, generation: 0, snapshot_len: 0 })
}

/// Replaces the log with a new one holding `image` whole, in
/// [`LogFormat::CURRENT`], whose base record names the snapshot file of
/// `generation`; a crash leaves the old log or the new one (see
/// [`Directory::replace`]). Returns the new log, open for appending, and its
/// length.
///
/// The one way a whole log is written: when a directory starts empty, when a
/// save with a snapshot compacts the log, and when a log of an older format
/// is upgraded.
///
/// # Errors
/// [`PersistError::RecordTooLarge`] if one entry alone exceeds a frame, before
/// anything is written; [`PersistError::Io`] as [`Directory::replace`].
pub(crate) fn rewrite_log(
    directory: &Directory,
    generation: u64,
    image: &mut Image,
) -> Result<(File, u64), PersistError> {
    let bytes = record::log_file(generation, image)?;
    let log = directory.replace(LOG, &bytes)?;
    Ok((log, bytes.len() as u64))
}

/// Reads and checks the snapshot file of `generation`, returning the snapshot
/// and the file's length.
fn read_snapshot(directory: &Directory, generation: u64) -> Result<(Snapshot, u64), PersistError> {
    let path = directory.file(&snapshot_name(generation));
    let bytes = fs::read(&path).map_err(io_error("reading", &path))?;
    let snapshot = record::parse_snapshot_file(&bytes)
        .map_err(|offset| PersistError::Corrupt { path: path.clone(), offset })?;
    Ok((snapshot, bytes.len() as u64))
}
