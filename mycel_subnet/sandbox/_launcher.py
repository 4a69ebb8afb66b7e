"""Sandbox launcher: runs inside the child as ``python -I -S -u _launcher.py RESULT_FD``.

Standalone on purpose (stdlib only, no package imports): it is executed by path in an isolated
interpreter. It reads the job (marshal, from the trusted parent) from stdin, installs an audit
hook that blocks process creation, network, ctypes, frame introspection and file access outside
the private working directory, then runs the untrusted code. Results go to an inherited pipe
(fd RESULT_FD) as lines prefixed by a per-run nonce, which keeps stray writes to that fd from
being read as results.

The nonce is not a strong secret: the stdlib needs ``sys._getframe``, so a template can walk up to
``main``'s frame. Security does not rest on it: (1) policy violations are written to the pipe the
moment they are denied, and a pipe cannot be rewound, so a denied attempt always shows; (2) test
outputs are compared in the parent against expected values that never enter the sandbox; (3) the
hook's own policy lives in a closure the template cannot reach (gc introspection is blocked).

Under the kernel wall the parent also sends a seccomp filter (BPF, built with libseccomp in the
parent); the launcher loads it with prctl, checks it took hold, and refuses to run the code when
it did not. The audit hook is then the second wall, not the only one.
"""

import marshal
import os
import sys

_BLOCKED_EVENTS = frozenset(
    {
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "os.forkpty",
        "os.kill",
        "os.killpg",
        "os.startfile",
        "os.setuid",
        "os.setgid",
        "os.chroot",
        "os.mknod",
        "os.mkfifo",
        "subprocess.Popen",
        "pty.spawn",
        "signal.pthread_kill",
        "resource.setrlimit",
        "resource.prlimit",
        "sys._current_frames",
        "sys._current_exceptions",
        "sys.settrace",
        "sys.setprofile",
        "sys.remote_exec",
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "code.__new__",
        "function.__new__",
        "cpython._PySys_ClearAuditHooks",
        "webbrowser.open",
        "urllib.Request",
        "ftplib.connect",
        "smtplib.connect",
        "poplib.connect",
        "imaplib.open",
        "telnetlib.Telnet.open",
        "http.client.connect",
        "winreg.OpenKey",
    }
)
_BLOCKED_PREFIXES = ("socket.", "ctypes.", "_ssl.", "ssl.", "mmap.")
_BLOCKED_MODULES = frozenset(
    {
        "ctypes",
        "_ctypes",
        "socket",
        "_socket",
        "ssl",
        "_ssl",
        "subprocess",
        "_posixsubprocess",
        "multiprocessing",
        "_multiprocessing",
        "pty",
        "resource",
        "_xxsubinterpreters",
        "_testcapi",
        "_testinternalcapi",
        "faulthandler",
        "fcntl",
        "termios",
    }
)
# Events that carry paths to check: event -> (indices of path args, every path is a write?)
_PATH_EVENTS = {
    "os.listdir": ((0,), False),
    "os.scandir": ((0,), False),
    "os.chdir": ((0,), False),
    "os.remove": ((0,), True),
    "os.rmdir": ((0,), True),
    "os.mkdir": ((0,), True),
    "os.rename": ((0, 1), True),
    "os.link": ((0, 1), True),
    "os.symlink": ((0, 1), True),
    "os.chmod": ((0,), True),
    "os.chown": ((0,), True),
    "os.truncate": ((0,), True),
    "os.utime": ((0,), True),
    "os.chflags": ((0,), True),
    "os.setxattr": ((0,), True),
    "os.removexattr": ((0,), True),
    "os.getxattr": ((0,), False),
    "os.listxattr": ((0,), False),
    "shutil.rmtree": ((0,), True),
    "shutil.copyfile": ((0, 1), False),
    "shutil.copymode": ((0, 1), True),
    "shutil.move": ((0, 1), True),
    "shutil.chown": ((0,), True),
}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _inside(path, roots):
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


def _real(path):
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, str):
        return None
    return os.path.realpath(path)


