/** What the tests read from the harness (tests/clients/test_typescript_client.py). */

import { readFileSync } from "node:fs";

/** The live `imajin serve` to test against, and its API key (`IMAJIN_URL`, `IMAJIN_API_KEY`). */
export const SERVER = process.env.IMAJIN_URL;
export const API_KEY = process.env.IMAJIN_API_KEY;
export const NO_SERVER = SERVER
  ? false
  : "IMAJIN_URL is not set: run these through `pytest tests/clients/test_typescript_client.py`";

/** A portrait to upload as a selfie (`IMAJIN_SELFIE`, a JPEG file the harness writes). */
export const SELFIE: Uint8Array<ArrayBuffer> | null = process.env.IMAJIN_SELFIE
  ? new Uint8Array(readFileSync(process.env.IMAJIN_SELFIE))
  : null;
export const NO_SELFIE = SELFIE ? false : "IMAJIN_SELFIE is not set: the harness writes a portrait there";

export interface NegativeCase {
  model: "photorealistic" | "anime";
  mode: "platform" | "indexable";
  extraTerms: string | string[];
  override: string | string[] | null;
  expected: string;
}

export interface Expected {
  negative: NegativeCase[];
  platform: Record<string, string>;
  indexable: Record<string, string>;
  derivatives: { name: string; family: string; width: number; height: number }[];
}

/** What the Python code answers (`IMAJIN_EXPECTED`, a JSON file the harness writes). */
export const EXPECTED: Expected | null = process.env.IMAJIN_EXPECTED
  ? (JSON.parse(readFileSync(process.env.IMAJIN_EXPECTED, "utf-8")) as Expected)
  : null;
export const NO_EXPECTED = EXPECTED
  ? false
  : "IMAJIN_EXPECTED is not set: the harness writes the Python answers there";
