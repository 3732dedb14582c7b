/**
 * Types of the profile endpoints (SPEC §6.2). Every shape the server sends or
 * reads is an alias of the generated schema (schema.d.ts), so it cannot drift
 * from the server; only {@link Selfie}, what the client uploads, is its own.
 */

import type { components } from "./schema.js";

type Schemas = components["schemas"];

export type ProfileGenerateRequest = Schemas["ProfileGenerateRequest"];
export type ProfileStyle = NonNullable<ProfileGenerateRequest["style"]>;

/** A selfie to upload: a Blob or File (JPEG, PNG or WebP), or bytes with a file name. */
export type Selfie = Blob | { data: Blob; filename: string };

export type FaceBox = Schemas["FaceBox"];
/** The face found: `box` is null when none was (the whole image was used). */
export type Face = Schemas["FaceReport"];

/** `POST /v1/profile/analyze`: `features` is null when the server has no vision model. */
export type ProfileAnalysis = Schemas["ProfileAnalyzeResponse"];
/** Features the vision model read (the feature schema is server configuration). */
export type ProfileFeatures = NonNullable<ProfileAnalysis["features"]>;
/** `POST /v1/profile/create`: the avatar, the features and the face it was drawn from. */
export type ProfileCreated = Schemas["ProfileCreateResponse"];
/** `POST /v1/profile/generate`: an avatar from features already extracted. */
export type ProfileGenerated = Schemas["ProfileGenerateResponse"];
