"""SPEC §4.3 rules 1 and 6, checked statically: scan source and data files for violations.

:func:`scan_tree` reads every file under a folder (the assistant package, in the
test that guards it) and reports:

- in Python: string literals with rule-1 text (see
  :data:`~imajin.assistant.rule_one.TEXT_RULES`), literal string-to-string
  mappings, literal string lists bound to a name that says it holds terms, and
  code that decides by the spelling of a variable named for a term, filter,
  category, keyword, tag or culture (comparisons with literals or literal
  tables, ``match``, look-ups, ``startswith`` and kin);
- in YAML: the same text checks on every string, mappings whose values are all
  short strings, and lists of short strings (outside ``permutations``, which hold a
  pipeline's generation data and classify nothing);
- in any other text file: the text checks, line by line.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import yaml
from yaml.resolver import BaseResolver

from imajin.assistant.rule_one import Finding, find_in_text

__all__ = ["scan_file", "scan_tree"]

# A variable whose name has one of these parts holds terms a caller sent, so branching
# on its spelling is a classification rule.
_TERM_PART = re.compile(r"(?i)terms?|filters?|categor(?:y|ies)|keywords?|tags?|cultures?|cultural")
_IDENTIFIER_PARTS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z0-9]+(?![a-z])")
_STRING_METHODS = frozenset({"startswith", "endswith", "find", "index", "count"})
_COLLECTION_CALLS = frozenset({"frozenset", "set", "tuple", "list"})
_LIST_MINIMUM = 4  # a literal collection of this many strings is a term list
_MAPPING_MINIMUM = 3  # a literal mapping with this many string pairs is a term mapping
_SHORT_WORDS = 4  # a YAML string of at most this many words reads as a term
_DATA_KEYS = frozenset({"permutations"})
_TEXT_SUFFIXES = frozenset({".md", ".txt", ".json", ".jinja", ".j2", ".toml", ".cfg"})


def scan_tree(root: Path) -> list[Finding]:
    """Every rule-1 finding in the files under ``root`` (caches and bytecode skipped)."""
    findings: list[Finding] = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            findings += scan_file(path, where=str(path.relative_to(root)))
    return findings


def scan_file(path: Path, *, where: str | None = None) -> list[Finding]:
    """Every rule-1 finding in one file, by its suffix; unknown binary types are skipped."""
    where = where or str(path)
    suffix = path.suffix.lower()
    if suffix == ".py":
        return _scan_python(path.read_text(encoding="utf-8"), where)
    if suffix in (".yaml", ".yml"):
        return _scan_yaml(path.read_text(encoding="utf-8"), where)
    if suffix in _TEXT_SUFFIXES:
        lines = path.read_text(encoding="utf-8").splitlines()
        return [
            f for no, line in enumerate(lines, 1) for f in find_in_text(line, where=f"{where}:{no}")
        ]
    return []


# -- Python --------------------------------------------------------------------------------


def _scan_python(source: str, where: str) -> list[Finding]:
    tree = ast.parse(source, filename=where)
    tables = _string_tables(tree)
    findings: list[Finding] = []
    for node in ast.walk(tree):
        at = f"{where}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            findings += find_in_text(node.value, where=at)
        elif isinstance(node, ast.Dict) and _is_string_mapping(node):
            findings.append(Finding("term_mapping_literal", at, _excerpt(node)))
        elif _names_term_list(node):
            findings.append(Finding("term_list_literal", at, _excerpt(node)))
        elif _branches_on_term(node, tables):
            findings.append(Finding("term_condition_code", at, _excerpt(node)))
    return findings


def _is_string(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _strings_in(node: ast.AST) -> int:
    """How many string literals a literal collection (or ``frozenset({...})`` and kin) holds."""
    if isinstance(node, ast.Call) and _name_of(node.func) in _COLLECTION_CALLS and node.args:
        node = node.args[0]
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return sum(1 for element in node.elts if _is_string(element))
    return 0


def _is_string_mapping(node: ast.Dict) -> bool:
    if len(node.keys) < _MAPPING_MINIMUM or not all(_is_string(key) for key in node.keys):
        return False
    return all(_is_string(value) or _strings_in(value) > 0 for value in node.values)


def _string_tables(tree: ast.AST) -> set[str]:
    """Names bound to literal string collections or string-keyed mappings."""
    tables: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            value = node.value
            keyed = isinstance(value, ast.Dict) and any(_is_string(key) for key in value.keys)
            if keyed or _strings_in(value) > 0:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                tables.update(_name_of(target) for target in targets)
    return tables - {""}


def _name_of(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _is_term_name(name: str) -> bool:
    return any(_TERM_PART.fullmatch(part) for part in _IDENTIFIER_PARTS.findall(name))


def _mentions_term(node: ast.AST) -> bool:
    return any(_is_term_name(_name_of(sub)) for sub in ast.walk(node))


def _names_term_list(node: ast.AST) -> bool:
    """A literal list of terms bound to a name that says it holds terms."""
    if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
        return False
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    named = any(_is_term_name(_name_of(target)) for target in targets)
    return named and _strings_in(node.value) >= _LIST_MINIMUM


def _holds_strings(node: ast.AST, tables: set[str]) -> bool:
    return _is_string(node) or _strings_in(node) > 0 or _name_of(node) in tables


def _branches_on_term(node: ast.AST, tables: set[str]) -> bool:
    """Code that decides by a term's spelling: compare, match, look up or test its text."""
    if isinstance(node, ast.Compare):
        sides = [node.left, *node.comparators]
        literal = [side for side in sides if _holds_strings(side, tables)]
        return bool(literal) and any(_mentions_term(s) for s in sides if s not in literal)
    if isinstance(node, ast.Match):
        matches_text = any(
            isinstance(sub, ast.MatchValue) and _is_string(sub.value)
            for case in node.cases
            for sub in ast.walk(case.pattern)
        )
        return matches_text and _mentions_term(node.subject)
    if isinstance(node, ast.Subscript):
        return _name_of(node.value) in tables and _mentions_term(node.slice)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        method, owner = node.func.attr, node.func.value
        if method == "get" and _name_of(owner) in tables:
            return any(_mentions_term(arg) for arg in node.args)
        if method in _STRING_METHODS and any(_holds_strings(a, tables) for a in node.args):
            return _mentions_term(owner)
    return False


