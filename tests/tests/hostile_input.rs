//! A corpus of hostile requests sent over real gRPC with the generated client (so the requests
//! are exactly what a malicious or broken peer could send, unchecked by the Rust client): every
//! field's edge cases, path traversal in every string that can reach a file name or an S3 key,
//! `..` and encoded slashes in URIs, symlinks placed under the blob root, NUL bytes, huge
//! repeated fields, invalid UTF-8 on the wire, oversized messages, uploads out of order or that
//! never send their header. Each answer must be the documented error, nothing outside the
//! provider's storage may be read or written, and the server must go on serving.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use bytes::{Buf, BufMut};
use docstokg_catalog::proto::{
    self, catalog_service_client::CatalogServiceClient, get_content_request, put_content_request,
};
use docstokg_catalog_tests::{
    data::fake_sha256,
    harness::{
        Storage, cloud_env, config_from, development_env, enterprise_env, open_provider,
        serve_in_background,
    },
    reliability::Observation,
};
use futures::{StreamExt, stream};
use tonic::{
    Code, Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    transport::Channel,
};

/// A secret outside the provider's storage that no request may ever read.
const SECRET: &[u8] = b"outside the blob root: never served";

fn document(artifact_id: &str) -> proto::NewDocument {
    proto::NewDocument {
        artifact_id: artifact_id.to_owned(),
        source_url: format!("https://example.org/{artifact_id}"),
        resolver: "hostile".to_owned(),
        ..proto::NewDocument::default()
    }
}

fn register(document: proto::NewDocument) -> proto::RegisterOrGetRequest {
    proto::RegisterOrGetRequest {
        document: Some(document),
    }
}

/// The code a unary result carries (`Ok` for success).
fn code_of<T>(result: &Result<tonic::Response<T>, Status>) -> Code {
    result.as_ref().map_or_else(Status::code, |_| Code::Ok)
}

/// One hostile case and the code it must get.
struct Case {
    name: String,
    expected: Code,
    got: Code,
    message: String,
}

#[derive(Default)]
struct Corpus {
    cases: Vec<Case>,
}

impl Corpus {
    fn check<T>(&mut self, name: impl Into<String>, expected: Code, result: Result<T, Status>) {
        let (got, message) = match result {
            Ok(_) => (Code::Ok, String::new()),
            Err(status) => (status.code(), status.message().to_owned()),
        };
        self.cases.push(Case {
            name: name.into(),
            expected,
            got,
            message,
        });
    }

    fn assert_all(&self) {
        let wrong: Vec<String> = self
            .cases
            .iter()
            .filter(|case| case.expected != case.got)
            .map(|case| {
                format!(
                    "{}: expected {:?}, got {:?} ({})",
                    case.name, case.expected, case.got, case.message
                )
            })
            .collect();
        assert!(
            wrong.is_empty(),
            "hostile cases answered wrongly:\n{}",
            wrong.join("\n")
        );
    }
}

/// Raw bytes as a gRPC message, to put on the wire what no generated type can hold.
#[derive(Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let mut bytes = vec![0; src.remaining()];
        src.copy_to_slice(&mut bytes);
        Ok(Some(bytes))
    }
}

/// Sends `body` as the request message of unary `method` of the catalog service.
async fn raw_unary(channel: &Channel, method: &str, body: Vec<u8>) -> Result<Vec<u8>, Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    let path = format!("/docstokg.catalog.v1.CatalogService/{method}")
        .parse()
        .expect("path");
    grpc.unary(tonic::Request::new(body), path, RawCodec)
        .await
        .map(tonic::Response::into_inner)
}

/// A length-delimited protobuf field `number` holding `bytes`, as raw wire bytes.
fn length_delimited(number: u32, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    prost::encoding::encode_key(number, prost::encoding::WireType::LengthDelimited, &mut out);
    prost::encoding::encode_varint(bytes.len() as u64, &mut out);
    out.extend_from_slice(bytes);
    out
}

