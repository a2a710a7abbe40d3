"""The ``json`` hub protocol: one UTF-8 JSON object per message, 0x1E-terminated.

This module ties the pieces together; each piece documents its own choices:

* ``json_loading`` decodes a payload that must be one JSON object, with the
  reference's "Error reading JSON." / "Unexpected JSON Token Type" texts
  (shared with the handshake);
* ``json_reading`` turns the decoded object into a hub message, checking
  properties in document order when anything is wrong so the error is the
  one the reference would report;
* ``json_writing`` writes each message type's JSON text.

Choices where the reference leaves room (tested in
``tests/protocol/test_json_protocol.py``):

* Non-ASCII text is written as raw UTF-8, as the reference's payload
  serializer (``UnsafeRelaxedJsonEscaping``) does; strings holding lone
  surrogates, which UTF-8 cannot carry, fall back to ``\\uXXXX`` escapes.
  Control characters, 0x1E included, are always escaped.
* ``invocationId: null`` is accepted and means "no id" (the reference rejects
  it; the checklist and clients treat it as absent).
* Empty ``headers`` and empty ``streamIds`` decode to ``None``.
* ``CloseMessage(error="")`` is written as ``"error":""`` (the reference's own
  vector); a Completion's empty error is left out, as the reference does.
  The hubs layer never sends either (JSON-8).
* Datetimes are written as ISO 8601 (``Z`` for UTC), ``bytes`` as base64,
  enums as their value, UUIDs as strings. NaN and infinities cannot be
  written (``ValueError``), as in the reference.
* Nesting deeper than 64 levels (the envelope counts) is "Error reading JSON.".
"""

from __future__ import annotations

import sys
from typing import Any, ClassVar

from .base import MessageReader
from .errors import ProtocolError
from .framing import RECORD_SEPARATOR, TextMessageParser
from .json_loading import json_token_name, load_json_object
from .json_reading import check_property, parse_json_object
from .json_writing import dumps_ascii, dumps_utf8, escape_ascii, escape_utf8, writer_for
from .messages import CompletionMessage, HubMessage, TransferFormat

__all__ = ["JsonHubProtocol", "JsonMessageReader", "json_token_name", "load_json_object"]


class JsonMessageReader:
    """The ``json`` protocol's incremental reader.

    What clients send, one whole message per chunk with nothing held from
    before, is parsed without the framing loop; anything else (several
    messages, a partial one, a tail to complete) goes through
    ``TextMessageParser``. Both ways give the same messages and errors.
    """

    __slots__ = ("_framer", "_held", "_limit")

    def __init__(self, max_message_size: int | None = 32768) -> None:
        self._framer = TextMessageParser(max_message_size)
        self._held = self._framer.held
        self._limit = sys.maxsize if max_message_size is None else max_message_size

    def feed(self, data: bytes) -> list[HubMessage]:
        end = len(data) - 1
        if 0 <= end < self._limit and data.find(RECORD_SEPARATOR) == end and not self._held:
            message = parse_json_object(load_json_object(data[:end], check_property))
            return [] if message is None else [message]
        messages: list[HubMessage] = []
        for payload in self._framer.feed(data):
            message = parse_json_object(load_json_object(payload, check_property))
            if message is not None:
                messages.append(message)
        return messages


class JsonHubProtocol:
    """SignalR's ``json`` protocol, version 2, Text transfer format."""

    name: ClassVar[str] = "json"
    version: ClassVar[int] = 2
    transfer_format: ClassVar[TransferFormat] = TransferFormat.TEXT

    def reader(self, max_message_size: int | None = 32768) -> MessageReader:
        return JsonMessageReader(max_message_size)

    def parse_payload(self, payload: bytes) -> HubMessage | None:
        """Parse one unframed message; ``None`` for a type this server does not know."""
        return parse_json_object(load_json_object(payload, check_property))

    def parse(self, data: bytes) -> list[HubMessage]:
        if data and not data.endswith(RECORD_SEPARATOR):
            raise ProtocolError("Message is incomplete.")
        messages: list[HubMessage] = []
        for payload in data.split(RECORD_SEPARATOR)[:-1]:
            message = self.parse_payload(payload)
            if message is not None:
                messages.append(message)
        return messages

    def write_payload(self, message: HubMessage) -> bytes:
        """Encode one message without the record separator."""
        writer = writer_for(message)
        text = writer(message, dumps_utf8, escape_utf8)
        try:
            return text.encode()
        except UnicodeEncodeError:
            # Lone surrogates cannot be UTF-8; escaped, they are valid JSON.
            return writer(message, dumps_ascii, escape_ascii).encode()

    def write(self, message: HubMessage) -> bytes:
        return self.write_payload(message) + RECORD_SEPARATOR

    def write_result(self, invocation_id: str, result: Any) -> bytes:
        """The framed Completion carrying ``result``: the bytes of ``write(
        CompletionMessage(invocation_id, None, result, True))`` without building
        the message, since every answered invocation sends one. ``invocation_id``
        must not be empty."""
        # A string result (the usual echo) needs only the string encoder,
        # which is what the value encoder would call for it anyway. One
        # f-string joins the pieces in a single allocation.
        value = escape_utf8(result) if type(result) is str else dumps_utf8(result)
        text = f'{{"type":3,"invocationId":{escape_utf8(invocation_id)},"result":{value}}}\x1e'
        try:
            return text.encode()
        except UnicodeEncodeError:
            return self.write(CompletionMessage(invocation_id, None, result, True))

    def __repr__(self) -> str:
        return "JsonHubProtocol()"
