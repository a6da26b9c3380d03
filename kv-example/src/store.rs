//! [`KvStore`]: the versioned key/value state machine.

use std::collections::BTreeMap;

use raft_rsm::StateMachine;
use serde::{Deserialize, Serialize};

use crate::{KvError, Reply, Request, Version};

/// The versioned key/value map the service replicates (the lab's `KVServer`
/// state): `key -> (value, version)`.
///
/// Versions make retries safe without a table of client ids: a `Put` applies
/// only at the version its writer saw, so a second copy of it finds the
/// version moved on and changes nothing.
///
/// ```
/// use kv_example::{KvError, KvStore, Reply, Request};
/// use raft_rsm::StateMachine;
///
/// let mut store = KvStore::default();
/// let put = |value: &str, version| Request::Put { key: "k".into(), value: value.into(), version };
/// assert_eq!(store.apply(put("a", 0)), Reply::Done); // creates k at version 1
/// assert_eq!(store.apply(put("b", 0)), Reply::Failed(KvError::VersionMismatch));
/// assert_eq!(store.apply(put("b", 1)), Reply::Done);
/// assert_eq!(
///     store.apply(Request::Get { key: "k".into() }),
///     Reply::Value { value: "b".into(), version: 2 }
/// );
/// ```
///
/// A `Set` writes whatever the version, and a `Delete` removes a key (at a
/// given version, or any):
///
/// ```
/// use kv_example::{KvError, KvStore, Reply, Request};
/// use raft_rsm::StateMachine;
///
/// let mut store = KvStore::default();
/// let set = |value: &str| Request::Set { key: "k".into(), value: value.into() };
/// assert_eq!(store.apply(set("a")), Reply::Written { version: 1 });
/// assert_eq!(store.apply(set("b")), Reply::Written { version: 2 });
/// let delete = |version| Request::Delete { key: "k".into(), version };
/// assert_eq!(store.apply(delete(Some(1))), Reply::Failed(KvError::VersionMismatch));
/// assert_eq!(store.apply(delete(None)), Reply::Done);
/// assert_eq!(store.apply(delete(None)), Reply::Failed(KvError::NoKey));
/// assert_eq!(store.get("k"), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvStore {
    entries: BTreeMap<String, (String, Version)>,
}

impl KvStore {
    /// The value and version of `key`, if it exists.
    pub fn get(&self, key: &str) -> Option<(&str, Version)> {
        self.entries.get(key).map(|(value, version)| (value.as_str(), *version))
    }

    /// How many keys exist.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no key exists.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl StateMachine for KvStore {
    type Command = Request;
    type Output = Reply;

    fn apply(&mut self, request: Request) -> Reply {
        match request {
            Request::Get { key } => match self.entries.get(&key) {
                Some((value, version)) => Reply::Value { value: value.clone(), version: *version },
                None => Reply::Failed(KvError::NoKey),
            },
            Request::Put { key, value, version } => match self.entries.get_mut(&key) {
                Some(entry) if entry.1 == version => {
                    *entry = (value, version + 1);
                    Reply::Done
                }
                Some(_) => Reply::Failed(KvError::VersionMismatch),
                None if version == 0 => {
                    self.entries.insert(key, (value, 1));
                    Reply::Done
                }
                None => Reply::Failed(KvError::NoKey),
            },
            Request::Set { key, value } => {
                let entry = self.entries.entry(key).or_insert_with(|| (String::new(), 0));
                *entry = (value, entry.1 + 1);
                Reply::Written { version: entry.1 }
            }
            Request::Delete { key, version } => match self.entries.get(&key) {
                Some((_, current)) if version.is_none_or(|expected| expected == *current) => {
                    self.entries.remove(&key);
                    Reply::Done
                }
                Some(_) => Reply::Failed(KvError::VersionMismatch),
                None => Reply::Failed(KvError::NoKey),
            },
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("a map of strings encodes")
    }

    fn restore(&mut self, snapshot: &[u8]) -> Result<(), String> {
        *self = postcard::from_bytes(snapshot).map_err(|error| error.to_string())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
