//! The conformance suite, unchanged, against the cloud provider (PostgreSQL + an S3-compatible
//! store), in-process and over a real gRPC connection, and against a mixed provider (SQLite + S3)
//! that exists through configuration alone.

mod in_process {
    docstokg_catalog_tests::conformance_suite!(docstokg_catalog_tests::harness::cloud_in_process);
}

mod over_grpc {
    docstokg_catalog_tests::conformance_suite!(docstokg_catalog_tests::harness::cloud_over_grpc);
}

mod sqlite_with_s3 {
    docstokg_catalog_tests::conformance_suite!(
        docstokg_catalog_tests::harness::sqlite_with_s3_in_process
    );
}
