import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  buildNegativePrompt,
  DERIVATIVES,
  derivative,
  family,
  FAMILIES,
  hasLegalTerms,
  INDEXABLE_NEGATIVE_PROMPTS,
  LEGAL_SAFETY_TERMS,
  type ModelStyle,
  PLATFORM_NEGATIVE_PROMPTS,
  splitTerms,
} from "../src/index.js";
import { EXPECTED, NO_EXPECTED } from "./helpers.js";

describe("buildNegativePrompt gives what the Python builder gives", { skip: NO_EXPECTED }, () => {
  for (const [index, item] of (EXPECTED?.negative ?? []).entries()) {
    it(`case ${index}: ${item.model}/${item.mode} extra=${JSON.stringify(item.extraTerms)} override=${JSON.stringify(item.override)}`, () => {
      const built = buildNegativePrompt(item.model, item.mode, {
        extraTerms: item.extraTerms,
        override: item.override,
      });
      assert.equal(built, item.expected);
    });
  }

  it("pre-builds the same platform and indexable prompts per style", () => {
    assert.deepEqual({ ...PLATFORM_NEGATIVE_PROMPTS }, EXPECTED?.platform);
    assert.deepEqual({ ...INDEXABLE_NEGATIVE_PROMPTS }, EXPECTED?.indexable);
  });

  it("has the size matrix of the Python table", () => {
    const mine = DERIVATIVES.map(({ name, family, width, height }) => ({ name, family, width, height }));
    assert.deepEqual(mine, EXPECTED?.derivatives);
  });
});

describe("buildNegativePrompt", () => {
  it("keeps every legal term whatever the override", () => {
    const built = buildNegativePrompt("photorealistic", "platform", { override: "" });
    assert.equal(built, LEGAL_SAFETY_TERMS.join(", "));
    assert.ok(hasLegalTerms(buildNegativePrompt("anime", "indexable", { override: ["a", "b"] })));
    assert.equal(hasLegalTerms("blurry, child"), false);
  });

  it("refuses a model id where a style is asked, naming the field", () => {
    assert.throws(
      () => buildNegativePrompt("tiny-sd15" as ModelStyle),
      (error: unknown) => error instanceof RangeError && error.message.startsWith("`model` must be one of"),
    );
  });

  it("splits on commas and drops empty terms", () => {
    assert.deepEqual(splitTerms([" a ,b,, ", "c"]), ["a", "b", "c"]);
  });
});

describe("size matrix", () => {
  it("cuts every derivative from a master at least as large", () => {
    for (const spec of FAMILIES) {
      for (const item of spec.derivatives) {
        assert.ok(item.width <= spec.master.width && item.height <= spec.master.height, item.name);
      }
    }
  });

  it("looks up by name and lists the known names on a miss", () => {
    assert.deepEqual(family("og").master, { width: 1200, height: 675 });
    assert.equal(derivative("icon").width, 256);
    assert.throws(() => derivative("nope"), /known: square, square-sm/);
  });
});
