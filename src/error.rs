//! The one error type commands return, and the exit codes scripts rely on.

use crate::aws::AwsError;
use crate::k8s::KubeError;

pub const EXIT_OK: u8 = 0;
/// An error or invalid input; nothing was changed.
pub const EXIT_ERROR: u8 = 1;
/// Aborted by the user, or rolled back.
pub const EXIT_ABORTED: u8 = 2;
/// A wait timed out.
pub const EXIT_TIMEOUT: u8 = 3;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Kube(#[from] KubeError),
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// Input that cannot be acted on; the message names the object, the problem and the fix.
    #[error("{0}")]
    Invalid(String),
    #[error("writing output: {0}")]
    Output(#[from] std::io::Error),
    /// The user declined, or a change was rolled back.
    #[error("{0}")]
    Aborted(String),
    /// A wait ran out of time; what was done stays, and re-running resumes.
    #[error("{0}")]
    Timeout(String),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Aborted(_) => EXIT_ABORTED,
            Error::Timeout(_) => EXIT_TIMEOUT,
            _ => EXIT_ERROR,
        }
    }

    /// A closed pipe (`kubectl nlb audit | head`) is not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}
