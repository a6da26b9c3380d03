//! [`Command`]: the values the lab's tests replicate, and their encoding.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A command as the lab's tests submit it: a Go `int` or a Go `string`.
///
/// Raft sees only bytes ([`encode`](Self::encode) gives them, with postcard).
/// Two commands are equal when they have the same kind and the same value, as
/// Go compares interface values: `Int(5)` is not `Str("5")`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Command {
    /// An integer command (the lab's `int`).
    Int(i64),
    /// A string command (the lab's `string`, used by the byte-count test).
    Str(String),
}

impl Command {
    /// The bytes Raft replicates for this command.
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("a command always encodes")
    }

    /// The command whose [`encode`](Self::encode) gave `bytes`.
    ///
    /// # Errors
    /// [`postcard::Error`] if `bytes` is not an encoded command.
    pub fn decode(bytes: &[u8]) -> Result<Command, postcard::Error> {
        postcard::from_bytes(bytes)
    }

    /// The integer, for an [`Int`](Command::Int).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Command::Int(value) => Some(*value),
            Command::Str(_) => None,
        }
    }
}

/// Prints the value alone, as Go's `%v` does.
impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Int(value) => value.fmt(f),
            Command::Str(value) => value.fmt(f),
        }
    }
}

impl From<i64> for Command {
    fn from(value: i64) -> Command {
        Command::Int(value)
    }
}

impl From<i32> for Command {
    fn from(value: i32) -> Command {
        Command::Int(value.into())
    }
}

impl From<String> for Command {
    fn from(value: String) -> Command {
        Command::Str(value)
    }
}

impl From<&str> for Command {
    fn from(value: &str) -> Command {
        Command::Str(value.to_owned())
    }
}

#[cfg(test)]
mod tests;
