"""Notice templates and rendering: a NoticeDocument in, subject, text and HTML out.

``Renderer(override_dir).render(doc)`` picks the layouts of ``doc.channel``, the wording of the
notice's level and language, and renders them in a sandbox with amounts and dates in the
customer's locale. The naming scheme tenants override by, and the fallback rules for levels
and languages, are in :mod:`pastdue.rendering.catalog`; the values templates see are in
:mod:`pastdue.rendering.context`; :func:`check_overrides` finds every problem in a folder of
overrides before it goes live.
"""

from __future__ import annotations

from pastdue.rendering.overrides import check_overrides
from pastdue.rendering.renderer import Rendered, Renderer, TemplateInfo
from pastdue.rendering.samples import sample_document

__all__ = ["Rendered", "Renderer", "TemplateInfo", "check_overrides", "sample_document"]
