//! `put` and `get-content`: streaming a file up or the stored bytes down, with a byte progress bar.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use std::io::Read;

use bytes::{Bytes, BytesMut};
use docstokg_catalog::{
    ByteStream, Catalog, CatalogError, ContentHeader, ContentRequest, ContentSelector, ErrorKind,
    forward_chunks,
};
use docstokg_catalog_client::CatalogClient;
use futures::StreamExt;
use indicatif::ProgressBar;
use sha2::{Digest, Sha256};

use crate::cli::{GetContentArgs, PutArgs};
use crate::failure::{CliError, CliResult};
use crate::output::Output;
use crate::progress;

/// Bytes per uploaded chunk.
const CHUNK_SIZE: usize = 1024 * 1024;

/// Uploads a file. Nothing is computed up front: the header declares the file's length, and
/// unless `--no-hash-check` the file is hashed while it is sent and compared with the stored hash.
pub async fn put(client: &CatalogClient, args: PutArgs, out: Output) -> CliResult<()> {
    let path = args.file;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|error| CliError::usage(format!("cannot open {}: {error}", path.display())))?;
    let metadata = file
        .metadata()
        .await
        .map_err(|error| CliError::io(format!("reading {}", path.display()), error))?;
    if !metadata.is_file() {
        return Err(CliError::usage(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    let length = metadata.len();
    let fields = args.document;
    let header = ContentHeader {
        artifact_id: fields.artifact_id,
        source_url: fields.source_url,
        resolver: fields.resolver,
        content_type: fields.content_type,
        run_id: fields.run_id,
        expected_sha256: args.sha256,
        expected_bytes: Some(
            i64::try_from(length).map_err(|_| CliError::usage("the file is too large"))?,
        ),
    };
    let bar = progress::bytes(length, progress::visible(out.json));
    let hasher = (!args.no_hash_check).then(|| Arc::new(Mutex::new(Sha256::new())));
    let body = file_chunks(file, path, bar.clone(), hasher.clone());
    let outcome = match client.put_content(header, body).await {
        Ok(outcome) => outcome,
        Err(error) => {
            bar.abandon();
            return Err(error.into());
        }
    };
    bar.finish_and_clear();
    if let Some(hasher) = hasher {
        let local = hex::encode(
            hasher
                .lock()
                .map(|mut h| std::mem::take(&mut *h).finalize())
                .unwrap_or_default(),
        );
        let registration = &outcome.registration;
        let stored = registration.record.sha256.as_deref().unwrap_or("");
        let differs = registration
            .differing_fields
            .iter()
            .any(|field| field == "sha256");
        if !differs && stored != local {
            return Err(CliError::failure(format!(
                "the file hashes to {local} but record {} has sha256 {stored:?}; the file may have changed during the upload",
                registration.record.id
            )));
        }
    }
    out.put_outcome(&outcome)
}

/// The file as chunks of [`CHUNK_SIZE`] bytes, advancing `bar` and feeding `hasher`. The file is
/// read and hashed on a blocking thread a few chunks ahead of the upload (`tokio::fs` would hand
/// each read to the blocking pool separately and copy every buffer), which stops when the upload
/// does.
fn file_chunks(
    file: tokio::fs::File,
    path: PathBuf,
    bar: ProgressBar,
    hasher: Option<Arc<Mutex<Sha256>>>,
) -> ByteStream {
    let (chunks, stream) = tokio::sync::mpsc::channel::<docstokg_catalog::Result<Bytes>>(4);
    tokio::spawn(async move {
        let mut file = file.into_std().await;
        let _ = tokio::task::spawn_blocking(move || {
            loop {
                let mut chunk = BytesMut::zeroed(CHUNK_SIZE);
                let mut filled = 0;
                while filled < CHUNK_SIZE {
                    match file.read(&mut chunk[filled..]) {
                        Ok(0) => break,
                        Ok(read) => filled += read,
                        Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(error) => {
                            let _ = chunks.blocking_send(Err(read_failed(&path, &error)));
                            return;
                        }
                    }
                }
                if filled == 0 {
                    return;
                }
                chunk.truncate(filled);
                if let Some(Ok(mut hasher)) = hasher.as_ref().map(|h| h.lock()) {
                    hasher.update(&chunk);
                }
                if chunks.blocking_send(Ok(chunk.freeze())).is_err() {
                    return;
                }
            }
        })
        .await;
    });
    tokio_stream::wrappers::ReceiverStream::new(stream)
        .inspect(move |chunk| {
            if let Ok(chunk) = chunk {
                bar.inc(chunk.len() as u64);
            }
        })
        .boxed()
}

fn read_failed(path: &Path, error: &std::io::Error) -> CatalogError {
    CatalogError::new(
        ErrorKind::Cancelled,
        format!(
            "reading {} failed, upload cancelled: {error}",
            path.display()
        ),
    )
}

/// Downloads the bytes of a record or a hash to a file or stdout. A whole-object download is
/// hashed on the way and checked against the server's sha256; a failed download removes the file.
pub async fn get(client: &CatalogClient, args: GetContentArgs, out: Output) -> CliResult<()> {
    let selector = match (args.id, args.sha256) {
        (Some(id), _) => ContentSelector::RecordId(id),
        (None, Some(sha256)) => ContentSelector::Sha256(sha256),
        (None, None) => return Err(CliError::usage("give --id or --sha256")),
    };
    let whole = args.offset == 0 && args.length.is_none();
    let request = ContentRequest {
        selector,
        offset: args.offset,
        length: args.length,
    };
    let download = client.get_content(request).await?;
    let to_stdout = args.output.as_os_str() == "-";
    // Only a regular file is removed after a failure, never a device such as /dev/null.
    let removable = !to_stdout && std::fs::metadata(&args.output).map_or(true, |m| m.is_file());
    let sink: Box<dyn std::io::Write + Send> = if to_stdout {
        Box::new(std::io::stdout())
    } else {
        let file = std::fs::File::create(&args.output).map_err(|error| {
            CliError::usage(format!("cannot create {}: {error}", args.output.display()))
        })?;
        Box::new(file)
    };
    let bar = progress::bytes(
        u64::try_from(download.info.range_bytes).unwrap_or(0),
        progress::visible(out.json),
    );
    let hasher = whole.then(Sha256::new);
    let copied = copy(download.body, sink, &bar, hasher)
        .await
        .and_then(|(written, hasher)| {
            let local = hasher.map(|h| hex::encode(h.finalize()));
            match local {
                Some(local) if local != download.info.sha256 => Err(CliError::failure(format!(
                    "the downloaded bytes hash to {local}, not to the expected {}",
                    download.info.sha256
                ))),
                _ => Ok(written),
            }
        });
    let written = match copied {
        Ok(written) => written,
        Err(error) => {
            bar.abandon();
            if removable {
                // Best effort: the error that matters is the download's.
                let _ = tokio::fs::remove_file(&args.output).await;
            }
            return Err(error);
        }
    };
    bar.finish_and_clear();
    if to_stdout {
        return Ok(());
    }
    if out.json {
        out.json(&download.info)
    } else {
        out.line(format!(
            "wrote {written} bytes to {} (sha256 {})",
            args.output.display(),
            download.info.sha256
        ))
    }
}

/// Writes every chunk of `body` to `sink` and feeds `hasher`, on a blocking thread a few chunks
/// behind the download, so hashing and writing overlap receiving (on the async thread they took
/// turns with it); the number of bytes written, and the hasher.
async fn copy(
    mut body: ByteStream,
    mut sink: Box<dyn std::io::Write + Send>,
    bar: &ProgressBar,
    mut hasher: Option<Sha256>,
) -> CliResult<(u64, Option<Sha256>)> {
    let (chunks, mut queued) = tokio::sync::mpsc::channel::<Bytes>(4);
    let writer = tokio::task::spawn_blocking(move || -> std::io::Result<(u64, Option<Sha256>)> {
        let mut written = 0_u64;
        while let Some(chunk) = queued.blocking_recv() {
            sink.write_all(&chunk)?;
            if let Some(hasher) = hasher.as_mut() {
                hasher.update(&chunk);
            }
            written += chunk.len() as u64;
        }
        sink.flush()?;
        Ok((written, hasher))
    });
    // A refused chunk means the writer failed; its error follows.
    let failure = forward_chunks(&mut body, |chunk| {
        bar.inc(chunk.len() as u64);
        chunks.send(chunk)
    })
    .await;
    drop(chunks);
    let written = writer
        .await
        .map_err(|error| CliError::failure(format!("writing the content: {error}")))?;
    if let Some(error) = failure {
        return Err(error.into());
    }
    written.map_err(|error| CliError::io("writing the content", error))
}
