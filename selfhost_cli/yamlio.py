"""Read YAML/JSON files with line numbers, and turn pydantic errors into `FILE:LINE: key.path: what` messages."""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from selfhost_cli.errors import InputFileError, did_you_mean

try:  # NOTE: the C loader is several times faster where libyaml is present.
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

M = TypeVar("M", bound=BaseModel)
Loc = tuple[Any, ...]  # keys (str, or int/float/bool as YAML allows) and list indexes

# YAML 1.1 (PyYAML) reads `1e6` as a string: its float pattern needs a dot. YAML 1.2 reads it as a
# number, which is what a person writing `tokens_per_day: 2e9` means, so resolve it as a float.
_FLOAT_NO_DOT = re.compile(r"^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$")
# YAML 1.1 integers a person does not mean: `1:30` is base 60 (90) and `017` is octal (15).
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9]+(:[0-5]?[0-9])+(\.[0-9]*)?$")
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9]+$")


class _Loader(_BaseLoader):
    """Safe loader that also reads `1e6` as a number."""


_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_NO_DOT, list("-+0123456789"))


# Inputs are bounded before they are parsed: a profile is a page of YAML, a catalog or a benchmark result a
# few megabytes (LiteLLM's whole price file is ~1.5 MB). Anything larger is refused, not read.
MAX_BYTES = {
    "profile": 1 << 20,
    "catalog": 32 << 20,
    "calibration": 32 << 20,
    "baseline": 32 << 20,
    "file": 32 << 20,
}
# YAML aliases can make a small file expand into an enormous tree (the "billion laughs"): the number of
# values built, counting every alias expansion, and the nesting depth are capped while building.
MAX_NODES = {"profile": 10_000, "file": 300_000}
MAX_DEPTH = 64
MAX_SCALAR_CHARS = 100_000


@dataclass
class Document:
    """A parsed file: the plain data and the line (1-based) where each key path starts."""

    path: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    built: int = 0  # values built so far (aliases counted each time they are expanded)
    max_nodes: int = MAX_NODES["file"]

    overrides: dict[Loc, str] = field(default_factory=dict)  # key paths a `--set KEY=VALUE` wrote, with the item

    def where(self, loc: Sequence[str | int]) -> str:
        """`FILE:LINE` of the key, or `--set KEY=VALUE` when the command line put it there."""
        line = self.line_of(loc)
        if line:
            return f"{self.path}:{line}"
        key = tuple(loc)
        while key and key not in self.overrides:
            key = key[:-1]
        return f"--set {self.overrides[key]}" if key else "--set"

    def line_of(self, loc: Sequence[str | int]) -> int:
        """Line of the longest prefix of `loc` that the file has (a missing key: its parent's line)."""
        key = tuple(loc)
        while key and key not in self.lines:
            key = key[:-1]
        return self.lines.get(key, 1)


