/** Errors the client throws for an answer that is not a success. */

/** The `error` object of every imajin error answer (`{"error": {...}}`). */
export interface ErrorDetail {
  code: string;
  message: string;
  field?: string | null;
  requestId?: string | null;
  /** Some codes add keys (`retryAfter`, `reason`, `details`). */
  [key: string]: unknown;
}

/**
 * An HTTP answer of 400 or above. `code` is stable and machine-readable
 * (`not_found`, `queue_full`, `validation_error`...); `field` names the request
 * field at fault when there is one; `message` says how to fix it.
 */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: number;
  readonly code: string;
  readonly field: string | null;
  readonly requestId: string | null;
  /** Seconds to wait before retrying (429 answers), from `Retry-After`. */
  readonly retryAfter: number | null;
  /** The whole `error` object, extra keys included (or null when the body was not one). */
  readonly detail: ErrorDetail | null;

  constructor(
    status: number,
    detail: ErrorDetail | null,
    options: { message?: string; retryAfter?: number | null } = {},
  ) {
    super(detail?.message ?? options.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = detail?.code ?? `http_${status}`;
    this.field = detail?.field ?? null;
    this.requestId = detail?.requestId ?? null;
    this.retryAfter = options.retryAfter ?? null;
    this.detail = detail;
  }

  /** The error of a failed `response`, read from its body. */
  static async fromResponse(response: Response): Promise<ApiError> {
    const text = await response.text();
    const header = response.headers.get("Retry-After");
    const retryAfter = header !== null && /^\d+$/.test(header) ? Number(header) : null;
    return new ApiError(response.status, errorDetail(text), {
      message: text.trim() || `HTTP ${response.status} ${response.statusText}`,
      retryAfter,
    });
  }
}

function errorDetail(text: string): ErrorDetail | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null; // not our envelope: a proxy's page, say
  }
  if (typeof body !== "object" || body === null) return null;
  const error = (body as { error?: unknown }).error;
  if (typeof error !== "object" || error === null) return null;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return typeof code === "string" && typeof message === "string" ? (error as ErrorDetail) : null;
}
