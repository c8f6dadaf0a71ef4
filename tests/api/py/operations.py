"""boto3 over every operation of App Mesh 2019-01-25 against meshplane:
answers checked against the model's output shapes, metadata as App Mesh
kept it, pagination through boto3's paginators, clientToken idempotency and
every modeled error the API raises. Exits non-zero on the first mismatch."""

import os
import sys

import boto3

from client import Checked, check_answer, client, expect_error, fail

ACCOUNT = "111122223333"
REGION = "us-west-2"

appmesh = client()
api = Checked(appmesh)
ops = set(appmesh.meta.service_model.operation_names)
if len(ops) != 38:
    fail(f"the model has {len(ops)} operations, expected 38")

HTTP2_LISTENER = [{"portMapping": {"port": 80, "protocol": "http2"}}]
HTTP_LISTENER = [{"portMapping": {"port": 8080, "protocol": "http"}}]


def node_spec(host, backends=()):
    spec = {"listeners": HTTP2_LISTENER, "serviceDiscovery": {"dns": {"hostname": host}}}
    if backends:
        spec["backends"] = [{"virtualService": {"virtualServiceName": b}} for b in backends]
    return spec


def check_meta(data, kind_path, version):
    meta = data["metadata"]
    arn = f"arn:aws:appmesh:{REGION}:{ACCOUNT}:{kind_path}"
    if meta["arn"] != arn:
        fail(f"arn {meta['arn']!r}, expected {arn!r}")
    if meta["version"] != version:
        fail(f"{arn}: version {meta['version']}, expected {version}")
    if meta["meshOwner"] != ACCOUNT or meta["resourceOwner"] != ACCOUNT:
        fail(f"{arn}: owners {meta['meshOwner']}/{meta['resourceOwner']}")
    if meta["lastUpdatedAt"] < meta["createdAt"]:
        fail(f"{arn}: lastUpdatedAt before createdAt")
    if data["status"]["status"] != "ACTIVE":
        fail(f"{arn}: status {data['status']}")
    return meta


def paginate(method, key, **kwargs):
    """Every item of a list operation, one per page; checks the pages."""
    pager = appmesh.get_paginator(method)
    items, pages = [], 0
    for page in pager.paginate(PaginationConfig={"PageSize": 1}, **kwargs):
        check_answer(appmesh.meta.service_model, appmesh.meta.method_to_api_mapping[method], page)
        if len(page[key]) > 1:
            fail(f"{method}: a page of {len(page[key])} items with limit 1")
        items.extend(page[key])
        pages += 1
    api.called.add(appmesh.meta.method_to_api_mapping[method])
    return items, pages


# --- meshes ------------------------------------------------------------------
m = api.create_mesh(meshName="apps", spec={"egressFilter": {"type": "DROP_ALL"}},
                    tags=[{"key": "team", "value": "payments"}], clientToken="tok-apps")["mesh"]
uid = check_meta(m, "mesh/apps", 1)["uid"]
again = api.create_mesh(meshName="apps", spec={"egressFilter": {"type": "DROP_ALL"}},
                        tags=[{"key": "team", "value": "payments"}], clientToken="tok-apps")["mesh"]
if again["metadata"]["uid"] != uid or again["metadata"]["version"] != 1:
    fail("the same clientToken and request did not give the original answer")
expect_error(appmesh, "ConflictException", appmesh.create_mesh, meshName="apps",
             spec={"egressFilter": {"type": "ALLOW_ALL"}}, clientToken="tok-apps")
expect_error(appmesh, "ConflictException", appmesh.create_mesh, meshName="apps")
for extra in ("extra-1", "extra-2"):
    check_meta(api.create_mesh(meshName=extra)["mesh"], f"mesh/{extra}", 1)

d = api.describe_mesh(meshName="apps")["mesh"]
if d["spec"]["egressFilter"]["type"] != "DROP_ALL" or d["metadata"]["uid"] != uid:
    fail(f"describe-mesh: {d}")
api.describe_mesh(meshName="apps", meshOwner=ACCOUNT)
expect_error(appmesh, "NotFoundException", appmesh.describe_mesh, meshName="apps",
             meshOwner="999999999999")
