//! An output that is stdout, or a file that appears under its name only once it is complete.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::failure::{CliError, CliResult};

/// Where an export goes.
pub struct Sink {
    writer: BufWriter<Box<dyn Write + Send>>,
    /// (partial file, final name) when writing a regular file.
    rename: Option<(PathBuf, PathBuf)>,
    /// How the output is named in messages.
    pub name: String,
}

impl Sink {
    /// Stdout for `-`; otherwise a hidden `.NAME.partial` next to `path`, renamed to `path` by
    /// [`Sink::finish`], so an interrupted export never leaves a file that looks complete. A path
    /// that exists and is not a regular file (a pipe, `/dev/null`) is written directly.
    pub fn create(path: &Path) -> CliResult<Self> {
        let name = path.display().to_string();
        if path.as_os_str() == "-" {
            return Ok(Self::new(
                Box::new(std::io::stdout()),
                None,
                "stdout".into(),
            ));
        }
        let cannot =
            |error: std::io::Error| CliError::usage(format!("cannot create {name}: {error}"));
        let special = std::fs::metadata(path).is_ok_and(|metadata| !metadata.is_file());
        if special {
            let file = File::options().write(true).open(path).map_err(cannot)?;
            return Ok(Self::new(Box::new(file), None, name));
        }
        let file_name = path
            .file_name()
            .ok_or_else(|| CliError::usage(format!("{name} is not a file name")))?;
        let mut partial_name = std::ffi::OsString::from(".");
        partial_name.push(file_name);
        partial_name.push(".partial");
        let partial = path.with_file_name(partial_name);
        let file = File::create(&partial).map_err(cannot)?;
        Ok(Self::new(
            Box::new(file),
            Some((partial, path.to_path_buf())),
            name,
        ))
    }

    fn new(inner: Box<dyn Write + Send>, rename: Option<(PathBuf, PathBuf)>, name: String) -> Self {
        Self {
            writer: BufWriter::with_capacity(256 * 1024, inner),
            rename,
            name,
        }
    }

    /// Writes `bytes`.
    pub fn write(&mut self, bytes: &[u8]) -> CliResult<()> {
        self.writer
            .write_all(bytes)
            .map_err(|error| CliError::io(format!("writing {}", self.name), error))
    }

    /// Flushes the output and gives the file its final name.
    pub fn finish(mut self) -> CliResult<()> {
        if let Err(error) = self.writer.flush() {
            self.discard();
            return Err(CliError::io(format!("writing {}", self.name), error));
        }
        if let Some((partial, path)) = self.rename.take() {
            std::fs::rename(&partial, &path).map_err(|error| {
                CliError::failure(format!(
                    "renaming {} to {}: {error}",
                    partial.display(),
                    path.display()
                ))
            })?;
        }
        Ok(())
    }

    /// Removes the partial file after a failure.
    pub fn discard(&mut self) {
        if let Some((partial, _)) = self.rename.take() {
            // Best effort: the error that matters is the one that made the export fail.
            let _ = std::fs::remove_file(partial);
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.discard();
    }
}
