/** Registration and the unary look-ups. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";

import { connect, documents } from "./helpers.js";

const catalog = connect();

test("registerOrGet creates, then returns the stored record with the differing fields", async () => {
  const doc = documents();
  const first = await catalog.registerOrGet(doc(0, { bytes: 1000, contentType: "application/pdf" }));
  const again = await catalog.registerOrGet(doc(0, { bytes: 2000, contentType: "application/pdf" }));

  assert.equal(first.created, true);
  assert.deepEqual(first.differingFields, []);
  assert.equal(again.created, false);
  assert.deepEqual(again.record, first.record);
  assert.deepEqual(again.differingFields, ["bytes"]);
  const record = first.record;
  assert.ok(record.id > 0);
  assert.equal(record.contentType, "application/pdf");
  assert.equal(record.sha256, undefined);
  assert.ok(record.createdAt instanceof Date);
  assert.ok(Math.abs(Date.now() - record.createdAt.getTime()) < 5 * 60_000);
  assert.ok(Object.isFrozen(record));
});

test("registerOrGetBatch returns one outcome per document, in order", async () => {
  const doc = documents();
  const existing = await catalog.registerOrGet(doc(0));
  const outcomes = await catalog.registerOrGetBatch([0, 1, 2].map((n) => doc(n, { bytes: n })));

  assert.deepEqual(
    outcomes.map((o) => o.created),
    [false, true, true],
  );
  assert.deepEqual(
    outcomes.map((o) => o.record.artifactId),
    [0, 1, 2].map((n) => doc(n).artifactId),
  );
  assert.deepEqual(outcomes[0]?.record, existing.record);
});

test("getRecord and the three look-ups, newest first", async () => {
  const doc = documents();
  const sha256 = createHash("sha256").update(doc().artifactId).digest("hex");
  const runId = `run-${doc().artifactId}`;
  const older = (await catalog.registerOrGet(doc(1, { sha256: sha256.toUpperCase(), runId }))).record;
  const newer = (await catalog.registerOrGet(doc(2, { sha256, runId }))).record;
  const sameArtifact = (await catalog.registerOrGet(doc(1, { sourceUrl: "https://mirror.example.org/x" }))).record;

  assert.deepEqual(await catalog.getRecord(older.id), older);
  assert.equal(older.sha256, sha256, "stored lowercase");
  assert.deepEqual(await catalog.getBySha256(sha256), [newer, older]);
  assert.deepEqual(await catalog.getByRun(runId), [newer, older]);
  assert.deepEqual(await catalog.getByArtifact(older.artifactId), [sameArtifact, older]);
  assert.deepEqual(await catalog.getByArtifact(`${runId}-nothing`), []);
});

test("importRecords restores records with their timestamps", async () => {
  const doc = documents();
  const runId = doc().artifactId;
  const original = (await catalog.registerOrGet(doc(0, { bytes: 5, runId }))).record;
  const past = new Date("2020-01-02T03:04:05.678Z");
  const exported = { ...original, artifactId: `${runId}-imported`, createdAt: past, updatedAt: past };

  const [first] = await catalog.importRecords([exported], { keepIds: true });
  const [again] = await catalog.importRecords([exported]);

  assert.ok(first?.created);
  assert.notEqual(first.record.id, original.id, "the id was taken: a new one");
  assert.deepEqual(first.record, { ...exported, id: first.record.id });
  assert.equal(again?.created, false);
  assert.deepEqual(again.record, first.record);
});
