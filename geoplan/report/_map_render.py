"""Rendering the map's own folium elements without compiling their output as a template.

branca renders an element's ``header``, ``html`` and ``script`` macros to text and wraps that
text in a new ``Element``, which compiles it as a Jinja template once more before the page is
written. For the map's data layers that text is the layer's data (hundreds of kB of JSON on the
default run), and lexing it again was about 6 % of the map step's time. Text without Jinja
syntax renders to itself (newlines normalised to ``\\n``, one trailing newline dropped), so
:func:`text_element` gives an element that returns it directly: the page is byte for byte what
branca writes. Text with ``{{``, ``{%`` or ``{#`` (never produced by the map's code, whose data
goes through :func:`geoplan.report._map_layers.script_json`) still goes through Jinja.
"""

from __future__ import annotations

import re
from typing import Any

from branca.element import Element, Figure, MacroElement
from folium.template import Template

_TEMPLATE_SYNTAX = re.compile(r"\{[{%#]")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_NO_MACROS = Template("")


class _Text(Element):
    """An element that renders to fixed text (what Jinja makes of text without syntax)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        lines = _NEWLINE.split(text)
        if lines[-1] == "":  # Jinja drops one trailing newline (keep_trailing_newline=False)
            del lines[-1]
        self._text = "\n".join(lines)

    def render(self, **kwargs: Any) -> str:
        return self._text


def text_element(text: str) -> Element:
    """An element rendering ``text`` as ``Element(text)`` would, without compiling plain text."""
    return Element(text) if _TEMPLATE_SYNTAX.search(text) else _Text(text)


class PlainRender(MacroElement):
    """Mixin (first base) for the map's folium elements: their macros' output is added to the
    page as text, not compiled again; everything else (the layer's ``addTo``, class includes,
    children) is folium's own ``render``."""

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # as MacroElement's
        if getattr(self, "includes", None):  # folium places class includes relative to the
            super().render(**kwargs)  # last script: keep its order
            return
        figure = self.get_root()
        assert isinstance(figure, Figure), "render the element inside a Figure"
        template = self._template
        macros = template.module.__dict__
        for part in ("header", "html", "script"):
            macro = macros.get(part)
            if macro is not None:
                getattr(figure, part).add_child(text_element(macro(self, kwargs)),
                                                name=self.get_name())
        own = "_template" in self.__dict__
        self._template = _NO_MACROS  # folium's render below adds no macro output of its own
        try:
            super().render(**kwargs)
        finally:
            if own:
                self._template = template
            else:
                del self._template


__all__ = ["PlainRender", "text_element"]