/// Field and value edge cases of RegisterOrGet and RegisterOrGetBatch.
async fn registration_cases(client: &mut CatalogServiceClient<Channel>, corpus: &mut Corpus) {
    let long = |n: usize| "a".repeat(n);
    let cases: Vec<(&str, proto::NewDocument)> = vec![
        (
            "empty artifact_id",
            proto::NewDocument {
                artifact_id: String::new(),
                ..document("x")
            },
        ),
        (
            "empty source_url",
            proto::NewDocument {
                source_url: String::new(),
                ..document("x")
            },
        ),
        (
            "empty resolver",
            proto::NewDocument {
                resolver: String::new(),
                ..document("x")
            },
        ),
        (
            "artifact_id over 512 bytes",
            proto::NewDocument {
                artifact_id: long(513),
                ..document("x")
            },
        ),
        (
            "resolver over 512 bytes",
            proto::NewDocument {
                resolver: long(513),
                ..document("x")
            },
        ),
        (
            "source_url over 8 KiB",
            proto::NewDocument {
                source_url: long(8193),
                ..document("x")
            },
        ),
        (
            "run_id over 512 bytes",
            proto::NewDocument {
                run_id: long(513),
                ..document("x")
            },
        ),
        (
            "content_type over 512 bytes",
            proto::NewDocument {
                content_type: long(513),
                ..document("x")
            },
        ),
        (
            "NUL in artifact_id",
            proto::NewDocument {
                artifact_id: "a\0b".into(),
                ..document("x")
            },
        ),
        (
            "NUL in source_url",
            proto::NewDocument {
                source_url: "https://x/\0".into(),
                ..document("x")
            },
        ),
        (
            "NUL in resolver",
            proto::NewDocument {
                resolver: "r\0".into(),
                ..document("x")
            },
        ),
        (
            "NUL in run_id",
            proto::NewDocument {
                run_id: "\0".into(),
                ..document("x")
            },
        ),
        (
            "NUL in content_type",
            proto::NewDocument {
                content_type: "text/\0".into(),
                ..document("x")
            },
        ),
        (
            "NUL in storage_uri",
            proto::NewDocument {
                storage_uri: "file:///tmp/\0".into(),
                ..document("x")
            },
        ),
        (
            "negative bytes",
            proto::NewDocument {
                bytes: -1,
                ..document("x")
            },
        ),
        (
            "i64::MIN bytes",
            proto::NewDocument {
                bytes: i64::MIN,
                ..document("x")
            },
        ),
        (
            "sha256 of 63 hex digits",
            proto::NewDocument {
                sha256: "a".repeat(63),
                ..document("x")
            },
        ),
        (
            "sha256 of 65 hex digits",
            proto::NewDocument {
                sha256: "a".repeat(65),
                ..document("x")
            },
        ),
        (
            "sha256 not hex",
            proto::NewDocument {
                sha256: "g".repeat(64),
                ..document("x")
            },
        ),
        (
            "sha256 as a path",
            proto::NewDocument {
                sha256: format!("../../{}", "a".repeat(58)),
                ..document("x")
            },
        ),
        (
            "storage_uri with an unknown scheme",
            proto::NewDocument {
                storage_uri: "http://evil/x".into(),
                ..document("x")
            },
        ),
        (
            "storage_uri as a bare path",
            proto::NewDocument {
                storage_uri: "/etc/passwd".into(),
                ..document("x")
            },
        ),
        (
            "storage_uri over 8 KiB",
            proto::NewDocument {
                storage_uri: format!("file:///{}", long(8200)),
                ..document("x")
            },
        ),
    ];
    for (name, document) in cases {
        let result = client.register_or_get(register(document)).await;
        corpus.check(
            format!("RegisterOrGet: {name}"),
            Code::InvalidArgument,
            result,
        );
    }
    let missing = client
        .register_or_get(proto::RegisterOrGetRequest { document: None })
        .await;
    corpus.check("RegisterOrGet: no document", Code::InvalidArgument, missing);

    let too_many = proto::RegisterOrGetBatchRequest {
        documents: (0..1001).map(|n| document(&format!("batch-{n}"))).collect(),
    };
    let result = client.register_or_get_batch(too_many).await;
    corpus.check(
        "RegisterOrGetBatch: 1,001 documents",
        Code::InvalidArgument,
        result,
    );
    let one_bad = proto::RegisterOrGetBatchRequest {
        documents: vec![
            document("fine"),
            proto::NewDocument {
                bytes: -5,
                ..document("bad")
            },
        ],
    };
    let result = client.register_or_get_batch(one_bad).await;
    corpus.check(
        "RegisterOrGetBatch: one bad document",
        Code::InvalidArgument,
        result,
    );
    let fine = client
        .get_by_artifact(proto::GetByArtifactRequest {
            artifact_id: "fine".into(),
        })
        .await;
    let stored = fine
        .map(|r| r.into_inner().records.len())
        .unwrap_or(usize::MAX);
    corpus.check(
        "RegisterOrGetBatch: a refused batch stores none of its documents",
        Code::Ok,
        if stored == 0 {
            Ok(())
        } else {
            Err(Status::internal(format!("{stored} stored")))
        },
    );
}

