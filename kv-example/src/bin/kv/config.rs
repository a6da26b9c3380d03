//! The node's settings from the command line: [`Member`] and the typed
//! [`ConfigError`] a bad flag, a busy port or a locked data directory gives.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use raft_core::NodeId;

/// One member of the cluster as `--member` names it:
/// `ID=RAFT_ADDR,HTTP_ADDR`, for example `1=127.0.0.1:7001,127.0.0.1:8001`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Member {
    /// Its Raft identity.
    pub(crate) id: NodeId,
    /// Where its Raft transport listens.
    pub(crate) raft: SocketAddr,
    /// Where its HTTP API listens.
    pub(crate) http: SocketAddr,
}

impl Member {
    /// The base URL of its HTTP API.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.http)
    }
}

/// The members `kv cluster` starts by default, and the nodes clients ask by
/// default: node `i` has Raft on 127.0.0.1:700`i` and HTTP on
/// 127.0.0.1:800`i`.
pub(crate) fn default_members() -> Vec<Member> {
    members_from(3, 7001, 8001)
}

/// `count` members on loopback, node `i` (from 1) with Raft on port
/// `raft_port + i - 1` and HTTP on `http_port + i - 1`.
pub(crate) fn members_from(count: u16, raft_port: u16, http_port: u16) -> Vec<Member> {
    (0..count)
        .map(|offset| Member {
            id: NodeId(u64::from(offset) + 1),
            raft: SocketAddr::from(([127, 0, 0, 1], raft_port.saturating_add(offset))),
            http: SocketAddr::from(([127, 0, 0, 1], http_port.saturating_add(offset))),
        })
        .collect()
}

/// Why a `--member` value does not parse.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum MemberParseError {
    /// No `=` between the id and the addresses.
    #[error("expected ID=RAFT_ADDR,HTTP_ADDR (for example 1=127.0.0.1:7001,127.0.0.1:8001)")]
    Shape,
    /// The id is not a positive integer.
    #[error("the node id {0:?} is not a positive integer")]
    Id(String),
    /// An address is not `IP:PORT`.
    #[error("{0:?} is not an IP:PORT address")]
    Address(String),
}

impl FromStr for Member {
    type Err = MemberParseError;

    fn from_str(text: &str) -> Result<Member, MemberParseError> {
        let (id, addresses) = text.split_once('=').ok_or(MemberParseError::Shape)?;
        let (raft, http) = addresses.split_once(',').ok_or(MemberParseError::Shape)?;
        let id = match id.trim().parse::<u64>() {
            Ok(id) if id > 0 => NodeId(id),
            _ => return Err(MemberParseError::Id(id.to_owned())),
        };
        let address = |text: &str| {
            text.trim()
                .parse::<SocketAddr>()
                .map_err(|_| MemberParseError::Address(text.to_owned()))
        };
        Ok(Member { id, raft: address(raft)?, http: address(http)? })
    }
}

