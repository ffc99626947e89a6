/** Stats, ProviderHealth, the standard health service, and bearer-token auth. */
import assert from "node:assert/strict";
import { test } from "node:test";

import { CatalogClient, Unauthenticated } from "docstokg-catalog";

import { collect, connect, documents, setting } from "./helpers.js";

const catalog = connect();

test("stats count what was registered", async () => {
  const doc = documents();
  const before = await catalog.stats();
  await catalog.registerOrGetBatch([0, 1, 2].map((n) => doc(n, { resolver: "stats-resolver", bytes: 5 })));
  const after = await catalog.stats();

  assert.equal(after.provider, setting("CATALOG_TEST_PROVIDER"));
  assert.ok(after.totalRecords >= before.totalRecords + 3);
  assert.ok(after.totalBytes >= before.totalBytes + 15);
  assert.ok((after.byResolver["stats-resolver"] ?? 0) >= 3);
  assert.deepEqual(new Set(after.storageBackends.map((b) => b.role)), new Set(["metadata", "blobs"]));
});

test("providerHealth reports every backend", async () => {
  const health = await catalog.providerHealth();
  assert.equal(health.state, "HEALTHY");
  assert.deepEqual(new Set(health.backends.map((b) => b.name)), new Set(["metadata", "blobs"]));
  assert.ok(health.backends.every((b) => b.latencyMs >= 0));
});

test("healthCheck reports SERVING", async () => {
  assert.equal(await catalog.healthCheck(), true);
  assert.equal(await catalog.healthCheck("docstokg.catalog.v1.CatalogService"), true);
});

test("with auth enabled, calls without the right token are Unauthenticated", async () => {
  const endpoint = setting("CATALOG_TEST_AUTH_ENDPOINT");
  const anonymous = new CatalogClient(endpoint);
  const wrong = new CatalogClient(endpoint, { token: "wrong" });
  try {
    assert.equal(await anonymous.healthCheck(), true, "health needs no token");
    await assert.rejects(anonymous.stats(), Unauthenticated);
    await assert.rejects(collect(wrong.listRecords({ runId: "anything" })), Unauthenticated);
  } finally {
    anonymous.close();
    wrong.close();
  }
});

test("with auth enabled, the token opens every call", async () => {
  const client = new CatalogClient(setting("CATALOG_TEST_AUTH_ENDPOINT"), { token: setting("CATALOG_TEST_TOKEN") });
  try {
    const record = (await client.registerOrGet(documents()())).record;
    assert.deepEqual(await client.getRecord(record.id), record);
    assert.deepEqual(await collect(client.listRecords({ runId: "nothing-registered-here" })), []);
  } finally {
    client.close();
  }
});