/// Lookups, filters and streams with bad values.
async fn read_cases(client: &mut CatalogServiceClient<Channel>, corpus: &mut Corpus) {
    for (name, sha256) in [
        ("empty", String::new()),
        ("a path", "../../../../etc/passwd".to_owned()),
        ("63 digits", "a".repeat(63)),
        ("uppercase and NUL", format!("{}\0", "A".repeat(63))),
    ] {
        let result = client
            .get_by_sha256(proto::GetBySha256Request {
                sha256: sha256.clone(),
            })
            .await;
        corpus.check(
            format!("GetBySha256: sha256 {name}"),
            Code::InvalidArgument,
            result,
        );
        let request = proto::GetContentRequest {
            selector: Some(get_content_request::Selector::Sha256(sha256)),
            offset: 0,
            length: 0,
        };
        let result = client.get_content(request).await;
        corpus.check(
            format!("GetContent: sha256 {name}"),
            Code::InvalidArgument,
            result,
        );
    }
    let result = client.get_record(proto::GetRecordRequest { id: -1 }).await;
    corpus.check("GetRecord: negative id", Code::InvalidArgument, result);
    let result = client
        .get_record(proto::GetRecordRequest { id: i64::MAX })
        .await;
    corpus.check("GetRecord: unknown id", Code::NotFound, result);
    let result = client.verify(proto::VerifyRequest { record_id: -7 }).await;
    corpus.check("Verify: negative record_id", Code::InvalidArgument, result);
    let result = client
        .get_by_artifact(proto::GetByArtifactRequest {
            artifact_id: "a\0".into(),
        })
        .await;
    corpus.check("GetByArtifact: NUL", Code::InvalidArgument, result);
    let result = client
        .get_by_run(proto::GetByRunRequest {
            run_id: "r".repeat(600),
        })
        .await;
    corpus.check("GetByRun: over 512 bytes", Code::InvalidArgument, result);
    for (name, offset, length) in [("negative offset", -1, 0), ("negative length", 0, -1)] {
        let request = proto::GetContentRequest {
            selector: Some(get_content_request::Selector::RecordId(1)),
            offset,
            length,
        };
        let result = client.get_content(request).await;
        corpus.check(format!("GetContent: {name}"), Code::InvalidArgument, result);
    }
    let result = client
        .get_content(proto::GetContentRequest {
            selector: None,
            offset: 0,
            length: 0,
        })
        .await;
    corpus.check("GetContent: no selector", Code::InvalidArgument, result);
    let result = client
        .find_duplicates(proto::FindDuplicatesRequest {
            min_count: -3,
            include_records: true,
            limit: 0,
        })
        .await;
    corpus.check(
        "FindDuplicates: negative min_count",
        Code::InvalidArgument,
        result,
    );
    let result = client
        .find_duplicates(proto::FindDuplicatesRequest {
            min_count: 2,
            include_records: false,
            limit: i64::MIN,
        })
        .await;
    corpus.check(
        "FindDuplicates: negative limit",
        Code::InvalidArgument,
        result,
    );
    let result = client
        .delete_records(proto::DeleteRecordsRequest {
            ids: vec![],
            filter: Some(proto::RecordFilter::default()),
            dry_run: false,
        })
        .await;
    corpus.check(
        "DeleteRecords: an empty filter (would match every record)",
        Code::InvalidArgument,
        result,
    );
    let result = client
        .delete_records(proto::DeleteRecordsRequest {
            ids: vec![1, i64::MIN],
            filter: None,
            dry_run: true,
        })
        .await;
    corpus.check(
        "DeleteRecords: a negative id",
        Code::InvalidArgument,
        result,
    );
    let result = client
        .audit_storage(proto::AuditStorageRequest {
            rehash_rate: f64::NAN,
        })
        .await;
    corpus.check(
        "AuditStorage: NaN rehash_rate",
        Code::InvalidArgument,
        result,
    );
    for (name, sample_rate, concurrency) in [
        ("sample_rate NaN", f64::NAN, 1),
        ("sample_rate 2", 2.0, 1),
        ("sample_rate negative", -0.5, 1),
        ("concurrency 65", 1.0, 65),
    ] {
        let request = proto::VerifyAllRequest {
            filter: None,
            sample_rate,
            concurrency,
        };
        let result = client.verify_all(request).await;
        corpus.check(format!("VerifyAll: {name}"), Code::InvalidArgument, result);
    }
    let filter = proto::RecordFilter {
        resolver: "\0".into(),
        ..proto::RecordFilter::default()
    };
    let result = client
        .list_records(proto::ListRecordsRequest {
            filter: Some(filter),
        })
        .await;
    corpus.check(
        "ListRecords: NUL in a filter",
        Code::InvalidArgument,
        result,
    );
}

