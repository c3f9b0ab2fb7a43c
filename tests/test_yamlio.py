"""Tests for selfhost_cli.yamlio: parsing with a line map, duplicate keys, located validation messages."""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from selfhost_cli.errors import ExitCode, InputFileError
from selfhost_cli.yamlio import Document, format_errors, load_file, parse, read_text, validate

# ---------------------------------------------------------------- a small schema to validate against


class Color(str, Enum):
    RED = "red"
    DARK_BLUE = "dark_blue"


class Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    size: float = Field(gt=0)
    color: Color = Color.RED


class Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    inner: Inner
    items: list[int] = []
    flag: bool = False


def _error(text: str, model: type[BaseModel] = Outer, path: str = "t.yaml") -> InputFileError:
    with pytest.raises(InputFileError) as info:
        validate(model, parse(text, path))
    assert info.value.exit_code is ExitCode.INVALID_INPUT
    return info.value


# ---------------------------------------------------------------- parse: data and line numbers


def test_parse_records_the_line_of_every_key_path() -> None:
    doc = parse("a: 1\nb:\n  c: 2\n  d:\n    - x\n    - y\n", "f.yaml")
    assert doc.path == "f.yaml"
    assert doc.data == {"a": 1, "b": {"c": 2, "d": ["x", "y"]}}
    assert doc.lines == {
        (): 1,
        ("a",): 1,
        ("b",): 2,
        ("b", "c"): 3,
        ("b", "d"): 4,
        ("b", "d", 0): 5,
        ("b", "d", 1): 6,
    }


def test_parse_lines_of_mappings_inside_lists() -> None:
    doc = parse("x:\n  - p: 1\n    q: 2\n  - p: 3\n")
    assert doc.lines[("x", 0, "q")] == 3
    assert doc.lines[("x", 1, "p")] == 4


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("n: 1e6\n", 1_000_000.0),  # YAML 1.1 would read this as the string "1e6"
        ("n: -1e6\n", -1_000_000.0),
        ("n: 1E+6\n", 1_000_000.0),
        ("n: 2e9\n", 2_000_000_000.0),
        ("n: 2.5e-3\n", 0.0025),
        ("n: 1_000_000\n", 1_000_000),
    ],
)
def test_parse_reads_exponent_numbers_without_a_dot_as_floats(text: str, value: float) -> None:
    got = parse(text).data["n"]
    assert got == value
    assert type(got) is type(value)


def test_parse_keeps_quoted_exponent_as_text() -> None:
    assert parse("n: '1e6'\n").data == {"n": "1e6"}


def test_parse_reads_json() -> None:
    doc = parse('{"a": 1,\n "b": [1, 2]}', "f.json")
    assert doc.data == {"a": 1, "b": [1, 2]}
    assert doc.lines[("b",)] == 2


@pytest.mark.parametrize("text", ["", "# only a comment\n", "\n\n"])
def test_parse_empty_text_gives_no_data(text: str) -> None:
    doc = parse(text, "e.yaml")
    assert doc.data is None
    assert doc.lines == {}


def test_parse_resolves_merge_keys() -> None:
    doc = parse("base: &b {x: 1}\nd:\n  <<: *b\n  y: 2\n")
    assert doc.data["d"] == {"x": 1, "y": 2}
    assert doc.lines[("d", "y")] == 4


def test_parse_explicit_key_overrides_merged_key() -> None:
    doc = parse("base: &b {x: 1}\nd:\n  <<: *b\n  x: 2\n")
    assert doc.data["d"] == {"x": 2}
    assert doc.lines[("d", "x")] == 4


def test_parse_explicit_duplicate_next_to_a_merge_is_still_a_duplicate() -> None:
    with pytest.raises(InputFileError) as info:
        parse("base: &b {x: 1}\nd:\n  <<: *b\n  x: 2\n  x: 3\n", "m.yaml")
    assert info.value.message == "m.yaml:5: d.x: duplicate key (first at line 4)"


def test_parse_merge_of_several_anchors_sharing_a_key() -> None:
    # YAML merge: with a list of anchors, the first one that has the key wins
    doc = parse("b: &b {x: 1}\nc: &c {x: 5, z: 1}\nd:\n  <<: [*b, *c]\n  y: 2\n")
    assert doc.data["d"] == {"x": 1, "z": 1, "y": 2}


def test_parse_duplicate_key_names_both_lines() -> None:
    with pytest.raises(InputFileError) as info:
        parse("version: 1\nworkload:\n  tokens_per_day: 5\n  tokens_per_day: 6\n", "dup.yaml")
    assert info.value.message == "dup.yaml:4: workload.tokens_per_day: duplicate key (first at line 3)"
    assert info.value.hint == "YAML keeps only the last one silently; delete one of them"


def test_parse_duplicate_top_level_key() -> None:
    with pytest.raises(InputFileError) as info:
        parse("a: 1\na: 2\n", "f.yaml")
    assert info.value.message == "f.yaml:2: a: duplicate key (first at line 1)"


