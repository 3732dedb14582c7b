/**
 * @imajin/client: a typed, dependency-free client for the imajin platform.
 *
 * - {@link ImajinClient}: the HTTP API (assistant, variations, studio, jobs, gateway,
 *   profile) and its server-sent events;
 * - {@link buildNegativePrompt} and the size matrix ({@link FAMILIES}), generated
 *   from the same data files the server reads.
 */

export * from "./client.js";
export { ApiError, type ErrorDetail } from "./errors.js";
export * from "./negative.js";
export type * from "./profile.js";
export type { components, operations, paths } from "./schema.js";
export * from "./sizes.js";
export { parseEventStream, type ServerEvent, serverEvents, TERMINAL_JOB_EVENTS } from "./sse.js";
