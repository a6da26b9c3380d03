//! [`TransportConfig`]: the settings every backend shares (the call deadline).

use std::time::Duration;

use crate::TransportError;

/// Settings every backend shares.
///
/// Start from [`TransportConfig::default`] and change the fields you need;
/// backends call [`validate`](Self::validate) before they start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportConfig {
    /// How long a call waits for its reply before it fails with
    /// [`CallError::TimedOut`](crate::CallError::TimedOut), counted from the
    /// moment [`Transport::call`](crate::Transport::call) is made.
    ///
    /// Default: 1 s. Must be greater than zero.
    pub call_timeout: Duration,
}

impl Default for TransportConfig {
    fn default() -> TransportConfig {
        TransportConfig { call_timeout: Duration::from_secs(1) }
    }
}

impl TransportConfig {
    /// Checks the limits documented on each field.
    ///
    /// # Errors
    /// [`TransportError::InvalidConfig`] naming the first field out of range.
    pub fn validate(&self) -> Result<(), TransportError> {
        if self.call_timeout.is_zero() {
            return Err(TransportError::InvalidConfig(
                "call_timeout must be greater than zero".into(),
            ));
        }
        Ok(())
    }
}