def _excerpt(node: ast.AST) -> str:
    return " ".join(ast.unparse(node).split())[:80]


# -- YAML ----------------------------------------------------------------------------------


def _scan_yaml(text: str, where: str) -> list[Finding]:
    findings: list[Finding] = []
    for document in yaml.compose_all(text, Loader=yaml.SafeLoader):
        if document is not None:
            findings += _scan_node(document, where, data=False)
    return findings


def _scan_node(node: yaml.Node, where: str, *, data: bool) -> list[Finding]:
    at = f"{where}:{node.start_mark.line + 1}"
    if isinstance(node, yaml.ScalarNode):
        return find_in_text(str(node.value), where=at)
    findings: list[Finding] = []
    if isinstance(node, yaml.SequenceNode):
        if not data and sum(_is_short(item) for item in node.value) >= _LIST_MINIMUM:
            findings.append(Finding("term_list_data", at, _yaml_excerpt(node)))
        for item in node.value:
            findings += _scan_node(item, where, data=data)
    elif isinstance(node, yaml.MappingNode):
        pairs = node.value
        values = [value for _key, value in pairs]
        if (
            not data
            and len(pairs) >= _MAPPING_MINIMUM
            and all(_is_short_or_list(v) for v in values)
        ):
            findings.append(Finding("term_mapping_data", at, _yaml_excerpt(node)))
        for key, value in pairs:
            findings += _scan_node(key, where, data=data)
            inside = data or (isinstance(key, yaml.ScalarNode) and key.value in _DATA_KEYS)
            findings += _scan_node(value, where, data=inside)
    return findings


def _is_short(node: yaml.Node) -> bool:
    if not isinstance(node, yaml.ScalarNode) or node.tag != BaseResolver.DEFAULT_SCALAR_TAG:
        return False
    return "\n" not in node.value and len(node.value.split()) <= _SHORT_WORDS


def _is_short_or_list(node: yaml.Node) -> bool:
    if isinstance(node, yaml.SequenceNode):
        return bool(node.value) and all(_is_short(item) for item in node.value)
    return _is_short(node)


def _yaml_excerpt(node: yaml.Node) -> str:
    def words(sub: yaml.Node) -> Iterator[str]:
        if isinstance(sub, yaml.ScalarNode):
            yield str(sub.value)
        elif isinstance(sub, yaml.SequenceNode):
            for item in sub.value:
                yield from words(item)
        elif isinstance(sub, yaml.MappingNode):
            for key, value in sub.value:
                yield from words(key)
                yield from words(value)

    return ", ".join(words(node))[:80]
