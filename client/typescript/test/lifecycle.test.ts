/**
 * The lifecycle RPCs: deleteRecords (by ids, by filter, dry run, idempotent, refused for a read-only
 * token), applyRetention (the rule scripts/test-clients configures on the server without auth),
 * auditStorage (orphans, missing, mismatched and out-of-scope bytes), and the dedup figures of stats
 * and findDuplicates' limit.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { test } from "node:test";

import {
  AuditStorageRun,
  CatalogClient,
  InvalidArgument,
  type NewDocument,
  NotFound,
  PermissionDenied,
} from "docstokg-catalog";

import { collect, connect, documents, setting } from "./helpers.js";

const catalog = connect();

/**
 * The rule scripts/test-clients gives the server without auth: of the records of this resolver, keep
 * the newest of each artifact. One test alone (of this suite) registers records of it.
 */
const RETENTION_RULE = "client-keep-one";
const RETENTION_RESOLVER = "client-retention";

const upload = (data: Buffer) => Readable.from([data]);
const sha256Of = (text: string) => createHash("sha256").update(text).digest("hex");

/** Asserts that `call` rejects with InvalidArgument naming `field`. */
async function rejectsNaming(call: Promise<unknown>, field: string): Promise<void> {
  await assert.rejects(call, (error: unknown) => {
    assert.ok(error instanceof InvalidArgument, String(error));
    assert.equal(error.field, field);
    return true;
  });
}

test("deleteRecords by ids removes the records and frees their keys", async () => {
  const doc = documents();
  const [kept, newest] = (await catalog.registerOrGetBatch([doc(0), doc(1)])).map((o) => o.record);
  assert.ok(kept && newest);

  const report = await catalog.deleteRecords({ ids: [newest.id] });

  assert.deepEqual(report, { matched: 1, deleted: 1, ids: [newest.id], idsTruncated: false });
  assert.ok(Object.isFrozen(report));
  await assert.rejects(catalog.getRecord(newest.id), NotFound);
  assert.deepEqual(await catalog.getRecord(kept.id), kept);
  const again = await catalog.registerOrGet(doc(1));
  assert.equal(again.created, true, "a deleted key can be registered again");
  assert.ok(again.id > newest.id, "under a new id, even after deleting the highest one");
  assert.deepEqual(await catalog.getByArtifact(newest.artifactId), [again.record]);
});

test("deleteRecords by filter removes only the matching records", async () => {
  const doc = documents();
  const artifactId = doc(0).artifactId;
  const doomed = [];
  for (const n of [0, 1]) {
    doomed.push((await catalog.registerOrGet(doc(0, { sourceUrl: `https://example.org/${artifactId}/${n}` }))).record);
  }
  const other = (await catalog.registerOrGet(doc(1))).record;
  const runId = `run-${artifactId}`;
  const byRun = (await catalog.registerOrGetBatch([2, 3].map((n) => doc(n, { runId })))).map((o) => o.record);

  const report = await catalog.deleteRecords({ artifactId });
  assert.deepEqual(report, {
    matched: 2,
    deleted: 2,
    ids: doomed.map((r) => r.id).sort((a, b) => a - b),
    idsTruncated: false,
  });
  assert.deepEqual(await catalog.getByArtifact(artifactId), []);
  assert.deepEqual(await catalog.getRecord(other.id), other);

  const second = await catalog.deleteRecords({ runId, resolver: "unpaywall" });
  assert.deepEqual([second.matched, second.deleted, second.ids], [2, 2, byRun.map((r) => r.id)]);
  assert.deepEqual(await collect(catalog.listRecords({ runId })), []);
  assert.deepEqual(await catalog.getRecord(other.id), other);
});

test("a dry run reports what it would delete and deletes nothing", async () => {
  const doc = documents();
  const runId = doc().artifactId;
  const records = (await catalog.registerOrGetBatch([0, 1, 2].map((n) => doc(n, { runId })))).map((o) => o.record);
  const expected = { matched: 3, deleted: 0, ids: records.map((r) => r.id), idsTruncated: false };

  assert.deepEqual(await catalog.deleteRecords({ runId, dryRun: true }), expected);
  assert.deepEqual(await catalog.deleteRecords({ ids: records.map((r) => r.id).reverse(), dryRun: true }), expected);
  assert.deepEqual(await collect(catalog.listRecords({ runId })), records);
});

