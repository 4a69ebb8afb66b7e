"""Pattern scan for non-Python code (shell, JavaScript, SQL, ...): no parser, just the token
sequences that mean "destroy, download-and-run, or exfiltrate"."""

from __future__ import annotations

import re

from mycel_subnet.safety.report import Finding, Severity

C, H, M, L = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW

RULES: list[tuple[str, Severity, re.Pattern[str], str]] = [
    (
        "SH_RM_RF",
        C,
        re.compile(
            r"\brm\s+(-[a-zA-Z]*[rR][a-zA-Z]*f|-[a-zA-Z]*f[a-zA-Z]*[rR]|-r\s+-f|-f\s+-r|--recursive)\b"
        ),
        "recursive forced delete",
    ),
    (
        "SH_PIPE_TO_SHELL",
        C,
        re.compile(r"\b(curl|wget|fetch)\b[^\n|]*\|\s*(sudo\s+)?(ba|z|da)?sh\b"),
        "downloads and runs a script",
    ),
    (
        "SH_PIPE_TO_INTERPRETER",
        H,
        re.compile(r"\b(curl|wget)\b[^\n|]*\|\s*(python3?|perl|ruby|node)\b"),
        "downloads and runs code",
    ),
    (
        "SH_DD_DEVICE",
        C,
        re.compile(r"\bdd\b[^\n]*\bof=/dev/(sd|nvme|hd|disk)"),
        "overwrites a disk device",
    ),
    ("SH_MKFS", C, re.compile(r"\bmkfs(\.\w+)?\b"), "formats a filesystem"),
    ("SH_FORK_BOMB", C, re.compile(r":\(\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:"), "fork bomb"),
    ("SH_CHMOD_777", M, re.compile(r"\bchmod\s+(-R\s+)?0?777\b"), "makes files world-writable"),
    ("SH_SUDO", M, re.compile(r"\bsudo\b"), "escalates privileges"),
    (
        "SH_REVERSE_SHELL",
        C,
        re.compile(r"/dev/tcp/|\bnc\b[^\n]*\s-e\s|\bncat\b[^\n]*--exec"),
        "reverse shell",
    ),
    (
        "SH_EVAL_DECODE",
        C,
        re.compile(r"base64\s+(-d|--decode)[^\n]*\|\s*(ba)?sh\b"),
        "runs decoded data",
    ),
    (
        "SH_CREDENTIAL_FILES",
        H,
        re.compile(
            r"~/\.ssh/|id_rsa|\.aws/credentials|/etc/shadow|\.bitcoin/wallet|\.bittensor/wallets"
        ),
        "touches credential files",
    ),
    ("SH_HISTORY_WIPE", M, re.compile(r"history\s+-c|unset\s+HISTFILE"), "hides its traces"),
    ("JS_EVAL", H, re.compile(r"\beval\s*\(|\bnew\s+Function\s*\("), "evaluates code at run time"),
    (
        "JS_CHILD_PROCESS",
        C,
        re.compile(r"child_process|\bexecSync\s*\(|\bspawnSync\s*\("),
        "runs external programs",
    ),
    (
        "JS_FS_DELETE",
        H,
        re.compile(r"\bfs\.(rmSync|rmdirSync|unlinkSync|rm|rmdir|unlink)\s*\("),
        "deletes files",
    ),
    (
        "JS_NETWORK",
        M,
        re.compile(
            r"\bfetch\s*\(|XMLHttpRequest|\bnew\s+WebSocket\s*\(|require\(['\"](https?|net)['\"]\)"
        ),
        "network access",
    ),
    ("JS_ATOB_EVAL", C, re.compile(r"eval\s*\(\s*(atob|Buffer\.from)\s*\("), "runs decoded data"),
    (
        "SQL_DROP",
        H,
        re.compile(r"\b(DROP\s+(TABLE|DATABASE|SCHEMA)|TRUNCATE\s+TABLE)\b", re.I),
        "destroys data",
    ),
    ("SQL_DELETE_ALL", M, re.compile(r"\bDELETE\s+FROM\s+\w+\s*;", re.I), "deletes every row"),
    ("ENCODED_BLOB", M, re.compile(r"[A-Za-z0-9+/]{200,}={0,2}"), "long encoded blob"),
]


def scan_tokens(code: str) -> list[Finding]:
    """Findings for each rule match, with the 1-based line of the match."""
    findings = []
    for code_id, severity, pattern, message in RULES:
        for match in pattern.finditer(code):
            line = code.count("\n", 0, match.start()) + 1
            findings.append(Finding(code_id, severity, line, f"{message}: {match.group(0)[:60]!r}"))
    return findings
