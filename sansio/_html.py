"""The visible text of an HTML page (imported only when an error page needs reading)."""

from __future__ import annotations

from html.parser import HTMLParser

__all__ = ["VisibleText"]


class VisibleText(HTMLParser):
    """The title, the first heading and the visible text of a page (no script or style)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title: list[str] = []
        self.heading: list[str] = []
        self.text: list[str] = []
        self._stack: list[str] = []
        self._headings_done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("title", "script", "style", "h1", "h2", "h3"):
            self._stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._stack and self._stack[-1] == tag:
            self._stack.pop()
            if tag in ("h1", "h2", "h3") and self.heading:
                self._headings_done = True

    def handle_data(self, data: str) -> None:
        where = self._stack[-1] if self._stack else ""
        if where in ("script", "style"):
            return
        if where == "title":
            self.title.append(data)
        elif where in ("h1", "h2", "h3") and not self._headings_done:
            self.heading.append(data)
        else:
            self.text.append(data)
