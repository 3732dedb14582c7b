/**
 * Types of the profile endpoints, written from SPEC §6.2 (the request and
 * answer shapes are part of the contract), with the keys the server adds marked
 * optional, for servers whose OpenAPI document does not describe them yet.
 */

export type ProfileStyle = "photorealistic" | "anime";

/** A selfie to upload: a Blob or File (JPEG, PNG or WebP), or bytes with a file name. */
export type Selfie = Blob | { data: Blob; filename: string };

export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Face {
  detected: boolean;
  /** Null when no face was found (the whole image was used). */
  box: FaceBox | null;
  /** 0–1, from detection confidence, face size, sharpness and exposure. */
  quality_score: number;
  /** How many faces were found; the largest is the one used. */
  faces_found?: number;
}

/** Features the vision model read (the feature schema is server configuration). */
export type ProfileFeatures = Record<string, unknown>;

/** Keys every profile answer may carry. */
interface ProfileJob {
  job_id?: string;
  /** Set when the server keeps selfies: remove one with `profile.deleteSelfie`. */
  selfie_id?: string | null;
}

export interface ProfileAnalysis extends ProfileJob {
  /** Null when the server has no vision model (`message` says why). */
  features: ProfileFeatures | null;
  face: Face;
  message?: string | null;
}

export interface ProfileCreated extends ProfileJob {
  image_base64: string;
  prompt_used: string;
  features: ProfileFeatures;
  face: Face;
  seed?: number;
}

export interface ProfileGenerateRequest {
  features: ProfileFeatures;
  style?: ProfileStyle;
  seed?: number;
}

export interface ProfileGenerated extends ProfileJob {
  image_base64: string;
  prompt_used: string;
  seed: number;
}