/// How a storage_uri case must end: what Verify reports and what GetContent answers.
type Expectation = (proto::VerificationStatus, Code);

/// Escapes the provider's storage: OUT_OF_SCOPE, and GetContent FAILED_PRECONDITION.
const ESCAPES: Expectation = (
    proto::VerificationStatus::OutOfScope,
    Code::FailedPrecondition,
);
/// Stays inside and names nothing: MISSING, and GetContent NOT_FOUND.
const INSIDE: Expectation = (proto::VerificationStatus::Missing, Code::NotFound);

/// storage_uris that try to leave a local blob root, with symlinks planted under it pointing at
/// `secret`. Percent-escapes are not decoded, so `%2e%2e` and `%2f` are plain names inside the
/// root; `.` segments are dropped by path parsing, so `root/./cas/x` is `root/cas/x`.
fn local_uris(root: &Path, secret: &Path) -> Vec<(&'static str, String, Expectation)> {
    let sha = fake_sha256(4242);
    let planted = root.join("cas/sha256").join(&sha[0..2]);
    std::fs::create_dir_all(&planted).expect("cas dir");
    std::os::unix::fs::symlink(secret, planted.join(&sha)).expect("symlink to the secret");
    let linked_dir = root.join("cas/escape");
    std::os::unix::fs::symlink(secret.parent().expect("parent"), &linked_dir).expect("dir symlink");
    let name = secret
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let root = root.display();
    vec![
        (
            "the secret by absolute path",
            format!("file://{}", secret.display()),
            ESCAPES,
        ),
        (
            "dot-dot out of the root",
            format!("file://{root}/cas/../../{name}"),
            ESCAPES,
        ),
        (
            "dot-dot deep",
            format!("file://{root}/../../../../../../etc/passwd"),
            ESCAPES,
        ),
        (
            "percent-encoded dot-dot",
            format!("file://{root}/%2e%2e/%2e%2e/etc/passwd"),
            INSIDE,
        ),
        (
            "encoded slashes",
            format!("file://{root}/cas%2f..%2f..%2fetc%2fpasswd"),
            INSIDE,
        ),
        ("relative file URI", "file://etc/passwd".to_owned(), ESCAPES),
        ("a dot segment", format!("file://{root}/./cas/x"), INSIDE),
        ("the root itself", format!("file://{root}"), ESCAPES),
        (
            "a symlinked file under the root",
            format!("file://{}", planted.join(&sha).display()),
            ESCAPES,
        ),
        (
            "through a symlinked directory",
            format!("file://{}/{name}", linked_dir.display()),
            ESCAPES,
        ),
        (
            "an S3 object",
            "s3://catalog/cas/sha256/aa/x".to_owned(),
            ESCAPES,
        ),
    ]
}

