/** The size matrix (SPEC §3.1), generated from imajin's Python table (imaging/sizes.py). */

import {
  FAMILIES,
  type DerivativeName,
  type DerivativeSpec,
  type FamilyName,
  type FamilySpec,
  type Size,
} from "./generated/sizes.js";

export { FAMILIES, type DerivativeName, type DerivativeSpec, type FamilyName, type FamilySpec, type Size };

/** Every family name, in table order. */
export const FAMILY_NAMES: readonly FamilyName[] = FAMILIES.map((spec) => spec.name);

/** Every derivative of every family, in table order (names are unique across families). */
export const DERIVATIVES: readonly DerivativeSpec[] = FAMILIES.flatMap((spec) => spec.derivatives);

/** Every derivative name, in table order. */
export const DERIVATIVE_NAMES: readonly DerivativeName[] = DERIVATIVES.map((item) => item.name);

/** The family called `name`; a RangeError lists the known ones. */
export function family(name: string): FamilySpec {
  const found = FAMILIES.find((spec) => spec.name === name);
  if (found === undefined) {
    throw new RangeError(`Unknown image family ${JSON.stringify(name)}; known: ${FAMILY_NAMES.join(", ")}.`);
  }
  return found;
}

/** The derivative called `name` (its size and family); a RangeError lists the known ones. */
export function derivative(name: string): DerivativeSpec {
  const found = DERIVATIVES.find((item) => item.name === name);
  if (found === undefined) {
    throw new RangeError(`Unknown derivative ${JSON.stringify(name)}; known: ${DERIVATIVE_NAMES.join(", ")}.`);
  }
  return found;
}
