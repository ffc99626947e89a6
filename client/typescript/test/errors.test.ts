/** gRPC status codes become error classes, with the field a google.rpc.BadRequest names. */
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";

import { status } from "@grpc/grpc-js";
import {
  CatalogClient,
  CatalogError,
  FailedPrecondition,
  InvalidArgument,
  NotFound,
  Unavailable,
} from "docstokg-catalog";

import { connect, documents } from "./helpers.js";

const catalog = connect();

test("an empty artifact id is an InvalidArgument naming the field", async () => {
  const doc = documents();
  await assert.rejects(catalog.registerOrGet(doc(0, { artifactId: "" })), (error: unknown) => {
    assert.ok(error instanceof InvalidArgument && error instanceof CatalogError);
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.equal(error.field, "artifact_id");
    assert.match(error.details, /artifact_id/);
    return true;
  });
});

test("batch errors name the item", async () => {
  const doc = documents();
  await assert.rejects(
    catalog.registerOrGetBatch([doc(0), doc(1, { sha256: "not-a-hash" })]),
    (error: unknown) => error instanceof InvalidArgument && error.field === "documents[1].sha256",
  );
});

test("an unknown id is NotFound", async () => {
  await assert.rejects(catalog.getRecord(2 ** 52), (error: unknown) => {
    assert.ok(error instanceof NotFound);
    assert.equal(error.code, status.NOT_FOUND);
    assert.equal(error.field, undefined);
    return true;
  });
});

test("bytes outside the storage are a FailedPrecondition", async () => {
  const record = (await catalog.registerOrGet(documents()(0, { storageUri: "file:///etc/shadow" }))).record;
  await assert.rejects(catalog.getContent(new PassThrough(), { recordId: record.id }), FailedPrecondition);
});

test("an unreachable server is Unavailable", async () => {
  const client = new CatalogClient("127.0.0.1:1", { timeoutMs: 5_000 });
  try {
    await assert.rejects(client.stats(), Unavailable);
  } finally {
    client.close();
  }
});
