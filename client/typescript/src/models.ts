/**
 * The values the client takes and returns, converted from the generated protobuf types: optional
 * strings that are empty on the wire (contentType, sha256, storageUri, runId) become `undefined`,
 * enums become their names, and records and outcomes are frozen. The outcomes of registering and
 * uploading read like the record they carry: `outcome.id` is `outcome.record.id`, and so on for every
 * field of `DocumentRecord`.
 */
import * as pb from "./generated/docstokg/catalog/v1/catalog.js";

/** The fields of a document to register. */
export interface NewDocument {
  artifactId: string;
  sourceUrl: string;
  resolver: string;
  contentType?: string;
  bytes?: number;
  sha256?: string;
  storageUri?: string;
  runId?: string;
}

/** Filters of `listRecords` and `verifyAll`; each one left out matches everything. */
export interface RecordFilter {
  runId?: string;
  resolver?: string;
  contentType?: string;
  createdAfter?: Date;
  createdBefore?: Date;
}

/** The header fields of an upload; a mismatch with `expectedSha256`/`expectedBytes` stores nothing. */
export interface ContentHeader {
  artifactId: string;
  sourceUrl: string;
  resolver: string;
  contentType?: string;
  runId?: string;
  expectedSha256?: string;
  expectedBytes?: number;
}

/** One registered document. Records are immutable once created. */
export interface DocumentRecord {
  readonly id: number;
  readonly artifactId: string;
  readonly sourceUrl: string;
  readonly resolver: string;
  readonly contentType: string | undefined;
  readonly bytes: number;
  readonly sha256: string | undefined;
  readonly storageUri: string | undefined;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly runId: string | undefined;
}

/**
 * The stored record, whether this call created it, and which request fields differ from it. It reads
 * like the record: it has every field of `DocumentRecord` (`outcome.id` is `outcome.record.id`).
 */
export interface RegisterOutcome extends DocumentRecord {
  readonly record: DocumentRecord;
  readonly created: boolean;
  readonly differingFields: readonly string[];
}

/** The record an upload registered; `deduplicated` when its bytes were already stored. */
export interface PutOutcome extends RegisterOutcome {
  readonly deduplicated: boolean;
}

/** Records sharing one sha256; `records` is empty unless they were requested. */
export interface DuplicateGroup {
  readonly sha256: string;
  readonly count: number;
  readonly totalBytes: number;
  readonly records: readonly DocumentRecord[];
}

export type VerificationStatus = "UNSPECIFIED" | "VERIFIED" | "MISMATCH" | "MISSING" | "NO_HASH" | "OUT_OF_SCOPE";

/** Expected and actual hash and size of one record's stored bytes. */
export interface VerificationResult {
  readonly recordId: number;
  readonly status: VerificationStatus;
  readonly expectedSha256: string | undefined;
  readonly actualSha256: string | undefined;
  readonly expectedBytes: number;
  readonly actualBytes: number;
  readonly storageUri: string | undefined;
  readonly message: string;
}

/** Totals of a `verifyAll` run. */
export type VerifySummary = Readonly<pb.VerifySummary>;

/** What `getContent` wrote: the whole object's hash and size, and the range's size. */
export type ContentInfo = Readonly<pb.ContentInfo>;

export type HealthState = "UNSPECIFIED" | "HEALTHY" | "DEGRADED" | "UNHEALTHY";

/** Counts and sizes of the catalog and its storage backends. */
export type Stats = Readonly<pb.StatsResponse>;

/** The worst state of the provider's backends, and each backend's health. */
export interface ProviderHealth {
  readonly state: HealthState;
  readonly message: string;
  readonly backends: readonly {
    readonly name: string;
    readonly state: HealthState;
    readonly message: string;
    readonly latencyMs: number;
  }[];
}

/** The name of an enum value without its prefix ("VERIFICATION_STATUS_VERIFIED" -> "VERIFIED"). */
function enumName<T extends string>(names: Record<number, string>, value: number, prefix: string): T {
  return (names[value] ?? `${prefix}UNSPECIFIED`).slice(prefix.length) as T;
}

const optional = (value: string): string | undefined => value || undefined;

/** A required field the server always sets. */
function present<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`the server sent no ${what}`);
  return value;
}

export function toRecord(message: pb.DocumentRecord | undefined): DocumentRecord {
  const record = present(message, "record");
  return Object.freeze({
    id: record.id,
    artifactId: record.artifactId,
    sourceUrl: record.sourceUrl,
    resolver: record.resolver,
    contentType: optional(record.contentType),
    bytes: record.bytes,
    sha256: optional(record.sha256),
    storageUri: optional(record.storageUri),
    createdAt: present(record.createdAt, "created_at"),
    updatedAt: present(record.updatedAt, "updated_at"),
    runId: optional(record.runId),
  });
}

export function toRegisterOutcome(message: pb.RegisterOrGetResponse): RegisterOutcome {
  const { created, differingFields } = message;
  const record = toRecord(message.record);
  return Object.freeze({ ...record, record, created, differingFields });
}

export function toPutOutcome(message: pb.PutContentResponse): PutOutcome {
  const { created, differingFields, deduplicated } = message;
  const record = toRecord(message.record);
  return Object.freeze({ ...record, record, created, differingFields, deduplicated });
}

export function toDuplicateGroup(message: pb.FindDuplicatesResponse): DuplicateGroup {
  const { sha256, count, totalBytes } = message;
  return Object.freeze({ sha256, count, totalBytes, records: message.records.map(toRecord) });
}

export function toVerificationResult(message: pb.VerificationResult | undefined): VerificationResult {
  const result = present(message, "result");
  return Object.freeze({
    recordId: result.recordId,
    status: enumName<VerificationStatus>(pb.VerificationStatus, result.status, "VERIFICATION_STATUS_"),
    expectedSha256: optional(result.expectedSha256),
    actualSha256: optional(result.actualSha256),
    expectedBytes: result.expectedBytes,
    actualBytes: result.actualBytes,
    storageUri: optional(result.storageUri),
    message: result.message,
  });
}

export function toProviderHealth(message: pb.ProviderHealthResponse): ProviderHealth {
  const state = (value: pb.HealthState) => enumName<HealthState>(pb.HealthState, value, "HEALTH_STATE_");
  return Object.freeze({
    state: state(message.state),
    message: message.message,
    backends: message.backends.map((backend) => ({ ...backend, state: state(backend.state) })),
  });
}
