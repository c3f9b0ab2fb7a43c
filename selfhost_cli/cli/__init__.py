"""Typer app: parse flags -> call the core -> render -> exit code. The only module that prints or exits."""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from selfhost_cli import __version__
from selfhost_cli.errors import ExitCode, SelfhostError, UsageError
from selfhost_cli.render import Format

if TYPE_CHECKING:  # the core is imported inside the commands that need it: --version and --help stay fast
    from rich.console import RenderableType

    from selfhost_cli import catalog as catalog_mod
    from selfhost_cli.advise import Advice
    from selfhost_cli.deploy.engines import EngineSet
    from selfhost_cli.profile import Profile

app = typer.Typer(
    name="selfhost",
    help="Should we call a hosted LLM API or run open-weight models on our own GPUs? Sized, priced, sourced.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
catalog_app = typer.Typer(help="List the models, GPUs and API offerings selfhost knows.", no_args_is_help=True)
calibrate_app = typer.Typer(help="Fit engine efficiency to your own benchmark results.", no_args_is_help=True)
prices_app = typer.Typer(help="Convert public price files into selfhost catalog files.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.add_typer(calibrate_app, name="calibrate")
app.add_typer(prices_app, name="prices")

F = TypeVar("F", bound=Callable[..., Any])


class State:
    """Global options, set once by the callback."""

    catalog_files: list[Path] = []
    no_color: bool = False
    inputs: set[Path] = set()  # files this run reads (`--out` never overwrites one)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"selfhost {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", callback=_version, is_eager=True)
    ] = False,
    catalog: Annotated[
        list[Path] | None,
        typer.Option(
            "--catalog",
            metavar="FILE",
            help="A user catalog file (models/gpus/apis) merged over the bundled ones; repeatable.",
        ),
    ] = None,
    no_color: Annotated[bool, typer.Option("--no-color", help="Plain text output (also NO_COLOR=1).")] = False,
) -> None:
    """selfhost: decide between a hosted API and self-hosting, with every number sourced."""
    from_env = [Path(p) for p in os.environ.get("SELFHOST_CATALOG", "").split(os.pathsep) if p]
    State.catalog_files = from_env + list(catalog or [])
    State.inputs = set()
    State.no_color = no_color or bool(os.environ.get("NO_COLOR"))


# ---------------------------------------------------------------- shared plumbing


def handles_errors(func: F) -> F:
    """Turn the core's errors into a message on stderr and the right exit code; never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SelfhostError as exc:
            _say(exc)
            raise typer.Exit(int(exc.exit_code)) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:  # a bug: say so plainly, keep the traceback for SELFHOST_DEBUG
            if os.environ.get("SELFHOST_DEBUG"):
                raise
            _err(
                f"selfhost: internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in selfhost; rerun with SELFHOST_DEBUG=1 for the traceback and report it."
            )
            raise typer.Exit(int(ExitCode.INTERNAL)) from None

    return wrapper  # type: ignore[return-value]


def _say(exc: SelfhostError) -> None:
    """An error as every command reports it: `selfhost: error: ...` and its hint, on stderr."""
    _err(f"selfhost: error: {exc.message}" + (f"\nHint: {exc.hint}" if exc.hint else ""))


def _err(text: str) -> None:
    from rich.console import Console

    Console(stderr=True, no_color=True, highlight=False, soft_wrap=True, emoji=False).print(text, markup=False)


def _catalog() -> catalog_mod.Catalog:
    from selfhost_cli import catalog as catalog_mod

    return catalog_mod.load([reading(p) for p in State.catalog_files])


def _profile(path: Path, sets: list[str] | None, cat: catalog_mod.Catalog) -> Profile:
    """Load a profile and check the catalog ids it names (unknown ones are errors at their line)."""
    from selfhost_cli.profile import check_ids, check_search_size, load_profile

    prof, doc = load_profile(reading(path), sets)
    check_ids(prof, doc, cat)
    check_search_size(prof, doc, cat)
    return prof


def render_table(renderable: RenderableType, width: int | None = None) -> str:
    """Render a rich renderable to text (colors unless --no-color / NO_COLOR / not a terminal)."""
    from rich.console import Console

    buffer = io.StringIO()
    color = not State.no_color and sys.stdout is not None and sys.stdout.isatty()
    cols = width or _columns()
    # markup and emoji codes off: names, notes and ids come from files anyone can edit, and are printed as written
    # (a profile named "a [/b]" would otherwise stop the table, and ":thumbs_up:" turn into a picture)
    console = Console(
        file=buffer, width=cols, no_color=not color, force_terminal=color, highlight=False, markup=False, emoji=False
    )
    console.print(renderable)
    return buffer.getvalue()


MIN_COLUMNS = 40  # the narrowest the tables are laid out for: below it they would break every word


def _columns() -> int:
    """The terminal width from COLUMNS: 120 when it is unset or not a positive whole number, never below 40."""
    text = os.environ.get("COLUMNS", "").strip()
    cols = int(text) if text.isdigit() else 0
    return max(cols, MIN_COLUMNS) if cols > 0 else 120


def reading(path: Path) -> Path:
    """Note a file this run reads, so that `--out` can refuse to overwrite it."""
    State.inputs.add(_where(path))
    return path


def _where(path: Path) -> Path:
    """The path with its links followed, or as given when they cannot be (a loop, a name too long)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python 3.11's resolve)
        return path.absolute()


