//! [`Ledger`]: the tester's copy of what each server has applied, with the
//! lab's apply-channel checks (`checkLogs`, `applier`, `applierSnap`,
//! `ingestSnap`, `nCommitted`) and its snapshot format.

use std::collections::HashMap;
use std::fmt;

use super::Command;

/// The tester snapshots a server's state after applying each index `i` with
/// `(i + 1) % SNAPSHOT_INTERVAL == 0` (9, 19, 29, ...), as the lab's
/// `applierSnap` does.
pub const SNAPSHOT_INTERVAL: u64 = 10;

/// What the tester has seen each server apply, one record per server, for the
/// server's current incarnation.
#[derive(Debug)]
pub(super) struct Ledger {
    records: Vec<Record>,
    /// The highest index any server has applied (the lab's `maxIndex`).
    max_index: u64,
}

/// One server incarnation's applied commands (the lab's `logs[i]` and
/// `lastApplied[i]`).
#[derive(Debug, Default)]
struct Record {
    /// Applied commands by index. A snapshot stores every index it covers,
    /// with `None` at index 0 (the lab's `nil` placeholder).
    logs: HashMap<u64, Option<Command>>,
    /// The last index applied, by a command or by a snapshot.
    last_applied: u64,
}

/// Go's `%v` of a command that may be `nil`.
struct Shown<'a>(Option<&'a Command>);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(command) => command.fmt(f),
            None => f.write_str("<nil>"),
        }
    }
}

impl Ledger {
    /// An empty ledger for `n` servers.
    pub(super) fn new(n: usize) -> Ledger {
        Ledger { records: (0..n).map(|_| Record::default()).collect(), max_index: 0 }
    }

    /// Starts an empty record for a new incarnation of server `i`: a restarted
    /// server must apply again from its snapshot or from index 1.
    pub(super) fn reset(&mut self, i: usize) {
        self.records[i] = Record::default();
    }

    /// The highest index any server has applied.
    pub(super) fn max_index(&self) -> u64 {
        self.max_index
    }

    /// The lab's `checkLogs`: records that server `i` applied `command` at
    /// `index`. Returns the error if another server applied a different command
    /// there, and whether server `i` has index `index - 1`.
    fn check_logs(&mut self, i: usize, index: u64, command: Command) -> (Option<String>, bool) {
        let mut error = None;
        for (j, record) in self.records.iter().enumerate() {
            if let Some(old) = record.logs.get(&index)
                && old.as_ref() != Some(&command)
            {
                error = Some(format!(
                    "commit index={index} server={i} {command} != server={j} {}",
                    Shown(old.as_ref())
                ));
            }
        }
        let record = &mut self.records[i];
        let previous =
            index.checked_sub(1).is_some_and(|previous| record.logs.contains_key(&previous));
        record.logs.insert(index, Some(command));
        self.max_index = self.max_index.max(index);
        (error, previous)
    }

    /// The lab's `applier`, for one command server `i` applied: the
    /// cross-server check and the check that `index - 1` came first.
    pub(super) fn apply(&mut self, i: usize, index: u64, command: Command) -> Result<(), String> {
        let (error, previous) = self.check_logs(i, index, command);
        if index > 1 && !previous {
            return Err(format!("server {i} apply out of order {index}"));
        }
        error.map_or(Ok(()), Err)
    }

    /// The command branch of the lab's `applierSnap`: `index` must follow the
    /// last applied one, then the [`apply`](Self::apply) checks run. Returns
    /// the outcome of the checks, and the snapshot the server must now take
    /// (after indices 9, 19, 29, ...), encoded.
    pub(super) fn apply_and_snapshot(
        &mut self,
        i: usize,
        index: u64,
        command: Command,
    ) -> (Result<(), String>, Option<Vec<u8>>) {
        let expected = self.records[i].last_applied + 1;
        let outcome = if index == expected {
            self.apply(i, index, command)
        } else {
            Err(format!("server {i} apply out of order, expected index {expected}, got {index}"))
        };
        let record = &mut self.records[i];
        record.last_applied = index;
        let snapshot = (index + 1).is_multiple_of(SNAPSHOT_INTERVAL).then(|| {
            let commands = (0..=index).map(|j| record.logs.get(&j).cloned().flatten()).collect();
            encode_snapshot(index, commands)
        });
        (outcome, snapshot)
    }

    /// The lab's `ingestSnap`: replaces server `i`'s record with the snapshot
    /// `data`. `index` is the index the snapshot arrived with on the apply
    /// channel, or `None` for the one read from the persister at start.
    pub(super) fn ingest_snapshot(
        &mut self,
        i: usize,
        data: &[u8],
        index: Option<u64>,
    ) -> Result<(), String> {
        if data.is_empty() {
            return Err("nil snapshot".to_owned());
        }
        let (last_included, commands) =
            decode_snapshot(data).map_err(|_| "snapshot decode error".to_owned())?;
        if index.is_some_and(|index| index != last_included) {
            return Err(format!("server {i} snapshot doesn't match m.SnapshotIndex"));
        }
        let record = &mut self.records[i];
        record.logs = (0..).zip(commands).collect();
        record.last_applied = last_included;
        Ok(())
    }

    /// The lab's `nCommitted`: how many servers have applied `index`, and the
    /// command they applied. Fails if two servers applied different ones.
    pub(super) fn committed(&self, index: u64) -> Result<(usize, Option<Command>), String> {
        let mut count = 0;
        let mut command: Option<&Option<Command>> = None;
        for record in &self.records {
            if let Some(applied) = record.logs.get(&index) {
                if let Some(seen) = command
                    && seen != applied
                {
                    return Err(format!(
                        "committed values do not match: index {index}, {}, {}",
                        Shown(seen.as_ref()),
                        Shown(applied.as_ref())
                    ));
                }
                count += 1;
                command = Some(applied);
            }
        }
        Ok((count, command.cloned().flatten()))
    }
}

/// The tester's snapshot: the last included index and the command at every
/// index from 0 through it (`None` at 0), postcard-encoded.
fn encode_snapshot(last_included: u64, commands: Vec<Option<Command>>) -> Vec<u8> {
    postcard::to_stdvec(&(last_included, commands)).expect("a snapshot always encodes")
}

/// Reads what [`encode_snapshot`] wrote.
fn decode_snapshot(data: &[u8]) -> Result<(u64, Vec<Option<Command>>), postcard::Error> {
    postcard::from_bytes(data)
}

#[cfg(test)]
mod tests;