def _make_hook(nonce, result_fd, workdir, read_roots, violations):
    """Build the audit hook; its state lives only in this closure."""
    write = os.write
    blocked_events = _BLOCKED_EVENTS
    path_events = _PATH_EVENTS
    write_roots = (workdir,)
    all_read = tuple(read_roots) + write_roots
    real = _real
    inside = _inside
    str_type = str
    int_type = int
    type_ = type

    def deny(event, what):
        text = (event + " " + what).replace("\n", " ")[:300]
        violations.append(text)
        try:  # noqa: SIM105 - the hook avoids extra imports and calls
            write(result_fd, (nonce + " V " + text + "\n").encode("utf-8", "replace"))
        except OSError:
            pass
        raise PermissionError("sandbox policy: " + text)

    def hook(event, args):
        if event == "open":
            path, mode, flags = args
            if type_(path) is int_type or path is None:
                return
            target = real(path)
            if target is None:
                deny(event, "non-path")
            writing = False
            if type_(mode) is str_type and any(c in mode for c in "wax+"):
                writing = True
            if type_(flags) is int_type and flags & _WRITE_FLAGS:
                writing = True
            if writing and not inside(target, write_roots):
                deny(event, "write " + target)
            if not writing and not inside(target, all_read):
                deny(event, "read " + target)
            return
        if event == "import":
            name = args[0]
            if type_(name) is str_type and name.split(".")[0] in _BLOCKED_MODULES:
                deny(event, name)
            return
        if event in blocked_events or event.startswith(_BLOCKED_PREFIXES):
            deny(event, "")
        spec = path_events.get(event)
        if spec is not None:
            indices, writing = spec
            for index in indices:
                if index >= len(args) or type_(args[index]) is int_type:
                    continue
                target = real(args[index])
                if target is None:
                    continue
                roots = write_roots if writing or event == "os.chdir" else all_read
                if not inside(target, roots):
                    deny(event, target)

    return hook


def _load_seccomp(program):
    """Install ``program`` (BPF bytes) for this process; returns "" or why it failed."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    class Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    buf = ctypes.create_string_buffer(program, len(program))
    prog = Prog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
    word = ctypes.c_ulong
    if libc.prctl(38, word(1), word(0), word(0), word(0)) != 0:  # PR_SET_NO_NEW_PRIVS
        return "PR_SET_NO_NEW_PRIVS failed: errno " + str(ctypes.get_errno())
    if libc.prctl(22, word(2), ctypes.byref(prog), word(0), word(0)) != 0:  # PR_SET_SECCOMP
        return "PR_SET_SECCOMP failed: errno " + str(ctypes.get_errno())
    return ""


def _set_rlimits(pairs):
    """Apply (resource, soft, hard) triples; a hard limit below ours is kept (never raised)."""
    import resource

    for which, soft, hard in pairs:
        try:
            resource.setrlimit(which, (soft, hard))
        except (ValueError, OSError):
            current = resource.getrlimit(which)[1]
            if current != resource.RLIM_INFINITY:
                soft, hard = min(soft, current), current
            resource.setrlimit(which, (soft, hard))


def _make_dumps():
    """json.dumps with default settings, without importing ``json``.

    ``json`` pulls in ``re`` and ``enum``: about a third of this process's start-up. The C
    encoder ``json.dumps`` itself uses is enough. Falls back to ``json`` where it is missing."""
    try:
        from _json import encode_basestring_ascii, make_encoder
    except ImportError:  # pragma: no cover - interpreters without the C accelerator
        import json

        return json.dumps

    def default(value):
        raise TypeError("Object of type " + type(value).__name__ + " is not JSON serializable")

    def dumps(value):
        encode = make_encoder(
            {}, default, encode_basestring_ascii, None, ": ", ", ", False, False, True
        )
        return "".join(encode(value, 0))

    return dumps


def _proc_status():
    """The kernel's own view of this process: uid, capabilities, no_new_privs, seccomp mode."""
    fields = {}
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
    except OSError:
        return {}
    return {
        "uid": int(fields.get("Uid", "-1").split()[0]),
        "capeff": fields.get("CapEff", ""),
        "nnp": fields.get("NoNewPrivs") == "1",
        "seccomp": fields.get("Seccomp") == "2",
    }


def _netns_id():
    try:
        return os.readlink("/proc/self/ns/net")
    except OSError:
        return ""


