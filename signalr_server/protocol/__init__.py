"""Sans-IO SignalR protocol core: messages, handshake, framing, JSON and MessagePack.

Nothing here does I/O or imports from the layers above.
"""

from .base import HubProtocol, MessageReader, SerializedMessage
from .errors import HandshakeError, MessageTooLargeError, ProtocolError
from .framing import (
    RECORD_SEPARATOR,
    BinaryMessageParser,
    TextMessageParser,
    read_varint,
    write_binary_frame,
    write_text_frame,
    write_varint,
)
from .handshake import (
    HandshakeParser,
    parse_handshake_request,
    parse_handshake_response,
    write_handshake_request,
    write_handshake_response,
)
from .json_protocol import JsonHubProtocol
from .messagepack_protocol import MessagePackHubProtocol
from .messages import (
    PING,
    AckMessage,
    CancelInvocationMessage,
    CloseMessage,
    CompletionMessage,
    HandshakeRequest,
    HandshakeResponse,
    HubInvocationMessage,
    HubMessage,
    InvocationMessage,
    MessageType,
    PingMessage,
    SequenceMessage,
    StreamInvocationMessage,
    StreamItemMessage,
    TransferFormat,
)
from .registry import PROTOCOLS, get_protocol

__all__ = [
    "PING",
    "PROTOCOLS",
    "RECORD_SEPARATOR",
    "AckMessage",
    "BinaryMessageParser",
    "CancelInvocationMessage",
    "CloseMessage",
    "CompletionMessage",
    "HandshakeError",
    "HandshakeParser",
    "HandshakeRequest",
    "HandshakeResponse",
    "HubInvocationMessage",
    "HubMessage",
    "HubProtocol",
    "InvocationMessage",
    "JsonHubProtocol",
    "MessagePackHubProtocol",
    "MessageReader",
    "MessageTooLargeError",
    "MessageType",
    "PingMessage",
    "ProtocolError",
    "SequenceMessage",
    "SerializedMessage",
    "StreamInvocationMessage",
    "StreamItemMessage",
    "TextMessageParser",
    "TransferFormat",
    "get_protocol",
    "parse_handshake_request",
    "parse_handshake_response",
    "read_varint",
    "write_binary_frame",
    "write_handshake_request",
    "write_handshake_response",
    "write_text_frame",
    "write_varint",
]
