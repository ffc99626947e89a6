/** The byte RPCs: PutContent (client stream), GetContent (server stream) and Verify. */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { test } from "node:test";

import { CHUNK_SIZE, InvalidArgument, NotFound } from "docstokg-catalog";

import { connect, documents, scratchDir } from "./helpers.js";

const catalog = connect();
const dir = scratchDir();

test("putContent uploads a file in chunks and getContent streams it back", async () => {
  const doc = documents();
  const data = randomBytes(2 * CHUNK_SIZE + 1000);
  const source = join(dir, "document.pdf");
  writeFileSync(source, data);

  const put = await catalog.putContent(source, { ...doc(), contentType: "application/pdf" });
  assert.equal(put.created, true);
  assert.equal(put.deduplicated, false);
  assert.equal(put.record.sha256, createHash("sha256").update(data).digest("hex"));
  assert.equal(put.record.bytes, data.length);
  assert.match(put.record.storageUri ?? "", /^file:\/\//);

  const dest = join(dir, "copy.pdf");
  const info = await catalog.getContent(dest, { recordId: put.record.id });
  assert.ok(readFileSync(dest).equals(data));
  assert.equal(info.totalBytes, data.length);

  const part = new PassThrough();
  const received: Buffer[] = [];
  part.on("data", (chunk: Buffer) => received.push(chunk));
  const range = await catalog.getContent(part, { sha256: put.record.sha256 ?? "", offset: 1000, length: 5000 });
  assert.equal(range.rangeBytes, 5000);
  assert.ok(Buffer.concat(received).equals(data.subarray(1000, 6000)));
  assert.equal(part.writableEnded, false, "a Writable passed in stays open");

  assert.equal((await catalog.verify(put.record.id)).status, "VERIFIED");
});

test("the same bytes are stored once", async () => {
  const doc = documents();
  const data = randomBytes(1000);
  const first = await catalog.putContent(Readable.from([data]), doc(1));
  const second = await catalog.putContent(Readable.from([data]), { ...doc(2), expectedSha256: first.record.sha256 });

  assert.equal(second.created, true);
  assert.equal(second.deduplicated, true);
  assert.equal(second.record.storageUri, first.record.storageUri);
});

test("an upload that breaks its promise is rejected and leaves nothing", async () => {
  const doc = documents();
  const upload = catalog.putContent(Readable.from([Buffer.from("four")]), { ...doc(), expectedBytes: 3 });
  await assert.rejects(
    upload,
    (error: unknown) => error instanceof InvalidArgument && error.field === "expected_bytes",
  );
  assert.deepEqual(await catalog.getByArtifact(doc().artifactId), []);
});

test("an upload whose source fails midway stores nothing", async () => {
  const doc = documents();
  const failing = Readable.from(
    (async function* () {
      yield randomBytes(1000);
      throw new Error("disk on fire");
    })(),
  );
  await assert.rejects(catalog.putContent(failing, doc()), /disk on fire/);
  assert.deepEqual(await catalog.getByArtifact(doc().artifactId), []);
});

test("getContent of unknown bytes creates no file", async () => {
  const dest = join(dir, "absent");
  await assert.rejects(catalog.getContent(dest, { sha256: "0".repeat(64) }), NotFound);
  assert.equal(existsSync(dest), false);
});

test("getContent needs exactly one selector", async () => {
  await assert.rejects(catalog.getContent(join(dir, "x"), { recordId: 1, sha256: "0".repeat(64) }), TypeError);
});
