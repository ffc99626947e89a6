/** Mutual TLS against the server scripts/test-clients started with a CA it made. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { CatalogClient, Unavailable } from "docstokg-catalog";

import { documents, setting } from "./helpers.js";

const pem = (name: string): Buffer => readFileSync(setting(name));

function client(options: { withCert: boolean; tls?: boolean }): CatalogClient {
  return new CatalogClient(setting("CATALOG_TEST_TLS_ENDPOINT"), {
    tls: options.tls ?? true,
    rootCertificates: pem("CATALOG_TEST_TLS_CA"),
    ...(options.withCert
      ? { certChain: pem("CATALOG_TEST_TLS_CLIENT_CERT"), privateKey: pem("CATALOG_TEST_TLS_CLIENT_KEY") }
      : {}),
    timeoutMs: 5_000,
  });
}

test("a client certificate signed by the client CA gets in", async () => {
  const catalog = client({ withCert: true });
  try {
    const outcome = await catalog.registerOrGet(documents()(0));
    assert.equal(outcome.created, true);
    assert.equal(await catalog.healthCheck(), true);
  } finally {
    catalog.close();
  }
});

test("without a client certificate or without TLS the call fails", async () => {
  for (const catalog of [client({ withCert: false }), client({ withCert: false, tls: false })]) {
    try {
      await assert.rejects(catalog.stats(), Unavailable);
    } finally {
      catalog.close();
    }
  }
});

test("half a client identity is refused", () => {
  assert.throws(
    () =>
      new CatalogClient(setting("CATALOG_TEST_TLS_ENDPOINT"), {
        tls: true,
        privateKey: pem("CATALOG_TEST_TLS_CLIENT_KEY"),
      }),
    /both certChain and privateKey/,
  );
});
