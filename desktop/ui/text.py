"""Text from people (descriptions) and from the system (paths, messages) shown literally, never as markup."""

from __future__ import annotations

import html


def plain_rich(text: str) -> str:
    """`text` as rich text that displays exactly as written (for widgets that guess the format, or need rich).

    Qt treats a string that looks like HTML as HTML: a description `<b>x</b><img src=…>` would be rendered
    (and the image fetched). Escaped inside an explicit rich-text paragraph, it shows as typed.
    """
    return f"<p style='white-space:pre-wrap'>{html.escape(text, quote=False)}</p>"


def plain_tooltip(text: str) -> str:
    """A tool tip that shows `text` as typed: Qt guesses tool tips' format, so plain text is made rich."""
    return plain_rich(text)


def menu_text(text: str) -> str:
    """`text` for a menu item or button label: `&` is a mnemonic marker there, so it is doubled."""
    return text.replace("&", "&&")