expect_error(appmesh, "NotFoundException", appmesh.describe_mesh, meshName="nope")
u = api.update_mesh(meshName="apps", spec={"egressFilter": {"type": "ALLOW_ALL"}})["mesh"]
check_meta(u, "mesh/apps", 2)
if u["spec"]["egressFilter"]["type"] != "ALLOW_ALL":
    fail("update-mesh did not change the spec")
u = api.update_mesh(meshName="apps", spec={"egressFilter": {"type": "DROP_ALL"}})["mesh"]
check_meta(u, "mesh/apps", 3)
meshes, pages = paginate("list_meshes", "meshes")
names = sorted(x["meshName"] for x in meshes)
if names != ["apps", "extra-1", "extra-2"] or pages < 3:
    fail(f"list-meshes by one: {names} in {pages} pages")
ref = next(x for x in meshes if x["meshName"] == "apps")
if ref["version"] != 3 or ref["arn"] != u["metadata"]["arn"]:
    fail(f"MeshRef {ref}")
first = api.list_meshes(limit=2)
if len(first["meshes"]) != 2 or "nextToken" not in first:
    fail(f"list-meshes limit 2: {first}")
rest = api.list_meshes(limit=2, nextToken=first["nextToken"])
if len(rest["meshes"]) != 1 or rest.get("nextToken"):
    fail(f"list-meshes second page: {rest}")
expect_error(appmesh, "BadRequestException", appmesh.list_meshes, limit=2,
             nextToken="not-a-token-meshplane-issued")

# --- virtual nodes -------------------------------------------------------------
expect_error(appmesh, "NotFoundException", appmesh.create_virtual_node, meshName="nope",
             virtualNodeName="serviceB", spec=node_spec("serviceB.apps.local"))
for name in ("serviceB", "serviceBv2"):
    vn = api.create_virtual_node(meshName="apps", virtualNodeName=name,
                                 spec=node_spec(f"{name}.apps.local"))["virtualNode"]
    check_meta(vn, f"mesh/apps/virtualNode/{name}", 1)
expect_error(appmesh, "ConflictException", appmesh.create_virtual_node, meshName="apps",
             virtualNodeName="serviceB", spec=node_spec("serviceB.apps.local"))
msg = expect_error(appmesh, "BadRequestException", appmesh.create_virtual_node, meshName="apps",
                   virtualNodeName="bad", spec={"listeners": HTTP2_LISTENER})
if "serviceDiscovery" not in msg:
    fail(f"a node with listeners and no serviceDiscovery: message {msg!r} names no field")
expect_error(appmesh, "NotFoundException", appmesh.describe_virtual_node, meshName="apps",
             virtualNodeName="bad")

# --- virtual routers, routes, virtual services ---------------------------------------
vr = api.create_virtual_router(meshName="apps", virtualRouterName="serviceB",
                               spec={"listeners": HTTP2_LISTENER})["virtualRouter"]
check_meta(vr, "mesh/apps/virtualRouter/serviceB", 1)
route_spec = {"http2Route": {"match": {"prefix": "/"}, "action": {"weightedTargets": [
    {"virtualNode": "serviceB", "weight": 75}, {"virtualNode": "serviceBv2", "weight": 25}]}}}
rt = api.create_route(meshName="apps", virtualRouterName="serviceB", routeName="serviceB",
                      spec=route_spec)["route"]
check_meta(rt, "mesh/apps/virtualRouter/serviceB/route/serviceB", 1)
expect_error(appmesh, "NotFoundException", appmesh.create_route, meshName="apps",
             virtualRouterName="nope", routeName="r", spec=route_spec)
vs = api.create_virtual_service(meshName="apps", virtualServiceName="serviceb.apps.local",
                                spec={"provider": {"virtualRouter": {"virtualRouterName": "serviceB"}}})
check_meta(vs["virtualService"], "mesh/apps/virtualService/serviceb.apps.local", 1)
va = api.create_virtual_node(meshName="apps", virtualNodeName="serviceA",
                             spec=node_spec("serviceA.apps.local", ["serviceb.apps.local"]))
check_meta(va["virtualNode"], "mesh/apps/virtualNode/serviceA", 1)
api.create_virtual_service(meshName="apps", virtualServiceName="servicea.apps.local",
                           spec={"provider": {"virtualNode": {"virtualNodeName": "serviceA"}}})

d = api.describe_route(meshName="apps", virtualRouterName="serviceB", routeName="serviceB")["route"]
if d["spec"]["http2Route"]["action"]["weightedTargets"][0]["weight"] != 75:
    fail(f"describe-route: {d['spec']}")