test("deleting twice is not an error", async () => {
  const record = (await catalog.registerOrGet(documents()())).record;

  const first = await catalog.deleteRecords({ ids: [record.id] });
  const second = await catalog.deleteRecords({ ids: [record.id] });
  const byFilter = await catalog.deleteRecords({ artifactId: record.artifactId });

  assert.deepEqual([first.matched, first.deleted], [1, 1]);
  assert.deepEqual(second, { matched: 0, deleted: 0, ids: [], idsTruncated: false });
  assert.deepEqual([byFilter.matched, byFilter.deleted, byFilter.ids], [0, 0, []]);
});

test("bad delete requests are InvalidArgument naming the field", async () => {
  const record = (await catalog.registerOrGet(documents()())).record;

  await rejectsNaming(catalog.deleteRecords({ ids: [record.id], artifactId: record.artifactId }), "filter");
  await rejectsNaming(catalog.deleteRecords({}), "filter"); // never "everything" by omission
  await rejectsNaming(catalog.deleteRecords({ dryRun: true }), "filter");
  await rejectsNaming(catalog.deleteRecords({ ids: [record.id, 0] }), "ids[1]");
  const tooMany = Array.from({ length: 1001 }, (_, i) => i + 1); // over the default batch limit
  await rejectsNaming(catalog.deleteRecords({ ids: tooMany }), "ids");
  assert.deepEqual(await catalog.getRecord(record.id), record, "nothing deleted");
});

test("a read-only token may not delete or apply retention", async () => {
  const endpoint = setting("CATALOG_TEST_AUTH_ENDPOINT");
  const writer = new CatalogClient(endpoint, { token: setting("CATALOG_TEST_TOKEN") });
  const reader = new CatalogClient(endpoint, { token: setting("CATALOG_TEST_READ_ONLY_TOKEN") });
  try {
    const record = (await writer.registerOrGet(documents()())).record;
    assert.deepEqual(await reader.getRecord(record.id), record, "the read-only token may read");
    await assert.rejects(reader.deleteRecords({ ids: [record.id] }), PermissionDenied);
    await assert.rejects(reader.deleteRecords({ artifactId: record.artifactId, dryRun: true }), PermissionDenied);
    await assert.rejects(reader.applyRetention({ dryRun: true }), PermissionDenied);
    assert.deepEqual(await writer.getRecord(record.id), record);

    assert.deepEqual(await writer.applyRetention({ dryRun: true }), { rules: [], dryRun: true }, "no rule there");
    assert.equal((await writer.deleteRecords({ ids: [record.id] })).deleted, 1);
    await assert.rejects(reader.getRecord(record.id), NotFound);
  } finally {
    writer.close();
    reader.close();
  }
});

test("applyRetention keeps the newest record of each artifact", async () => {
  const doc = documents();
  const fields = doc(0, { resolver: RETENTION_RESOLVER, bytes: 100 });
  const records = [];
  for (const n of [0, 1, 2]) {
    records.push((await catalog.registerOrGet({ ...fields, sourceUrl: `${fields.sourceUrl}/${n}` })).record);
  }
  const newest = records[2];
  assert.ok(newest);
  assert.deepEqual((await catalog.getByArtifact(fields.artifactId))[0], newest);

  const dry = await catalog.applyRetention({ dryRun: true });
  const dryRule = dry.rules.find((r) => r.rule === RETENTION_RULE);
  assert.ok(dryRule, `the rule ${RETENTION_RULE} is configured`);
  assert.equal(dry.dryRun, true);
  assert.equal(dryRule.deleted, 0);
  assert.ok(dryRule.matched >= 2 && dryRule.matchedBytes >= 200);
  assert.equal((await catalog.getByArtifact(fields.artifactId)).length, 3, "a dry run deletes nothing");

  const applied = await catalog.applyRetention();
  const rule = applied.rules.find((r) => r.rule === RETENTION_RULE);
  assert.ok(rule);
  assert.equal(applied.dryRun, false);
  assert.ok(rule.deleted >= 2 && rule.matched >= rule.deleted);
  assert.deepEqual(await catalog.getByArtifact(fields.artifactId), [newest]);
});

