/** TypeScript client of the DocsToKG Catalog gRPC service. */
export { CatalogClient, type CatalogClientOptions, CHUNK_SIZE, VerifyAllRun } from "./client.js";
export {
  CatalogError,
  DeadlineExceeded,
  FailedPrecondition,
  Internal,
  InvalidArgument,
  NotFound,
  PermissionDenied,
  ResourceExhausted,
  Unauthenticated,
  Unavailable,
} from "./errors.js";
export type {
  ContentHeader,
  ContentInfo,
  DocumentRecord,
  DuplicateGroup,
  HealthState,
  NewDocument,
  ProviderHealth,
  PutOutcome,
  RecordFilter,
  RegisterOutcome,
  Stats,
  VerificationResult,
  VerificationStatus,
  VerifySummary,
} from "./models.js";
