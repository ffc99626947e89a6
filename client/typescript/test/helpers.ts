/**
 * What the suites share: the servers scripts/test-clients started (CATALOG_TEST_ENDPOINT without
 * auth, with the retention rule `client-keep-one resolver=client-retention keep_latest=1`;
 * CATALOG_TEST_AUTH_ENDPOINT wanting CATALOG_TEST_TOKEN, read-write, or CATALOG_TEST_READ_ONLY_TOKEN,
 * without retention rules; both on CATALOG_TEST_PROVIDER), and ids no other test uses.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";

import { CatalogClient, type NewDocument } from "docstokg-catalog";

export function setting(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run scripts/test-clients, which starts the servers`);
  return value;
}

/** A client of the server without auth, closed after the test file. */
export function connect(): CatalogClient {
  const client = new CatalogClient(setting("CATALOG_TEST_ENDPOINT"));
  after(() => client.close());
  return client;
}

/** A temporary directory, removed after the test file. */
export function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "catalog-client-test-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Makes the fields of document `n` of one test, with `fields` overriding. */
export function documents(): (n?: number, fields?: Partial<NewDocument>) => NewDocument {
  const unique = randomUUID();
  return (n = 0, fields = {}) => ({
    artifactId: `${unique}-artifact-${n}`,
    sourceUrl: `https://example.org/${unique}/${n}.pdf`,
    resolver: "unpaywall",
    ...fields,
  });
}

/** Collects an async iterable (for small streams only). */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