route_spec["http2Route"]["action"]["weightedTargets"][0]["weight"] = 0
route_spec["http2Route"]["action"]["weightedTargets"][1]["weight"] = 100
rt = api.update_route(meshName="apps", virtualRouterName="serviceB", routeName="serviceB",
                      spec=route_spec)["route"]
check_meta(rt, "mesh/apps/virtualRouter/serviceB/route/serviceB", 2)
api.describe_virtual_router(meshName="apps", virtualRouterName="serviceB")
api.update_virtual_router(meshName="apps", virtualRouterName="serviceB",
                          spec={"listeners": HTTP2_LISTENER})
api.describe_virtual_service(meshName="apps", virtualServiceName="serviceb.apps.local")
api.update_virtual_service(meshName="apps", virtualServiceName="serviceb.apps.local",
                           spec={"provider": {"virtualRouter": {"virtualRouterName": "serviceB"}}})
api.describe_virtual_node(meshName="apps", virtualNodeName="serviceB")
vn = api.update_virtual_node(meshName="apps", virtualNodeName="serviceB",
                             spec=node_spec("serviceB.apps.local"))["virtualNode"]
check_meta(vn, "mesh/apps/virtualNode/serviceB", 2)

nodes, _ = paginate("list_virtual_nodes", "virtualNodes", meshName="apps")
if sorted(n["virtualNodeName"] for n in nodes) != ["serviceA", "serviceB", "serviceBv2"]:
    fail(f"list-virtual-nodes: {nodes}")
routers, _ = paginate("list_virtual_routers", "virtualRouters", meshName="apps")
routes, _ = paginate("list_routes", "routes", meshName="apps", virtualRouterName="serviceB")
services, _ = paginate("list_virtual_services", "virtualServices", meshName="apps")
if len(routers) != 1 or len(routes) != 1 or len(services) != 2:
    fail(f"lists: {routers} {routes} {services}")

# --- virtual gateways and gateway routes -----------------------------------------
gw = api.create_virtual_gateway(meshName="apps", virtualGatewayName="ingress",
                                spec={"listeners": HTTP_LISTENER})["virtualGateway"]
check_meta(gw, "mesh/apps/virtualGateway/ingress", 1)
gr_spec = {"httpRoute": {"match": {"prefix": "/b/"}, "action": {
    "target": {"virtualService": {"virtualServiceName": "serviceb.apps.local"}}}}}
gr = api.create_gateway_route(meshName="apps", virtualGatewayName="ingress",
                              gatewayRouteName="to-b", spec=gr_spec)["gatewayRoute"]
check_meta(gr, "mesh/apps/virtualGateway/ingress/gatewayRoute/to-b", 1)
msg = expect_error(appmesh, "BadRequestException", appmesh.create_gateway_route, meshName="apps",
                   virtualGatewayName="ingress", gatewayRouteName="reserved",
                   spec={"httpRoute": {"match": {"prefix": "/aws-appmesh/x"}, "action": {
                       "target": {"virtualService": {"virtualServiceName": "serviceb.apps.local"}}}}})
if "prefix" not in msg:
    fail(f"reserved gateway route prefix: message {msg!r}")
api.describe_virtual_gateway(meshName="apps", virtualGatewayName="ingress")
api.update_virtual_gateway(meshName="apps", virtualGatewayName="ingress",
                           spec={"listeners": HTTP_LISTENER})
api.describe_gateway_route(meshName="apps", virtualGatewayName="ingress", gatewayRouteName="to-b")
api.update_gateway_route(meshName="apps", virtualGatewayName="ingress", gatewayRouteName="to-b",
                         spec=gr_spec)
gws, _ = paginate("list_virtual_gateways", "virtualGateways", meshName="apps")
grs, _ = paginate("list_gateway_routes", "gatewayRoutes", meshName="apps",
                  virtualGatewayName="ingress")
if len(gws) != 1 or len(grs) != 1:
    fail(f"gateway lists: {gws} {grs}")

# --- tags ------------------------------------------------------------------------------
arn = u["metadata"]["arn"]
api.tag_resource(resourceArn=arn, tags=[{"key": f"k{i}", "value": f"v{i}"} for i in range(5)])
tags, pages = paginate("list_tags_for_resource", "tags", resourceArn=arn)
if sorted(t["key"] for t in tags) != sorted(["team"] + [f"k{i}" for i in range(5)]) or pages < 6:
    fail(f"list-tags-for-resource by one: {tags} in {pages} pages")
