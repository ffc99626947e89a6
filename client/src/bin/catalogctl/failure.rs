//! Failures of a command and their exit codes.

use std::fmt::Display;
use std::io;

use docstokg_catalog::{CatalogError, ErrorKind};

/// Exit code of bad input.
const USAGE: u8 = 2;
/// Exit code of every other failure.
const FAILURE: u8 = 1;

/// Why a command failed.
#[derive(Debug)]
pub enum CliError {
    /// Something went wrong; print the message and exit with the code.
    Failed {
        /// What went wrong.
        message: String,
        /// The process exit code.
        code: u8,
    },
    /// The reader of stdout went away (`catalogctl list | head`): stop quietly.
    BrokenPipe,
}

impl CliError {
    /// Bad input from the command line or an input file (exit code 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::Failed {
            message: message.into(),
            code: USAGE,
        }
    }

    /// A failure that is not the caller's input (exit code 1).
    pub fn failure(message: impl Into<String>) -> Self {
        Self::Failed {
            message: message.into(),
            code: FAILURE,
        }
    }

    /// A local I/O error while doing `context`.
    pub fn io(context: impl Display, error: io::Error) -> Self {
        if error.kind() == io::ErrorKind::BrokenPipe {
            Self::BrokenPipe
        } else {
            Self::failure(format!("{context}: {error}"))
        }
    }
}

impl From<CatalogError> for CliError {
    fn from(error: CatalogError) -> Self {
        let code = if error.kind == ErrorKind::InvalidArgument {
            USAGE
        } else {
            FAILURE
        };
        Self::Failed {
            message: error.to_string(),
            code,
        }
    }
}

/// Result of a command.
pub type CliResult<T> = Result<T, CliError>;
