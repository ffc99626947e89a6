//! `verify-all`: a progress bar sized from the Started event, problems as they arrive, then the
//! summary.

use docstokg_catalog::{Catalog, VerificationStatus, VerifyAllEvent, VerifyAllOptions};
use docstokg_catalog_client::CatalogClient;

use crate::cli::VerifyAllArgs;
use crate::failure::CliResult;
use crate::output::{self, Output};
use crate::progress;

/// Runs VerifyAll, printing every event with `--json`, else the problems and the summary.
pub async fn run(client: &CatalogClient, args: VerifyAllArgs, out: Output) -> CliResult<()> {
    let options = VerifyAllOptions {
        filter: args.filter.into(),
        sample_rate: args.sample_rate,
        concurrency: args.concurrency,
    };
    let sample_rate = options.sample_rate;
    let visible = progress::visible(out.json);
    let mut bar = progress::items(0, false);
    let mut events = client.verify_all(options).await?;
    while let Some(event) = output::next_or_flush(&mut events).await? {
        let event = match event {
            Ok(event) => event,
            Err(error) => {
                bar.abandon();
                return Err(error.into());
            }
        };
        if out.json {
            out.json(&event)?;
        }
        match event {
            VerifyAllEvent::Started { matching_records } => {
                bar = progress::items(expected_checks(matching_records, sample_rate), visible);
            }
            VerifyAllEvent::Result(result) => {
                bar.inc(1);
                if !out.json && is_problem(result.status) {
                    bar.suspend(|| out.verification(&result))?;
                }
            }
            VerifyAllEvent::Summary(summary) => {
                bar.finish_and_clear();
                if !out.json {
                    out.summary(&summary)?;
                }
            }
        }
    }
    bar.finish_and_clear();
    Ok(())
}

/// Results worth showing a person: the bytes are wrong or gone.
fn is_problem(status: VerificationStatus) -> bool {
    matches!(
        status,
        VerificationStatus::Mismatch | VerificationStatus::Missing
    )
}

/// About how many results to expect: the matching records, thinned by the sample rate.
fn expected_checks(matching_records: i64, sample_rate: f64) -> u64 {
    let matching = u64::try_from(matching_records).unwrap_or(0);
    if sample_rate >= 1.0 {
        return matching;
    }
    (matching as f64 * sample_rate.max(0.0)).ceil() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_expected_checks_follows_sample_rate() {
        assert_eq!(expected_checks(100, 1.0), 100);
        assert_eq!(expected_checks(100, 0.25), 25);
        assert_eq!(expected_checks(-1, 1.0), 0);
    }
}
