"""Point the blank spaCy pipeline cache at a per-session temp dir (no writes to ~/.cache)."""

import pytest


@pytest.fixture(scope="session", autouse=True)
def _spacy_dir(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("MYCEL_SPACY_DIR", str(tmp_path_factory.mktemp("spacy") / "blank-en"))
    yield
    mp.undo()
