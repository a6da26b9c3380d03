//! [`KvModel`]: the Lab 4 (2025) versioned key/value store as a [`Model`].

use crate::linearizability::model::Model;

/// The Lab 4 key/value service as a sequential specification, one partition
/// per key (the lab's `models1.KvModel`).
///
/// Each key holds a [`KvState`], initially `("", 0)`; a missing key reads as
/// the empty string.
///
/// - A [`Get`](KvInput::Get) is legal when its value equals the state's.
/// - A [`Put`](KvInput::Put) whose version equals the state's is legal when
///   it returned [`Ok`](PutOutcome::Ok) or [`Maybe`](PutOutcome::Maybe), and
///   moves the state to `(value, version + 1)`.
/// - A `Put` with any other version is legal when it returned
///   [`Version`](PutOutcome::Version) or `Maybe`, and leaves the state as it
///   is.
///
/// So [`NoKey`](PutOutcome::NoKey) from a `Put` is never legal, and neither is
/// an output of the wrong kind (a `Put` outcome for a `Get`, or the reverse).
/// A `Maybe` `Put` is legal both where it applies and where it does not, so
/// the search decides, from the rest of the history, whether it did.
///
/// ```
/// use raft_testkit::{KvInput, KvModel, KvOutput, KvState, Model, PutOutcome};
///
/// let put = KvInput::Put { key: "k".to_owned(), value: "a".to_owned(), version: 0 };
/// let after = KvModel.step(&KvModel.init(), &put, &KvOutput::Put(PutOutcome::Ok));
/// assert_eq!(after, Some(KvState { value: "a".to_owned(), version: 1 }));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KvModel;

/// What a key/value client asks for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvInput {
    /// Read a key.
    Get {
        /// The key read.
        key: String,
    },
    /// Write a key if it is at `version`.
    Put {
        /// The key written.
        key: String,
        /// The value written.
        value: String,
        /// The version the client expects the key to be at.
        version: u64,
    },
}

impl KvInput {
    /// The key the operation acts on.
    pub fn key(&self) -> &str {
        match self {
            KvInput::Get { key } | KvInput::Put { key, .. } => key,
        }
    }
}

/// What a key/value client got back.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvOutput {
    /// A read's answer. A missing key reads as the empty string, as the lab's
    /// model reads it as `("", 0)`.
    Get {
        /// The value read.
        value: String,
    },
    /// A write's outcome.
    Put(PutOutcome),
}

/// How a `Put` ended, as the clerk reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PutOutcome {
    /// The write applied (the lab's `OK`).
    Ok,
    /// The key was at another version; nothing changed (`ErrVersion`).
    Version,
    /// A retransmission got `ErrVersion`, so an earlier attempt may or may not
    /// have applied (`ErrMaybe`).
    Maybe,
    /// The key does not exist and the version was not 0 (`ErrNoKey`). Never
    /// legal in this model, which treats a missing key as `("", 0)`.
    NoKey,
}

/// The state of one key: its value and its version.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct KvState {
    /// The value; empty for a key never written.
    pub value: String,
    /// The number of writes applied to the key.
    pub version: u64,
}

impl Model for KvModel {
    type State = KvState;
    type Input = KvInput;
    type Output = KvOutput;

    fn init(&self) -> KvState {
        KvState::default()
    }

    fn step(&self, state: &KvState, input: &KvInput, output: &KvOutput) -> Option<KvState> {
        match (input, output) {
            (KvInput::Get { .. }, KvOutput::Get { value }) => {
                (*value == state.value).then(|| state.clone())
            }
            (KvInput::Put { value, version, .. }, KvOutput::Put(outcome)) => {
                if *version == state.version {
                    matches!(outcome, PutOutcome::Ok | PutOutcome::Maybe)
                        .then(|| KvState { value: value.clone(), version: state.version + 1 })
                } else {
                    matches!(outcome, PutOutcome::Version | PutOutcome::Maybe)
                        .then(|| state.clone())
                }
            }
            _ => None,
        }
    }

    fn partition_key(&self, input: &KvInput) -> Option<String> {
        Some(input.key().to_owned())
    }

    fn describe_operation(&self, input: &KvInput, output: &KvOutput) -> String {
        let output = match output {
            KvOutput::Get { value } => format!("'{value}'"),
            KvOutput::Put(outcome) => format!("{outcome:?}"),
        };
        match input {
            KvInput::Get { key } => format!("get('{key}') -> {output}"),
            KvInput::Put { key, value, version } => {
                format!("put('{key}', '{value}', {version}) -> {output}")
            }
        }
    }

    fn describe_state(&self, state: &KvState) -> String {
        format!("'{}' at version {}", state.value, state.version)
    }
}

#[cfg(test)]
mod tests;
