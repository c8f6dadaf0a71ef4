"""Crash safety, two modes.

  crash.py write      writes virtual nodes n0, n1, ... into mesh "crash" from
                      four threads until the server goes away; prints
                      "acked <name>" for every write answered 200 (flushed
                      before the next write of that thread), then "done".
  crash.py check F    after the restart: every name listed in file F is
                      there; every node that is there (acked or not) has
                      exactly the spec that was sent for it.
"""

import sys
import threading

from client import client, fail

MESH = "crash"
THREADS = 4


def spec(i):
    return {
        "listeners": [{"portMapping": {"port": 1000 + i, "protocol": "http"}}],
        "serviceDiscovery": {"dns": {"hostname": f"n{i}.crash.local"}},
    }


def write():
    appmesh = client()
    appmesh.create_mesh(meshName=MESH)
    print("acked mesh", flush=True)
    lock = threading.Lock()

    def worker(t):
        c = client()
        i = t
        while True:
            try:
                c.create_virtual_node(meshName=MESH, virtualNodeName=f"n{i}", spec=spec(i))
            except Exception:  # noqa: BLE001 - the server was killed
                return
            with lock:
                print(f"acked n{i}", flush=True)
            i += THREADS

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("done", flush=True)


def check(path):
    acked = {line.split()[1] for line in open(path) if line.startswith("acked n")}
    appmesh = client()
    names = set()
    for page in appmesh.get_paginator("list_virtual_nodes").paginate(meshName=MESH):
        names.update(n["virtualNodeName"] for n in page["virtualNodes"])
    lost = sorted(acked - names)
    if lost:
        fail(f"{len(lost)} writes answered 200 are gone after the restart: {lost[:10]}")
    for name in sorted(names):
        vn = appmesh.describe_virtual_node(meshName=MESH, virtualNodeName=name)["virtualNode"]
        i = int(name[1:])
        want = spec(i)
        got = vn["spec"]
        for key in ("listeners", "serviceDiscovery"):
            if got.get(key) != want[key]:
                fail(f"{name} is half there: {key} = {got.get(key)!r}, written {want[key]!r}")
        if vn["metadata"]["version"] != 1:
            fail(f"{name}: version {vn['metadata']['version']} after one create")
    extra = sorted(names - acked, key=lambda n: int(n[1:]))
    print(f"ok: {len(acked)} acknowledged writes all there, {len(extra)} unacknowledged "
          f"complete ({extra}), none partial")


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write()
    else:
        check(sys.argv[2])
