/**
 * The negative prompt builder (SPEC §1.2), the same rules as imajin's Python
 * `build_negative_prompt` over the same term groups (generated from terms.yaml).
 * Every negative prompt ends with the legal safety terms: an `override` replaces
 * only the quality and mode terms, and no option removes them.
 */

import {
  ANIME_QUALITY_EXTRAS,
  INDEXABLE_TERMS,
  LEGAL_SAFETY_TERMS,
  MODEL_STYLES,
  NEGATIVE_MODES,
  QUALITY_TERMS,
  type ModelStyle,
  type NegativeMode,
} from "./generated/negativeTerms.js";

export {
  ANIME_QUALITY_EXTRAS,
  INDEXABLE_TERMS,
  LEGAL_SAFETY_TERMS,
  MODEL_STYLES,
  NEGATIVE_MODES,
  QUALITY_TERMS,
  type ModelStyle,
  type NegativeMode,
};

export interface NegativePromptOptions {
  /** Terms to add after the base terms; a string is split on commas. */
  extraTerms?: string | Iterable<string>;
  /** Replaces the quality and mode terms (never the legal ones); a string is split on commas. */
  override?: string | Iterable<string> | null;
}

// Python's str.isspace() set, so strip() and split() match the server's exactly.
const SPACE = "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const EDGES = new RegExp(`^[${SPACE}]+|[${SPACE}]+$`, "g");
const RUNS = new RegExp(`[${SPACE}]+`);

/** Split a comma-separated string, or each string of an iterable, into trimmed, non-empty terms. */
export function splitTerms(terms: string | Iterable<string>): string[] {
  const chunks = typeof terms === "string" ? [terms] : [...terms];
  return chunks.flatMap((chunk) =>
    chunk
      .split(",")
      .map((term) => term.replace(EDGES, ""))
      .filter((term) => term !== ""),
  );
}

// Python's casefold() for de-duplication; upper then lower folds ß, ﬁ, final sigma alike.
function key(term: string): string {
  return term
    .toUpperCase()
    .toLowerCase()
    .split(RUNS)
    .filter((word) => word !== "")
    .join(" ");
}

function checked<T extends string>(value: string, known: readonly T[], field: string): T {
  if ((known as readonly string[]).includes(value)) return value as T;
  throw new RangeError(
    `\`${field}\` must be one of ${known.join(", ")}; got ${JSON.stringify(value)}.`,
  );
}

/**
 * Build a negative prompt: one comma-separated string, terms de-duplicated
 * case-insensitively (the first spelling kept), in a stable order: the quality
 * terms (plus the anime extras for anime models, plus the indexable terms in
 * `indexable` mode) or `override` in their place, then `extraTerms`, then the
 * legal safety terms, always.
 *
 * @throws RangeError when `model` is not a model style or `mode` not a mode.
 */
export function buildNegativePrompt(
  model: ModelStyle,
  mode: NegativeMode = "platform",
  options: NegativePromptOptions = {},
): string {
  const style = checked(model, MODEL_STYLES, "model");
  const resolvedMode = checked(mode, NEGATIVE_MODES, "mode");
  let base: readonly string[];
  if (options.override !== undefined && options.override !== null) {
    base = splitTerms(options.override);
  } else {
    base = [
      ...QUALITY_TERMS,
      ...(style === "anime" ? ANIME_QUALITY_EXTRAS : []),
      ...(resolvedMode === "indexable" ? INDEXABLE_TERMS : []),
    ];
  }
  const extras = splitTerms(options.extraTerms ?? []);
  const seen = new Set<string>();
  const unique: string[] = [];
  for (const term of [...base, ...extras, ...LEGAL_SAFETY_TERMS]) {
    const folded = key(term);
    if (!seen.has(folded)) {
      seen.add(folded);
      unique.push(term);
    }
  }
  return unique.join(", ");
}

function perStyle(mode: NegativeMode): Readonly<Record<ModelStyle, string>> {
  const entries = MODEL_STYLES.map((style) => [style, buildNegativePrompt(style, mode)]);
  return Object.freeze(Object.fromEntries(entries) as Record<ModelStyle, string>);
}

/** The platform negative prompt per model style. */
export const PLATFORM_NEGATIVE_PROMPTS = perStyle("platform");
/** The indexable (SafeSearch-clean) negative prompt per model style. */
export const INDEXABLE_NEGATIVE_PROMPTS = perStyle("indexable");

/** True when `negative` holds every legal safety term (case and spacing aside). */
export function hasLegalTerms(negative: string): boolean {
  const present = new Set(splitTerms(negative).map(key));
  return LEGAL_SAFETY_TERMS.every((term) => present.has(key(term)));
}
