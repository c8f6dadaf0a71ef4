"""Writes through several meshplane replicas while faults happen, and the
check that nothing acknowledged was lost. Two modes:

  replica_writes.py write MESH PREFIX PAUSE_MS ENDPOINT...
      creates virtual nodes PREFIX0, PREFIX1, ... in MESH, each through the
      next endpoint in turn, until standard input closes; prints one JSON
      line per write: {"name", "via", "status"} with the HTTP status (0 when
      no answer came: the replica is down) and the error code if any.
  replica_writes.py check MESH ENDPOINT ADMIN NAMES_FILE
      lists MESH's virtual nodes through ENDPOINT (the API of one replica)
      and asks ADMIN (that replica's admin server) for the served
      configuration of every name in NAMES_FILE (one a line); prints
      {"listed": N, "missing": [...], "unserved": [...]}.
"""

import json
import sys
import threading
import urllib.error
import urllib.request

import botocore.exceptions

from client import client


def spec(i):
    return {
        "listeners": [{"portMapping": {"port": 1000 + i % 60000, "protocol": "http"}}],
        "serviceDiscovery": {"dns": {"hostname": f"w{i}.apps.local"}},
    }


def write(mesh, prefix, pause_ms, endpoints):
    clients = [client(e, connect_timeout=2, read_timeout=10) for e in endpoints]
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    i = 0
    while not stop.is_set():
        name = f"{prefix}{i}"
        via = endpoints[i % len(endpoints)]
        out = {"name": name, "via": via}
        try:
            clients[i % len(clients)].create_virtual_node(
                meshName=mesh, virtualNodeName=name, spec=spec(i))
            out["status"] = 200
        except botocore.exceptions.ClientError as e:
            out["status"] = e.response["ResponseMetadata"]["HTTPStatusCode"]
            out["error"] = e.response["Error"]["Code"]
            out["message"] = e.response["Error"].get("Message", "")
        except botocore.exceptions.BotoCoreError as e:
            out["status"] = 0
            out["error"] = type(e).__name__
        print(json.dumps(out), flush=True)
        i += 1
        stop.wait(pause_ms / 1000)


def check(mesh, endpoint, admin, names_file):
    wanted = [line.strip() for line in open(names_file) if line.strip()]
    listed = set()
    for page in client(endpoint).get_paginator("list_virtual_nodes").paginate(meshName=mesh):
        listed.update(n["virtualNodeName"] for n in page["virtualNodes"])
    unserved = []
    for name in wanted:
        url = f"{admin}/debug/config?node=mesh/{mesh}/virtualNode/{name}"
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                served = r.status == 200 and b"lds_ingress" in r.read()
        except urllib.error.URLError:
            served = False
        if not served:
            unserved.append(name)
    missing = sorted(set(wanted) - listed)
    print(json.dumps({"listed": len(listed), "missing": missing, "unserved": unserved}))


def main():
    mode = sys.argv[1]
    if mode == "write":
        write(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:])
    elif mode == "check":
        check(*sys.argv[2:6])
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
