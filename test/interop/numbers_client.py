"""Calls methods written for JavaScript numbers with Python ints and floats.

The node exposes `calc` with add(a, b) { return a + b } and
sqrt(x) { return Math.sqrt(x) }. Each case goes through
ferry.v1.Objects/Invoke and over one ferry.v1.Objects/Session. Prints a line
per check, then "N passed, N failed", and exits 1 when any failed.

    /usr/bin/python3 test/interop/numbers_client.py 127.0.0.1:50051
"""
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "gen"))

import grpc  # noqa: E402
from ferry.v1 import objects_pb2  # noqa: E402
from objects_client import from_value, to_value  # noqa: E402

# (what, method, args, expected): the expected value's type is checked too.
# A JavaScript number is a double, so a method's whole-number result reads as
# a float (5.0 == 5); integers past 2**53 come back exact ints.
CASES = [
    ("add two ints", "add", (2, 3), 5.0),
    ("add an int and a float", "add", (2, 0.5), 2.5),
    ("add a float and an int", "add", (0.25, 1), 1.25),
    ("add negative ints", "add", (-7, 2), -5.0),
    ("add ints past 2**53, exactly", "add", (2**60, 2**60 + 1), 2**61 + 1),
    ("sqrt of an int", "sqrt", (2,), 2**0.5),
    ("sqrt of a square int", "sqrt", (16,), 4.0),
    ("sqrt of a float", "sqrt", (6.25,), 2.5),
]


class Failed:
    """A call's error, kept to be printed."""

    def __init__(self, message):
        self.message = message

    def __repr__(self):
        return f"error {self.message!r}"


def invoke_all(channel):
    invoke = channel.unary_unary(
        "/ferry.v1.Objects/Invoke",
        request_serializer=objects_pb2.InvokeRequest.SerializeToString,
        response_deserializer=objects_pb2.InvokeResponse.FromString,
    )
    results = []
    for _, method, args, _ in CASES:
        request = objects_pb2.InvokeRequest(object="calc", method=method, args=[to_value(a) for a in args])
        try:
            results.append(from_value(invoke(request, timeout=10).result))
        except grpc.RpcError as err:
            results.append(Failed(f"{err.code().name}: {err.details()}"))
    return results


def session_all(channel):
    """Every case as one call of a single frame; the stream stays open until all are answered."""
    session = channel.stream_stream(
        "/ferry.v1.Objects/Session",
        request_serializer=objects_pb2.SessionRequest.SerializeToString,
        response_deserializer=objects_pb2.SessionResponse.FromString,
    )
    answered = threading.Event()

    def frames():
        calls = [
            objects_pb2.ClientMessage(
                call=objects_pb2.Call(id=i + 1, object="calc", method=method, args=[to_value(a) for a in args])
            )
            for i, (_, method, args, _) in enumerate(CASES)
        ]
        yield objects_pb2.SessionRequest(messages=calls)
        # Ending the requests would end the session and cancel its calls.
        answered.wait(20)

    results = {}
    responses = session(frames(), timeout=20)
    try:
        for frame in responses:
            for message in frame.messages:
                if message.WhichOneof("kind") != "result":
                    continue
                r = message.result
                if r.WhichOneof("outcome") == "value":
                    results[r.id] = from_value(r.value)
                else:
                    results[r.id] = Failed(f"{r.error.code}: {r.error.message}")
            if len(results) == len(CASES):
                break
    except grpc.RpcError as err:
        for i in range(len(CASES)):
            results.setdefault(i + 1, Failed(f"session {err.code().name}: {err.details()}"))
    finally:
        answered.set()
        responses.cancel()
    return [results.get(i + 1, Failed("no answer")) for i in range(len(CASES))]


def main(target):
    passed = failed = 0
    with grpc.insecure_channel(target) as channel:
        for how, results in (("invoke", invoke_all(channel)), ("session", session_all(channel))):
            for (what, _, args, expected), got in zip(CASES, results):
                if type(got) is type(expected) and got == expected:
                    passed += 1
                    print(f"ok - {how}: {what}")
                else:
                    failed += 1
                    print(f"not ok - {how}: {what}: {args} gave {got!r}, expected {expected!r}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
