//! Connecting and running one subcommand.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use docstokg_catalog::{Catalog, DeleteRequest, DeleteSelection, DuplicateQuery, NewDocument};
use docstokg_catalog_client::{CatalogClient, ClientOptions, ClientTls};

use crate::cli::{Cli, Command, DeleteArgs, RegisterArgs};
use crate::failure::{CliError, CliResult};
use crate::output::{self, Output};
use crate::{audit, export, import, progress, transfer, verify_all};

/// Runs the command line; the exit code on success.
pub async fn run(cli: Cli) -> CliResult<ExitCode> {
    let out = Output { json: cli.json };
    check_input_file(&cli.command)?;
    let client = connect(&cli).await?;
    match cli.command {
        Command::Register(args) => out.outcome(&client.register_or_get(document(args)).await?)?,
        Command::Export(args) => export::run(&client, args, out).await?,
        Command::Import(args) => return import::run(&client, args, out).await,
        Command::Get { id } => out.record(&client.get_record(id).await?)?,
        Command::ByArtifact { artifact_id } => {
            out.records(&client.get_by_artifact(&artifact_id).await?)?
        }
        Command::BySha256 { sha256 } => out.records(&client.get_by_sha256(&sha256).await?)?,
        Command::ByRun { run_id } => out.records(&client.get_by_run(&run_id).await?)?,
        Command::List(filter) => {
            let mut records = client.list_records(filter.into()).await?;
            while let Some(record) = output::next_or_flush(&mut records).await? {
                out.record(&record?)?;
            }
        }
        Command::Duplicates {
            min_count,
            records,
            top,
        } => {
            let query = DuplicateQuery {
                min_count,
                include_records: records,
                limit: top,
            };
            let mut groups = client.find_duplicates(query).await?;
            while let Some(group) = output::next_or_flush(&mut groups).await? {
                out.duplicate_group(&group?)?;
            }
        }
        Command::Verify { id } => out.verification(&client.verify(id).await?)?,
        Command::VerifyAll(args) => verify_all::run(&client, args, out).await?,
        Command::Put(args) => transfer::put(&client, args, out).await?,
        Command::GetContent(args) => transfer::get(&client, args, out).await?,
        Command::Delete(args) => {
            let dry_run = args.dry_run;
            let spinner = progress::waiting("deleting records", progress::visible(out.json));
            let report = client.delete_records(delete_request(args)).await;
            spinner.finish_and_clear();
            out.deleted(&report?, dry_run)?
        }
        Command::Retention { dry_run } => {
            let spinner =
                progress::waiting("applying retention rules", progress::visible(out.json));
            let report = client.apply_retention(dry_run).await;
            spinner.finish_and_clear();
            out.retention(&report?)?
        }
        Command::Audit { rehash_rate } => audit::run(&client, rehash_rate, out).await?,
        Command::Stats => out.stats(&client.stats().await?)?,
        Command::Health => out.health(&client.provider_health().await?)?,
        Command::Ping { service } => return ping(&client, &service, out).await,
    }
    Ok(ExitCode::SUCCESS)
}

/// Reports a missing input file before connecting, so bad input is exit code 2 even when the
/// server is down.
fn check_input_file(command: &Command) -> CliResult<()> {
    let path = match command {
        Command::Put(args) => &args.file,
        Command::Import(args) => {
            import::check(args)?;
            if args.file.as_os_str() == "-" {
                return Ok(());
            }
            &args.file
        }
        _ => return Ok(()),
    };
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_file() => Ok(()),
        Ok(_) => Err(CliError::usage(format!(
            "{} is not a regular file",
            path.display()
        ))),
        Err(error) => Err(CliError::usage(format!(
            "cannot read {}: {error}",
            path.display()
        ))),
    }
}

/// Connects with the global options.
async fn connect(cli: &Cli) -> CliResult<CatalogClient> {
    let token = cli.token_file.as_deref().map(read_token).transpose()?;
    let request_timeout = cli
        .timeout
        .map(|seconds| {
            Duration::try_from_secs_f64(seconds).map_err(|_| {
                CliError::usage(format!(
                    "--timeout must be a non-negative number of seconds, got {seconds}"
                ))
            })
        })
        .transpose()?;
    let tls = match &cli.tls_ca_file {
        Some(ca) => {
            let tls = ClientTls::from_files(
                ca,
                cli.tls_cert_file.as_deref(),
                cli.tls_key_file.as_deref(),
            )
            .map_err(|error| CliError::usage(error.message))?;
            Some(match &cli.tls_domain {
                Some(domain) => tls.with_domain(domain),
                None => tls,
            })
        }
        None => None,
    };
    let options = ClientOptions {
        token,
        request_timeout,
        tls,
        ..ClientOptions::default()
    };
    Ok(CatalogClient::connect_with(cli.endpoint.as_str(), options).await?)
}

/// The token in `path`, without surrounding whitespace.
fn read_token(path: &Path) -> CliResult<String> {
    let token = std::fs::read_to_string(path).map_err(|error| {
        CliError::usage(format!(
            "cannot read the token file {}: {error}",
            path.display()
        ))
    })?;
    let token = token.trim();
    if token.is_empty() {
        return Err(CliError::usage(format!(
            "the token file {} is empty",
            path.display()
        )));
    }
    Ok(token.to_owned())
}

/// The request `delete` describes: the ids when any are given, else the filter (which the
/// server refuses when empty).
fn delete_request(args: DeleteArgs) -> DeleteRequest {
    let selection = if args.ids.is_empty() {
        DeleteSelection::Filter(args.filter.into())
    } else {
        DeleteSelection::Ids(args.ids)
    };
    DeleteRequest {
        selection,
        dry_run: args.dry_run,
    }
}

/// The document that `register` describes.
fn document(args: RegisterArgs) -> NewDocument {
    let fields = args.document;
    NewDocument {
        artifact_id: fields.artifact_id,
        source_url: fields.source_url,
        resolver: fields.resolver,
        content_type: fields.content_type,
        bytes: args.bytes,
        sha256: args.sha256,
        storage_uri: args.storage_uri,
        run_id: fields.run_id,
    }
}

/// The grpc.health.v1 check: exit code 1 unless SERVING.
async fn ping(client: &CatalogClient, service: &str, out: Output) -> CliResult<ExitCode> {
    let serving = client.health_check(service).await?;
    if out.json {
        out.json(&serde_json::json!({ "service": service, "serving": serving }))?;
    } else {
        out.line(if serving { "SERVING" } else { "NOT_SERVING" })?;
    }
    Ok(if serving {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
