"""The human-readable PDF certificate (ReportLab), with an embedded CJK font and the error curve plot."""

from __future__ import annotations

from hengqi.certificates.pdf.render import DCC_ATTACHMENT, attach_file, render_certificate_pdf

__all__ = ["DCC_ATTACHMENT", "attach_file", "render_certificate_pdf"]
