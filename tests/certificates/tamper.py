"""Helpers that change exactly one byte of a signed DCC or PDF, in the signed content or in the signature."""

from __future__ import annotations

import base64
import re


def flip(data: bytes, index: int) -> bytes:
    """``data`` with the byte at ``index`` replaced by a different printable byte of the same class."""
    old = data[index : index + 1]
    if old.isdigit():
        new = b"7" if old != b"7" else b"3"
    elif old in b"abcdefABCDEF":  # stay a hex digit (PDF signature /Contents) and a base64 character
        # compare case-insensitively: 'B' -> 'b' would keep the same hex value and change nothing
        new = b"b" if old.lower() != b"b" else b"c"
    elif old.isalpha():
        new = b"Q" if old != b"Q" else b"R"
    else:
        raise ValueError(f"byte {old!r} at {index} is neither a digit nor a letter")
    changed = data[:index] + new + data[index + 1 :]
    assert len(changed) == len(data)
    assert sum(a != b for a, b in zip(changed, data, strict=True)) == 1
    return changed


def xml_content_byte(xml: bytes) -> int:
    """Index of a digit inside the first error-of-indication value list (signed content)."""
    match = re.search(rb'refType="hengqi_errorOfIndication">.*?<si:valueXMLList>(\d)', xml, re.S)
    assert match is not None
    return match.start(1)


def xml_signature_byte(xml: bytes) -> int:
    """Index of a character in the middle of ``ds:SignatureValue``."""
    match = re.search(rb"<ds:SignatureValue[^>]*>([^<]+)</ds:SignatureValue>", xml)
    assert match is not None
    value = match.group(1)
    middle = len(value) // 2
    while not value[middle : middle + 1].isalnum():
        middle += 1
    return match.start(1) + middle


def pdf_content_byte(pdf: bytes, text: bytes | None = None) -> int:
    """Index of a letter of ``text`` where it first appears in the PDF, or (``None``) of a digit or letter half way
    into the bytes before the signature: either lies in the signed byte range."""
    if text is not None:
        return pdf.index(text) + 1
    signature = re.search(rb"/Contents\s*<[0-9a-fA-F]{64}", pdf)
    assert signature is not None
    index = signature.start() // 2
    while not pdf[index : index + 1].isalnum():
        index += 1
    return index


def pdf_signature_byte(pdf: bytes) -> int:
    """Index of a hex digit inside the CMS signature value (the last bytes of the DER inside ``/Contents <...>``)."""
    match = re.search(rb"/Contents\s*<([0-9a-fA-F]+)>", pdf)
    assert match is not None
    der = bytes.fromhex(match.group(1).decode())
    assert der[0] == 0x30
    assert der[1] == 0x82
    length = 4 + int.from_bytes(der[2:4], "big")
    target = length - 12  # inside the signature value at the end of SignerInfo
    position = match.start(1) + 2 * target
    return position if pdf[position : position + 1].isalnum() else position + 1


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
