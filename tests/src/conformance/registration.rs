//! Conformance cases: Registration: idempotence, concurrency, batches and validation.

use super::*;

/// Registering a key twice returns the same id with `created = false`.
pub async fn register_twice_returns_same_id(s: &Subject) {
    let first = s
        .catalog
        .register_or_get(doc("a1", "https://x/1.pdf", "unpaywall"))
        .await
        .expect("first");
    let second = s
        .catalog
        .register_or_get(doc("a1", "https://x/1.pdf", "unpaywall"))
        .await
        .expect("second");
    assert!(first.created);
    assert!(!second.created);
    assert_eq!(first.record.id, second.record.id);
    assert_eq!(first.record, second.record);
    assert!(second.differing_fields.is_empty());
}

/// A repeated key keeps the stored record and lists the request fields that differ.
pub async fn register_twice_reports_differing_fields(s: &Subject) {
    let original = doc_with_hash("a1", "https://x/1.pdf", 10, &fake_sha256(1));
    s.catalog
        .register_or_get(original.clone())
        .await
        .expect("first");
    let changed = NewDocument {
        bytes: 20,
        sha256: Some(fake_sha256(2)),
        ..original.clone()
    };
    let outcome = s.catalog.register_or_get(changed).await.expect("second");
    assert!(!outcome.created);
    assert_eq!(
        outcome.differing_fields,
        vec!["bytes".to_owned(), "sha256".to_owned()]
    );
    assert_eq!(outcome.record.bytes, 10, "the stored record is immutable");
    assert_eq!(outcome.record.sha256, original.sha256);
}

/// A different resolver for the same artifact and URL is a different record.
pub async fn different_resolver_is_a_different_record(s: &Subject) {
    let a = s
        .catalog
        .register_or_get(doc("a1", "https://x/1.pdf", "unpaywall"))
        .await
        .expect("a");
    let b = s
        .catalog
        .register_or_get(doc("a1", "https://x/1.pdf", "crossref"))
        .await
        .expect("b");
    assert!(a.created && b.created);
    assert_ne!(a.record.id, b.record.id);
}

/// Ten concurrent registrations of distinct keys give ten distinct ids.
pub async fn concurrent_distinct_registrations_get_distinct_ids(s: &Subject) {
    let calls = (0..10).map(|n| {
        s.catalog
            .register_or_get(doc(&format!("a{n}"), "https://x", "r"))
    });
    let outcomes: Vec<_> = join_all(calls)
        .await
        .into_iter()
        .map(|o| o.expect("register"))
        .collect();
    assert!(outcomes.iter().all(|o| o.created));
    assert_eq!(
        outcomes
            .iter()
            .map(|o| o.record.id)
            .collect::<HashSet<_>>()
            .len(),
        10
    );
}

/// Ten concurrent registrations of one key give one id, created exactly once.
pub async fn concurrent_registrations_of_one_key_get_one_id(s: &Subject) {
    let calls = (0..10).map(|_| s.catalog.register_or_get(doc("same", "https://x", "r")));
    let outcomes: Vec<_> = join_all(calls)
        .await
        .into_iter()
        .map(|o| o.expect("register"))
        .collect();
    assert_eq!(
        outcomes
            .iter()
            .map(|o| o.record.id)
            .collect::<HashSet<_>>()
            .len(),
        1
    );
    assert_eq!(outcomes.iter().filter(|o| o.created).count(), 1);
    assert_eq!(s.catalog.stats().await.expect("stats").total_records, 1);
}

/// A batch returns one outcome per document in request order, repeated keys included.
pub async fn batch_returns_one_outcome_per_item_in_order(s: &Subject) {
    let existing = s
        .catalog
        .register_or_get(doc("a0", "https://x", "r"))
        .await
        .expect("existing");
    let batch = vec![
        doc("a1", "https://x", "r"),
        doc("a0", "https://x", "r"),
        doc("a2", "https://x", "r"),
        doc("a1", "https://x", "r"),
    ];
    let outcomes = s.catalog.register_or_get_batch(batch).await.expect("batch");
    assert_eq!(
        outcomes
            .iter()
            .map(|o| o.record.artifact_id.as_str())
            .collect::<Vec<_>>(),
        ["a1", "a0", "a2", "a1"]
    );
    assert_eq!(
        outcomes.iter().map(|o| o.created).collect::<Vec<_>>(),
        [true, false, true, false]
    );
    assert_eq!(outcomes[1].record.id, existing.record.id);
    assert_eq!(outcomes[0].record.id, outcomes[3].record.id);
    // What a batch answers for a row it created is what the store holds, every field included.
    let full = NewDocument {
        content_type: Some("application/pdf".to_owned()),
        bytes: 42,
        sha256: Some("ab".repeat(32)),
        run_id: Some("run-batch".to_owned()),
        ..doc("a3", "https://x/full", "r")
    };
    let created = s
        .catalog
        .register_or_get_batch(vec![full.clone(), doc("a4", "https://x", "r")])
        .await
        .expect("batch");
    let stored = s.catalog.get_by_artifact("a3").await.expect("stored");
    assert_eq!(stored, [created[0].record.clone()]);
    assert_eq!(NewDocument::from(&stored[0]), full);
    assert!(
        s.catalog
            .register_or_get_batch(Vec::new())
            .await
            .expect("empty batch")
            .is_empty()
    );
}

