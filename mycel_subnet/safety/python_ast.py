"""Static analysis of Python source with ``ast``: flags calls and imports that let a template
run code, touch the network, write or delete files, or hide what it does. It never executes
the code; pair it with the sandbox, which contains what analysis misses."""

from __future__ import annotations

import ast
import re

from mycel_subnet.safety.report import Finding, Severity

C, H, M, L = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW

# Fully qualified call name -> (code, severity, message)
CALLS: dict[str, tuple[str, Severity, str]] = {
    "eval": ("PY_EVAL", H, "eval() runs arbitrary code"),
    "exec": ("PY_EXEC", H, "exec() runs arbitrary code"),
    "compile": ("PY_COMPILE", M, "compile() builds code objects at run time"),
    "__import__": ("PY_DYNAMIC_IMPORT", M, "__import__() imports modules by computed name"),
    "importlib.import_module": ("PY_DYNAMIC_IMPORT", M, "dynamic import by name"),
    "os.system": ("PY_SHELL", C, "os.system runs a shell command"),
    "os.popen": ("PY_SHELL", C, "os.popen runs a shell command"),
    "os.remove": ("PY_FILE_DELETE", M, "deletes a file"),
    "os.unlink": ("PY_FILE_DELETE", M, "deletes a file"),
    "os.rmdir": ("PY_FILE_DELETE", M, "deletes a directory"),
    "os.removedirs": ("PY_FILE_DELETE", M, "deletes directories"),
    "os.kill": ("PY_PROCESS", H, "sends signals to processes"),
    "os.fork": ("PY_PROCESS", H, "forks the process"),
    "os.chmod": ("PY_FILE_PERMS", M, "changes file permissions"),
    "shutil.rmtree": ("PY_FILE_DELETE", H, "recursively deletes a directory tree"),
    "shutil.move": ("PY_FILE_WRITE", M, "moves files"),
    "pickle.loads": ("PY_DESERIALISE", H, "pickle.loads can execute code from data"),
    "pickle.load": ("PY_DESERIALISE", H, "pickle.load can execute code from data"),
    "marshal.loads": ("PY_DESERIALISE", H, "marshal.loads builds code objects"),
    "dill.loads": ("PY_DESERIALISE", H, "dill.loads can execute code from data"),
    "yaml.load": ("PY_DESERIALISE", M, "yaml.load without SafeLoader can build objects"),
    "yaml.unsafe_load": ("PY_DESERIALISE", H, "yaml.unsafe_load builds arbitrary objects"),
    "base64.b64decode": ("PY_DECODE", L, "decodes base64 data"),
    "base64.b32decode": ("PY_DECODE", L, "decodes base32 data"),
    "base64.a85decode": ("PY_DECODE", L, "decodes ascii85 data"),
    "codecs.decode": ("PY_DECODE", L, "decodes data with a codec"),
    "zlib.decompress": ("PY_DECODE", L, "decompresses embedded data"),
    "bytes.fromhex": ("PY_DECODE", L, "decodes hex data"),
}
# Module prefix -> (code, severity, message) for any call or import under it.
MODULES: dict[str, tuple[str, Severity, str]] = {
    "os.exec": ("PY_PROCESS", C, "replaces the process with another program"),
    "os.spawn": ("PY_PROCESS", C, "spawns a program"),
    "os.posix_spawn": ("PY_PROCESS", C, "spawns a program"),
    "subprocess": ("PY_SUBPROCESS", C, "runs external programs"),
    "pty": ("PY_SUBPROCESS", C, "spawns programs on a pseudo-terminal"),
    "multiprocessing": ("PY_PROCESS", M, "starts processes"),
    "socket": ("PY_NETWORK", H, "opens network sockets"),
    "requests": ("PY_NETWORK", H, "makes HTTP requests"),
    "httpx": ("PY_NETWORK", H, "makes HTTP requests"),
    "aiohttp": ("PY_NETWORK", H, "makes HTTP requests"),
    "urllib.request": ("PY_NETWORK", H, "makes HTTP requests"),
    "urllib3": ("PY_NETWORK", H, "makes HTTP requests"),
    "http.client": ("PY_NETWORK", H, "makes HTTP requests"),
    "ftplib": ("PY_NETWORK", H, "opens FTP connections"),
    "smtplib": ("PY_NETWORK", H, "sends e-mail"),
    "paramiko": ("PY_NETWORK", H, "opens SSH connections"),
    "ctypes": ("PY_NATIVE", C, "calls native code directly (can bypass any sandbox policy)"),
    "cffi": ("PY_NATIVE", C, "calls native code directly"),
}
PREFIX_FAMILIES = {"os.exec", "os.spawn", "os.posix_spawn"}  # os.execv, os.spawnlp, ...
ENCODED_LITERAL = re.compile(r"^[A-Za-z0-9+/=_\-\s]+$|^(?:\\x[0-9a-fA-F]{2})+$|^[0-9a-fA-F]+$")
LONG_LITERAL = 200
DECODE_CODES = {"PY_DECODE"}
EXEC_NAMES = {"eval", "exec", "compile"}
# Attribute walks used to escape restricted interpreters (reach builtins, frames, globals).
ESCAPE_ATTRS = {
    "__subclasses__", "__globals__", "__builtins__", "__code__", "__mro__", "__bases__",
    "__closure__", "f_globals", "f_back", "gi_frame",
}  # fmt: skip
ENVIRON_NAMES = {"os.environ", "os.environb", "os.getenv"}
SENSITIVE_PATHS = ("/", "~", "..")  # absolute, home-relative or parent-relative file reads


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """Resolve ``a.b.c`` (through import aliases) to a dotted name, or None if computed."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(aliases.get(node.id, node.id))
    return ".".join(reversed(parts))


class _Visitor(ast.NodeVisitor):
    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}
        self.findings: list[Finding] = []

    def add(self, code: str, severity: Severity, node: ast.AST, message: str) -> None:
        self.findings.append(Finding(code, severity, getattr(node, "lineno", None), message))

    def _module_rule(self, name: str, node: ast.AST, verb: str) -> None:
        for prefix, (code, severity, message) in MODULES.items():
            family = prefix in PREFIX_FAMILIES and name.startswith(prefix)
            if family or name == prefix or name.startswith(prefix + "."):
                self.add(code, severity, node, f"{verb} {name}: {message}")
                return

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.aliases[alias.asname or alias.name.split(".")[0]] = (
                alias.name if alias.asname else alias.name.split(".")[0]
            )
            self._module_rule(alias.name, node, "imports")
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        self._module_rule(module, node, "imports from")
        for alias in node.names:
            full = f"{module}.{alias.name}" if module else alias.name
            self.aliases[alias.asname or alias.name] = full
            if full in CALLS or any(full.startswith(p) for p in PREFIX_FAMILIES):
                self._call_rule(full, node)
        self.generic_visit(node)

    def _call_rule(self, name: str, node: ast.AST) -> bool:
        rule = CALLS.get(name)
        if rule:
            code, severity, message = rule
            self.add(code, severity, node, f"{name}: {message}")
            return True
        before = len(self.findings)
        self._module_rule(name, node, "calls")
        return len(self.findings) > before

    def visit_Call(self, node: ast.Call) -> None:
        name = _dotted(node.func, self.aliases)
        if name is not None:
            self._call_rule(name, node)
            if name in EXEC_NAMES and node.args and self._is_decoded(node.args[0]):
                self.add("PY_OBFUSCATED_EXEC", C, node, f"{name}() of decoded data hides code")
            if name in ("getattr", "setattr") and len(node.args) >= 2:
                if not isinstance(node.args[1], ast.Constant):
                    self.add("PY_COMPUTED_ATTR", M, node, f"{name}() with a computed name")
                elif node.args[1].value in ("system", "popen", "__import__", "eval", "exec"):
                    self.add("PY_COMPUTED_ATTR", H, node, f"{name}() reaches {node.args[1].value}")
            if name == "open" or name.endswith(".open") or name.endswith("write_text"):
                self._file_write(node, name)
                self._host_file(node, name)
            if name.endswith(("write_text", "write_bytes", ".unlink", ".rmdir")):
                self.add("PY_FILE_WRITE", M, node, f"{name}: writes or deletes files")
        self.generic_visit(node)

    def _file_write(self, node: ast.Call, name: str) -> None:
        mode = node.args[1] if len(node.args) > 1 else None
        for keyword in node.keywords:
            if keyword.arg == "mode":
                mode = keyword.value
        if isinstance(mode, ast.Constant) and isinstance(mode.value, str):
            if any(c in mode.value for c in "wax+"):
                self.add("PY_FILE_WRITE", M, node, f"{name}() opens a file for writing")
        elif mode is not None:
            self.add("PY_FILE_WRITE", L, node, f"{name}() with a computed mode")

    def _host_file(self, node: ast.Call, name: str) -> None:
        path = node.args[0] if node.args else None
        text = path.value if isinstance(path, ast.Constant) else None
        if isinstance(text, str) and text.startswith(SENSITIVE_PATHS):
            self.add("PY_FILE_READ", H, node, f"{name}() of a host path {text[:40]!r}")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in ESCAPE_ATTRS:
            self.add("PY_INTROSPECTION", H, node, f"{node.attr}: walks interpreter internals")
        elif _dotted(node, self.aliases) in ENVIRON_NAMES:
            self.add("PY_ENVIRON", H, node, "reads environment variables (secrets)")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id == "__builtins__":
            self.add("PY_INTROSPECTION", H, node, "__builtins__: reaches every builtin")

    def _is_decoded(self, node: ast.AST) -> bool:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call):
                inner = _dotted(sub.func, self.aliases) or ""
                rule = CALLS.get(inner)
                if (rule and rule[0] in DECODE_CODES) or inner.endswith(".decode"):
                    return True
        return False

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, (str, bytes)) and len(value) >= LONG_LITERAL:
            text = value.decode("latin-1") if isinstance(value, bytes) else value
            if ENCODED_LITERAL.match(text.strip()):
                self.add("PY_ENCODED_BLOB", M, node, f"{len(value)}-char encoded-looking literal")


def analyse_python(code: str) -> list[Finding]:
    """Findings for Python source; a syntax error is itself a finding (it cannot be vetted)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        return [Finding("PARSE_ERROR", Severity.HIGH, line, f"cannot parse as Python: {exc}")]
    visitor = _Visitor()
    visitor.visit(tree)
    return visitor.findings