api.untag_resource(resourceArn=arn, tagKeys=["k0", "k1"])
tags = api.list_tags_for_resource(resourceArn=arn)["tags"]
if sorted(t["key"] for t in tags) != ["k2", "k3", "k4", "team"]:
    fail(f"tags after untag: {tags}")
expect_error(appmesh, "TooManyTagsException", appmesh.tag_resource, resourceArn=arn,
             tags=[{"key": f"many{i}", "value": "x"} for i in range(47)])
expect_error(appmesh, "NotFoundException", appmesh.list_tags_for_resource,
             resourceArn=f"arn:aws:appmesh:{REGION}:{ACCOUNT}:mesh/nope")

# --- deletes: in use first, then in order ----------------------------------------------
expect_error(appmesh, "ResourceInUseException", appmesh.delete_mesh, meshName="apps")
expect_error(appmesh, "ResourceInUseException", appmesh.delete_virtual_router,
             meshName="apps", virtualRouterName="serviceB")
expect_error(appmesh, "ResourceInUseException", appmesh.delete_virtual_gateway,
             meshName="apps", virtualGatewayName="ingress")
expect_error(appmesh, "ResourceInUseException", appmesh.delete_virtual_node,
             meshName="apps", virtualNodeName="serviceA")


def deleted(out, key):
    if out[key]["status"]["status"] != "DELETED":
        fail(f"{key} delete answered status {out[key]['status']}")


deleted(api.delete_gateway_route(meshName="apps", virtualGatewayName="ingress",
                                 gatewayRouteName="to-b"), "gatewayRoute")
deleted(api.delete_virtual_gateway(meshName="apps", virtualGatewayName="ingress"), "virtualGateway")
deleted(api.delete_virtual_service(meshName="apps", virtualServiceName="servicea.apps.local"),
        "virtualService")
# serviceA names serviceb.apps.local as a backend: the service goes after it.
expect_error(appmesh, "ResourceInUseException", appmesh.delete_virtual_service,
             meshName="apps", virtualServiceName="serviceb.apps.local")
deleted(api.delete_virtual_node(meshName="apps", virtualNodeName="serviceA"), "virtualNode")
deleted(api.delete_virtual_service(meshName="apps", virtualServiceName="serviceb.apps.local"),
        "virtualService")
deleted(api.delete_route(meshName="apps", virtualRouterName="serviceB", routeName="serviceB"), "route")
deleted(api.delete_virtual_router(meshName="apps", virtualRouterName="serviceB"), "virtualRouter")
for name in ("serviceB", "serviceBv2"):
    deleted(api.delete_virtual_node(meshName="apps", virtualNodeName=name), "virtualNode")
expect_error(appmesh, "NotFoundException", appmesh.describe_virtual_node, meshName="apps",
             virtualNodeName="serviceB")
for name in ("apps", "extra-1", "extra-2"):
    deleted(api.delete_mesh(meshName=name), "mesh")
if api.list_meshes()["meshes"]:
    fail("meshes left after deleting them all")

# The service-specific endpoint variable (docs/app-mesh-api.md) reaches
# meshplane without endpoint_url.
os.environ["AWS_ENDPOINT_URL_APP_MESH"] = os.environ["MESHPLANE_API_ENDPOINT"]
by_env = boto3.session.Session(aws_access_key_id="AKIDENV", aws_secret_access_key="x",
                               region_name=REGION).client("appmesh")
if by_env.meta.endpoint_url != os.environ["MESHPLANE_API_ENDPOINT"]:
    fail(f"AWS_ENDPOINT_URL_APP_MESH ignored: {by_env.meta.endpoint_url}")
by_env.create_mesh(meshName="by-env")
if [m["meshName"] for m in api.list_meshes()["meshes"]] != ["by-env"]:
    fail("the mesh created through AWS_ENDPOINT_URL_APP_MESH is not there")
api.delete_mesh(meshName="by-env")

missing = sorted(ops - api.called)
if missing:
    fail(f"operations not exercised: {missing}")
print(f"ok: {len(api.called)} operations, every answer fits the model")
sys.exit(0)
