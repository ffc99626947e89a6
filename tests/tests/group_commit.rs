//! Group commit (SQLite) and coalescing (PostgreSQL) against real databases: a write that the
//! database refuses inside a group fails only its own caller; every other caller of the group is
//! answered with its committed row. A database trigger refuses the poisoned rows, so the failure
//! happens inside the transaction the group shares, after validation let the documents through.
//! (SIGKILL during group commits is `server_process.rs`: 64 concurrent writers keep the groups
//! full when the server is killed, and every acknowledged row is there after the restart.)

use std::sync::Arc;

use docstokg_catalog::{Catalog, NewDocument};
use docstokg_catalog_tests::{
    harness::{development_env, enterprise_env, open_provider},
    reliability::Observation,
};

fn document(n: usize) -> NewDocument {
    let artifact = if n % 16 == 5 {
        format!("poison-{n}")
    } else {
        format!("good-{n}")
    };
    NewDocument::new(artifact, format!("https://example.org/{n}"), "group")
}

/// 64 concurrent registrations and 4 concurrent batches of 50, one poisoned row in every 16:
/// the poisoned callers (and the batches holding a poisoned row) fail, every other caller gets
/// its row, which is then readable.
async fn poisoned_rows_fail_alone(provider: &'static str, catalog: Arc<dyn Catalog>) {
    let singles: Vec<_> = (0..64)
        .map(|n| {
            let catalog = catalog.clone();
            tokio::spawn(async move { (n, catalog.register_or_get(document(n)).await) })
        })
        .collect();
    let batches: Vec<_> = (0..4)
        .map(|b| {
            let catalog = catalog.clone();
            tokio::spawn(async move {
                let clean = b % 2 == 0;
                let documents = (0..50)
                    .map(|i| {
                        let n = 1000 + b * 100 + i;
                        if clean && n % 16 == 5 {
                            document(n + 1)
                        } else {
                            document(n)
                        }
                    })
                    .collect();
                (clean, catalog.register_or_get_batch(documents).await)
            })
        })
        .collect();
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    for single in singles {
        let (n, outcome) = single.await.expect("task");
        if n % 16 == 5 {
            assert!(outcome.is_err(), "poisoned registration {n} must fail");
            refused += 1;
        } else {
            let outcome = outcome.expect("a clean registration in a group with a poisoned one");
            acknowledged.push(outcome.record);
        }
    }
    for batch in batches {
        let (clean, outcome) = batch.await.expect("task");
        if clean {
            acknowledged.extend(
                outcome
                    .expect("a clean batch")
                    .into_iter()
                    .map(|o| o.record),
            );
        } else {
            assert!(
                outcome.is_err(),
                "a batch holding a poisoned row fails whole"
            );
            refused += 1;
        }
    }
    for record in &acknowledged {
        let stored = catalog
            .get_record(record.id)
            .await
            .expect("acknowledged row committed");
        assert_eq!(stored.artifact_id, record.artifact_id);
    }
    let poisoned = catalog.get_by_artifact("poison-5").await.expect("lookup");
    assert!(poisoned.is_empty(), "no poisoned row was stored");
    Observation::new(
        "a write the database refuses inside a group commit (trigger on poisoned rows)",
        provider,
        refused,
    )
    .answered(
        "only the callers whose rows were refused get an error; the rest of each group commits",
    )
    .acknowledged(acknowledged.len() as u64)
    .record();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_a_refused_row_in_a_sqlite_group_commit_fails_only_its_caller() {
    let dir = tempfile::tempdir().expect("temp dir");
    let env = development_env(dir.path());
    let (_, provider) = open_provider(&env).await;
    let url = format!("sqlite://{}", dir.path().join("catalog.sqlite").display());
    let pool = sqlx::SqlitePool::connect(&url).await.expect("sqlite");
    sqlx::query(
        "CREATE TRIGGER poison BEFORE INSERT ON documents WHEN NEW.artifact_id LIKE 'poison%' \
         BEGIN SELECT RAISE(ABORT, 'poisoned row'); END",
    )
    .execute(&pool)
    .await
    .expect("trigger");
    pool.close().await;
    poisoned_rows_fail_alone("development", provider).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_a_refused_row_in_a_coalesced_postgres_upsert_fails_only_its_caller() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(env) = enterprise_env(dir.path()).await else {
        return;
    };
    let (_, provider) = open_provider(&env).await;
    let url = env
        .iter()
        .find(|(key, _)| *key == "DOCSTOKG_POSTGRES_URL")
        .map(|(_, url)| url.clone())
        .expect("url");
    let pool = sqlx::PgPool::connect(&url).await.expect("postgres");
    for statement in [
        "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN \
           IF NEW.artifact_id LIKE 'poison%' THEN RAISE EXCEPTION 'poisoned row'; END IF; \
           RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER poison BEFORE INSERT ON documents FOR EACH ROW EXECUTE FUNCTION poison()",
    ] {
        sqlx::query(statement)
            .execute(&pool)
            .await
            .expect("trigger");
    }
    pool.close().await;
    poisoned_rows_fail_alone("enterprise", provider).await;
}
