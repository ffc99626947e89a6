//! Reading JSON Lines with bounded memory: one line at a time, each at most [`MAX_LINE_BYTES`].

use std::io;
use std::path::Path;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, BufReader};

use crate::failure::{CliError, CliResult};

/// Longest line accepted, in bytes; a longer line is malformed and skipped without being held.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// One line of the input: its 1-based number and its text, or why it cannot be text.
#[derive(Debug)]
pub struct Line {
    /// 1-based line number.
    pub number: u64,
    /// The line without its line ending, or what is wrong with it.
    pub text: Result<String, String>,
}

/// The lines of a file or of stdin.
pub struct LineReader {
    inner: Box<dyn AsyncBufRead + Unpin + Send>,
    number: u64,
    buffer: Vec<u8>,
    /// How the input is named in messages: the path, or `<stdin>`.
    pub name: String,
}

impl LineReader {
    /// Opens `path`, or stdin for `-`. A file that cannot be opened is bad input (exit code 2).
    pub async fn open(path: &Path) -> CliResult<Self> {
        if path.as_os_str() == "-" {
            return Ok(Self::new(BufReader::new(tokio::io::stdin()), "<stdin>"));
        }
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|error| CliError::usage(format!("cannot open {}: {error}", path.display())))?;
        Ok(Self::new(
            BufReader::with_capacity(64 * 1024, file),
            &path.display().to_string(),
        ))
    }

    /// Lines of `reader`, named `name` in messages.
    pub fn new(reader: impl AsyncBufRead + Unpin + Send + 'static, name: &str) -> Self {
        Self {
            inner: Box::new(reader),
            number: 0,
            buffer: Vec::new(),
            name: name.to_owned(),
        }
    }

    /// The next line, or `None` at the end of the input.
    pub async fn next_line(&mut self) -> io::Result<Option<Line>> {
        self.buffer.clear();
        let limit = MAX_LINE_BYTES as u64 + 1;
        let read = (&mut self.inner)
            .take(limit)
            .read_until(b'\n', &mut self.buffer)
            .await?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        if self.buffer.last() != Some(&b'\n') && self.buffer.len() > MAX_LINE_BYTES {
            self.skip_rest_of_line().await?;
            let text = Err(format!("line longer than {MAX_LINE_BYTES} bytes"));
            return Ok(Some(Line {
                number: self.number,
                text,
            }));
        }
        let mut bytes = std::mem::take(&mut self.buffer);
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        let text = String::from_utf8(bytes).map_err(|error| {
            format!(
                "not valid UTF-8 (at byte {})",
                error.utf8_error().valid_up_to()
            )
        });
        Ok(Some(Line {
            number: self.number,
            text,
        }))
    }

    /// Discards input up to and including the next newline.
    async fn skip_rest_of_line(&mut self) -> io::Result<()> {
        loop {
            let available = self.inner.fill_buf().await?;
            if available.is_empty() {
                return Ok(());
            }
            match available.iter().position(|&byte| byte == b'\n') {
                Some(at) => {
                    self.inner.consume(at + 1);
                    return Ok(());
                }
                None => {
                    let length = available.len();
                    self.inner.consume(length);
                }
            }
        }
    }
}

/// A JSON error as a reason for a line: its message and column, without serde's `line 1`.
pub fn json_error(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    match text.strip_suffix(&suffix) {
        Some(message) => format!("{message} (column {})", error.column()),
        None => text,
    }
}

/// Checks that a line holds a JSON object (serde would also take an array for a struct).
pub fn object(line: &str) -> Result<&str, String> {
    if line.trim_start().starts_with('{') {
        Ok(line)
    } else {
        Err("not a JSON object".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines_of(input: &'static [u8]) -> Vec<(u64, Result<String, String>)> {
        let mut reader = LineReader::new(input, "test");
        let mut lines = Vec::new();
        while let Some(line) = reader.next_line().await.expect("read") {
            lines.push((line.number, line.text));
        }
        lines
    }

    #[tokio::test]
    async fn test_lines_are_numbered_and_stripped() {
        let lines = lines_of(b"a\r\n\nb").await;
        assert_eq!(
            lines,
            vec![
                (1, Ok("a".into())),
                (2, Ok(String::new())),
                (3, Ok("b".into()))
            ]
        );
    }

    #[tokio::test]
    async fn test_overlong_and_invalid_lines_are_reported_and_skipped() {
        let mut input = vec![b'x'; MAX_LINE_BYTES + 10];
        input.extend_from_slice(b"\n\xff\nok\n");
        let input: &'static [u8] = Box::leak(input.into_boxed_slice());
        let lines = lines_of(input).await;
        assert_eq!(lines.len(), 3);
        assert!(
            lines[0]
                .1
                .as_ref()
                .expect_err("too long")
                .contains("longer")
        );
        assert!(lines[1].1.as_ref().expect_err("bad").contains("UTF-8"));
        assert_eq!(lines[2], (3, Ok("ok".into())));
    }

    #[test]
    fn test_json_error_names_the_column_only() {
        let error = serde_json::from_str::<serde_json::Value>("{\"a\":").expect_err("bad");
        let reason = json_error(&error);
        assert!(reason.contains("(column 5)"), "{reason}");
        assert!(!reason.contains("line"), "{reason}");
        assert!(object(" {}").is_ok());
        assert!(object("[]").is_err());
    }
}
