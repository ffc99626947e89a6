//! The conformance suite, unchanged, against the enterprise provider (PostgreSQL + local disk),
//! in-process and over a real gRPC connection.

mod in_process {
    docstokg_catalog_tests::conformance_suite!(
        docstokg_catalog_tests::harness::enterprise_in_process
    );
}

mod over_grpc {
    docstokg_catalog_tests::conformance_suite!(
        docstokg_catalog_tests::harness::enterprise_over_grpc
    );
}
