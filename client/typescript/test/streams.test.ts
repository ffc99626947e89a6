/** The server streams as async iterators: ListRecords, FindDuplicates, VerifyAll. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { test } from "node:test";

import { collect, connect, documents } from "./helpers.js";

const catalog = connect();

test("listRecords streams the filtered records by id", async () => {
  const doc = documents();
  const runId = doc().artifactId;
  const outcomes = await catalog.registerOrGetBatch([0, 1, 2].map((n) => doc(n, { runId })));
  await catalog.registerOrGet(doc(9, { runId: `${runId}-other` }));
  const registered = outcomes.map((o) => o.record);

  assert.deepEqual(await collect(catalog.listRecords({ runId })), registered);
  assert.deepEqual(await collect(catalog.listRecords({ runId, resolver: "nobody" })), []);
  const later = new Date(Date.now() + 3_600_000);
  assert.deepEqual(await collect(catalog.listRecords({ runId, createdAfter: later })), []);
  assert.deepEqual(await collect(catalog.listRecords({ runId, createdBefore: later })), registered);
});

test("a stream abandoned early leaves the client usable", async () => {
  const doc = documents();
  const runId = doc().artifactId;
  await catalog.registerOrGetBatch([0, 1, 2].map((n) => doc(n, { runId })));
  for await (const record of catalog.listRecords({ runId })) {
    assert.equal(record.runId, runId);
    break;
  }
  assert.equal((await collect(catalog.listRecords({ runId }))).length, 3);
});

test("findDuplicates streams groups with their records", async () => {
  const doc = documents();
  const sha256 = createHash("sha256").update(doc().artifactId).digest("hex");
  // Seven copies: more than any other test registers, so few groups come before this one.
  const outcomes = await catalog.registerOrGetBatch([0, 1, 2, 3, 4, 5, 6].map((n) => doc(n, { sha256, bytes: 10 })));

  let found;
  for await (const group of catalog.findDuplicates({ minCount: 7, includeRecords: true })) {
    if (group.sha256 === sha256) found = group;
  }
  assert.ok(found);
  assert.equal(found.count, 7);
  assert.equal(found.totalBytes, 70);
  assert.deepEqual(
    found.records,
    outcomes.map((o) => o.record),
  );
  const bare = (await collect(catalog.findDuplicates({ minCount: 7 }))).find((g) => g.sha256 === sha256);
  assert.deepEqual(bare?.records, []);
  const larger = await collect(catalog.findDuplicates({ minCount: 8 }));
  assert.ok(larger.every((g) => g.sha256 !== sha256));
});

test("verifyAll yields one result per record, then exposes the summary", async () => {
  const doc = documents();
  const runId = doc().artifactId;
  const stored = (await catalog.putContent(Readable.from([Buffer.from("verified bytes")]), { ...doc(0), runId }))
    .record;
  const register = async (n: number, fields: object) =>
    (await catalog.registerOrGet(doc(n, { runId, ...fields }))).record.id;
  const expected = new Map([
    [stored.id, "VERIFIED"],
    [await register(1, { storageUri: stored.storageUri, sha256: "a".repeat(64) }), "MISMATCH"],
    [await register(2, { storageUri: stored.storageUri }), "NO_HASH"],
    [await register(3, { sha256: "a".repeat(64) }), "MISSING"],
    [await register(4, { storageUri: "file:///etc/shadow", sha256: "a".repeat(64) }), "OUT_OF_SCOPE"],
  ]);

  const run = catalog.verifyAll({ runId, concurrency: 2 });
  assert.equal(run.summary, undefined);
  const results = await collect(run);
  assert.deepEqual(new Map(results.map((r) => [r.recordId, r.status])), expected);
  assert.equal(run.matchingRecords, 5);
  assert.deepEqual(run.summary, {
    checked: 5,
    verified: 1,
    mismatched: 1,
    missing: 1,
    noHash: 1,
    outOfScope: 1,
    skipped: 0,
  });
});
