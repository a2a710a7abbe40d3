"""Coverage-guided fuzz target for every protocol parser (atheris; not run in CI).

The pytest fuzz tests (``tests/protocol/test_fuzz.py``) sample a few hundred
inputs per run; this target lets libFuzzer explore for hours, guided by
coverage, starting from the golden fixtures. The contract checked is the
same: parsers may only raise ``ProtocolError``.

How to run (from the repository root)::

    pip install atheris
    mkdir -p fuzz/corpus && python fuzz/fuzz_protocol.py --seed-corpus fuzz/corpus
    python fuzz/fuzz_protocol.py fuzz/corpus -max_len=4096 -timeout=5

The first byte of each input selects the parser; the rest is fed to it.
The package must be importable (``pip install -e .`` as for the tests).
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from signalr_server.protocol.errors import ProtocolError
from signalr_server.protocol.framing import (
    BinaryMessageParser,
    TextMessageParser,
    read_varint,
)
from signalr_server.protocol.handshake import (
    HandshakeParser,
    parse_handshake_request,
    parse_handshake_response,
)
from signalr_server.protocol.json_protocol import JsonHubProtocol
from signalr_server.protocol.messagepack_protocol import MessagePackHubProtocol

ROOT = Path(__file__).resolve().parents[1]
JSON = JsonHubProtocol()
MSGPACK = MessagePackHubProtocol()
LIMIT = 1024

PARSERS: list[Callable[[bytes], Any]] = [
    lambda d: JSON.reader(LIMIT).feed(d),
    JSON.parse_payload,
    lambda d: MSGPACK.reader(LIMIT).feed(d),
    MSGPACK.parse_payload,
    lambda d: HandshakeParser(LIMIT).feed(d),
    parse_handshake_request,
    parse_handshake_response,
    lambda d: TextMessageParser(LIMIT).feed(d),
    lambda d: BinaryMessageParser(LIMIT).feed(d),
    lambda d: read_varint(d),
]
SEED_PARSER = {"json": 0, "messagepack": 2, "handshake": 4, "text-framing": 7, "binary-framing": 8}


def test_one_input(data: bytes) -> None:
    """libFuzzer entry point: anything but ``ProtocolError`` is a finding."""
    if not data:
        return
    parser = PARSERS[data[0] % len(PARSERS)]
    with contextlib.suppress(ProtocolError):
        parser(data[1:])


def write_seed_corpus(directory: Path) -> None:
    """One corpus file per golden vector, prefixed with its parser's selector."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "protocol_fixtures").glob("*.json")):
        for vector in json.loads(path.read_text(encoding="utf-8"))["vectors"]:
            selector = SEED_PARSER[vector["protocol"]]
            payload = bytes([selector]) + bytes.fromhex(vector["bytes"])
            (directory / f"{vector['protocol']}-{vector['name']}").write_bytes(payload)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--seed-corpus":
        write_seed_corpus(Path(sys.argv[2]))
        return
    import atheris  # type: ignore[import-untyped,unused-ignore]  # optional, fuzzing only

    atheris.instrument_all()
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