def read_text(path: str | Path, kind: str = "file") -> str:
    """The file's text (`-`: standard input), or an InputFileError saying why it cannot be read or that it is too
    large. At most the kind's limit is read, whatever the file claims its size is: a device or a pipe has none."""
    limit = MAX_BYTES.get(kind, MAX_BYTES["file"])
    if str(path) == "-":
        data = sys.stdin.buffer.read(limit + 1) if sys.stdin is not None else b""
    else:
        try:
            info = os.stat(path)
        except FileNotFoundError:
            raise InputFileError(f"{path}: no such file", hint="check the path") from None
        except OSError as exc:
            raise InputFileError(f"{path}: cannot read ({exc.strerror})") from None
        if stat.S_ISDIR(info.st_mode):
            raise InputFileError(f"{path}: is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise InputFileError(
                f"{path}: not a regular file (a device, pipe or socket)", hint="give a file, or - for standard input"
            )
        if info.st_size > limit:
            raise InputFileError(
                f"{path}:1: the {kind} is {info.st_size / 2**20:.1f} MiB; at most {limit / 2**20:g} MiB is read",
                hint="a profile is a page of YAML; split or trim the file",
            )
        try:
            with open(path, "rb") as fh:
                data = fh.read(limit + 1)  # the file may have grown since
        except OSError as exc:
            raise InputFileError(f"{path}: cannot read ({exc.strerror})") from None
    if len(data) > limit:
        raise InputFileError(
            f"{path}:1: the {kind} is over {limit / 2**20:g} MiB; at most {limit / 2**20:g} MiB is read",
            hint="a profile is a page of YAML; split or trim the file",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputFileError(f"{path}:{line}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # universal newlines, as text mode reads them


def parse(text: str, path: str = "<string>", kind: str = "file") -> Document:
    """Parse YAML (JSON is YAML) into plain data plus a line map; duplicate keys are errors."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = str(getattr(exc, "problem", None) or exc).split('\n  in "<unicode string>"')[0]
        lines = text.splitlines()
        tabbed = mark is not None and line <= len(lines) and "\t" in lines[line - 1][: mark.column + 1]
        raise InputFileError(
            f"{path}:{line}: not valid YAML: {problem}",
            hint="YAML indents with spaces, never tabs: replace the tab on that line"
            if tabbed
            else "check indentation, colons and closing brackets near that line",
        ) from None
    doc = Document(path=path, data=None, max_nodes=MAX_NODES.get(kind, MAX_NODES["file"]))
    if node is None:
        return doc
    loader = _Loader("")
    doc.data = _build(node, (), doc, loader)
    return doc


def _budget(node: yaml.Node, loc: Loc, doc: Document) -> None:
    """Count one value built; refuse alias bombs and absurd nesting before they cost time or memory."""
    doc.built += 1
    if doc.built <= doc.max_nodes and len(loc) <= MAX_DEPTH:
        return
    where = f"{doc.path}:{node.start_mark.line + 1}: {_dotted(loc) or '(top)'}"
    if doc.built > doc.max_nodes:
        raise InputFileError(
            f"{where}: the file expands to more than {doc.max_nodes:,} values (YAML aliases repeated inside aliases?)",
            hint="write the values out, or use fewer nested *aliases",
        )
    if len(loc) > MAX_DEPTH:
        raise InputFileError(f"{where}: nested more than {MAX_DEPTH} levels deep", hint="flatten the structure")


def _build(node: yaml.Node, loc: Loc, doc: Document, loader: Any, path: frozenset[int] = frozenset()) -> Any:
    """Plain data from a node, recording each key's line; `path` holds the nodes above, to stop recursive aliases."""
    _budget(node, loc, doc)
    doc.lines.setdefault(loc, node.start_mark.line + 1)
    if id(node) in path:
        raise InputFileError(
            f"{doc.path}:{node.start_mark.line + 1}: {_dotted(loc) or '(top)'}: an alias refers to "
            "itself (recursive anchor)",
            hint="anchors (&name) cannot contain their own alias (*name)",
        )
    inner = path | {id(node)}
    if isinstance(node, yaml.MappingNode):
        return _mapping(node, loc, doc, loader, inner)
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*loc, i), doc, loader, inner) for i, item in enumerate(node.value)]
    return _scalar(node, doc, loader, loc)


def _mapping(node: yaml.MappingNode, loc: Loc, doc: Document, loader: Any, path: frozenset[int]) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    explicit = {id(k) for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"}
    try:
        loader.flatten_mapping(node)  # resolves YAML merge keys (<<): merged pairs come first, later ones win
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or node.start_mark
        raise InputFileError(
            f"{doc.path}:{mark.line + 1}: {_dotted(loc) or '(top)'}: cannot merge: {getattr(exc, 'problem', exc)}",
            hint="`<<:` takes an alias of a mapping, or a list of them",
        ) from None
    merged: set[Any] = set()  # keys whose current value came from a merged anchor
    for key_node, value_node in node.value:
        key = _scalar(key_node, doc, loader)
        if not isinstance(key, (str, int, float, bool)):
            raise InputFileError(
                f"{doc.path}:{key_node.start_mark.line + 1}: {_dotted(loc) or '(top)'}: a key must be plain text"
            )
        if key in out and key not in merged:
            raise InputFileError(
                f"{doc.path}:{key_node.start_mark.line + 1}: {_dotted((*loc, key))}: duplicate key "
                f"(first at line {doc.lines[(*loc, key)]})",
                hint="YAML keeps only the last one silently; delete one of them",
            )
        child = (*loc, key)
        doc.lines[child] = key_node.start_mark.line + 1
        out[key] = _build(value_node, child, doc, loader, path)
        if id(key_node) in explicit:
            merged.discard(key)  # written here: overrides what an anchor merged in
        else:
            merged.add(key)
    return out


def _scalar(node: yaml.Node, doc: Document, loader: Any, loc: Loc = ()) -> Any:
    """Construct a scalar; a value YAML cannot construct (a date like 2026-13-01, an unknown tag) is a
    located error."""
    if isinstance(node, yaml.ScalarNode) and len(node.value) > MAX_SCALAR_CHARS:
        raise InputFileError(
            f"{doc.path}:{node.start_mark.line + 1}: {_dotted(loc) or '(top)'}: a value of {len(node.value):,} "
            f"characters; at most {MAX_SCALAR_CHARS:,} are read",
            hint="ids, names and notes are short text",
        )
    numeric = node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
    if isinstance(node, yaml.ScalarNode) and not node.style and numeric:
        text = node.value.replace("_", "")
        if _SEXAGESIMAL.match(text):
            raise InputFileError(
                f"{doc.path}:{node.start_mark.line + 1}: {_dotted(loc) or '(top)'}: {node.value!r} reads as a "
                f"base-60 number in YAML 1.1 ({loader.construct_object(node)}), not what it looks like",
                hint="write the number itself, or put the value in quotes if it is text",
            )
        if _LEADING_ZERO.match(text):  # YAML 1.1 octal: `017` is 15 there; a person writing it means 17
            return int(text)
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, OverflowError, yaml.YAMLError) as exc:
        where = _dotted(loc) or "(top)"
        text = str(getattr(exc, "problem", None) or exc)
        dated = any(word in text for word in ("month", "day", "year"))
        hint = (
            "dates are written YYYY-MM-DD; quote the value if it is meant as text"
            if dated
            else "remove the !tag or put the value in quotes"
        )
        raise InputFileError(
            f"{doc.path}:{node.start_mark.line + 1}: {where}: cannot read {node.value!r}: {text}", hint=hint
        ) from None