/// Bad input is INVALID_ARGUMENT naming the field, and nothing is registered.
pub async fn invalid_input_is_rejected_naming_the_field(s: &Subject) {
    let valid = || doc_with_hash("a", "https://x", 1, &fake_sha256(1));
    let cases: Vec<(NewDocument, &str)> = vec![
        (
            NewDocument {
                artifact_id: String::new(),
                ..valid()
            },
            "artifact_id",
        ),
        (
            NewDocument {
                source_url: String::new(),
                ..valid()
            },
            "source_url",
        ),
        (
            NewDocument {
                resolver: String::new(),
                ..valid()
            },
            "resolver",
        ),
        (
            NewDocument {
                artifact_id: "x".repeat(513),
                ..valid()
            },
            "artifact_id",
        ),
        (
            NewDocument {
                source_url: "x".repeat(8 * 1024 + 1),
                ..valid()
            },
            "source_url",
        ),
        (
            NewDocument {
                sha256: Some("not-a-hash".into()),
                ..valid()
            },
            "sha256",
        ),
        (
            NewDocument {
                bytes: -1,
                ..valid()
            },
            "bytes",
        ),
        (
            NewDocument {
                storage_uri: Some("ftp://host/file".into()),
                ..valid()
            },
            "storage_uri",
        ),
    ];
    for (document, field) in cases {
        let (kind, named) = rejection(s.catalog.register_or_get(document).await);
        assert_eq!(kind, ErrorKind::InvalidArgument);
        assert_eq!(named.as_deref(), Some(field));
    }
    assert_eq!(
        rejection(s.catalog.get_by_sha256("xyz").await),
        (ErrorKind::InvalidArgument, Some("sha256".into()))
    );
    assert_eq!(
        rejection(s.catalog.get_by_artifact("").await),
        (ErrorKind::InvalidArgument, Some("artifact_id".into()))
    );
    assert_eq!(s.catalog.stats().await.expect("stats").total_records, 0);
}

/// One bad document rejects the whole batch, naming its index, and registers nothing.
pub async fn invalid_batch_registers_nothing(s: &Subject) {
    let batch = vec![
        doc("a1", "https://x", "r"),
        NewDocument {
            bytes: -3,
            ..doc("a2", "https://x", "r")
        },
    ];
    let (kind, field) = rejection(s.catalog.register_or_get_batch(batch).await);
    assert_eq!(
        (kind, field.as_deref()),
        (ErrorKind::InvalidArgument, Some("documents[1].bytes"))
    );
    let too_many = (0..1001)
        .map(|n| doc(&format!("a{n}"), "https://x", "r"))
        .collect();
    assert_eq!(
        rejection(s.catalog.register_or_get_batch(too_many).await).0,
        ErrorKind::InvalidArgument
    );
    assert_eq!(s.catalog.stats().await.expect("stats").total_records, 0);
}

/// Fields at their length limits (512-byte ids, 8 KiB URLs) register, idempotently.
pub async fn longest_allowed_fields_are_accepted(s: &Subject) {
    let long_url = format!(
        "https://x/{}",
        pseudo_random_bytes(8 * 1024 - 10, 3)
            .iter()
            .map(|b| char::from(b'a' + b % 26))
            .collect::<String>()
    );
    assert_eq!(long_url.len(), 8 * 1024);
    let document = NewDocument {
        run_id: Some("r".repeat(512)),
        content_type: Some("c".repeat(512)),
        storage_uri: Some(format!("s3://bucket/{}", "k".repeat(8 * 1024 - 12))),
        ..doc(&"a".repeat(512), &long_url, &"z".repeat(512))
    };
    let first = s
        .catalog
        .register_or_get(document.clone())
        .await
        .expect("longest fields register");
    let second = s
        .catalog
        .register_or_get(document.clone())
        .await
        .expect("again");
    assert!(first.created && !second.created);
    assert_eq!(first.record.id, second.record.id);
    assert_eq!(first.record.source_url, long_url);
    let other_url = NewDocument {
        source_url: format!("{}b", &long_url[..long_url.len() - 1]),
        ..document
    };
    assert!(
        s.catalog
            .register_or_get(other_url)
            .await
            .expect("other url")
            .created
    );
}

/// Strings that look like SQL are data: stored and returned verbatim.
pub async fn injection_strings_are_stored_verbatim(s: &Subject) {
    let nasty = [
        "'; DROP TABLE documents; --",
        "\" OR 1=1 --",
        "a'b\"c\\d",
        "ünïcødé ✓ %_*",
        "$1 $$ ? :name",
    ];
    for (n, text) in nasty.iter().enumerate() {
        let document = NewDocument {
            content_type: Some((*text).to_owned()),
            run_id: Some((*text).to_owned()),
            ..doc(text, &format!("https://x/{text}"), text)
        };
        let outcome = s
            .catalog
            .register_or_get(document.clone())
            .await
            .expect("register");
        let fetched = s.catalog.get_record(outcome.record.id).await.expect("get");
        assert_eq!(fetched.artifact_id, *text);
        assert_eq!(fetched.resolver, *text);
        assert_eq!(fetched.source_url, format!("https://x/{text}"));
        assert_eq!(fetched.content_type.as_deref(), Some(*text));
        assert_eq!(
            s.catalog.get_by_artifact(text).await.expect("lookup").len(),
            1,
            "case {n}"
        );
        assert_eq!(
            s.catalog.get_by_run(text).await.expect("lookup").len(),
            1,
            "case {n}"
        );
    }
    assert_eq!(
        s.catalog.stats().await.expect("stats").total_records,
        nasty.len() as i64
    );
}
