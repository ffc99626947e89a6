//! `catalogctl`: the DocsToKG Catalog from the shell, one subcommand per RPC.
//!
//! Human-readable output by default, one JSON object per line with `--json`. Errors go to stderr
//! as `error: <message>`; the exit code is 2 for bad input and 1 for every other failure.
#![allow(clippy::print_stdout)]

#[path = "catalogctl/audit.rs"]
mod audit;
#[path = "catalogctl/cli.rs"]
mod cli;
#[path = "catalogctl/commands.rs"]
mod commands;
#[path = "catalogctl/export.rs"]
mod export;
#[path = "catalogctl/failure.rs"]
mod failure;
#[path = "catalogctl/import.rs"]
mod import;
#[path = "catalogctl/jsonl.rs"]
mod jsonl;
#[path = "catalogctl/manifest.rs"]
mod manifest;
#[path = "catalogctl/output.rs"]
mod output;
#[path = "catalogctl/progress.rs"]
mod progress;
#[path = "catalogctl/sink.rs"]
mod sink;
#[path = "catalogctl/tally.rs"]
mod tally;
#[path = "catalogctl/transfer.rs"]
mod transfer;
#[path = "catalogctl/verify_all.rs"]
mod verify_all;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::failure::CliError;

/// mimalloc, as in the server: a stream of records allocates and frees a few strings per record,
/// and glibc's `malloc` and `free` were 7% of `catalogctl duplicates --records` under `perf`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let ran = commands::run(cli).await;
    // What stdout still holds goes out before any error message on stderr.
    let flushed = output::flush();
    match ran.and_then(|code| flushed.map(|()| code)) {
        Ok(code) => code,
        Err(CliError::BrokenPipe) => ExitCode::SUCCESS,
        Err(CliError::Failed { message, code }) => {
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    }
}