def main():
    result_fd = int(sys.argv[1])
    job = marshal.loads(sys.stdin.buffer.read())
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    nonce = job["nonce"]
    workdir = os.path.realpath(job["workdir"])
    read_roots = [os.path.realpath(p) for p in sys.path if p]
    read_roots.append(os.path.realpath(os.devnull))
    isolated_net = bool(job["host_netns"]) and _netns_id() not in ("", job["host_netns"])
    mode = job["mode"]
    code = job["code"]
    entrypoint = job.get("entrypoint")
    inputs = job.get("inputs", [])
    audit = job.get("audit", True)  # False only in tests that prove the kernel wall alone holds
    program = bytes.fromhex(job.get("seccomp", ""))
    required = bool(job.get("seccomp_required"))
    rlimits = job.get("rlimits", [])
    del job
    os.chdir(workdir)
    os.environ.pop("PWD", None)
    if rlimits:  # under bwrap the parent sets none (no preexec_fn): set them before any code
        _set_rlimits(rlimits)
    wall_error = _load_seccomp(program) if program else ""
    for name in list(sys.modules):
        if name.split(".")[0] in _BLOCKED_MODULES and (audit or name.startswith("ctypes")):
            del sys.modules[name]
    status_ = _proc_status()
    if program and not wall_error and not status_.get("seccomp"):
        wall_error = "seccomp filter not in force after loading"
    if required and (wall_error or not program):
        reason = wall_error or "no seccomp filter was sent"
        os.write(result_fd, (nonce + " R WALL " + reason + "\n").encode("utf-8", "replace"))
        os._exit(0)
    dumps = _make_dumps()
    write = os.write
    isinstance_, type_, str_, repr_, len_ = isinstance, type, str, repr, len
    base_exc, mem_err, sys_exit = BaseException, MemoryError, SystemExit
    violations = []

    def emit(kind, payload):
        """Write one tagged JSON line; raises TypeError when payload is not JSON."""
        try:
            body = dumps(payload)
        except base_exc as exc:
            raise TypeError("value is not JSON-serialisable: " + describe(exc)) from None
        write(result_fd, (nonce + " " + kind + " " + body + "\n").encode("utf-8", "replace"))

    def describe(exc):
        try:
            message = str_(exc)
        except base_exc:
            message = "<unprintable>"
        return (type_(exc).__name__ + ": " + message).replace("\n", " ")[:300]

    emit("L", dict(status_, netns=isolated_net, audit=bool(audit)))
    if audit:
        sys.addaudithook(_make_hook(nonce, result_fd, workdir, read_roots, violations))
    namespace = {"__name__": "__template__", "__builtins__": __builtins__}
    status, detail, returned = "OK", "", None
    try:
        exec(compile(code, "<template>", "exec"), namespace)
        if mode == "call":
            func = namespace.get(entrypoint)
            if not callable(func):
                raise NameError("entrypoint " + repr_(entrypoint) + " is not a function")
            returned = func(*inputs[0])
            emit("C", returned)
        elif mode == "tests":
            func = namespace.get(entrypoint)
            if not callable(func):
                raise NameError("entrypoint " + repr_(entrypoint) + " is not a function")
            for index, raw in enumerate(inputs):
                try:
                    value = func(*raw)
                    emit("C", {"i": index, "ok": True, "value": value})
                except mem_err:
                    raise
                except base_exc as exc:  # one failing case must not stop the others
                    if isinstance_(exc, (KeyboardInterrupt, sys_exit)):
                        raise
                    emit("C", {"i": index, "ok": False, "error": describe(exc)})
    except mem_err as exc:
        status, detail = "MEMORY", describe(exc)
    except sys_exit as exc:
        code_ = exc.code
        if code_ is None or code_ == 0:
            status = "OK"
        else:
            status, detail = "EXCEPTION", "SystemExit: " + str_(code_)[:200]
    except base_exc as exc:
        status, detail = "EXCEPTION", describe(exc)
    if len_(violations):
        status, detail = "BLOCKED", violations[0]
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except base_exc:
        pass
    write(
        result_fd,
        (nonce + " R " + status + " " + detail.replace("\n", " ") + "\n").encode(
            "utf-8", "replace"
        ),
    )
    os._exit(0)


if __name__ == "__main__":
    main()
