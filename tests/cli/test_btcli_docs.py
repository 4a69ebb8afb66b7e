"""Every btcli command the docs and the neurons' hints tell an operator to paste parses with the
btcli bundled with bittensor, and every mycel-miner / mycel-validator line parses with ours.

The lines are extracted, not listed: code blocks and inline code in README.md and docs/*.md, and
backquoted text in every string literal under mycel_subnet/ and neurons/ (f-string fields are
filled with a sample value), so a new docs line or hint is covered the day it is written.
btcli is a typer app; its click command's `make_context` parses and type-checks a command line
without running it.
"""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

import pytest
import typer
from typer._click.exceptions import ClickException, UsageError

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SOURCES = [*sorted((ROOT / "mycel_subnet").rglob("*.py")), *sorted((ROOT / "neurons").glob("*.py"))]
FENCE = re.compile(r"^\s*```[^\n]*\n(.*?)^\s*```", re.S | re.M)
INLINE = re.compile(r"`([^`\n]+)`")
PLACEHOLDER = re.compile(r"<[A-Za-z_ -]+>")
SAMPLE = "1"  # fills <NETUID>, <TAO>, f-string fields: valid for int, float and str options


def _code_spans(markdown: str) -> list[str]:
    """Logical lines of fenced blocks (backslash continuations joined), then inline code."""
    spans = []
    for block in FENCE.findall(markdown):
        spans.extend(block.replace("\\\n", " ").splitlines())
    spans.extend(INLINE.findall(FENCE.sub("", markdown)))
    return spans


def _commands(spans: list[str], program: str) -> list[str]:
    """`program ARGS` where a shell would run it (a line's start, after `$ `, `&&`, `;`, `|`,
    `(`), up to a comment's #; a bare `program` is prose, not a command to paste."""
    found = []
    for span in spans:
        start = rf"(?:^|[;&|(]\s*|\$\s+){re.escape(program)}"
        match = re.search(start + r"\s+([^#\s][^#]*)", span.strip())
        if match:
            found.append(PLACEHOLDER.sub(SAMPLE, match.group(1)).strip())
    return found


def _shell_words(command: str) -> list[str]:
    """The words a shell would pass: `$VAR` and `${VAR}` become SAMPLE, `$(...)` is dropped (its
    output is not known here; the rest of the line is still checked)."""
    command = re.sub(r"\$\([^)]*\)", "", command)
    return shlex.split(re.sub(r"\$\{?[A-Za-z_]\w*\}?", SAMPLE, command))


def _string_literals(path: Path) -> list[str]:
    """Every str constant and f-string of a module, f-string fields replaced by SAMPLE."""
    texts = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.JoinedStr):
            texts.append(
                "".join(
                    part.value if isinstance(part, ast.Constant) else SAMPLE for part in node.values
                )
            )
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            texts.append(node.value)
    return texts


def _doc_lines(program: str) -> list[tuple[str, str]]:
    lines = []
    for doc in DOCS:
        for command in _commands(_code_spans(doc.read_text()), program):
            lines.append((doc.relative_to(ROOT).as_posix(), command))
    return lines


def _hint_lines(program: str) -> list[tuple[str, str]]:
    lines = []
    for source in SOURCES:
        for text in _string_literals(source):
            for command in _commands(INLINE.findall(text), program):
                lines.append((source.relative_to(ROOT).as_posix(), command))
    return lines


BTCLI_LINES = sorted(set(_doc_lines("btcli") + _hint_lines("btcli")))


def _btcli_parse(words: list[str]) -> str:
    """Parse a btcli command line down to its leaf command without running it; its name."""
    from bittensor.cli.main import app

    command = typer.main.get_command(app)
    ctx = command.make_context("btcli", list(words), resilient_parsing=False)
    path = []
    while hasattr(command, "resolve_command"):
        rest = [*getattr(ctx, "_protected_args", []), *ctx.args]
        if not rest:
            raise UsageError(f"{' '.join(['btcli', *path])} needs a subcommand")
        name, command, rest = command.resolve_command(ctx, rest)
        path.append(name)
        ctx = command.make_context(name, rest, parent=ctx, resilient_parsing=False)
    if ctx.args:
        raise UsageError(f"unexpected arguments {ctx.args}")
    return " ".join(path)


def test_the_extraction_finds_the_documented_and_hinted_commands() -> None:
    sources = {where for where, _ in BTCLI_LINES}
    assert {"docs/miner.md", "docs/validator.md", "mycel_subnet/neuron_startup.py"} <= sources
    commands = {command.split(" --")[0] for _, command in BTCLI_LINES}
    assert {"wallet create", "subnets register", "stake add", "wallet new-hotkey"} <= commands
    assert _shell_words('--n "sim:$CHAIN" $(wallet m) --p ${W}/x') == ["--n", "sim:1", "--p", "1/x"]


def test_the_parser_refuses_what_the_old_btcli_accepted() -> None:
    """The check can fail: the dotted flags of btcli before 11 and a bad type are refused."""
    refused = {
        "--wallet.name": ["wallet", "new-hotkey", "--wallet.name", "miner"],
        "--netuid": ["subnets", "register", "--netuid", "abc"],
        "frob": ["wallet", "frob"],
        "extra": ["wallet", "create", "extra"],
    }
    for named, words in refused.items():
        with pytest.raises(ClickException) as error:
            _btcli_parse(words)
        assert named in error.value.format_message()
    assert _btcli_parse(["stake", "add", "--netuid", "1", "--amount-tao", "2"]) == "stake add"


@pytest.mark.parametrize(("where", "command"), BTCLI_LINES, ids=[c for _, c in BTCLI_LINES])
def test_btcli_line_parses_with_the_bundled_btcli(where: str, command: str) -> None:
    try:
        _btcli_parse(_shell_words(command))
    except ClickException as error:
        pytest.fail(f"{where}: `btcli {command}`: {error.format_message()}")


NEURON_LINES = [
    (program, where, command)
    for program in ("mycel-miner", "mycel-validator")
    for where, command in sorted(set(_doc_lines(program) + _hint_lines(program)))
]


def test_the_docs_start_a_miner_and_a_validator() -> None:
    assert {p for p, _, _ in NEURON_LINES} == {"mycel-miner", "mycel-validator"}


@pytest.mark.parametrize(
    ("program", "where", "command"), NEURON_LINES, ids=[f"{p} {c}" for p, _, c in NEURON_LINES]
)
def test_neuron_line_parses_with_our_parser(program, where, command, capsys) -> None:
    from neurons import miner, validator

    parser = {"mycel-miner": miner, "mycel-validator": validator}[program].build_parser()
    try:
        parser.parse_args(_shell_words(command))
    except SystemExit as stop:
        if stop.code == 0:  # --help
            return
        pytest.fail(f"{where}: `{program} {command}`: {capsys.readouterr().err.strip()}")
