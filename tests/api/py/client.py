"""Shared by the API scripts: a boto3 App Mesh client for meshplane and a
checker of answers against botocore's model of the operation's output."""

import datetime
import os
import sys

import boto3
import botocore.config


def client(endpoint=None, key_id="AKIDMESHPLANETEST", secret="not-checked-on-loopback", **extra):
    """An appmesh client signed with the given key, pointed at meshplane."""
    endpoint = endpoint or os.environ["MESHPLANE_API_ENDPOINT"]
    session = boto3.session.Session(
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        region_name=os.environ.get("MESHPLANE_API_REGION", "us-west-2"),
    )
    config = botocore.config.Config(retries={"max_attempts": 1}, **extra)
    return session.client("appmesh", endpoint_url=endpoint, config=config)


class ShapeError(AssertionError):
    pass


def check_shape(shape, value, path):
    """Raise ShapeError unless `value` (as botocore parsed it) fits `shape`:
    required members present, each member of the modeled type, enum values
    from the model, list and string lengths within the model's limits."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise ShapeError(f"{path}: expected a structure, got {value!r}")
        for name in shape.required_members:
            if name not in value:
                raise ShapeError(f"{path}: required member {name} missing (has {sorted(value)})")
        for name, member in value.items():
            if name == "ResponseMetadata" and path == "$":
                continue
            if name not in shape.members:
                raise ShapeError(f"{path}: member {name} is not in {shape.name}")
            check_shape(shape.members[name], member, f"{path}.{name}")
    elif kind == "list":
        if not isinstance(value, list):
            raise ShapeError(f"{path}: expected a list, got {value!r}")
        check_len(shape, len(value), path)
        for i, item in enumerate(value):
            check_shape(shape.member, item, f"{path}[{i}]")
    elif kind == "map":
        if not isinstance(value, dict):
            raise ShapeError(f"{path}: expected a map, got {value!r}")
        for k, v in value.items():
            check_shape(shape.key, k, f"{path}<key>")
            check_shape(shape.value, v, f"{path}[{k!r}]")
    elif kind == "string":
        if not isinstance(value, str):
            raise ShapeError(f"{path}: expected a string, got {value!r}")
        enum = shape.enum
        if enum and value not in enum:
            raise ShapeError(f"{path}: {value!r} is not one of {enum}")
        check_len(shape, len(value), path)
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ShapeError(f"{path}: expected an integer, got {value!r}")
        m = shape.metadata
        if "min" in m and value < m["min"] or "max" in m and value > m["max"]:
            raise ShapeError(f"{path}: {value} outside {m.get('min')}..{m.get('max')}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise ShapeError(f"{path}: expected a boolean, got {value!r}")
    elif kind == "timestamp":
        if not isinstance(value, datetime.datetime):
            raise ShapeError(f"{path}: expected a timestamp, got {value!r}")
    elif kind in ("double", "float"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ShapeError(f"{path}: expected a number, got {value!r}")
    else:
        raise ShapeError(f"{path}: shape type {kind} not handled")


def check_len(shape, n, path):
    m = shape.metadata
    if "min" in m and n < m["min"] or "max" in m and n > m["max"]:
        raise ShapeError(f"{path}: length {n} outside {m.get('min')}..{m.get('max')}")


class Checked:
    """Calls operations on a client, checks each answer against the model and
    records which operations were exercised."""

    def __init__(self, appmesh):
        self.appmesh = appmesh
        self.model = appmesh.meta.service_model
        self.called = set()

    def __getattr__(self, method):
        fn = getattr(self.appmesh, method)
        op = self.appmesh.meta.method_to_api_mapping[method]

        def call(**kwargs):
            out = fn(**kwargs)
            check_answer(self.model, op, out)
            self.called.add(op)
            return out

        return call


def check_answer(model, op, out):
    status = out["ResponseMetadata"]["HTTPStatusCode"]
    if status != 200:
        raise ShapeError(f"{op}: HTTP {status}, App Mesh answers 200")
    if not out["ResponseMetadata"].get("RequestId"):
        raise ShapeError(f"{op}: no x-amzn-RequestId")
    shape = model.operation_model(op).output_shape
    try:
        check_shape(shape, out, "$")
    except ShapeError as e:
        raise ShapeError(f"{op}: {e}") from None


def expect_error(appmesh, error, fn, **kwargs):
    """Call fn and require botocore's modeled exception `error`; return its message."""
    exc = getattr(appmesh.exceptions, error)
    try:
        fn(**kwargs)
    except exc as e:
        meta = e.response["ResponseMetadata"]
        if not meta.get("RequestId"):
            raise AssertionError(f"{error} without x-amzn-RequestId") from None
        return e.response["Error"].get("Message", "")
    except Exception as e:  # noqa: BLE001 - report what came instead
        raise AssertionError(f"expected {error}, got {type(e).__name__}: {e}") from None
    raise AssertionError(f"expected {error}, the call succeeded ({fn.__name__} {kwargs})")


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)
