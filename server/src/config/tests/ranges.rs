//! A value out of range is an error naming the env var and the YAML key, never corrected.

use super::*;

const CLOUD: &[(&str, &str)] = &[
    ("DOCSTOKG_CATALOG_PROVIDER", "cloud"),
    ("DOCSTOKG_RDS_URL", "postgresql://rds/catalog"),
    ("DOCSTOKG_S3_BUCKET", "artifacts"),
];

/// Loads the cloud provider with `extra` on top of [`CLOUD`].
fn load_cloud(extra: &'static [(&'static str, &'static str)]) -> Result<Config, ConfigError> {
    let env = move |name: &str| {
        extra
            .iter()
            .chain(CLOUD)
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    };
    load(None, env, &[])
}

/// The error of [`load_cloud`].
fn cloud_error(extra: &'static [(&'static str, &'static str)]) -> String {
    load_cloud(extra).expect_err("out of range").0
}

/// Asserts that `message` contains each of `names`.
fn assert_names(message: &str, names: &[&str]) {
    for name in names {
        assert!(message.contains(name), "{name} missing from: {message}");
    }
}

#[test]
fn test_zero_parts_in_flight_is_an_error() {
    let message = cloud_error(&[("DOCSTOKG_S3_PARTS_IN_FLIGHT", "0")]);
    assert_names(
        &message,
        &[
            "DOCSTOKG_S3_PARTS_IN_FLIGHT",
            "catalog.cloud.multipart_parts_in_flight",
            "at least 1",
        ],
    );
}

#[test]
fn test_part_size_outside_s3_part_limits_is_an_error() {
    let too_small: &'static [(&str, &str)] = &[("DOCSTOKG_S3_PART_BYTES", "5242879")];
    let too_large: &'static [(&str, &str)] = &[("DOCSTOKG_S3_PART_BYTES", "5368709121")];
    for env in [too_small, too_large] {
        let message = cloud_error(env);
        assert_names(
            &message,
            &[
                env[0].1,
                "DOCSTOKG_S3_PART_BYTES",
                "catalog.cloud.multipart_part_bytes",
            ],
        );
    }
}

#[test]
fn test_max_upload_needing_more_than_max_parts_is_an_error() {
    // 10,000 parts of 5 MiB hold 52,428,800,000 bytes.
    let message = cloud_error(&[
        ("DOCSTOKG_S3_PART_BYTES", "5242880"),
        ("DOCSTOKG_MAX_UPLOAD_BYTES", "52428800001"),
    ]);
    assert_names(
        &message,
        &[
            "server.max_upload_bytes",
            "DOCSTOKG_MAX_UPLOAD_BYTES",
            "catalog.cloud.multipart_part_bytes",
            "DOCSTOKG_S3_PART_BYTES",
            "10000 parts",
        ],
    );
    load_cloud(&[
        ("DOCSTOKG_S3_PART_BYTES", "5242880"),
        ("DOCSTOKG_MAX_UPLOAD_BYTES", "52428800000"),
    ])
    .expect("exactly 10,000 parts fit");
}

#[test]
fn test_zero_pool_size_is_an_error() {
    let env = env_of(&[
        ("DOCSTOKG_CATALOG_PROVIDER", "enterprise"),
        ("DOCSTOKG_POSTGRES_URL", "postgresql://db/catalog"),
        ("DOCSTOKG_POOL_SIZE", "0"),
        ("DOCSTOKG_MAX_OVERFLOW", "0"),
    ]);
    let message = load(None, env, &[]).expect_err("no connections").0;
    assert_names(
        &message,
        &[
            "DOCSTOKG_POOL_SIZE",
            "catalog.enterprise.pool_size",
            "at least 1",
        ],
    );
}

#[test]
fn test_pool_overflowing_u32_is_an_error() {
    let message = cloud_error(&[
        ("DOCSTOKG_POOL_SIZE", "2"),
        ("DOCSTOKG_MAX_OVERFLOW", "4294967295"),
    ]);
    assert_names(
        &message,
        &["DOCSTOKG_MAX_OVERFLOW", "catalog.cloud.max_overflow"],
    );
}

#[test]
fn test_zero_server_counts_are_errors() {
    let cases: [(&'static [(&str, &str)], &str); 5] = [
        (&[("DOCSTOKG_MAX_BATCH_SIZE", "0")], "server.max_batch_size"),
        (
            &[("DOCSTOKG_CONCURRENCY_LIMIT", "0")],
            "server.concurrency_limit",
        ),
        (
            &[("DOCSTOKG_HEALTH_PROBE_INTERVAL_SECS", "0")],
            "server.health_probe_interval_secs",
        ),
        (
            &[("DOCSTOKG_REQUEST_TIMEOUT_SECS", "0")],
            "server.request_timeout_secs",
        ),
        (
            &[("DOCSTOKG_MAX_MESSAGE_BYTES", "0")],
            "server.max_message_bytes",
        ),
    ];
    for (env, key) in cases {
        let message = load(None, env_of(env), &[]).expect_err(key).0;
        assert_names(&message, &[env[0].0, key, "at least 1"]);
    }
}
