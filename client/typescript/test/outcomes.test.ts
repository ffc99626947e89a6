/**
 * Outcomes read like their record (the seed's connector API): `(await registerOrGet(...)).id` and every
 * other record field work on the outcomes of registerOrGet, registerOrGetBatch, importRecords and
 * putContent, next to `created`, `differingFields` and `record`.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { test } from "node:test";

import { CatalogClient, type DocumentRecord, type PutOutcome, type RegisterOutcome } from "docstokg-catalog";

import { connect, documents, setting } from "./helpers.js";

const catalog = connect();

/** Every field of a DocumentRecord, which an outcome has too (the compiler checks the list is complete). */
const recordFields = {
  id: true,
  artifactId: true,
  sourceUrl: true,
  resolver: true,
  contentType: true,
  bytes: true,
  sha256: true,
  storageUri: true,
  createdAt: true,
  updatedAt: true,
  runId: true,
} satisfies Record<keyof DocumentRecord, true>;

function assertReadsLikeItsRecord(outcome: RegisterOutcome | PutOutcome): void {
  assert.equal(typeof outcome.created, "boolean");
  assert.ok(Array.isArray(outcome.differingFields));
  assert.ok(Object.isFrozen(outcome) && Object.isFrozen(outcome.record));
  for (const name of Object.keys(recordFields) as (keyof DocumentRecord)[]) {
    assert.ok(name in outcome, name);
    assert.deepEqual(outcome[name], outcome.record[name], name);
  }
  assert.deepEqual(Object.keys(outcome.record).sort(), Object.keys(recordFields).sort());
  const own = ["record", "created", "differingFields", ...("deduplicated" in outcome ? ["deduplicated"] : [])];
  assert.deepEqual(Object.keys(outcome).sort(), [...Object.keys(recordFields), ...own].sort());
}

test("the seed's example runs as written", async () => {
  // The seed's example in TypeScript, with the test server's address for "localhost:50051".
  const cat = new CatalogClient(setting("CATALOG_TEST_ENDPOINT"));
  const record = await cat.registerOrGet({
    artifactId: "W123",
    sourceUrl: "https://example.org/a.pdf",
    resolver: "unpaywall",
  });
  const printed = [record.id, record.artifactId, record.sha256].join(" ");

  const stored = await cat.getRecord(record.id);
  const again = await cat.registerOrGet({
    artifactId: "W123",
    sourceUrl: "https://example.org/a.pdf",
    resolver: "unpaywall",
  });
  cat.close();

  assert.equal(printed, [stored.id, "W123", stored.sha256].join(" "));
  assert.deepEqual(record.record, stored);
  assert.equal(record.id, stored.id);
  assert.equal(record.artifactId, "W123");
  assertReadsLikeItsRecord(record);
  assert.equal(again.created, false);
  assert.deepEqual(again.record, stored);
  assert.deepEqual(again.differingFields, record.differingFields);
});

test("registerOrGet outcomes read like their record", async () => {
  const doc = documents();
  const fields = doc(0, {
    contentType: "application/pdf",
    bytes: 1000,
    sha256: createHash("sha256").update(doc().artifactId).digest("hex"),
    storageUri: `file:///blobs/${doc().artifactId}`,
    runId: `run-${doc().artifactId}`,
  });
  const first = await catalog.registerOrGet(fields);
  const again = await catalog.registerOrGet({ ...fields, bytes: 2000 });

  assert.equal(first.created, true);
  assert.deepEqual(first.differingFields, []);
  assert.equal(again.created, false);
  assert.deepEqual(again.differingFields, ["bytes"]);
  assert.deepEqual(again.record, first.record);
  assert.deepEqual(await catalog.getRecord(first.id), first.record);
  assertReadsLikeItsRecord(first);
  assertReadsLikeItsRecord(again);
  assert.deepEqual(
    [first.artifactId, first.sourceUrl, first.resolver, first.contentType, first.bytes, first.sha256],
    [fields.artifactId, fields.sourceUrl, "unpaywall", "application/pdf", 1000, fields.sha256],
  );
  assert.equal(first.storageUri, fields.storageUri);
  assert.equal(first.runId, fields.runId);
  assert.equal(again.bytes, 1000, "the stored record's, not the request's");
  assert.ok(first.createdAt instanceof Date && first.updatedAt.getTime() === first.createdAt.getTime());
});

test("registerOrGetBatch and importRecords outcomes read like their records", async () => {
  const doc = documents();
  const existing = await catalog.registerOrGet(doc(0));
  const outcomes = await catalog.registerOrGetBatch([0, 1, 2].map((n) => doc(n, { bytes: n })));

  // records.test.ts checks order and `created`; here, that each outcome reads like its record.
  assert.equal(outcomes[0]?.id, existing.id);
  outcomes.forEach(assertReadsLikeItsRecord);

  const [imported] = await catalog.importRecords([
    { ...existing.record, artifactId: `${existing.artifactId}-imported` },
  ]);
  assert.ok(imported?.created);
  assert.equal(imported.artifactId, `${existing.artifactId}-imported`);
  assert.notEqual(imported.id, existing.id);
  assert.equal(imported.createdAt.getTime(), existing.createdAt.getTime());
  assertReadsLikeItsRecord(imported);
});

test("putContent outcomes read like their record", async () => {
  const doc = documents();
  const data = randomBytes(5000);
  const put = await catalog.putContent(Readable.from([data]), { ...doc(1), contentType: "text/plain" });
  const again = await catalog.putContent(Readable.from([data]), doc(2));

  assert.equal(put.created, true);
  assert.equal(put.deduplicated, false);
  assert.equal(again.deduplicated, true);
  assert.deepEqual(put.differingFields, []);
  assert.equal(put.sha256, createHash("sha256").update(data).digest("hex"));
  assert.equal(put.bytes, data.length);
  assert.equal(put.contentType, "text/plain");
  assert.equal(put.storageUri, again.storageUri);
  assert.deepEqual(await catalog.getRecord(put.id), put.record);
  assertReadsLikeItsRecord(put);
  assertReadsLikeItsRecord(again);
});
