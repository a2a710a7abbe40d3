"""Sans-IO SignalR protocol core: messages, handshake, framing, JSON and MessagePack.

Nothing here does I/O or imports from the layers above.
"""
