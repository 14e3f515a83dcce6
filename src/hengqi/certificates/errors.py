"""Errors of the certificates package (DCC writing/reading, schema validation, signing, PDF rendering).

All derive from :mod:`hengqi.errors`: bad input (a missing schema folder, a file that is not a DCC, an unreadable key)
is an :class:`~hengqi.errors.InputError` (CLI exit 2); a signature that does not verify is a
:class:`SignatureInvalidError` (CLI exit 1).
"""

from __future__ import annotations

from hengqi.errors import HengqiError, InputError


class SchemaNotFoundError(InputError):
    """The DCC / D-SI XSD files are not where they were looked for."""

    code = "schema_not_found"


class DccFormatError(InputError):
    """A file that is not a DCC this reader understands (not XML, wrong root, missing required element)."""

    code = "invalid_dcc"


class KeyMaterialError(InputError):
    """A private key or certificate that cannot be read or does not fit its use."""

    code = "invalid_key_material"


class FontNotFoundError(InputError):
    """No TrueType font that renders Chinese could be found for the PDF certificate."""

    code = "font_not_found"


class SignatureInvalidError(HengqiError):
    """A signature that does not verify: the content changed, the signature is damaged, or the signer is not trusted."""

    code = "signature_invalid"
