//! The conformance suite against the development provider (SQLite + local disk), in-process and
//! over a real gRPC connection.

mod in_process {
    docstokg_catalog_tests::conformance_suite!(
        docstokg_catalog_tests::harness::development_in_process
    );
}

mod over_grpc {
    docstokg_catalog_tests::conformance_suite!(
        docstokg_catalog_tests::harness::development_over_grpc
    );
}
