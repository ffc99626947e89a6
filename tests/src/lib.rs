//! Test support for the DocsToKG Catalog: subjects (a provider in-process or behind a real gRPC
//! connection), the conformance suite every provider must pass, and real server processes.

pub mod certs;
pub mod conformance;
pub mod data;
pub mod harness;
pub mod load;
pub mod postgres;
pub mod process;
pub mod prometheus;
pub mod reliability;
pub mod s3;
pub mod services;
