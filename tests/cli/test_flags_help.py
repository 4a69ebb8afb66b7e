"""Every flag of every Mycel command says what it does in --help, and --help shows no internals.

The parsers are walked, not their help text grepped, so a new settings field without a
description fails here the day it is added.
"""

from __future__ import annotations

import argparse

import pytest

from mycel_subnet.cli import main as mycel_cli
from mycel_subnet.cli.flags import ALIASES, INSTEAD, instead_of
from mycel_subnet.config import MycelSettings
from neurons import miner, validator


def _parsers() -> dict[str, argparse.ArgumentParser]:
    """The neurons' parsers and every `mycel` subcommand's parser, nested ones included."""
    found = {"mycel-miner": miner.build_parser(), "mycel-validator": validator.build_parser()}
    pending = [mycel_cli.build_parser()]
    while pending:
        parser = pending.pop()
        found[parser.prog] = parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                pending.extend(action.choices.values())
    return found


PARSERS = _parsers()


def test_the_walk_finds_the_neurons_and_the_subcommands() -> None:
    assert {"mycel-miner", "mycel-validator", "mycel", "mycel config show"} <= set(PARSERS)


@pytest.mark.parametrize("prog", sorted(PARSERS))
def test_every_option_has_help(prog: str) -> None:
    missing = [
        "/".join(action.option_strings)
        for action in PARSERS[prog]._actions
        if action.option_strings and not (action.help or "").strip()
    ]
    assert not missing, f"{prog}: options without help: {missing}"


@pytest.mark.parametrize("prog", sorted(PARSERS))
def test_help_shows_no_pydantic_internals(prog: str) -> None:
    text = PARSERS[prog].format_help()
    for internal in ("PydanticUndefined", "default_factory", "FieldInfo", "(default: None)"):
        assert internal not in text, f"{prog} --help shows {internal}"


def test_every_settings_field_offered_as_a_flag_has_a_description() -> None:
    """The source of the help text: a field without a description would print an empty line."""
    miner_flags = {s for a in PARSERS["mycel-miner"]._actions for s in a.option_strings}
    validator_flags = {s for a in PARSERS["mycel-validator"]._actions for s in a.option_strings}
    offered = miner_flags | validator_flags
    for name, field in MycelSettings.model_fields.items():
        subfields = getattr(field.annotation, "model_fields", {name: field})
        for sub_name, sub_field in subfields.items():
            flag = f"--{name}" if sub_name == name else f"--{name}.{sub_name}"
            if flag in offered:
                assert sub_field.description, f"{flag} has no description"


def test_list_flags_show_no_default_and_booleans_show_theirs() -> None:
    actions = {a.dest: a for a in PARSERS["mycel-miner"]._actions}
    assert "SS58" in actions["miner.allow"].help and "default" not in actions["miner.allow"].help
    assert actions["miner.require_validator_permit"].help.endswith("(default: on)")
    assert actions["axon.port"].help.endswith("(default: 8091)")


def test_aliases_are_options_of_the_mycel_flag() -> None:
    actions = {a.dest: a for a in PARSERS["mycel-miner"]._actions}
    for dest, aliases in ALIASES.items():
        for alias in aliases:
            assert alias in actions[dest].option_strings, f"{alias} is not an alias of {dest}"


def test_every_instead_hint_names_a_real_flag_or_says_why() -> None:
    offered = {
        s.split("=")[0] for p in PARSERS.values() for a in p._actions for s in a.option_strings
    }
    for flag, hint in INSTEAD.items():
        assert flag not in offered, f"{flag} is a real flag; its hint would never show"
        named = [w.strip(",.()") for w in hint.split() if w.startswith("--")]
        for word in named:
            real = word.replace("--[no-]", "--")
            assert real in offered or real == "--neuron.*" or real == "--help", (flag, word)
    assert instead_of("--neuron.anything=3") == INSTEAD["--neuron."]
    assert instead_of("--neuron.device") == INSTEAD["--neuron.device"]
    assert instead_of("--axon.prot") is None
