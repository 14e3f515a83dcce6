"""Load PTB/Siemens' read-only ``pydcc`` offline, as an independent reader of the DCCs hengqi writes.

Two problems are worked around (``/work/shared/reference/dcc.md`` section 6, pitfall P6): ``import dcc`` fails when
``certvalidator``'s dependency oscrypto cannot parse an OpenSSL 3.0.1x version string (it is only needed for XAdES
chain checks, so a stand-in that refuses to work is installed), and ``DCC()`` downloads PTB's schema release list
unless its validator gets a workspace that is never initialised.
"""

from __future__ import annotations

import sys
import tempfile
import types
from pathlib import Path
from typing import Any


def _stub_certvalidator() -> None:
    try:
        import certvalidator  # noqa: F401
    except Exception:
        stub = types.ModuleType("certvalidator")

        class _Unavailable:
            def __init__(self, *args: object, **kwargs: object) -> None:
                raise RuntimeError("certvalidator unavailable (oscrypto cannot detect OpenSSL 3.0.1x)")

        stub.CertificateValidator = _Unavailable  # type: ignore[attr-defined]
        stub.ValidationContext = _Unavailable  # type: ignore[attr-defined]
        stub.errors = types.SimpleNamespace(PathValidationError=Exception, PathBuildingError=Exception)  # type: ignore[attr-defined]
        sys.modules["certvalidator"] = stub


def load_with_pydcc(path: Path) -> Any:
    """A ``dcc.DCC`` object for ``path``, built without any network access."""
    _stub_certvalidator()
    import dcc.dcc as module
    from dcc.dcc_xml_validator import DCCXMLValidator

    workspace = tempfile.mkdtemp(prefix="pydcc-ws-")
    module.DCCXMLValidator = lambda *a, **k: DCCXMLValidator(path_to_workspace=workspace, workspace_init=False)  # type: ignore[assignment]
    from dcc import DCC

    return DCC(xml_file_name=str(path), signature_verification=False)
