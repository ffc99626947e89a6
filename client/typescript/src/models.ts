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

/** Filters of `listRecords`, `verifyAll` and `deleteRecords`; each one left out matches everything. */
export interface RecordFilter {
  runId?: string;
  resolver?: string;
  contentType?: string;
  createdAfter?: Date;
  createdBefore?: Date;
  artifactId?: string;
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

/** One registered document. Records are immutable once created (they can be deleted). */
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

/**
 * Counts and sizes of the catalog and its storage backends, with what content addressing saves:
 * `hashedBytes` (sizes of the records with a sha256), `uniqueBytes` (one size per distinct sha256),
 * `dedupSavedBytes` (their difference), `dedupRatio` (their quotient; 0 on an empty catalog) and
 * `duplicateGroupsByResolver` (duplicate groups holding a record of each resolver).
 */
export type Stats = Readonly<pb.StatsResponse>;

/**
 * What `deleteRecords` matched and deleted. `matched` counts the records that existed (ids already
 * gone are not an error) or matched the filter; `deleted` is 0 on a dry run, and less than `matched`
 * when another call deleted some first. `ids` lists the ids deleted (on a dry run, that would be),
 * ascending, at most 10,000; `idsTruncated` says there were more.
 */
export interface DeleteReport {
  readonly matched: number;
  readonly deleted: number;
  readonly ids: readonly number[];
  readonly idsTruncated: boolean;
}

/** What one configured retention rule selected (`matched`, `matchedBytes`) and deleted (0 on a dry run). */
export type RetentionRuleReport = Readonly<pb.RetentionRuleReport>;

/**
 * One report per retention rule of the server's configuration, in configuration order (none when no
 * rule is configured); `dryRun` when nothing was deleted because it was asked.
 */
export interface RetentionReport {
  readonly rules: readonly RetentionRuleReport[];
  readonly dryRun: boolean;
}

/**
 * What kind of problem an audit found: a stored object no record references (ORPHAN), a record whose
 * bytes are absent (MISSING) or differ in size or, when re-hashed, in sha256 (MISMATCH), or a record
 * whose storageUri points outside the provider's storage (OUT_OF_SCOPE).
 */
export type AuditFindingKind = "UNSPECIFIED" | "ORPHAN" | "MISSING" | "MISMATCH" | "OUT_OF_SCOPE";

/** One problem `auditStorage` found: the record (`recordId` 0 for an orphan) or the stored object. */
export interface AuditFinding {
  readonly kind: AuditFindingKind;
  readonly recordId: number;
  readonly sha256: string | undefined;
  readonly storageUri: string | undefined;
  readonly bytes: number;
  readonly message: string;
}

/** How far an audit has come (records, then stored objects); sent every 1,000 records or objects. */
export type AuditProgress = Readonly<pb.AuditProgress>;

/** Totals of an `auditStorage` run: what it checked and re-hashed, and the findings of each kind. */
export type AuditSummary = Readonly<pb.AuditSummary>;

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

export function toDeleteReport(message: pb.DeleteRecordsResponse): DeleteReport {
  const { matched, deleted, idsTruncated } = message;
  return Object.freeze({ matched, deleted, ids: Object.freeze([...message.ids]), idsTruncated });
}

export function toRetentionReport(message: pb.ApplyRetentionResponse): RetentionReport {
  const rules = message.rules.map((rule) => Object.freeze({ ...rule }));
  return Object.freeze({ rules: Object.freeze(rules), dryRun: message.dryRun });
}

export function toAuditFinding(message: pb.AuditFinding): AuditFinding {
  return Object.freeze({
    kind: enumName<AuditFindingKind>(pb.AuditFindingKind, message.kind, "AUDIT_FINDING_KIND_"),
    recordId: message.recordId,
    sha256: optional(message.sha256),
    storageUri: optional(message.storageUri),
    bytes: message.bytes,
    message: message.message,
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