def load_file(path: str | Path, kind: str = "file") -> Document:
    """Read and parse one YAML or JSON file of a kind (`profile`, `catalog`, ...: it sets the size limit)."""
    return parse(read_text(path, kind), str(path), kind)


def _dotted(loc: Sequence[Any]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts)


def validate(model: type[M], doc: Document, what: str = "file") -> M:
    """Validate a document against a pydantic model; the first errors become one located message."""
    if doc.data is None:
        raise InputFileError(f"{doc.path}:1: the {what} is empty", hint=_starter_hint(what))
    if not isinstance(doc.data, dict):
        kind = type(doc.data).__name__
        raise InputFileError(
            f"{doc.path}:1: the {what} must be a mapping of keys to values (got a {kind})",
            hint=_starter_hint(what),
        )
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raise InputFileError(format_errors(exc, doc, model)) from None


def _starter_hint(what: str) -> str:
    if what == "profile":
        return "`selfhost init profile.yaml` writes a commented starter profile"
    return "see docs/catalogs.md for the layout"


def format_errors(exc: ValidationError, doc: Document, model: type[BaseModel], limit: int = 5) -> str:
    """`FILE:LINE: key.path: what is wrong` for each error (up to `limit`), then one hint."""
    lines: list[str] = []
    hints: list[str] = []
    errors = _one_per_union(exc.errors(include_url=False))
    for err in errors[:limit]:
        loc = _clean_loc(err["loc"], doc)
        what, hint = _wording(err, loc, model)
        lines.append(f"{doc.where(loc)}: {_dotted(loc) or '(top)'}: {what}")
        if hint and hint not in hints:
            hints.append(hint)
    if len(errors) > limit:
        lines.append(f"... and {len(errors) - limit} more")
    message = "\n".join(lines)
    return message + ("".join(f"\nHint: {h}" for h in hints[:2]) if hints else "")


def _one_per_union(errors: list[Any]) -> list[Any]:
    """A key that takes `x` or a list of `x` fails both ways; keep the error of the form the user wrote:
    for a single value drop "must be a list", for a list drop the single-value error about the whole list."""
    locs = [_clean_loc(e["loc"]) for e in errors]
    kept: list[Any] = []
    for err, loc in zip(errors, locs, strict=True):
        others = [o for o, ol in zip(errors, locs, strict=True) if o is not err and ol[: len(loc)] == loc]
        if err["type"] in {"list_type", "tuple_type"} and any(_clean_loc(o["loc"]) == loc for o in others):
            continue
        deeper = any(len(_clean_loc(o["loc"])) > len(loc) for o in others)
        if isinstance(err.get("input"), list) and deeper:
            continue
        same = next(
            (k for k in kept if k["type"] in CHOICES and err["type"] in CHOICES and _clean_loc(k["loc"]) == loc), None
        )
        if same is not None:  # `fp9` fails `auto` and the formats alike: one "must be one of" naming them all
            both = f"{same.get('ctx', {}).get('expected', '')}, {err.get('ctx', {}).get('expected', '')}"
            kept[kept.index(same)] = {**same, "ctx": {**same.get("ctx", {}), "expected": both}}
            continue
        kept.append(err)
    return kept or errors


CHOICES = {"enum", "literal_error"}


