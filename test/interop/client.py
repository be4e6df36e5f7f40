"""A plain Python gRPC client of a ferry node, from the .proto files alone.

Message classes come from Debian's protoc (--python_out); calls go through
grpcio's generic channel methods, as any language without ferry would make them.
Prints one JSON document with what the node answered.

    /usr/bin/python3 test/interop/client.py 127.0.0.1:50051
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "gen"))

import grpc  # noqa: E402
from ferry.v1 import errors_pb2, node_pb2, pi_pb2, prime_pb2  # noqa: E402
from google.rpc import status_pb2  # noqa: E402

NUMBERS = [
    2, 142702110479723, 299593572317531, 3333333333333301, 3333333333333333,
    3333335652092209, 4444444444444423, 4444444444444444, 4444444488888889,
    5555553133149889, 5555555555555503, 5555555555555555, 6666666666666666,
    6666666666666719, 6666667141414921, 7777777536340681, 7777777777777753,
    7777777777777777, 9999999999999917, 9999999999999999,
]


def unary(channel, path, request_cls, response_cls):
    return channel.unary_unary(
        path,
        request_serializer=request_cls.SerializeToString,
        response_deserializer=response_cls.FromString,
    )


def error_detail(err):
    """The ferry.v1.ErrorDetail from the standard grpc-status-details-bin trailer."""
    for key, value in err.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for any_detail in status.details:
                if any_detail.type_url.endswith("/ferry.v1.ErrorDetail"):
                    return errors_pb2.ErrorDetail.FromString(any_detail.value)
    return None


def main(target):
    out = {"primes": [], "pi": None, "error": None, "info": None}
    with grpc.insecure_channel(target) as channel:
        is_prime = unary(channel, "/ferry.v1.PrimeChecker/IsPrime", prime_pb2.IsPrimeRequest, prime_pb2.IsPrimeResponse)
        for method in (prime_pb2.PRIME_METHOD_TRIAL_DIVISION, prime_pb2.PRIME_METHOD_MILLER_RABIN):
            for n in NUMBERS:
                r = is_prime(prime_pb2.IsPrimeRequest(n=n, method=method), timeout=30)
                out["primes"].append({
                    "n": str(r.n),
                    "prime": r.prime,
                    "divisor": str(r.divisor),
                    "method": prime_pb2.PrimeMethod.Name(r.method),
                })
        estimate = unary(channel, "/ferry.v1.PiEstimator/Estimate", pi_pb2.EstimateRequest, pi_pb2.EstimateResponse)
        r = estimate(pi_pb2.EstimateRequest(samples=5_000_000, seed=42), timeout=30)
        out["pi"] = {"pi": r.pi, "inside": str(r.inside), "samples": str(r.samples), "seed": str(r.seed)}
        try:
            is_prime(prime_pb2.IsPrimeRequest(n=7, method=9), timeout=10)
        except grpc.RpcError as err:
            detail = error_detail(err)
            out["error"] = {
                "code": err.code().name,
                "message": err.details(),
                "name": detail.name if detail else None,
                "field": detail.field if detail else None,
            }
        info = unary(channel, "/ferry.v1.Node/Info", node_pb2.InfoRequest, node_pb2.InfoResponse)
        r = info(node_pb2.InfoRequest(), timeout=10)
        out["info"] = {"workers": r.workers, "objects": [o.name for o in r.objects]}
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
