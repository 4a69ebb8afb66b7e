"""Logging set-up: Mycel's own detail at --logging.debug / --logging.trace, other libraries
held at WARNING, no progress bars in a log file or a JSON log.

Each case runs in a fresh interpreter whose stderr is a pipe (as under systemd, pm2 or a log
file), with the real logger names the libraries use and real tqdm / huggingface_hub bars.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mycel_subnet.config import LoggingSettings
from mycel_subnet.logging_setup import TRACE, level_number

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import logging, sys
from mycel_subnet.logging_setup import configure_logging, TRACE
configure_logging(sys.argv[1], json_lines=sys.argv[2] == "json")
presidio = logging.getLogger("presidio-analyzer")
presidio.setLevel(logging.DEBUG)  # as presidio and spaCy do: their own level, not root's
for i in range(50):
    presidio.debug("Loaded recognizer %d", i)
    presidio.warning("Recognizer not added to registry because language is not supported %d", i)
logging.getLogger("httpx").info("HTTP Request: POST http://127.0.0.1/x 200")
logging.getLogger("urllib3.connectionpool").debug("Starting new HTTP connection")
logging.getLogger("bittensor").warning("a real warning from the SDK")
logging.getLogger("mycel_subnet.miner.app").debug("mycel debug detail")
logging.getLogger("mycel_subnet.validator.loop").log(TRACE, "mycel trace detail")
logging.getLogger("neurons.miner").info("miner serving")
from tqdm import tqdm
for _ in tqdm(range(200), desc="Loading weights"):
    pass
from huggingface_hub.utils import tqdm as hf_tqdm
for _ in hf_tqdm(range(200), desc="Fetching files"):
    pass
"""


def _run(level: str, mode: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, level, mode],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stderr.splitlines()


def test_debug_shows_mycel_detail_and_holds_third_party_noise():
    lines = _run("DEBUG", "plain")
    text = "\n".join(lines)
    assert "mycel debug detail" in text and "miner serving" in text
    assert "mycel trace detail" not in text, "TRACE is below DEBUG"
    assert "presidio" not in text, "presidio's debug lines and its language warnings are held"
    assert "HTTP Request" not in text and "Starting new HTTP connection" not in text
    assert "a real warning from the SDK" in text, "third-party warnings still come through"
    assert len(lines) == 3, lines


def test_trace_adds_mycel_trace_lines_only():
    text = "\n".join(_run("TRACE", "plain"))
    assert "mycel trace detail" in text and "mycel debug detail" in text
    assert "presidio" not in text and "HTTP Request" not in text


def test_json_logs_are_one_object_per_line_with_no_progress_bar():
    lines = _run("INFO", "json")
    records = [json.loads(line) for line in lines]  # any bar text would fail to parse here
    assert [r["msg"] for r in records] == ["a real warning from the SDK", "miner serving"]
    assert not any("Loading weights" in line or "%|" in line for line in lines)


def test_progress_bars_stay_out_of_a_plain_log_file_too():
    lines = _run("INFO", "plain")
    assert not any("Loading weights" in line or "Fetching files" in line for line in lines)
    assert "\r" not in "".join(lines)


@pytest.mark.parametrize(
    ("debug", "trace", "level"), [(False, False, "INFO"), (True, False, "DEBUG"),
                                  (False, True, "TRACE"), (True, True, "TRACE")],
)  # fmt: skip
def test_logging_flags_pick_the_level(debug, trace, level):
    assert LoggingSettings(debug=debug, trace=trace).level == level
    assert level_number(level) == {"INFO": 20, "DEBUG": 10, "TRACE": TRACE}[level]


def test_an_unknown_level_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown log level 'LOUD'"):
        level_number("LOUD")