def emit(text: str, out: Path | None) -> None:
    """Write to stdout (`out` None or `-`), or atomically to `out`: a temp file in the same folder, then a
    rename. The file gets the mode an ordinary write would (the umask's, or the replaced file's own), and a
    file this run reads is never overwritten. A device or a pipe (`/dev/null`, a FIFO) is written to, never
    replaced by a file."""
    if out is None or str(out) == "-":
        _to_stdout(text)
        return
    try:
        info: os.stat_result | None = os.stat(out)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise UsageError(f"cannot write {out}: it is a folder", hint="name a file in it")
    where = _where(out)
    if where in State.inputs:
        raise UsageError(f"cannot write {out}: it is an input of this run", hint="name another --out file")
    if info is not None and not stat.S_ISREG(info.st_mode):
        try:
            with open(out, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            raise UsageError(f"cannot write {out}: {exc.strerror}") from None
        return
    folder = where.parent
    if not folder.is_dir():
        raise UsageError(f"cannot write {out}: folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{out.name[:64]}.", suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, _mode_for(out))
        os.replace(tmp, out)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UsageError(f"cannot write {out}: {exc.strerror}") from None
    _err(f"wrote {out}")


def _to_stdout(text: str) -> None:
    if sys.stdout is None:
        raise UsageError("cannot write standard output: it is closed", hint="redirect it, or use --out FILE")
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader stopped reading (`| head`): nothing is wrong, say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    except OSError as exc:
        raise UsageError(f"cannot write standard output: {exc.strerror}", hint="use --out FILE") from None


def _mode_for(out: Path) -> int:
    """An existing file keeps its mode; a new one gets 0666 less the umask (0644 under 022), as `open` gives."""
    try:
        return out.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def warn_all(warnings: list[str]) -> None:
    for w in warnings:
        _err(f"warning: {w}")


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table (people), json (programs) or markdown (PRs).")]
# The commands with no Markdown view list only what they offer (their --format markdown says where it is)
BasicFormatOpt = Annotated[
    Format, typer.Option("--format", "-f", metavar="<table|json>", help="table (people) or json (programs).")
]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Write here (atomically) instead of stdout.")]


def number_opt(flag: str, low: float, high: float, help: str) -> Any:
    """A number flag within [low, high] (bounds from selfhost_cli/limits.py, as the profile's) that must be
    finite: typer reads `inf` and `nan` as floats, and NaN passes every range."""
    return typer.Option(flag, min=low, max=high, callback=finite, help=help)


def finite(value: float | None) -> float | None:
    """A number flag must be finite: typer reads `inf` and `nan` as floats, and NaN passes every range."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"must be a finite number (got {value})")
    return value


SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a profile key, e.g. --set workload.tokens_per_day=2e9 (repeatable)."),
]
CalibrationOpt = Annotated[
    Path | None,
    typer.Option(
        "--calibration",
        help="A calibration file from `selfhost calibrate import` "
        "(default: ~/.config/selfhost/calibration.yaml if present).",
    ),
]


PlotOpt = Annotated[
    Path | None,
    typer.Option("--plot", help="Also draw monthly cost against tokens/day to FILE.png or .svg (selfhost[plot])."),
]
TagOpt = Annotated[
    str | None,
    typer.Option("--tag", help="Markdown: name this comment's marker line (<!-- selfhost:COMMAND:NAME -->)."),
]
_TAG = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def markdown_only(fmt: Format, **flags: object) -> None:
    """Flags that shape the pull-request comment do nothing in a table or JSON: given there, they are errors."""
    given = [f"--{name.replace('_', '-')}" for name, v in flags.items() if v is not None]
    if given and fmt is not Format.MARKDOWN:
        verb = "applies" if len(given) == 1 else "apply"
        raise UsageError(f"{', '.join(given)} {verb} to --format markdown only", hint="add --format markdown")


def pr_markdown(command: str, tag: str | None, body: str, warnings: Sequence[str] = ()) -> str:
    """Markdown for a pull-request comment: the hidden marker line a CI step finds to update its own
    comment (SPEC §2), the body, then the warnings (when the body does not list them itself)."""
    if tag is not None and not _TAG.match(tag):
        raise UsageError(f"--tag {tag!r}: letters, digits, '.', '_' and '-' only (it goes into an HTML comment)")
    marker = f"<!-- selfhost:{command}{':' + tag if tag else ''} -->\n"
    tail = "".join(f"- {w}\n" for w in warnings)
    return marker + body + (f"\n### Warnings\n\n{tail}" if tail else "")


def _no_markdown(fmt: Format) -> None:
    if fmt is Format.MARKDOWN:
        raise UsageError("--format markdown is for advise, breakeven, check and diff", hint="use table or json")


# ---------------------------------------------------------------- advise


@app.command("advise")
@handles_errors
def advise_cmd(
    profile: Annotated[Path, typer.Argument(help="Workload profile (YAML), e.g. profiles/startup.yaml.")],
    set_: SetOpt = None,
    calibration: CalibrationOpt = None,
    fmt: FormatOpt = Format.TABLE,
    out: OutOpt = None,
    tag: TagOpt = None,
    plot: PlotOpt = None,
) -> None:
    """Recommend api, self_host or hybrid for a workload profile, with reasons, costs and the capacity plan."""
    from selfhost_cli.advise import advise

    markdown_only(fmt, tag=tag)

    cat = _catalog()
    engines = _engines(calibration, cat)
    want_curve = plot is not None or fmt is Format.MARKDOWN
    advice = advise(_profile(profile, set_, cat), cat, today=dt.date.today(), engines=engines, with_curve=want_curve)
    warn_all(advice.warnings)
    if plot is not None:
        distinct_outputs(plot=plot, out=out)
        plot_advice(advice, plot)
    emit(_render_advice(advice, fmt, tag), out)


def distinct_outputs(**paths: Path | None) -> None:
    """Files one run writes must differ from each other and from its inputs (one write would undo another)."""
    seen: dict[Path, str] = {}
    for flag, path in paths.items():
        if path is None or str(path) == "-":
            continue
        where = _where(path)
        if where in State.inputs:
            raise UsageError(f"cannot write {path}: it is an input of this run", hint=f"name another --{flag} file")
        if where in seen:
            raise UsageError(f"--{flag} and --{seen[where]} name the same file {path}", hint="name two files")
        seen[where] = flag


def plot_advice(advice: Advice, path: Path) -> None:
    """The profile's monthly cost against tokens/day, self-hosted against the cheapest API, to an image."""
    from selfhost_cli.render import chart

    c = advice.curve
    if c is None:
        raise UsageError(f"--plot: nothing to chart ({advice.breakeven_note})")
    series = chart.curve_series(c)
    chart.save(series, advice.breakeven_tokens_per_day, f"{advice.profile_name}: {c.own} vs {c.api}", path)
    _err(f"wrote {path}")


def _render_advice(advice: Advice, fmt: Format, tag: str | None = None) -> str:
    # each renderer is imported only for its format (start-up: the table view needs neither JSON nor Markdown)
    if fmt is Format.JSON:
        from selfhost_cli.render import json_ as jr

        return jr.dumps(jr.envelope("advise", jr.advice_payload(advice), advice.warnings, advice.prices_as_of))
    if fmt is Format.MARKDOWN:
        from selfhost_cli.render import markdown as md

        return pr_markdown("advise", tag, md.advice_markdown(advice))
    from selfhost_cli.render import table as tr

    return render_table(tr.advice_view(advice))


# ---------------------------------------------------------------- init


STARTER_PROFILE = Path(__file__).parent.parent / "starter_profile.yaml"


@app.command("init")
@handles_errors
def init_cmd(
    file: Annotated[Path, typer.Argument(help="Where to write the starter profile.")] = Path("profile.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a fully commented starter profile."""
    if str(file) != "-" and file.exists() and not force:
        raise UsageError(f"{file} exists", hint="pass --force to overwrite it")
    emit(STARTER_PROFILE.read_text(encoding="utf-8"), file)


def _engines(path: Path | None, cat: catalog_mod.Catalog) -> EngineSet:
    """The engine constants with the user's calibration file (or the default one) applied; its GPU and model ids
    are checked against `cat`, the catalog the command already loaded."""
    env = os.environ.get("SELFHOST_CALIBRATION")
    given = path or (Path(env) if env else None)
    from selfhost_cli.paths import default_calibration_path

    if given is None and not default_calibration_path().exists():
        from selfhost_cli.deploy.engines import BUNDLED_ENGINES

        return BUNDLED_ENGINES  # nothing to read: the user-calibration module (and its schemas) stays unloaded
    from selfhost_cli import user_calibration as cal

    return cal.engine_set(cal.load_user_calibration(given, cat))


# Options accepted anywhere on the line: whether each takes a value, and where Typer reads it — before the
# command (the app's own options) or after the command's words (--calibration belongs to the commands).
GLOBAL_FLAGS = {"--no-color": (False, "front"), "--catalog": (True, "front"), "--calibration": (True, "back")}


def hoist_globals(argv: list[str]) -> list[str]:
    """Global options may come after the command (`advise p.yaml --catalog x.yaml`, `catalog apis --no-color`):
    move them before it, where Typer reads them. Nothing after `--` is touched."""
    moved: dict[str, list[str]] = {"front": [], "back": []}
    rest: list[str] = []
    tail: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            tail = argv[i:]
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_FLAGS:
            takes_value, where = GLOBAL_FLAGS[name]
            width = 2 if takes_value and "=" not in arg else 1
            if width == 2 and (i + 1 >= len(argv) or argv[i + 1].startswith("--")):
                raise UsageError(f"{name} needs a value", hint=f"e.g. {name} FILE")
            moved[where] += argv[i : i + width]
            i += width
            continue
        rest.append(arg)
        i += 1
    return moved["front"] + rest + moved["back"] + tail


def main() -> None:
    """Console-script entry point."""
    try:
        args = hoist_globals(sys.argv[1:])
    except UsageError as exc:
        _say(exc)
        sys.exit(int(exc.exit_code))
    app(args=args, prog_name="selfhost")


# The commands beyond advise and init, registered on `app` when their modules load.
from selfhost_cli.cli import gates, inspect, tools  # noqa: E402, F401