def test_parse_rejects_a_key_that_is_not_plain_text() -> None:
    with pytest.raises(InputFileError, match=r"^f\.yaml:1: \(top\): a key must be plain text$"):
        parse("? [a, b]\n: 1\n", "f.yaml")


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("version: 1\nworkload:\n  tokens_per_day: [1, 2\n  x: y\n", 4, "did not find expected ',' or ']'"),
        ("a: b: c\n", 1, "mapping values are not allowed in this context"),
        ("key: [\n", 2, "did not find expected node content"),
        ("a: 1\n---\nb: 2\n", 2, "but found another document"),
    ],
)
def test_parse_broken_yaml_names_the_line(text: str, line: int, problem: str) -> None:
    with pytest.raises(InputFileError) as info:
        parse(text, "broken.yaml")
    assert info.value.message == f"broken.yaml:{line}: not valid YAML: {problem}"
    assert info.value.hint == "check indentation, colons and closing brackets near that line"


# A tag or value PyYAML cannot construct is just as malformed as a syntax error: a located InputFileError (exit 3),
# not a bare PyYAML/ValueError that the CLI would report as an internal bug (exit 4).
@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        (
            "version: 1\nname: !!python/object:os.system x\n",
            "bad.yaml:2: name: cannot read 'x': could not determine a constructor for the tag "
            "'tag:yaml.org,2002:python/object:os.system'",
            "remove the !tag or put the value in quotes",
        ),
        (
            "version: 1\nname: !custom x\n",
            "bad.yaml:2: name: cannot read 'x': could not determine a constructor for the tag '!custom'",
            "remove the !tag or put the value in quotes",
        ),
        (
            "version: 1\nname: 2024-13-45\n",
            "bad.yaml:2: name: cannot read '2024-13-45': month must be in 1..12",
            "dates are written YYYY-MM-DD; quote the value if it is meant as text",
        ),
        (
            "version: 1\nworkload: !!int abc\n",
            "bad.yaml:2: workload: cannot read 'abc': invalid literal for int() with base 10: 'abc'",
            "remove the !tag or put the value in quotes",
        ),
        (
            "version: 1\nd:\n  <<: 5\n",
            "bad.yaml:3: d: cannot merge: expected a mapping or list of mappings for merging, but found scalar",
            "`<<:` takes an alias of a mapping, or a list of them",
        ),
        (
            "a: &x [*x]\n",
            "bad.yaml:1: a[0]: an alias refers to itself (recursive anchor)",
            "anchors (&name) cannot contain their own alias (*name)",
        ),
    ],
    ids=["python-tag", "local-tag", "impossible-date", "bad-int", "merge-scalar", "recursive-alias"],
)
def test_parse_unconstructible_values_are_located_input_errors(text: str, message: str, hint: str) -> None:
    with pytest.raises(InputFileError) as info:
        parse(text, "bad.yaml")
    assert info.value.exit_code is ExitCode.INVALID_INPUT
    assert (info.value.message, info.value.hint) == (message, hint)


# ---------------------------------------------------------------- Document.line_of


def test_line_of_uses_the_longest_known_prefix() -> None:
    doc = parse("a:\n  b: 1\n", "f.yaml")
    assert doc.line_of(("a", "b")) == 2
    assert doc.line_of(("a", "missing")) == 1  # a missing key: its parent's line
    assert doc.line_of(("a", "b", "deeper", 3)) == 2


def test_line_of_defaults_to_line_1() -> None:
    assert Document(path="x", data=None).line_of(("a",)) == 1
    assert parse("a: 1\n\n\nb: 2\n").line_of(("zzz",)) == 1


def test_line_of_zero_marks_a_command_line_value() -> None:
    doc = parse("a: 1\n")
    doc.lines[("a",)] = 0
    assert doc.line_of(("a",)) == 0


# ---------------------------------------------------------------- read_text / load_file


def test_read_text_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(InputFileError) as info:
        read_text(missing)
    assert info.value.message == f"{missing}: no such file"
    assert info.value.hint == "check the path"


def test_read_text_directory(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r": is a directory, not a file$"):
        read_text(tmp_path)


def test_read_text_not_utf8(tmp_path: Path) -> None:
    bad = tmp_path / "bin.yaml"
    bad.write_bytes(b"\xff\xfe\x00a")
    with pytest.raises(InputFileError) as info:
        read_text(bad)
    assert info.value.message == f"{bad}:1: not UTF-8 text (invalid start byte at byte 0)"
    bad.write_bytes(b"version: 1\nname: caf\xe9\n")
    with pytest.raises(InputFileError) as info:
        read_text(bad)
    assert info.value.message.startswith(f"{bad}:2: not UTF-8 text")


def test_read_text_keeps_to_its_limit_on_files_without_a_size(tmp_path: Path) -> None:
    # a device or a pipe reports no size: refused, never read to its end (/dev/zero would never end)
    with pytest.raises(InputFileError) as info:
        read_text("/dev/zero", "profile")
    assert "not a regular file" in info.value.message and "standard input" in (info.value.hint or "")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InputFileError):
        read_text(fifo, "profile")  # refused before it is opened: opening a FIFO with no writer blocks