/// storage_uris that try to leave an S3 store's bucket and prefix. Keys are not decoded either.
fn s3_uris(bucket: &str, prefix: &str, secret: &Path) -> Vec<(&'static str, String, Expectation)> {
    vec![
        (
            "a local file",
            format!("file://{}", secret.display()),
            ESCAPES,
        ),
        (
            "another bucket",
            format!("s3://someone-elses-{bucket}/{prefix}cas/x"),
            ESCAPES,
        ),
        (
            "outside the prefix",
            format!("s3://{bucket}/cas/sha256/aa/x"),
            ESCAPES,
        ),
        (
            "dot-dot out of the prefix",
            format!("s3://{bucket}/{prefix}../../cas/x"),
            ESCAPES,
        ),
        (
            "a dot segment",
            format!("s3://{bucket}/{prefix}./cas/x"),
            ESCAPES,
        ),
        (
            "an empty segment",
            format!("s3://{bucket}/{prefix}/cas/x"),
            ESCAPES,
        ),
        ("no key", format!("s3://{bucket}"), ESCAPES),
        (
            "percent-encoded dot-dot",
            format!("s3://{bucket}/{prefix}cas/%2e%2e/%2e%2e/x"),
            INSIDE,
        ),
        (
            "encoded slashes",
            format!("s3://{bucket}/{prefix}cas%2f..%2f..%2fx"),
            INSIDE,
        ),
    ]
}