/// Why a node cannot start with the settings it was given.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    /// `--id` is not one of the `--member`s.
    #[error("node {id} is not one of the --member list")]
    NotAMember {
        /// The id given.
        id: NodeId,
    },
    /// Two `--member`s share an id or an address.
    #[error("--member {first} and --member {second} clash (same id or address)")]
    DuplicateMember {
        /// The first of the two.
        first: String,
        /// The second.
        second: String,
    },
    /// The data directory could not be created or its lock file opened.
    #[error("could not use the data directory {}", path.display())]
    DataDirectory {
        /// The directory.
        path: PathBuf,
        /// What failed.
        #[source]
        source: io::Error,
    },
    /// Another process holds the data directory's lock.
    #[error(
        "the data directory {} is in use by another process (its lock {} is held); stop that node or pick another --data-dir",
        path.display(), lock.display()
    )]
    DataDirectoryLocked {
        /// The directory.
        path: PathBuf,
        /// Its lock file.
        lock: PathBuf,
    },
    /// Something else listens on an address this node needs.
    #[error("the {what} address {addr} is already in use (is another node running there?)")]
    PortBusy {
        /// `raft` or `http`.
        what: &'static str,
        /// The address.
        addr: SocketAddr,
    },
    /// An address could not be listened on for another reason.
    #[error("could not listen on the {what} address {addr}")]
    Listen {
        /// `raft` or `http`.
        what: &'static str,
        /// The address.
        addr: SocketAddr,
        /// What failed.
        #[source]
        source: io::Error,
    },
    /// The Raft transport did not start.
    #[error("the raft transport did not start")]
    Transport(#[source] raft_transport::TransportError),
    /// The Raft state on disk could not be opened.
    #[error("could not open the raft state in {}", path.display())]
    Persist {
        /// The directory.
        path: PathBuf,
        /// What failed.
        #[source]
        source: raft_persist::PersistError,
    },
    /// The node or its state machine did not start.
    #[error("the node did not start")]
    Start(#[source] raft_rsm::StartError),
    /// The HTTP server failed.
    #[error("the http server failed")]
    Serve(#[source] io::Error),
    /// The node stopped on its own while serving.
    #[error("the node stopped")]
    NodeFailed(#[source] raft_core::StopReason),
    /// The async runtime could not be built.
    #[error("could not start the http runtime")]
    Runtime(#[source] io::Error),
}

/// Checks that `id` is a member and that the members do not clash.
pub(crate) fn check_members(id: NodeId, members: &[Member]) -> Result<Member, ConfigError> {
    for member in members {
        if member.raft == member.http {
            return Err(ConfigError::DuplicateMember {
                first: describe(member),
                second: describe(member),
            });
        }
    }
    for (index, first) in members.iter().enumerate() {
        for second in &members[index + 1..] {
            let clash = first.id == second.id
                || first.raft == second.raft
                || first.http == second.http
                || first.raft == second.http
                || first.http == second.raft;
            if clash {
                return Err(ConfigError::DuplicateMember {
                    first: describe(first),
                    second: describe(second),
                });
            }
        }
    }
    members.iter().find(|member| member.id == id).copied().ok_or(ConfigError::NotAMember { id })
}

fn describe(member: &Member) -> String {
    format!("{}={},{}", member.id, member.raft, member.http)
}

/// The name of the lock file in a data directory.
pub(crate) const LOCK_FILE: &str = "kv.lock";

/// Creates `dir` if needed and takes its lock, held while the returned file
/// stays open (the process's end releases it, however it ends).
pub(crate) fn lock_data_directory(dir: &Path) -> Result<File, ConfigError> {
    let failed = |source| ConfigError::DataDirectory { path: dir.to_owned(), source };
    std::fs::create_dir_all(dir).map_err(failed)?;
    let lock = dir.join(LOCK_FILE);
    let file =
        OpenOptions::new().create(true).truncate(false).write(true).open(&lock).map_err(failed)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => {
            Err(ConfigError::DataDirectoryLocked { path: dir.to_owned(), lock })
        }
        Err(TryLockError::Error(source)) => Err(failed(source)),
    }
}

/// Maps a failure to bind `addr` to a busy port or another listen failure.
pub(crate) fn listen_error(what: &'static str, addr: SocketAddr, source: io::Error) -> ConfigError {
    if source.kind() == io::ErrorKind::AddrInUse {
        ConfigError::PortBusy { what, addr }
    } else {
        ConfigError::Listen { what, addr, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_parses_from_id_and_two_addresses() {
        let member: Member = "2=127.0.0.1:7002,127.0.0.1:8002".parse().unwrap();
        assert_eq!(member.id, NodeId(2));
        assert_eq!(member.raft, "127.0.0.1:7002".parse().unwrap());
        assert_eq!(member.url(), "http://127.0.0.1:8002");
    }

    #[test]
    fn malformed_members_are_typed_errors() {
        assert_eq!("127.0.0.1:7002".parse::<Member>(), Err(MemberParseError::Shape));
        assert_eq!(
            "0=1.2.3.4:1,1.2.3.4:2".parse::<Member>(),
            Err(MemberParseError::Id("0".into()))
        );
        assert_eq!(
            "1=localhost:1,1.2.3.4:2".parse::<Member>(),
            Err(MemberParseError::Address("localhost:1".into()))
        );
    }

    #[test]
    fn clashing_members_and_a_missing_id_are_refused() {
        let one: Member = "1=127.0.0.1:7001,127.0.0.1:8001".parse().unwrap();
        let two: Member = "2=127.0.0.1:7001,127.0.0.1:8002".parse().unwrap();
        assert!(matches!(
            check_members(NodeId(1), &[one, two]),
            Err(ConfigError::DuplicateMember { .. })
        ));
        assert!(matches!(check_members(NodeId(3), &[one]), Err(ConfigError::NotAMember { .. })));
        assert_eq!(check_members(NodeId(1), &[one]).unwrap(), one);
    }

    #[test]
    fn a_second_lock_on_a_data_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let _held = lock_data_directory(dir.path()).unwrap();
        assert!(matches!(
            lock_data_directory(dir.path()),
            Err(ConfigError::DataDirectoryLocked { .. })
        ));
    }
}