def test_load_file_uses_the_path_in_messages(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("a: 1\nb: [\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=rf"^{f}:3: not valid YAML: "):
        load_file(f)
    f.write_text("a: 1\n", encoding="utf-8")
    doc = load_file(f)
    assert (doc.path, doc.data) == (str(f), {"a": 1})


# ---------------------------------------------------------------- validate


def test_validate_returns_the_model() -> None:
    got = validate(Outer, parse("inner:\n  size: 2\n  color: dark_blue\nitems: [1, 2]\n"))
    assert got == Outer(inner=Inner(size=2, color=Color.DARK_BLUE), items=[1, 2])


@pytest.mark.parametrize(
    ("text", "what", "message"),
    [
        ("", "profile", "e.yaml:1: the profile is empty"),
        ("- a\n- b\n", "profile", "e.yaml:1: the profile must be a mapping of keys to values (got a list)"),
        ("hello\n", "catalog", "e.yaml:1: the catalog must be a mapping of keys to values (got a str)"),
    ],
)
def test_validate_whole_document_shape(text: str, what: str, message: str) -> None:
    with pytest.raises(InputFileError) as info:
        validate(Outer, parse(text, "e.yaml"), what)
    assert info.value.message == message
    expected_hint = (
        "`selfhost init profile.yaml` writes a commented starter profile"
        if what == "profile"
        else "see docs/catalogs.md for the layout"
    )
    assert info.value.hint == expected_hint


# ---------------------------------------------------------------- format_errors: one wording per error type


def test_unknown_key_with_did_you_mean_and_allowed_keys() -> None:
    err = _error("inner:\n  size: 1\n  colour: red\n")
    assert str(err) == (
        "t.yaml:3: inner.colour: unknown key; did you mean 'color'?\nHint: keys allowed here: size, color"
    )


def test_bound_violation_shows_the_bound_and_the_value() -> None:
    assert str(_error("inner:\n  size: -1\n")) == "t.yaml:2: inner.size: must be greater than 0 (got -1)"


def test_enum_with_suggestion() -> None:
    assert str(_error("inner:\n  size: 1\n  color: dark-blue\n")) == (
        "t.yaml:3: inner.color: must be one of red, dark_blue (got 'dark-blue'); did you mean 'dark_blue'?"
    )


def test_enum_given_a_yaml_boolean_hints_at_quoting() -> None:
    assert str(_error("inner:\n  size: 1\n  color: no\n")) == (
        "t.yaml:3: inner.color: must be one of red, dark_blue (got the boolean false)\n"
        "Hint: YAML 1.1 reads yes/no/on/off as booleans; put the word in quotes"
    )


def test_list_item_path_uses_brackets() -> None:
    assert str(_error("inner:\n  size: 1\nitems: [1, x, 3]\n")) == (
        "t.yaml:3: items[1]: must be a number (got 'x')\n"
        "Hint: write numbers as 2000000, 2_000_000 or 2.0e6, without units or commas"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("inner:\n  size: 1\nflag: maybe\n", "t.yaml:3: flag: must be true or false (got 'maybe')"),
        ("inner: 5\n", "t.yaml:1: inner: must be a mapping of keys to values (got 5)"),
        ("items: 5\ninner: {size: 1}\n", "t.yaml:1: items: must be a list (got 5)"),
        ("flag: true\n", "t.yaml:1: inner: required key is missing"),
    ],
)
def test_other_error_types(text: str, message: str) -> None:
    assert str(_error(text)) == message


def test_many_errors_are_capped_with_a_count() -> None:
    err = _error("a: 1\nb: 2\nc: 3\nd: 4\ne: 5\nf: 6\ng: 7\n")
    # 1 missing + 7 unknown = 8 errors: 5 shown, then the count, then the (single, de-duplicated) hint
    lines = err.message.splitlines()
    assert len(lines) == 7
    assert lines[0] == "t.yaml:1: inner: required key is missing"
    assert lines[2] == "t.yaml:2: b: unknown key"
    assert lines[4] == "t.yaml:4: d: unknown key"
    assert lines[5] == "... and 3 more"
    assert lines[6] == "Hint: keys allowed here: inner, items, flag"


def test_format_errors_line_zero_is_shown_as_set() -> None:
    doc = parse("inner:\n  size: 1\n", "t.yaml")
    doc.data["inner"]["size"] = -2
    doc.lines[("inner", "size")] = 0
    with pytest.raises(ValidationError) as info:
        Outer.model_validate(doc.data)
    assert format_errors(info.value, doc, Outer) == "--set: inner.size: must be greater than 0 (got -2)"


def test_format_errors_limit_parameter() -> None:
    doc = parse("a: 1\nb: 2\n", "t.yaml")
    with pytest.raises(ValidationError) as info:
        Outer.model_validate(doc.data)
    text = format_errors(info.value, doc, Outer, limit=1)
    assert text.splitlines()[:2] == ["t.yaml:1: inner: required key is missing", "... and 2 more"]
