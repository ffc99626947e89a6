/**
 * The errors the client throws: one class per gRPC status code the catalog uses. Each carries the
 * status `code`, the server's `details` and, when the server attached a `google.rpc.BadRequest`,
 * the `field` it names (for example "artifact_id").
 */
import { type Metadata, type ServiceError, status } from "@grpc/grpc-js";

import { BadRequest } from "./generated/google/rpc/error_details.js";
import { Status } from "./generated/google/rpc/status.js";

const BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest";

/** A failed catalog call. */
export class CatalogError extends Error {
  constructor(
    readonly code: status,
    readonly details: string,
    readonly field: string | undefined = undefined,
  ) {
    super(`${status[code]}: ${details}`);
    this.name = new.target.name;
  }
}

/** Bad input; `field` names the offending request field. */
export class InvalidArgument extends CatalogError {}
/** Unknown record id or content hash. */
export class NotFound extends CatalogError {}
/** The request cannot apply to the record as it is (e.g. its bytes live elsewhere). */
export class FailedPrecondition extends CatalogError {}
/** A size limit was exceeded or the server is overloaded. */
export class ResourceExhausted extends CatalogError {}
/** The server, its database or its object store is unreachable: retrying may succeed. */
export class Unavailable extends CatalogError {}
/** The call did not finish within its deadline. */
export class DeadlineExceeded extends CatalogError {}
/** Missing or wrong bearer token. */
export class Unauthenticated extends CatalogError {}
/** The caller may not make this call. */
export class PermissionDenied extends CatalogError {}
/** A server bug. */
export class Internal extends CatalogError {}

const BY_CODE = new Map<status, typeof CatalogError>([
  [status.INVALID_ARGUMENT, InvalidArgument],
  [status.NOT_FOUND, NotFound],
  [status.FAILED_PRECONDITION, FailedPrecondition],
  [status.RESOURCE_EXHAUSTED, ResourceExhausted],
  [status.UNAVAILABLE, Unavailable],
  [status.DEADLINE_EXCEEDED, DeadlineExceeded],
  [status.UNAUTHENTICATED, Unauthenticated],
  [status.PERMISSION_DENIED, PermissionDenied],
  [status.INTERNAL, Internal],
]);

/** The first field named by a `google.rpc.BadRequest` in the trailing metadata. */
function badRequestField(metadata: Metadata | undefined): string | undefined {
  for (const value of metadata?.get("grpc-status-details-bin") ?? []) {
    if (typeof value === "string") continue;
    for (const detail of Status.decode(value).details) {
      if (detail.typeUrl === BAD_REQUEST_TYPE) {
        return BadRequest.decode(detail.value).fieldViolations[0]?.field;
      }
    }
  }
  return undefined;
}

function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as Partial<ServiceError>).code === "number";
}

/** Converts a failed gRPC call into the matching `CatalogError` subclass; other errors pass. */
export function catalogError(error: unknown): unknown {
  if (error instanceof CatalogError || !isServiceError(error)) return error;
  const Kind = BY_CODE.get(error.code) ?? CatalogError;
  return new Kind(error.code, error.details, badRequestField(error.metadata));
}
