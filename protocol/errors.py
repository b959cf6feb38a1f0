"""Errors raised when bytes from outside (the line, a USB stick, an STB) are refused.

Each carries a short machine code and a sentence, so the HTTP layer, the receipts and the logs can all say why.
"""


class ProtocolError(Exception):
    """Outside bytes were refused; nothing of them has been applied."""

    code = "protocol_error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class DecodeError(ProtocolError):
    code = "malformed"


class TooLarge(DecodeError):
    code = "too_large"


class SignatureError(ProtocolError):
    code = "bad_signature"


class UnknownKey(ProtocolError):
    code = "unknown_key"


class ChainError(ProtocolError):
    code = "broken_chain"


class SequenceError(ProtocolError):
    """The batch does not start where the receiver stands (a gap, or a rolled-back feed)."""

    code = "wrong_sequence"

    def __init__(self, detail: str, have: int) -> None:
        super().__init__(detail)
        self.have = have


class OwnershipError(ProtocolError):
    code = "not_owner"


class WrongVillage(ProtocolError):
    code = "wrong_village"


class Expired(ProtocolError):
    code = "expired"
