//! File I/O of the local blob store on one blocking thread per transfer, fed through a small
//! channel: `tokio::fs` hands every read and write to the blocking pool separately and copies each
//! buffer on the way, which made a 1 GiB transfer several times slower than the disk. Hashing runs
//! on the same blocking thread, off the async workers.

use std::{
    fs::File,
    io::{self, Read, Write},
};

use bytes::{Bytes, BytesMut};
use docstokg_catalog::{ByteStream, CatalogError, Result, forward_chunks};
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::{BlobExpectation, ContentDigest, local_reader::io_error};

/// Chunks read ahead of the consumer, and chunks queued for the writer.
const QUEUED_CHUNKS: usize = 4;
/// Bytes an upload writes between two early flushes.
pub const FLUSH_EVERY_BYTES: usize = 32 * 1024 * 1024;

/// A thread that syncs `file`'s data each time it is signalled, until the sender is dropped.
fn early_flusher(file: File) -> (std::sync::mpsc::SyncSender<()>, std::thread::JoinHandle<()>) {
    let (flush, requests) = std::sync::mpsc::sync_channel::<()>(1);
    let done = std::thread::spawn(move || {
        while requests.recv().is_ok() {
            // An error here shows again in the final sync, which decides.
            let _ = file.sync_data();
        }
    });
    (flush, done)
}

/// Streams up to `length` bytes of `file` from its current position in chunks of `chunk_bytes`,
/// read on a blocking thread that stops when the stream is dropped.
pub fn read_file(mut file: File, length: Option<u64>, chunk_bytes: usize) -> ByteStream {
    let (chunks, stream) = mpsc::channel::<Result<Bytes>>(QUEUED_CHUNKS);
    tokio::task::spawn_blocking(move || {
        let mut left = length.unwrap_or(u64::MAX);
        while left > 0 {
            let want = usize::try_from(left).unwrap_or(usize::MAX).min(chunk_bytes);
            let mut buffer = BytesMut::zeroed(want);
            let read = match read_up_to(&mut file, &mut buffer) {
                Ok(0) => return,
                Ok(read) => read,
                Err(error) => {
                    let _ = chunks.blocking_send(Err(io_error("reading a stored object", error)));
                    return;
                }
            };
            buffer.truncate(read);
            left -= read as u64;
            if chunks.blocking_send(Ok(buffer.freeze())).is_err() {
                return;
            }
        }
    });
    ReceiverStream::new(stream).boxed()
}

/// Fills `buffer` unless the file ends first; the bytes read.
fn read_up_to(file: &mut File, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

/// Writes every chunk of `body` to `file` and hashes it against `expect`, on a blocking thread,
/// then syncs the data to disk. Returns the digest; on any failure (of the body, the expectation
/// or the disk) the error is returned. While the upload runs, a second thread flushes what has
/// been written every [`FLUSH_EVERY_BYTES`], so the disk writes overlap the transfer instead of
/// all waiting for the final sync (the kernel would otherwise keep up to a tenth of the memory
/// dirty before writing any of it).
pub async fn write_and_hash(
    mut file: File,
    expect: BlobExpectation,
    mut body: ByteStream,
) -> Result<ContentDigest> {
    let (chunks, mut queued) = mpsc::channel::<Bytes>(QUEUED_CHUNKS);
    let flusher = file.try_clone().ok().map(early_flusher);
    let writer = tokio::task::spawn_blocking(move || -> Result<(ContentDigest, File)> {
        let mut digest = ContentDigest::new(expect);
        let mut unflushed = 0;
        while let Some(chunk) = queued.blocking_recv() {
            digest.update(&chunk)?;
            file.write_all(&chunk)
                .map_err(|e| io_error("writing an upload", e))?;
            unflushed += chunk.len();
            if unflushed >= FLUSH_EVERY_BYTES {
                unflushed = 0;
                if let Some((flush, _)) = &flusher {
                    // A flush still running takes these bytes too: no need to queue another.
                    let _ = flush.try_send(());
                }
            }
        }
        if let Some((flush, done)) = flusher {
            drop(flush);
            let _ = done.join();
        }
        Ok((digest, file))
    });
    // A refused chunk means the writer failed; its error follows.
    let failure = forward_chunks(&mut body, |chunk| chunks.send(chunk)).await;
    drop(chunks);
    let written = writer
        .await
        .map_err(|e| CatalogError::internal(format!("writing an upload: {e}")).caused_by(e))?;
    if let Some(error) = failure {
        return Err(error);
    }
    let (digest, file) = written?;
    tokio::task::spawn_blocking(move || file.sync_data())
        .await
        .map_err(|e| CatalogError::internal(format!("syncing an upload: {e}")).caused_by(e))?
        .map_err(|e| io_error("syncing an upload", e))?;
    Ok(digest)
}
