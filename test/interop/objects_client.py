"""Calls an exposed object through ferry.v1.Objects/Invoke from plain Python.

Arguments and results are ferry.v1.Value messages built from the .proto files;
a failed call's ferry.v1.ErrorDetail is read from grpc-status-details-bin.

    /usr/bin/python3 test/interop/objects_client.py 127.0.0.1:50051
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "gen"))

import grpc  # noqa: E402
from ferry.v1 import errors_pb2, objects_pb2, value_pb2  # noqa: E402
from google.rpc import status_pb2  # noqa: E402


INT_KINDS = ("int64_value", "uint64_value", "bigint_value")


def to_value(x):
    """A Python value as a ferry.v1.Value: an int as int64_value (uint64_value from 2**63)."""
    if x is None:
        return value_pb2.Value(null_value=value_pb2.NULL_VALUE_UNSPECIFIED)
    if isinstance(x, bool):
        return value_pb2.Value(bool_value=x)
    if isinstance(x, int):
        return value_pb2.Value(int64_value=x) if x < 2**63 else value_pb2.Value(uint64_value=x)
    if isinstance(x, float):
        return value_pb2.Value(double_value=x)
    if isinstance(x, str):
        return value_pb2.Value(string_value=x)
    if isinstance(x, list):
        return value_pb2.Value(list_value=value_pb2.ListValue(values=[to_value(i) for i in x]))
    if isinstance(x, dict):
        entries = [value_pb2.MapEntry(key=k, value=to_value(v)) for k, v in x.items()]
        return value_pb2.Value(map_value=value_pb2.MapValue(entries=entries))
    raise TypeError(type(x))


def from_value(v):
    """A ferry.v1.Value as a Python value: each of the three integer kinds an int."""
    kind = v.WhichOneof("kind")
    if kind in INT_KINDS:
        return int(getattr(v, kind))
    if kind == "list_value":
        return [from_value(i) for i in v.list_value.values]
    if kind == "map_value":
        return {e.key: from_value(e.value) for e in v.map_value.entries}
    if kind == "null_value":
        return None
    return getattr(v, kind)


def main(target):
    out = {}
    with grpc.insecure_channel(target) as channel:
        invoke = channel.unary_unary(
            "/ferry.v1.Objects/Invoke",
            request_serializer=objects_pb2.InvokeRequest.SerializeToString,
            response_deserializer=objects_pb2.InvokeResponse.FromString,
        )

        def call(obj, method, *args):
            request = objects_pb2.InvokeRequest(object=obj, method=method, args=[to_value(a) for a in args])
            return from_value(invoke(request, timeout=10).result)

        out["add_floats"] = call("calc", "add", 2.5, 0.5)
        out["add_ints"] = str(call("calc", "add", 2, 3))
        out["countdown"] = call("calc", "countdown", 3.0)
        prime = call("PrimeChecker", "isPrime", {"n": 9999999999999917})
        out["prime"] = {"prime": prime["prime"], "n": str(prime["n"])}
        try:
            call("calc", "divide", 1.0, 0.0)
        except grpc.RpcError as err:
            detail = None
            for key, value in err.trailing_metadata() or ():
                if key == "grpc-status-details-bin":
                    for any_detail in status_pb2.Status.FromString(value).details:
                        detail = errors_pb2.ErrorDetail.FromString(any_detail.value)
            out["error"] = {
                "code": err.code().name,
                "message": err.details(),
                "name": detail.name if detail else None,
                "field": detail.field if detail else None,
            }
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
