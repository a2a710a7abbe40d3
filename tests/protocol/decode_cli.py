"""Decode byte strings written by another implementation with our codecs.

The Node cross-check (``interop/tests/protocol-fixtures.test.mjs``) has the
official JS protocols write messages, saves the bytes to a JSON file and runs
``python3 -m tests.protocol.decode_cli <file>`` from the repository root; the
neutral JSON printed here is then compared with what the JS side meant to say.
Keeping the comparison on the JS side lets one file describe both directions.

Input:  ``{"items": [{"name": str, "protocol": "json"|"messagepack", "bytes": hex}]}``
Output: ``{"results": [{"name": str, "messages": [neutral...]} | {"name": str, "error": str}]}``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from signalr_server.protocol.errors import ProtocolError
from signalr_server.protocol.json_protocol import JsonHubProtocol
from signalr_server.protocol.messagepack_protocol import MessagePackHubProtocol

from .fixture_loader import to_neutral

PROTOCOLS: dict[str, Any] = {"json": JsonHubProtocol(), "messagepack": MessagePackHubProtocol()}


def decode_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for entry in items:
        protocol = PROTOCOLS[entry["protocol"]]
        try:
            messages = protocol.parse(bytes.fromhex(entry["bytes"]))
        except ProtocolError as exc:
            results.append({"name": entry["name"], "error": str(exc)})
            continue
        results.append({"name": entry["name"], "messages": [to_neutral(m) for m in messages]})
    return results


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.protocol.decode_cli <items.json>", file=sys.stderr)
        return 2
    document = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    json.dump({"results": decode_items(document["items"])}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
