//! The conformance suite against the development provider (SQLite + local disk), in-process, over
//! a real gRPC connection, and on a `:memory:` database.

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

mod in_memory {
    docstokg_catalog_tests::conformance_suite!(
        docstokg_catalog_tests::harness::development_in_memory
    );
}
