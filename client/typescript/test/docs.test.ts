/**
 * The TypeScript example of docs/clients.md, type-checked (strict) and run as printed against the
 * test server, from a project that has the package installed the way the docs say
 * (`npm install ./client/typescript` links it into node_modules).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { scratchDir, setting } from "./helpers.js";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "../.."); // from dist-test/test
const repository = resolve(packageDir, "../..");

function typescriptExample(): string {
  const docs = readFileSync(join(repository, "docs", "clients.md"), "utf8");
  const blocks = [...docs.matchAll(/^```typescript\n(.*?)^```$/gms)].map((match) => match[1] ?? "");
  assert.equal(blocks.length, 1, "one typescript block in docs/clients.md");
  return blocks[0] ?? "";
}

test("the TypeScript example runs as printed", () => {
  const example = typescriptExample();
  assert.match(example, /127\.0\.0\.1:50051/);
  const project = scratchDir();
  mkdirSync(join(project, "node_modules"));
  symlinkSync(packageDir, join(project, "node_modules", "docstokg-catalog"));
  symlinkSync(join(packageDir, "node_modules", "@types"), join(project, "node_modules", "@types"));
  writeFileSync(join(project, "example.mts"), example.replace("127.0.0.1:50051", setting("CATALOG_TEST_ENDPOINT")));
  copyFileSync(join(repository, "README.md"), join(project, "README.md"));

  const tsc = join(packageDir, "node_modules", "typescript", "bin", "tsc");
  execFileSync(process.execPath, [tsc, "--strict", "--module", "nodenext", "--target", "es2022", "example.mts"], {
    cwd: project,
  });
  const output = execFileSync(process.execPath, ["example.mjs"], { cwd: project, encoding: "utf8" });

  assert.match(output, /no such record/);
  assert.ok(readFileSync(join(project, "readme-copy.md")).equals(readFileSync(join(project, "README.md"))));
});
