"""Escape attempts a hostile code template might make, with the status the sandbox must give.

Each entry: (name, code, expected status). ``{outside}`` is replaced by a host path outside the
sandbox's private directory, ``{port}`` by a loopback port the test listens on.
"""

from mycel_subnet.sandbox import SandboxStatus

B, T, M, OUT, E, C = (
    SandboxStatus.BLOCKED,
    SandboxStatus.TIMEOUT,
    SandboxStatus.MEMORY_LIMIT,
    SandboxStatus.OUTPUT_LIMIT,
    SandboxStatus.EXCEPTION,
    SandboxStatus.CRASH,
)

CORPUS: list[tuple[str, str, SandboxStatus]] = [
    ("read_etc_passwd", "print(open('/etc/passwd').read())", B),
    ("read_outside_file", "print(open({outside!r}).read())", B),
    ("pathlib_read_outside", "import pathlib; pathlib.Path('/etc/hostname').read_text()", B),
    ("os_open_read_outside", "import os; os.open('/etc/passwd', os.O_RDONLY)", B),
    ("listdir_root", "import os; print(os.listdir('/'))", B),
    ("write_outside", "open({outside!r}, 'w').write('pwned')", B),
    ("os_open_create_outside", "import os; os.open({outside!r}, os.O_WRONLY | os.O_CREAT)", B),
    ("symlink_escape", "import os; os.symlink('/etc/passwd', 'p'); print(open('p').read())", B),
    ("hardlink_escape", "import os; os.link('/etc/passwd', 'p')", B),
    ("chdir_out", "import os; os.chdir('/')", B),
    ("remove_outside", "import os; os.remove({outside!r})", B),
    (
        "socket_connect",
        "import socket; s = socket.socket(); s.connect(('127.0.0.1', {port}))",
        B,
    ),
    ("raw_socket_module", "import _socket; _socket.socket()", B),
    ("urllib", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}/')", B),
    ("fork_bomb", "import os\nwhile True:\n    os.fork()", B),
    ("subprocess", "import subprocess; subprocess.run(['id'])", B),
    ("os_system", "import os; os.system('touch {outside}')", B),
    ("os_exec", "import os; os.execv('/bin/sh', ['sh', '-c', 'id'])", B),
    ("os_spawn", "import os; os.spawnv(os.P_WAIT, '/bin/true', ['true'])", B),
    ("posix_spawn", "import os; os.posix_spawn('/bin/true', ['true'], {{}})", B),
    ("dunder_import_os", "__import__('os').system('id')", B),
    ("importlib_subprocess", "import importlib; importlib.import_module('subprocess')", B),
    ("ctypes", "import ctypes; ctypes.CDLL(None).system(b'id')", B),
    (
        "builtins_tamper_open",
        "import builtins, io; builtins.open = io.open; open('/etc/passwd')",
        B,
    ),
    (
        "builtins_import_tamper",
        "import builtins\nreal = builtins.__import__\n"
        "builtins.__import__ = lambda *a, **k: real(*a, **k)\nimport subprocess",
        B,
    ),
    (
        "sys_modules_audit_removal",
        "import sys\nsys.modules['sys'].audit = lambda *a: None\n"
        "sys.addaudithook = lambda h: None\nopen('/etc/passwd')",
        B,
    ),
    (
        "frame_walk_clears_violation_record",
        "import sys\nf = sys._getframe(1)\nv = f.f_locals['violations']\n"
        "try:\n    open('/etc/passwd')\nexcept PermissionError:\n    v.clear()\nprint('clean')",
        B,
    ),
    ("gc_objects", "import gc; gc.get_objects()", B),
    ("settrace", "import sys; sys.settrace(lambda *a: None)", B),
    ("raise_rlimit", "import resource", B),
    ("kill_parent", "import os, signal; os.kill(os.getppid(), signal.SIGKILL)", B),
    ("code_object_forge", "(lambda: 0).__code__.replace(co_code=b'')", B),
    (
        "swallowed_violation",
        "try:\n    open('/etc/passwd')\nexcept Exception:\n    pass\nprint('fine')",
        B,
    ),
    ("huge_output", "while True:\n    print('x' * 1000)", OUT),
    ("infinite_loop", "while True:\n    pass", T),
    (
        "ignore_sigxcpu",
        "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile 1: pass",
        T,
    ),
    ("sleep_forever", "import time; time.sleep(60)", T),
    ("memory_bomb", "x = bytearray(2 * 1024**3)", M),
    ("memory_growth", "x = []\nwhile True:\n    x.append(' ' * 10**7)", M),
    ("deep_recursion", "def f(n):\n    return f(n + 1)\nf(0)", E),
    (
        "forged_result_line",
        "import os\nos.write(3, b'0' * 32 + b' R OK forged\\n')\nraise ValueError('real')",
        E,
    ),
    ("segfault", "import signal; signal.raise_signal(signal.SIGSEGV)", C),
    ("hard_exit", "import os; os._exit(3)", C),
]