def _clean_loc(loc: Sequence[str | int], doc: Document | None = None) -> Loc:
    """Drop pydantic's union/tag segments (`function-after[...]`, `str`, `Inline`) that are not keys; a segment the
    file has at that path is the user's key (`Peak_to_average`, `Workload`) and stays."""
    out: list[str | int] = []
    for part in loc:
        written = doc is not None and (*out, part) in doc.lines
        if (
            not written
            and isinstance(part, str)
            and ("[" in part or part[:1].isupper() or part in {"str", "int", "float"})
        ):
            continue
        if isinstance(part, str) and out and isinstance(out[-1], int) and part in _UNION_TAGS:
            continue  # the tag of a discriminated union right after a list index, not a key
        out.append(part)
    return tuple(out)


_UNION_TAGS = {"inline", "id"}


def _fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """Field names of the (nested) model that owns the last key of `loc`."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        current = _model_of(fields[part].annotation)
    fields = getattr(current, "model_fields", None)
    return [f.alias or name for name, f in fields.items()] if fields else []  # as written: `class`, not its field


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _entries(n: Any) -> str:
    return f"{n} entry" if n == 1 else f"{n} entries"


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "the boolean " + str(value).lower()
    if value is None:
        return "nothing (null)"
    if isinstance(value, (dt.date, dt.datetime)):  # YAML reads 2024-01-01 as a date
        return f"the date {value.isoformat()}; put it in quotes for text"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _wording(err: Any, loc: Loc, model: type[BaseModel]) -> tuple[str, str | None]:
    """What an error type means in words, and a hint; keyed on pydantic's stable `type`."""
    kind: str = err["type"]
    ctx: dict[str, Any] = err.get("ctx") or {}
    value = err.get("input")
    got = f" (got {_shown(value)})"
    if kind == "missing":
        return "required key is missing", None
    if kind == "extra_forbidden":
        guess = did_you_mean(str(loc[-1]), _fields_at(model, loc)) if loc else None
        known = ", ".join(_fields_at(model, loc))
        return "unknown key" + (f"; {guess}" if guess else ""), (f"keys allowed here: {known}" if known else None)
    bounds = {
        "greater_than": ("must be greater than", "gt"),
        "greater_than_equal": ("must be at least", "ge"),
        "less_than": ("must be less than", "lt"),
        "less_than_equal": ("must be at most", "le"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        limit = ctx.get(key)
        shown_limit = f"{limit:g}" if isinstance(limit, float) else str(limit)
        return f"{words} {shown_limit}{got}", None
    if kind == "too_long" and isinstance(value, list):
        return f"at most {_entries(ctx.get('max_length'))} (got {len(value)})", "split the profile into several"
    if kind == "too_short" and isinstance(value, list):
        return f"at least {_entries(ctx.get('min_length'))} (got {len(value)})", None
    if kind in CHOICES:
        expected = str(ctx.get("expected", "")).replace("'", "")
        choices = [c.strip() for c in re.split(r",| or ", expected) if c.strip()]
        guess = did_you_mean(str(value), choices) if isinstance(value, str) and value not in choices else None
        if isinstance(value, str) and value in choices:  # `version: '1'`: the text of an allowed number
            return f"must be the number {value}, not the text '{value}'{got}", "drop the quotes"
        hint = None
        if isinstance(value, bool):
            hint = "YAML 1.1 reads yes/no/on/off as booleans; put the word in quotes"
        return f"must be one of {', '.join(choices)}{got}" + (f"; {guess}" if guess else ""), hint
    if kind in {"float_type", "float_parsing", "int_type", "int_parsing", "int_from_float"}:
        hint = "write numbers as 2000000, 2_000_000 or 2.0e6, without units or commas"
        if kind == "int_from_float":
            return f"must be a whole number{got}", None
        return f"must be a number{got}", hint
    if kind in {"bool_type", "bool_parsing"}:
        return f"must be true or false{got}", None
    if kind in {"string_type"}:
        hint = "YAML 1.1 reads yes/no/on/off as booleans; put the word in quotes" if isinstance(value, bool) else None
        return f"must be text{got}", hint
    if kind in {"model_type", "dict_type", "model_attributes_type"}:
        return f"must be a mapping of keys to values{got}", None
    if kind in {"list_type", "tuple_type", "set_type"}:
        return f"must be a list{got}", None
    if kind in {"date_type", "date_parsing", "date_from_datetime_parsing"}:
        return f"must be a date written YYYY-MM-DD{got}", None
    if kind == "string_pattern_mismatch":
        return f"must match {ctx.get('pattern')}{got}", "ids are lowercase letters, digits, dots and dashes"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"])), None
    return f"{err['msg']}{got}", None
