//! Compiles `proto/` with tonic-prost-build, using the vendored protoc (no system protoc), and
//! writes the file descriptor set that the server's reflection service serves.

use std::{env, error::Error, path::PathBuf};

fn main() -> Result<(), Box<dyn Error>> {
    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("catalog_descriptor.bin"))
        .bytes(".")
        .compile_with_config(
            config,
            &[PathBuf::from("proto/docstokg/catalog/v1/catalog.proto")],
            &[PathBuf::from("proto"), protoc_bin_vendored::include_path()?],
        )?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
