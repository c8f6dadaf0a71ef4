"""Bad input against a meshplane with an auth config (two access keys, one
admin and one read-only): signatures, bodies, and the validation rules of
each resource kind, each with the exact error type; nothing refused is
applied, and the server keeps answering."""

import os

import botocore.exceptions

from client import client, expect_error, fail
from raw import SKEW, expect, send

ADMIN = ("AKIDMESHPLANEADMIN", os.environ["MESHPLANE_TEST_ADMIN_SECRET"])
ROTATED = ("AKIDMESHPLANEROTATED", os.environ["MESHPLANE_TEST_ROTATED_SECRET"])
READER = ("AKIDMESHPLANEREADER", os.environ["MESHPLANE_TEST_READER_SECRET"])
checks = 0


def case(name, fn):
    global checks
    try:
        fn()
    except AssertionError as e:
        fail(f"{name}: {e}")
    checks += 1


def raw(method, path, body=b"", key=ADMIN, **kw):
    return send(method, path, body, key_id=key[0], secret=key[1], **kw)


# --- signatures ------------------------------------------------------------------------
case("wrong secret", lambda: expect(
    raw("GET", "/v20190125/meshes", key=(ADMIN[0], "wrong")), 403, "InvalidSignatureException"))
case("unknown access key", lambda: expect(
    raw("GET", "/v20190125/meshes", key=("AKIDNOBODYKNOWS", "x")), 403,
    "UnrecognizedClientException"))
case("signed 20 minutes ahead", lambda: expect(
    raw("GET", "/v20190125/meshes", skew=SKEW), 403, "InvalidSignatureException"))
case("signed 20 minutes ago", lambda: expect(
    raw("GET", "/v20190125/meshes", skew=-SKEW), 403, "InvalidSignatureException"))


# AWS answers a request without a signature with MissingAuthenticationToken.
case("no Authorization header", lambda: expect(
    raw("GET", "/v20190125/meshes", sign=False), 403, "MissingAuthenticationTokenException"))


def body_changed_after_signing():
    ans = raw("PUT", "/v20190125/meshes", b'{"meshName": "signed"}',
              sent_body=b'{"meshName": "tampered"}')
    expect(ans, 403, "InvalidSignatureException")


case("body changed after signing", body_changed_after_signing)

admin = client(key_id=ADMIN[0], secret=ADMIN[1], parameter_validation=False)
rotated = client(key_id=ROTATED[0], secret=ROTATED[1])
reader = client(key_id=READER[0], secret=READER[1])
case("rotated key works beside the old one",
     lambda: rotated.list_meshes() and None)


def reader_cannot_write():
    try:
        reader.create_mesh(meshName="denied")
    except botocore.exceptions.ClientError as e:
        if (e.response["Error"]["Code"] != "AccessDeniedException"
                or e.response["ResponseMetadata"]["HTTPStatusCode"] != 403):
            raise AssertionError(f"read-only key: {e.response['Error']}") from None
        return
    raise AssertionError("a read-only key created a mesh")


case("read-only key writes", reader_cannot_write)
case("read-only key reads", lambda: reader.list_meshes() and None)

# --- bodies ------------------------------------------------------------------------------
admin.create_mesh(meshName="apps")
case("malformed JSON", lambda: expect(
    raw("PUT", "/v20190125/meshes", b'{"meshName": "x", '), 400, "BadRequestException"))
case("not an object", lambda: expect(
    raw("PUT", "/v20190125/meshes", b'[1, 2]'), 400, "BadRequestException"))
case("unknown field", lambda: expect(
    raw("PUT", "/v20190125/meshes", {"meshName": "x", "spec": {"egressFilter": {"type": "DROP_ALL"},
                                                             "bogusField": 1}}),
    400, "BadRequestException", ["bogusField"]))
case("wrong type", lambda: expect(
    raw("PUT", "/v20190125/meshes", {"meshName": "x", "spec": {"egressFilter": {"type": 5}}}),
    400, "BadRequestException", ["egressFilter"]))
case("enum value outside the model", lambda: expect(
    raw("PUT", "/v20190125/meshes", {"meshName": "x", "spec": {"egressFilter": {"type": "DROP_SOME"}}}),
    400, "BadRequestException", ["DROP_SOME"]))
case("port as a string", lambda: expect(
    raw("PUT", "/v20190125/meshes/apps/virtualNodes",
        {"virtualNodeName": "n", "spec": {"listeners": [
            {"portMapping": {"port": "80", "protocol": "http"}}],
            "serviceDiscovery": {"dns": {"hostname": "n.local"}}}}),
    400, "BadRequestException", ["port"]))


def oversized():
    big = {"meshName": "big", "spec": {}, "tags": [{"key": "k", "value": "v" * (2 << 20)}]}
    expect(raw("PUT", "/v20190125/meshes", big), 400, "BadRequestException", ["larger than"])
    expect_error(admin, "NotFoundException", admin.describe_mesh, meshName="big")


case("oversized body (2 MiB)", oversized)

# --- validation, one rule or more per resource kind ------------------------------------------
LONG = "m" * 256
N = {"portMapping": {"port": 80, "protocol": "http"}}


def refused(fn, words, **kw):
    msg = expect_error(admin, "BadRequestException", fn, **kw)
    for w in words:
        if w not in msg:
            raise AssertionError(f"message {msg!r} lacks {w!r}")