test("auditStorage reports orphans, missing, mismatched and out-of-scope bytes", async () => {
  const doc = documents();
  const unique = doc().artifactId;
  const orphaned = (await catalog.putContent(upload(randomBytes(4321)), doc(0))).record;
  assert.equal((await catalog.deleteRecords({ ids: [orphaned.id] })).deleted, 1, "its bytes are now an orphan");
  const stored = (await catalog.putContent(upload(randomBytes(1000)), doc(1))).record;
  const uri = stored.storageUri ?? "";
  const register = async (n: number, fields: Partial<NewDocument>) =>
    (await catalog.registerOrGet(doc(n, fields))).record;
  const elsewhere = await register(2, { storageUri: `s3://elsewhere/${unique}` });
  const missing = await register(3, { storageUri: uri.replace(stored.sha256 ?? "", sha256Of(unique)) });
  const resized = await register(4, { storageUri: uri, sha256: stored.sha256, bytes: 999 });

  const run = catalog.auditStorage();
  assert.ok(run instanceof AuditStorageRun);
  const before = run.summary; // (asserting on run.summary itself would narrow it for good)
  assert.equal(before, undefined);
  const findings = await collect(run);

  const orphans = findings.filter((f) => f.sha256 === orphaned.sha256);
  assert.deepEqual(
    orphans.map((f) => [f.kind, f.recordId, f.bytes, f.storageUri]),
    [["ORPHAN", 0, 4321, orphaned.storageUri]],
  );
  const byRecord = new Map(findings.filter((f) => f.recordId !== 0).map((f) => [f.recordId, f]));
  assert.equal(byRecord.get(elsewhere.id)?.kind, "OUT_OF_SCOPE");
  assert.equal(byRecord.get(elsewhere.id)?.storageUri, `s3://elsewhere/${unique}`);
  assert.equal(byRecord.get(missing.id)?.kind, "MISSING");
  assert.equal(byRecord.get(resized.id)?.kind, "MISMATCH");
  assert.ok(!byRecord.has(stored.id), "intact bytes are no finding");
  assert.ok((run.records ?? 0) >= 4);

  const summary = run.summary;
  assert.ok(summary);
  assert.ok(summary.recordsChecked >= 4 && summary.objectsChecked >= 2);
  assert.equal(summary.rehashed, 0);
  assert.ok(summary.orphans >= 1 && summary.orphanBytes >= 4321);
  assert.ok(summary.missing >= 1 && summary.mismatched >= 1 && summary.outOfScope >= 1);
  assert.equal(summary.orphans, findings.filter((f) => f.kind === "ORPHAN").length);
  assert.equal(summary.outOfScope, findings.filter((f) => f.kind === "OUT_OF_SCOPE").length);
});

test("auditStorage re-hashes a sample, and refuses a rate outside [0, 1]", async () => {
  const doc = documents();
  const data = randomBytes(2000);
  const stored = (await catalog.putContent(upload(data), doc(0))).record;
  const wrongHash = createHash("sha256").update(data).update("!").digest("hex");
  // Right size, wrong hash: only a re-hash finds it.
  const forged = (
    await catalog.registerOrGet(doc(1, { storageUri: stored.storageUri, sha256: wrongHash, bytes: data.length }))
  ).record;

  const sized = await collect(catalog.auditStorage({ rehashRate: 0 }));
  const run = catalog.auditStorage({ rehashRate: 1 });
  const hashed = new Map((await collect(run)).map((f) => [f.recordId, f.kind]));

  assert.ok(sized.every((f) => f.recordId !== forged.id));
  assert.equal(hashed.get(forged.id), "MISMATCH");
  assert.ok(!hashed.has(stored.id));
  assert.ok((run.summary?.rehashed ?? 0) >= 2);
  for (const rehashRate of [-0.5, 1.5]) {
    await rejectsNaming(collect(catalog.auditStorage({ rehashRate })), "rehash_rate");
  }
});

test("stats report what deduplication saves", async () => {
  const doc = documents();
  const resolver = `dedup-${doc().artifactId}`;
  const data = randomBytes(7000);
  for (const n of [0, 1]) await catalog.putContent(upload(data), doc(n, { resolver }));

  const stats = await catalog.stats();

  assert.ok(stats.dedupSavedBytes >= data.length);
  assert.equal(stats.dedupSavedBytes, stats.hashedBytes - stats.uniqueBytes);
  assert.ok(stats.hashedBytes >= stats.uniqueBytes + data.length);
  assert.ok(stats.dedupRatio > 1);
  assert.ok(Math.abs(stats.dedupRatio - stats.hashedBytes / stats.uniqueBytes) < 1e-9);
  assert.equal(stats.duplicateGroupsByResolver[resolver], 1);
});

test("findDuplicates stops at the limit", async () => {
  const doc = documents();
  const sha256 = sha256Of(doc().artifactId);
  await catalog.registerOrGetBatch([0, 1].map((n) => doc(n, { sha256, bytes: 1 })));

  const limited = await collect(catalog.findDuplicates({ limit: 1 }));
  let largest;
  for await (const group of catalog.findDuplicates()) {
    largest = group;
    break;
  }
  assert.equal(limited.length, 1);
  assert.equal(limited[0]?.count, largest?.count, "the largest group");
  assert.ok((await collect(catalog.findDuplicates({ minCount: 2, limit: 3 }))).length <= 3);
  await rejectsNaming(collect(catalog.findDuplicates({ limit: -1 })), "limit");
});
