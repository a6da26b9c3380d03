//! [`TcpConfig`]: the settings of a [`TcpTransport`](crate::TcpTransport).

use std::time::Duration;

use crate::{TransportConfig, TransportError};

/// The settings of a [`TcpTransport`](crate::TcpTransport).
///
/// Start from [`TcpConfig::default`]; [`TcpTransportBuilder`](crate::TcpTransportBuilder)
/// sets the fields one by one and calls [`validate`](Self::validate) when it
/// starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpConfig {
    /// The call deadline, as for every backend.
    pub transport: TransportConfig,
    /// The largest frame sent or accepted, in bytes after the 4-byte length
    /// prefix. A request larger than this fails with
    /// [`CallError::Unsendable`](crate::CallError::Unsendable); a reply larger
    /// than this with [`CallError::Rejected`](crate::CallError::Rejected); a
    /// peer claiming a larger frame has its connection closed before anything
    /// is allocated for it.
    ///
    /// Default: 64 MiB. At least 1 KiB. Must be the same on every node.
    pub max_frame_size: u32,
    /// How long a connection attempt may take. Calls queued to the peer wait
    /// for it, and shutdown may wait for one attempt in progress.
    ///
    /// Default: 1 s. Must be greater than zero.
    pub connect_timeout: Duration,
    /// How long either side waits for the other's handshake on a new
    /// connection before closing it.
    ///
    /// Default: 5 s. Must be greater than zero.
    pub handshake_timeout: Duration,
    /// How long a link waits after a failed connection attempt before the next
    /// (calls in between fail at once with
    /// [`CallError::Unreachable`](crate::CallError::Unreachable)). The wait
    /// doubles with each further failure up to
    /// [`max_reconnect_backoff`](Self::max_reconnect_backoff) and is reset by a
    /// success or by a new address for the peer.
    ///
    /// Default: 20 ms.
    pub reconnect_backoff: Duration,
    /// The longest wait between connection attempts.
    ///
    /// Default: 1 s. At least [`reconnect_backoff`](Self::reconnect_backoff).
    pub max_reconnect_backoff: Duration,
}

/// The smallest [`TcpConfig::max_frame_size`].
const MIN_FRAME_SIZE: u32 = 1024;

impl Default for TcpConfig {
    fn default() -> TcpConfig {
        TcpConfig {
            transport: TransportConfig::default(),
            max_frame_size: 64 * 1024 * 1024,
            connect_timeout: Duration::from_secs(1),
            handshake_timeout: Duration::from_secs(5),
            reconnect_backoff: Duration::from_millis(20),
            max_reconnect_backoff: Duration::from_secs(1),
        }
    }
}

impl TcpConfig {
    /// Checks the limits documented on each field.
    ///
    /// # Errors
    /// [`TransportError::InvalidConfig`] naming the first field out of range.
    pub fn validate(&self) -> Result<(), TransportError> {
        self.transport.validate()?;
        let invalid = |reason: &str| Err(TransportError::InvalidConfig(reason.into()));
        if self.max_frame_size < MIN_FRAME_SIZE {
            return invalid("max_frame_size must be at least 1 KiB");
        }
        if self.connect_timeout.is_zero() {
            return invalid("connect_timeout must be greater than zero");
        }
        if self.handshake_timeout.is_zero() {
            return invalid("handshake_timeout must be greater than zero");
        }
        if self.max_reconnect_backoff < self.reconnect_backoff {
            return invalid("max_reconnect_backoff must be at least reconnect_backoff");
        }
        Ok(())
    }
}