/// Registers a record for each storage_uri (a record may carry any well-formed URI: it is
/// metadata), then reads through it: Verify and GetContent must answer as expected and never
/// return the secret.
async fn traversal_cases(
    client: &mut CatalogServiceClient<Channel>,
    uris: Vec<(&'static str, String, Expectation)>,
    corpus: &mut Corpus,
) {
    let sha = fake_sha256(4242);
    for (n, (name, uri, (verify_status, read_code))) in uris.into_iter().enumerate() {
        let outcome = client
            .register_or_get(register(proto::NewDocument {
                storage_uri: uri.clone(),
                sha256: sha.clone(),
                bytes: SECRET.len() as i64,
                ..document(&format!("traversal-{n}"))
            }))
            .await;
        let Ok(outcome) = outcome else {
            corpus.check(
                format!("traversal {name}: refused at registration"),
                Code::InvalidArgument,
                outcome,
            );
            continue;
        };
        let id = outcome.into_inner().record.expect("record").id;
        let verified = client.verify(proto::VerifyRequest { record_id: id }).await;
        let status = verified
            .as_ref()
            .ok()
            .and_then(|r| r.get_ref().result.as_ref())
            .map(|result| result.status());
        corpus.check(
            format!("traversal {name}: Verify is {verify_status:?}"),
            Code::Ok,
            match status {
                Some(status) if status == verify_status => Ok(()),
                other => Err(Status::internal(format!("verify said {other:?}"))),
            },
        );
        let request = proto::GetContentRequest {
            selector: Some(get_content_request::Selector::RecordId(id)),
            offset: 0,
            length: 0,
        };
        let read = match client.get_content(request).await {
            Ok(response) => {
                let mut body = response.into_inner();
                let mut bytes = Vec::new();
                let mut failure = None;
                while let Some(message) = body.next().await {
                    match message {
                        Ok(message) => {
                            if let Some(proto::get_content_response::Part::Chunk(chunk)) =
                                message.part
                            {
                                bytes.extend_from_slice(&chunk);
                            }
                        }
                        Err(status) => {
                            failure = Some(status);
                            break;
                        }
                    }
                }
                assert!(
                    !bytes.windows(SECRET.len()).any(|w| w == SECRET),
                    "{name}: the secret was served"
                );
                failure.map_or(Ok(()), Err)
            }
            Err(status) => Err(status),
        };
        corpus.check(
            format!("traversal {name}: GetContent refused"),
            read_code,
            read,
        );
    }
}

/// Uploads out of order, never started, or lying about their bytes.
async fn upload_cases(client: &mut CatalogServiceClient<Channel>, corpus: &mut Corpus) {
    let header = |artifact_id: &str| proto::PutContentRequest {
        part: Some(put_content_request::Part::Header(proto::PutContentHeader {
            artifact_id: artifact_id.to_owned(),
            source_url: format!("https://x/{artifact_id}"),
            resolver: "hostile".to_owned(),
            ..proto::PutContentHeader::default()
        })),
    };
    let chunk = |bytes: &[u8]| proto::PutContentRequest {
        part: Some(put_content_request::Part::Chunk(bytes.to_vec().into())),
    };
    let finish = || proto::PutContentRequest {
        part: Some(put_content_request::Part::Finish(
            proto::PutContentFinish::default(),
        )),
    };
    let lying = proto::PutContentRequest {
        part: Some(put_content_request::Part::Header(proto::PutContentHeader {
            artifact_id: "lying".into(),
            source_url: "https://x/lying".into(),
            resolver: "hostile".into(),
            expected_sha256: fake_sha256(1),
            ..proto::PutContentHeader::default()
        })),
    };
    let traversal_header = proto::PutContentRequest {
        part: Some(put_content_request::Part::Header(proto::PutContentHeader {
            artifact_id: "../../../../tmp/evil".into(),
            source_url: "https://x/evil".into(),
            resolver: "../..".into(),
            expected_sha256: "../../../../../../../../../../../../../../../../../../../../../etc"
                .into(),
            ..proto::PutContentHeader::default()
        })),
    };
    let cases: Vec<(&str, Vec<proto::PutContentRequest>, Code)> = vec![
        (
            "a chunk before the header",
            vec![chunk(b"x"), finish()],
            Code::InvalidArgument,
        ),
        (
            "two headers",
            vec![header("two"), header("two"), finish()],
            Code::InvalidArgument,
        ),
        ("no message at all", vec![], Code::InvalidArgument),
        (
            "an empty part",
            vec![
                header("empty-part"),
                proto::PutContentRequest { part: None },
                finish(),
            ],
            Code::InvalidArgument,
        ),
        (
            "a message after finish",
            vec![header("after"), chunk(b"x"), finish(), chunk(b"y")],
            Code::InvalidArgument,
        ),
        (
            "no finish",
            vec![header("unfinished"), chunk(b"x")],
            Code::InvalidArgument,
        ),
        (
            "bytes that do not match expected_sha256",
            vec![lying, chunk(b"x"), finish()],
            Code::InvalidArgument,
        ),
        (
            "a path as expected_sha256",
            vec![traversal_header, chunk(b"x"), finish()],
            Code::InvalidArgument,
        ),
    ];
    for (name, messages, expected) in cases {
        let result = client.put_content(stream::iter(messages)).await;
        corpus.check(format!("PutContent: {name}"), expected, result);
    }
}

/// Where the provider under test keeps its bytes.
enum Store {
    Local(PathBuf),
    S3 { bucket: String, prefix: String },
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_hostile_requests_on_the_development_provider() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("blobs");
    hostile_corpus(
        "development",
        development_env(dir.path()),
        Store::Local(root),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_hostile_requests_on_the_enterprise_provider() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(env) = enterprise_env(dir.path()).await else {
        return;
    };
    hostile_corpus("enterprise", env, Store::Local(dir.path().join("blobs"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_hostile_requests_on_the_cloud_provider() {
    let Some((env, Storage::S3(view))) = cloud_env().await else {
        return;
    };
    let store = Store::S3 {
        bucket: view.bucket,
        prefix: view.prefix,
    };
    hostile_corpus("cloud", env, store).await;
}

/// Sends the whole corpus to `provider` served over gRPC, and checks every answer and that
/// nothing outside its storage was read or written.
async fn hostile_corpus(provider: &'static str, env: Vec<(&'static str, String)>, store: Store) {
    let outside = tempfile::tempdir().expect("outside dir");
    let secret = outside.path().join("secret.txt");
    std::fs::write(&secret, SECRET).expect("secret");
    let (_, catalog) = open_provider(&env).await;
    let mut config = config_from(&env);
    config.server.max_message_bytes = 1024 * 1024;
    config.server.upload_idle_timeout_secs = 1;
    let served = serve_in_background(catalog, &config).await;
    let channel = Channel::from_shared(served.endpoint.clone())
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let mut client =
        CatalogServiceClient::new(channel.clone()).max_encoding_message_size(64 * 1024 * 1024);
    let mut corpus = Corpus::default();

    registration_cases(&mut client, &mut corpus).await;
    read_cases(&mut client, &mut corpus).await;
    let uris = match &store {
        Store::Local(root) => local_uris(root, &secret),
        Store::S3 { bucket, prefix } => s3_uris(bucket, prefix, &secret),
    };
    traversal_cases(&mut client, uris, &mut corpus).await;
    upload_cases(&mut client, &mut corpus).await;

    // A request that never sends the upload's header is abandoned after the idle timeout.
    let silent = tokio::time::timeout(
        Duration::from_secs(10),
        client.put_content(stream::pending::<proto::PutContentRequest>()),
    )
    .await
    .expect("the silent upload ends");
    corpus.check(
        "PutContent: never sends its header",
        Code::DeadlineExceeded,
        silent,
    );

    // Oversized messages: one huge field, and a batch of many repeated documents.
    let huge = proto::NewDocument {
        source_url: "u".repeat(2 * 1024 * 1024),
        ..document("huge")
    };
    let result = client.register_or_get(register(huge)).await;
    corpus.check(
        "RegisterOrGet: 2 MiB message over a 1 MiB limit",
        Code::ResourceExhausted,
        result,
    );
    let repeated = proto::RegisterOrGetBatchRequest {
        documents: (0..20_000)
            .map(|n| document(&format!("repeated-{n}")))
            .collect(),
    };
    let result = client.register_or_get_batch(repeated).await;
    corpus.check(
        "RegisterOrGetBatch: 20,000 repeated documents over the limit",
        Code::ResourceExhausted,
        result,
    );
    let big_chunk = vec![
        proto::PutContentRequest {
            part: Some(put_content_request::Part::Header(proto::PutContentHeader {
                artifact_id: "big-chunk".into(),
                source_url: "https://x/big-chunk".into(),
                resolver: "hostile".into(),
                ..proto::PutContentHeader::default()
            })),
        },
        proto::PutContentRequest {
            part: Some(put_content_request::Part::Chunk(
                vec![0u8; 2 * 1024 * 1024].into(),
            )),
        },
    ];
    let result = client.put_content(stream::iter(big_chunk)).await;
    corpus.check(
        "PutContent: a 2 MiB chunk over a 1 MiB limit",
        Code::ResourceExhausted,
        result,
    );

    // Invalid UTF-8 in a string field, and bytes that are not protobuf at all.
    let mut bad_utf8 = length_delimited(1, b"\xff\xfe artifact");
    bad_utf8.extend(length_delimited(2, b"https://x"));
    bad_utf8.extend(length_delimited(3, b"r"));
    let body = length_delimited(1, &bad_utf8);
    let result = raw_unary(&channel, "RegisterOrGet", body).await;
    // gRPC's status code table makes an unparsable request INTERNAL; tonic follows it, and so do we.
    corpus.check(
        "RegisterOrGet: invalid UTF-8 in artifact_id",
        Code::Internal,
        result,
    );
    let result = raw_unary(&channel, "RegisterOrGet", vec![0xff; 64]).await;
    corpus.check(
        "RegisterOrGet: bytes that are not protobuf",
        Code::Internal,
        result,
    );
    let result = raw_unary(&channel, "NoSuchMethod", Vec::new()).await;
    corpus.check("an unknown method", Code::Unimplemented, result);

    corpus.assert_all();

    // Nothing was written outside the provider's storage, and the server goes on serving.
    let outside_files: Vec<_> = std::fs::read_dir(outside.path())
        .expect("outside")
        .flatten()
        .collect();
    assert_eq!(outside_files.len(), 1, "only the secret lives outside");
    assert_eq!(std::fs::read(&secret).expect("secret"), SECRET);
    assert!(!Path::new("/tmp/evil").exists());
    let healthy = client.stats(proto::StatsRequest {}).await;
    assert_eq!(code_of(&healthy), Code::Ok, "the server goes on serving");
    let cases = corpus.cases.len() as u64;
    Observation::new(
        "hostile requests: field edge cases, traversal in URIs and uploads, symlinks under the root, NUL, invalid UTF-8, oversized and repeated messages, uploads out of order or never started",
        provider,
        cases,
    )
    .answered(format!(
        "all {cases} answered with the documented code (INVALID_ARGUMENT, OUT_OF_SCOPE, FAILED_PRECONDITION, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, NOT_FOUND, UNIMPLEMENTED); nothing read or written outside storage"
    ))
    .record();
}