def node(name, listeners, host="n.local"):
    return dict(meshName="apps", virtualNodeName=name,
                spec={"listeners": listeners, "serviceDiscovery": {"dns": {"hostname": host}}})


case("mesh name too long (field.length)",
     lambda: refused(admin.create_mesh, ["meshName"], meshName=LONG))
case("node port 0 (field.range)", lambda: refused(
    admin.create_virtual_node, ["portMapping.port"],
    **node("p0", [{"portMapping": {"port": 0, "protocol": "http"}}])))
case("node listeners without service discovery (service_discovery.required)", lambda: refused(
    admin.create_virtual_node, ["serviceDiscovery"], meshName="apps", virtualNodeName="nosd",
    spec={"listeners": [N]}))
case("node duplicate listener port (listener.duplicate_port)", lambda: refused(
    admin.create_virtual_node, ["listeners"], **node("dup", [N, N])))
admin.create_virtual_node(**node("b", [N], "b.local"))
admin.create_virtual_node(**node("b2", [N], "b2.local"))
case("service with two providers (union.exactly_one)", lambda: refused(
    admin.create_virtual_service, ["provider"], meshName="apps", virtualServiceName="s.local",
    spec={"provider": {"virtualNode": {"virtualNodeName": "b"},
                       "virtualRouter": {"virtualRouterName": "r"}}}))
case("service provider missing (reference.missing)", lambda: refused(
    admin.create_virtual_service, ["ghost"], meshName="apps", virtualServiceName="s.local",
    spec={"provider": {"virtualNode": {"virtualNodeName": "ghost"}}}))
case("router duplicate listener port (listener.duplicate_port)", lambda: refused(
    admin.create_virtual_router, ["listeners"], meshName="apps", virtualRouterName="r2",
    spec={"listeners": [N, N]}))
admin.create_virtual_router(meshName="apps", virtualRouterName="r", spec={"listeners": [N]})


def route(weights, prefix="/", kind="httpRoute"):
    return dict(meshName="apps", virtualRouterName="r", routeName="rt", spec={kind: {
        "match": {"prefix": prefix}, "action": {"weightedTargets": [
            {"virtualNode": n, "weight": w} for n, w in weights]}}})


case("route weights add up to 0 (route.weight_total)", lambda: refused(
    admin.create_route, ["weight"], **route([("b", 0), ("b2", 0)])))
case("route prefix without / (match.prefix)", lambda: refused(
    admin.create_route, ["prefix"], **route([("b", 1)], prefix="api")))
case("http2 route on an http router (route.protocol_mismatch)", lambda: refused(
    admin.create_route, ["http2Route"], **route([("b", 1)], kind="http2Route")))
case("route target missing (reference.missing)", lambda: refused(
    admin.create_route, ["ghost"], **route([("ghost", 1)])))
admin.create_route(**route([("b", 50), ("b2", 50)]))


def bad_update_not_applied():
    refused(admin.update_route, ["weight"], **route([("b", 0), ("b2", 0)]))
    rt = admin.describe_route(meshName="apps", virtualRouterName="r", routeName="rt")["route"]
    if rt["metadata"]["version"] != 1 or \
            rt["spec"]["httpRoute"]["action"]["weightedTargets"][0]["weight"] != 50:
        raise AssertionError(f"a refused update changed the route: {rt}")


case("refused update leaves the route alone", bad_update_not_applied)
case("gateway tcp listener (field.enum)", lambda: refused(
    admin.create_virtual_gateway, ["protocol"], meshName="apps", virtualGatewayName="g2",
    spec={"listeners": [{"portMapping": {"port": 80, "protocol": "tcp"}}]}))
admin.create_virtual_service(meshName="apps", virtualServiceName="s.local",
                             spec={"provider": {"virtualRouter": {"virtualRouterName": "r"}}})
admin.create_virtual_gateway(meshName="apps", virtualGatewayName="g", spec={"listeners": [N]})
case("gateway route reserved prefix (gateway_route.reserved_prefix)", lambda: refused(
    admin.create_gateway_route, ["/aws-appmesh"], meshName="apps", virtualGatewayName="g",
    gatewayRouteName="gr", spec={"httpRoute": {"match": {"prefix": "/aws-appmesh/x"}, "action": {
        "target": {"virtualService": {"virtualServiceName": "s.local"}}}}}))
case("gateway route target missing (reference.missing)", lambda: refused(
    admin.create_gateway_route, ["nowhere.local"], meshName="apps", virtualGatewayName="g",
    gatewayRouteName="gr", spec={"httpRoute": {"match": {"prefix": "/"}, "action": {
        "target": {"virtualService": {"virtualServiceName": "nowhere.local"}}}}}))


def nothing_applied():
    for fn, kw in ((admin.describe_mesh, {"meshName": LONG}),
                   (admin.describe_virtual_node, {"meshName": "apps", "virtualNodeName": "p0"}),
                   (admin.describe_virtual_router, {"meshName": "apps", "virtualRouterName": "r2"}),
                   (admin.describe_virtual_gateway, {"meshName": "apps", "virtualGatewayName": "g2"}),
                   (admin.describe_gateway_route, {"meshName": "apps", "virtualGatewayName": "g",
                                                   "gatewayRouteName": "gr"})):
        expect_error(admin, "NotFoundException", fn, **kw)


case("no refused create left anything", nothing_applied)
case("still serving", lambda: admin.list_meshes()["meshes"] and None)
print(f"ok: {checks} bad-input checks")
