//! When and where to write a history's visualization, from the lab's
//! `VIS_ENABLE` and `VIS_FILE` variables.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::linearizability::checker::CheckResult;
use crate::linearizability::error::VisualizationPolicyError;

/// The variable that chooses when to write a visualization:
/// [`VisualizationPolicy::from_env`].
pub const VISUALIZATION_POLICY_VARIABLE: &str = "VIS_ENABLE";

/// The variable that names the visualization file: [`visualization_path`].
pub const VISUALIZATION_FILE_VARIABLE: &str = "VIS_FILE";

/// When a tester writes the visualization of a checked history.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum VisualizationPolicy {
    /// Never (`VIS_ENABLE=never`).
    Never,
    /// Only for a history found [`Illegal`](CheckResult::Illegal) (the lab's
    /// default, with `VIS_ENABLE` unset or empty).
    #[default]
    OnFailure,
    /// For every checked history (`VIS_ENABLE=always`).
    Always,
}

impl VisualizationPolicy {
    /// The policy [`VISUALIZATION_POLICY_VARIABLE`] asks for: `never`,
    /// `always`, or unset (or empty) for [`OnFailure`](Self::OnFailure).
    ///
    /// # Errors
    /// [`VisualizationPolicyError::Unrecognized`] for any other value.
    pub fn from_env() -> Result<VisualizationPolicy, VisualizationPolicyError> {
        Self::from_value(env::var_os(VISUALIZATION_POLICY_VARIABLE))
    }

    pub(crate) fn from_value(
        value: Option<OsString>,
    ) -> Result<VisualizationPolicy, VisualizationPolicyError> {
        match value {
            None => Ok(VisualizationPolicy::OnFailure),
            Some(value) => value.to_string_lossy().parse(),
        }
    }

    /// Whether a history with this result should be visualized.
    pub fn should_write(self, result: CheckResult) -> bool {
        match self {
            VisualizationPolicy::Never => false,
            VisualizationPolicy::OnFailure => result == CheckResult::Illegal,
            VisualizationPolicy::Always => true,
        }
    }
}

/// Reads a value of [`VISUALIZATION_POLICY_VARIABLE`]: `never`, `always`, or
/// empty for [`OnFailure`](VisualizationPolicy::OnFailure).
impl FromStr for VisualizationPolicy {
    type Err = VisualizationPolicyError;

    fn from_str(value: &str) -> Result<VisualizationPolicy, VisualizationPolicyError> {
        match value {
            "" => Ok(VisualizationPolicy::OnFailure),
            "never" => Ok(VisualizationPolicy::Never),
            "always" => Ok(VisualizationPolicy::Always),
            _ => Err(VisualizationPolicyError::Unrecognized {
                variable: VISUALIZATION_POLICY_VARIABLE,
                value: value.to_owned(),
            }),
        }
    }
}

/// Where to write a visualization: [`VISUALIZATION_FILE_VARIABLE`] if it is
/// set and not empty, else `porcupine-<random>.html` in the system's
/// temporary directory (the lab's names).
pub fn visualization_path() -> PathBuf {
    path_from(env::var_os(VISUALIZATION_FILE_VARIABLE), &env::temp_dir(), rand::random())
}

pub(crate) fn path_from(
    file: Option<OsString>,
    temporary_directory: &Path,
    random: u64,
) -> PathBuf {
    match file {
        Some(file) if !file.is_empty() => PathBuf::from(file),
        _ => temporary_directory.join(format!("porcupine-{random:016x}.html")),
    }
}

#[cfg(test)]
mod tests;
