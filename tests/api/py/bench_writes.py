"""API writes per second through boto3: update-route (the weight change of
a pipeline) and create-virtual-node, one client, sequential."""

import sys
import time

from client import client

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200
appmesh = client()
listeners = [{"portMapping": {"port": 80, "protocol": "http"}}]
appmesh.create_mesh(meshName="bench")
for name in ("a", "b"):
    appmesh.create_virtual_node(meshName="bench", virtualNodeName=name, spec={
        "listeners": listeners, "serviceDiscovery": {"dns": {"hostname": f"{name}.bench.local"}}})
appmesh.create_virtual_router(meshName="bench", virtualRouterName="r", spec={"listeners": listeners})


def route(w):
    return {"httpRoute": {"match": {"prefix": "/"}, "action": {"weightedTargets": [
        {"virtualNode": "a", "weight": w}, {"virtualNode": "b", "weight": 100 - w}]}}}


appmesh.create_route(meshName="bench", virtualRouterName="r", routeName="rt", spec=route(50))
t = time.monotonic()
for i in range(N):
    appmesh.update_route(meshName="bench", virtualRouterName="r", routeName="rt", spec=route(i % 101))
upd = N / (time.monotonic() - t)
t = time.monotonic()
for i in range(N):
    appmesh.create_virtual_node(meshName="bench", virtualNodeName=f"n{i}", spec={
        "listeners": listeners, "serviceDiscovery": {"dns": {"hostname": f"n{i}.bench.local"}}})
create = N / (time.monotonic() - t)
print(f"boto3: {upd:.0f} update-route/s, {create:.0f} create-virtual-node/s ({N} each, sequential)")
