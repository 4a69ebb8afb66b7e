"""Sandbox launcher: runs inside the child as ``python -I -S -u _launcher.py RESULT_FD``.

Standalone on purpose (stdlib only, no package imports): it is executed by path in an isolated
interpreter. It reads the job (JSON) from stdin, installs an audit hook that blocks process
creation, network, ctypes, frame introspection and file access outside the private working
directory, then runs the untrusted code. Results go to an inherited pipe (fd RESULT_FD) as lines
prefixed by a per-run nonce, which keeps stray writes to that fd from being read as results.

The nonce is not a strong secret: the stdlib needs ``sys._getframe``, so a template can walk up to
``main``'s frame. Security does not rest on it: (1) policy violations are written to the pipe the
moment they are denied, and a pipe cannot be rewound, so a denied attempt always shows; (2) test
outputs are compared in the parent against expected values that never enter the sandbox; (3) the
hook's own policy lives in a closure the template cannot reach (gc introspection is blocked).
"""

import json
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


def _netns_id():
    try:
        return os.readlink("/proc/self/ns/net")
    except OSError:
        return ""


def main():
    result_fd = int(sys.argv[1])
    job = json.loads(sys.stdin.read())
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
    del job
    os.chdir(workdir)
    for name in list(sys.modules):
        if name.split(".")[0] in _BLOCKED_MODULES:
            del sys.modules[name]
    dumps, loads = json.dumps, json.loads
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

    emit("L", {"netns": isolated_net, "audit": True})
    sys.addaudithook(_make_hook(nonce, result_fd, workdir, read_roots, violations))
    namespace = {"__name__": "__template__", "__builtins__": __builtins__}
    status, detail, returned = "OK", "", None
    try:
        exec(compile(code, "<template>", "exec"), namespace)
        if mode == "call":
            func = namespace.get(entrypoint)
            if not callable(func):
                raise NameError("entrypoint " + repr_(entrypoint) + " is not a function")
            returned = func(*loads(inputs[0]))
            emit("C", returned)
        elif mode == "tests":
            func = namespace.get(entrypoint)
            if not callable(func):
                raise NameError("entrypoint " + repr_(entrypoint) + " is not a function")
            for index, raw in enumerate(inputs):
                try:
                    value = func(*loads(raw))
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
