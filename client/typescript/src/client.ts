/** `CatalogClient`: the catalog's RPCs as async methods over one gRPC channel. */
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import type { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";

import {
  type CallOptions,
  type ChannelOptions,
  type ClientReadableStream,
  type ClientUnaryCall,
  credentials,
  Metadata,
  type ServiceError,
} from "@grpc/grpc-js";

import { catalogError } from "./errors.js";
import * as pb from "./generated/docstokg/catalog/v1/catalog.js";
import {
  type HealthCheckResponse,
  HealthCheckResponse_ServingStatus,
  HealthClient,
} from "./generated/grpc/health/v1/health.js";
import {
  type AuditFinding,
  type AuditProgress,
  type AuditSummary,
  type ContentHeader,
  type ContentInfo,
  type DeleteReport,
  type DocumentRecord,
  type DuplicateGroup,
  type NewDocument,
  type ProviderHealth,
  type PutOutcome,
  type RecordFilter,
  type RegisterOutcome,
  type RetentionReport,
  type Stats,
  type VerificationResult,
  type VerifySummary,
  toAuditFinding,
  toDeleteReport,
  toDuplicateGroup,
  toPutOutcome,
  toProviderHealth,
  toRecord,
  toRegisterOutcome,
  toRetentionReport,
  toVerificationResult,
} from "./models.js";

/** Bytes per upload message when uploading from a path. */
export const CHUNK_SIZE = 256 * 1024;
/** Largest response message accepted (a duplicate group with many records can be large). */
const MAX_RECEIVE_BYTES = 64 * 1024 * 1024;

export interface CatalogClientOptions {
  /** Sent as `authorization: Bearer <token>` on every call. */
  token?: string;
  /** Use TLS, trusting `rootCertificates` (PEM) or the system roots. */
  tls?: boolean;
  rootCertificates?: Buffer;
  /** The client's certificate chain and key (PEM), for a server that wants mutual TLS. */
  certChain?: Buffer;
  privateKey?: Buffer;
  /** Deadline of each unary call in milliseconds (default 30 s). */
  timeoutMs?: number;
  /** Deadline of streams and uploads in milliseconds (default: none). */
  streamTimeoutMs?: number;
  /** Extra gRPC channel options. */
  channelOptions?: ChannelOptions;
}

type Callback<T> = (error: ServiceError | null, response: T) => void;

/** The results of a `verifyAll` stream, one per verified record, in id order. */
export class VerifyAllRun implements AsyncIterable<VerificationResult> {
  /** Records matching the filter, once the stream has started. */
  matchingRecords: number | undefined;
  /** The totals, once the stream has ended. */
  summary: VerifySummary | undefined;

  constructor(private readonly events: AsyncIterable<pb.VerifyAllResponse>) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<VerificationResult> {
    for await (const event of this.events) {
      if (event.result) yield toVerificationResult(event.result);
      else if (event.started) this.matchingRecords = event.started.matchingRecords;
      else if (event.summary) this.summary = event.summary;
    }
  }
}

/**
 * The findings of an `auditStorage` stream, one per problem, as the server finds them. `records` is
 * set once the stream has started, `progress` holds the latest progress report while it runs, and
 * `summary` is set once it has ended.
 */
export class AuditStorageRun implements AsyncIterable<AuditFinding> {
  /** Records the audit is about to check, once the stream has started. */
  records: number | undefined;
  /** The latest progress report (every 1,000 records or objects). */
  progress: AuditProgress | undefined;
  /** The totals, once the stream has ended. */
  summary: AuditSummary | undefined;

  constructor(private readonly events: AsyncIterable<pb.AuditStorageResponse>) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<AuditFinding> {
    for await (const event of this.events) {
      if (event.finding) yield toAuditFinding(event.finding);
      else if (event.started) this.records = event.started.records;
      else if (event.progress) this.progress = event.progress;
      else if (event.summary) this.summary = event.summary;
    }
  }
}

/** A connection to a catalog server (`host:port`); call `close()` when done. */
export class CatalogClient {
  readonly #stub: pb.CatalogServiceClient;
  readonly #health: HealthClient;
  readonly #metadata = new Metadata();
  readonly #timeoutMs: number;
  readonly #streamTimeoutMs: number | undefined;

  constructor(target: string, options: CatalogClientOptions = {}) {
    if ((options.certChain === undefined) !== (options.privateKey === undefined)) {
      throw new Error("give both certChain and privateKey, or neither");
    }
    const channelCredentials = options.tls
      ? credentials.createSsl(options.rootCertificates, options.privateKey, options.certChain)
      : credentials.createInsecure();
    this.#stub = new pb.CatalogServiceClient(target, channelCredentials, {
      "grpc.max_receive_message_length": MAX_RECEIVE_BYTES,
      ...options.channelOptions,
    });
    this.#health = new HealthClient(target, channelCredentials, { channelOverride: this.#stub.getChannel() });
    if (options.token) this.#metadata.set("authorization", `Bearer ${options.token}`);
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#streamTimeoutMs = options.streamTimeoutMs;
  }

  /** Closes the channel; calls in flight are cancelled. */
  close(): void {
    this.#stub.close();
  }

  #options(stream = false): Partial<CallOptions> {
    const timeout = stream ? this.#streamTimeoutMs : this.#timeoutMs;
    return timeout === undefined ? {} : { deadline: Date.now() + timeout };
  }

  #unary<T>(
    start: (metadata: Metadata, options: Partial<CallOptions>, done: Callback<T>) => ClientUnaryCall,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      start(this.#metadata, this.#options(), (error, response) =>
        error ? reject(catalogError(error)) : resolve(response),
      );
    });
  }

  /** Yields a server stream's messages; the call is cancelled when the consumer stops early. */
  async *#stream<T>(
    start: (metadata: Metadata, options: Partial<CallOptions>) => ClientReadableStream<T>,
  ): AsyncGenerator<T> {
    const call = start(this.#metadata, this.#options(true));
    try {
      for await (const message of call) yield message as T;
    } catch (error) {
      throw catalogError(error);
    } finally {
      call.cancel();
    }
  }

  /** Registers a document, or returns the record stored under its key with `created` false. */
  async registerOrGet(document: NewDocument): Promise<RegisterOutcome> {
    const request = { document: pb.NewDocument.fromPartial(document) };
    return toRegisterOutcome(
      await this.#unary<pb.RegisterOrGetResponse>((m, o, done) => this.#stub.registerOrGet(request, m, o, done)),
    );
  }

  /** Registers up to the server's batch limit (1000 by default) in one transaction, in order. */
  async registerOrGetBatch(documents: readonly NewDocument[]): Promise<RegisterOutcome[]> {
    const request = { documents: documents.map((document) => pb.NewDocument.fromPartial(document)) };
    const response = await this.#unary<pb.RegisterOrGetBatchResponse>((m, o, done) =>
      this.#stub.registerOrGetBatch(request, m, o, done),
    );
    return response.results.map(toRegisterOutcome);
  }

  /** The record with this id; throws `NotFound` if there is none. */
  async getRecord(id: number): Promise<DocumentRecord> {
    return toRecord(
      (await this.#unary<pb.GetRecordResponse>((m, o, done) => this.#stub.getRecord({ id }, m, o, done))).record,
    );
  }

  /** Every record of an artifact, newest first. */
  async getByArtifact(artifactId: string): Promise<DocumentRecord[]> {
    const response = await this.#unary<pb.GetByArtifactResponse>((m, o, done) =>
      this.#stub.getByArtifact({ artifactId }, m, o, done),
    );
    return response.records.map(toRecord);
  }

  /** Every record with this content hash, newest first. */
  async getBySha256(sha256: string): Promise<DocumentRecord[]> {
    const response = await this.#unary<pb.GetBySha256Response>((m, o, done) =>
      this.#stub.getBySha256({ sha256 }, m, o, done),
    );
    return response.records.map(toRecord);
  }

  /** Every record fetched by a pipeline run, newest first. */
  async getByRun(runId: string): Promise<DocumentRecord[]> {
    const response = await this.#unary<pb.GetByRunResponse>((m, o, done) => this.#stub.getByRun({ runId }, m, o, done));
    return response.records.map(toRecord);
  }

  /** Streams the records matching the filter (all of them without one), by id. */
  async *listRecords(filter: RecordFilter = {}): AsyncGenerator<DocumentRecord> {
    const request = { filter: pb.RecordFilter.fromPartial(filter) };
    for await (const message of this.#stream((m, o) => this.#stub.listRecords(request, m, o))) {
      yield toRecord(message.record);
    }
  }

  /**
   * Streams groups of at least `minCount` (2) records sharing a sha256, largest first; at most `limit`
   * groups (0, the default: every group).
   */
  async *findDuplicates(
    options: { minCount?: number; includeRecords?: boolean; limit?: number } = {},
  ): AsyncGenerator<DuplicateGroup> {
    const request = {
      minCount: options.minCount ?? 2,
      includeRecords: options.includeRecords ?? false,
      limit: options.limit ?? 0,
    };
    for await (const message of this.#stream((m, o) => this.#stub.findDuplicates(request, m, o))) {
      yield toDuplicateGroup(message);
    }
  }

  /** Re-hashes the stored bytes of one record. */
  async verify(recordId: number): Promise<VerificationResult> {
    return toVerificationResult(
      (await this.#unary<pb.VerifyResponse>((m, o, done) => this.#stub.verify({ recordId }, m, o, done))).result,
    );
  }

  /**
   * Verifies every record matching the filter (a deterministic sample when `sampleRate` < 1), with
   * `concurrency` records at once (0: the server's default). Iterate the run for the results.
   */
  verifyAll(options: RecordFilter & { sampleRate?: number; concurrency?: number } = {}): VerifyAllRun {
    const { sampleRate = 1, concurrency = 0, ...filter } = options;
    const request = { filter: pb.RecordFilter.fromPartial(filter), sampleRate, concurrency };
    return new VerifyAllRun(this.#stream((m, o) => this.#stub.verifyAll(request, m, o)));
  }

  /**
   * Uploads a file (a path or a Readable of Buffers) in chunks; the server hashes and stores the
   * bytes content-addressed, then registers them. An upload that fails before its end stores nothing.
   */
  async putContent(source: string | Readable, header: ContentHeader): Promise<PutOutcome> {
    let call!: ReturnType<pb.CatalogServiceClient["putContent"]>;
    const response = new Promise<pb.PutContentResponse>((resolve, reject) => {
      call = this.#stub.putContent(this.#metadata, this.#options(true), (error, value) =>
        error ? reject(catalogError(error)) : resolve(value),
      );
    });
    response.catch(() => {}); // awaited below; an early rejection must not count as unhandled
    const input = typeof source === "string" ? createReadStream(source, { highWaterMark: CHUNK_SIZE }) : source;
    try {
      call.write({ header: pb.PutContentHeader.fromPartial(header) });
      for await (const chunk of input) {
        if (!call.write({ chunk })) await Promise.race([once(call, "drain"), response]);
      }
      call.end({ finish: {} });
    } catch (error) {
      call.cancel();
      throw catalogError(error);
    }
    return toPutOutcome(await response);
  }

  /**
   * Streams the stored bytes of a record or of a sha256 into `dest`: a path (created only once the
   * server has found the bytes) or a Writable (left open). `offset` and `length` (0: to the end)
   * select a range.
   */
  async getContent(
    dest: string | Writable,
    selector: { recordId?: number; sha256?: string; offset?: number; length?: number },
  ): Promise<ContentInfo> {
    const { recordId, sha256, offset = 0, length = 0 } = selector;
    if ((recordId === undefined) === (sha256 === undefined)) {
      throw new TypeError("pass exactly one of recordId and sha256");
    }
    const messages = this.#stream((m, o) => this.#stub.getContent({ recordId, sha256, offset, length }, m, o));
    try {
      const info = (await messages.next()).value?.info;
      if (!info) throw new Error("the server sent no content info");
      const chunks = async function* () {
        for await (const message of messages) if (message.chunk) yield message.chunk;
      };
      const sink = typeof dest === "string" ? createWriteStream(dest) : dest;
      await pipeline(chunks, sink, { end: typeof dest === "string" });
      return info;
    } finally {
      await messages.return(undefined);
    }
  }

  /**
   * Imports complete records (as `listRecords` yields them, timestamps included) in one transaction,
   * idempotent on the key; with `keepIds` each keeps its id where it is free. For restoring an export.
   */
  async importRecords(
    records: readonly DocumentRecord[],
    options: { keepIds?: boolean } = {},
  ): Promise<RegisterOutcome[]> {
    const request = {
      records: records.map((record) => pb.DocumentRecord.fromPartial(record)),
      keepIds: options.keepIds ?? false,
    };
    const response = await this.#unary<pb.ImportRecordsResponse>((m, o, done) =>
      this.#stub.importRecords(request, m, o, done),
    );
    return response.results.map(toRegisterOutcome);
  }

  /**
   * Deletes the records with these `ids` (at most the server's batch limit, 1000 by default), or every
   * record matching the filter fields: one or the other, and at least one filter field without ids
   * (`InvalidArgument` otherwise, naming `filter`). Idempotent: ids already gone are not an error, and
   * `matched` counts only the records that existed. With `dryRun` nothing is deleted and the report
   * says what would be. The bytes stay until the server's garbage collection; a deleted key can be
   * registered again (under a new id). A write: a read-only token gets `PermissionDenied`.
   */
  async deleteRecords(options: RecordFilter & { ids?: readonly number[]; dryRun?: boolean }): Promise<DeleteReport> {
    const { ids = [], dryRun = false, ...filter } = options;
    // The filter goes only when one is given, so that ids alone are not "ids and a filter".
    const given = Object.values(filter).some((value) => value !== undefined);
    const request = { ids: [...ids], filter: given ? pb.RecordFilter.fromPartial(filter) : undefined, dryRun };
    return toDeleteReport(
      await this.#unary<pb.DeleteRecordsResponse>((m, o, done) => this.#stub.deleteRecords(request, m, o, done)),
    );
  }

  /**
   * Applies the retention rules of the server's configuration (DOCSTOKG_RETENTION_RULES), or with
   * `dryRun` reports what they would delete: one report per rule, none when no rule is configured.
   * A write: a read-only token gets `PermissionDenied`.
   */
  async applyRetention(options: { dryRun?: boolean } = {}): Promise<RetentionReport> {
    const request = { dryRun: options.dryRun ?? false };
    return toRetentionReport(
      await this.#unary<pb.ApplyRetentionResponse>((m, o, done) => this.#stub.applyRetention(request, m, o, done)),
    );
  }

  /**
   * Audits every record against the stored objects, and the objects against the records: iterate the
   * run for the findings (orphans, missing, mismatched and out-of-scope bytes); its `summary` holds the
   * totals once it has ended. Sizes are always compared; a deterministic `rehashRate` share of records
   * (in [0, 1], default 0) is also re-hashed.
   */
  auditStorage(options: { rehashRate?: number } = {}): AuditStorageRun {
    const request = { rehashRate: options.rehashRate ?? 0 };
    return new AuditStorageRun(this.#stream((m, o) => this.#stub.auditStorage(request, m, o)));
  }

  /** Counts and sizes of the catalog and its storage backends. */
  async stats(): Promise<Stats> {
    return this.#unary<pb.StatsResponse>((m, o, done) => this.#stub.stats({}, m, o, done));
  }

  /** The health of each backend of the server's provider, with probe latency. */
  async providerHealth(): Promise<ProviderHealth> {
    return toProviderHealth(
      await this.#unary<pb.ProviderHealthResponse>((m, o, done) => this.#stub.providerHealth({}, m, o, done)),
    );
  }

  /** Whether `grpc.health.v1` reports `service` ("": the whole server) as SERVING. Needs no token. */
  async healthCheck(service = ""): Promise<boolean> {
    const response = await this.#unary<HealthCheckResponse>((m, o, done) =>
      this.#health.check({ service }, m, o, done),
    );
    return response.status === HealthCheckResponse_ServingStatus.SERVING;
  }
}
