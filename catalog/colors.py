"""Colour arithmetic for themes: WCAG 2.x contrast, and the nearest shade of a colour that passes.

The contrast ratio is WCAG 2.x's: ``(L1 + 0.05) / (L2 + 0.05)`` over the relative luminance of
the sRGB colours. The *nearest passing shade* keeps a colour's hue and saturation in HLS
(``colorsys``) and moves only its lightness, the least it must, darker or lighter, until the
pair reaches the ratio; the result is a ``#rrggbb`` code checked again after rounding.

Example:
    >>> round(contrast_ratio("#767676", "#ffffff"), 2)
    4.54
    >>> nearest_passing("#ffcc00", "#ffffff", 4.5)
    '#907300'
"""

from __future__ import annotations

import colorsys

__all__ = ["contrast_ratio", "nearest_passing", "nearest_passing_all", "normalize_hex"]

# Lightness steps of the search: 1/1000 moves less than one 8-bit level per step.
_STEPS = 1000


def normalize_hex(value: str) -> str:
    """``#rgb`` or ``#rrggbb`` (any case) as lowercase ``#rrggbb``; a ValueError otherwise.

    Example:
        >>> normalize_hex("#0B5"), normalize_hex("#0b5394")
        ('#00bb55', '#0b5394')
    """
    text = value.strip()
    digits = text[1:]
    hexdigits = "0123456789abcdefABCDEF"
    if not text.startswith("#") or len(digits) not in (3, 6) or any(c not in hexdigits for c in digits):
        raise ValueError(f"{value!r} is not a colour: write it as a hex code such as #0b5394")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits.lower()


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21).

    Example:
        >>> round(contrast_ratio("#000000", "#ffffff"))
        21
    """
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _hex(red: float, green: float, blue: float) -> str:
    return "#" + "".join(f"{round(min(max(c, 0.0), 1.0) * 255):02x}" for c in (red, green, blue))


def nearest_passing(colour: str, other: str, ratio: float) -> str:
    """The shade of ``colour`` (same HLS hue and saturation) closest in lightness whose contrast with
    ``other`` is at least ``ratio``; ``colour`` itself when it passes already.

    One always exists for ratios up to 4.58 (black or white reaches it against any colour).

    Example:
        >>> shade = nearest_passing("#4a90e2", "#ffffff", 4.5)
        >>> shade, contrast_ratio(shade, "#ffffff") >= 4.5
        ('#2376d8', True)
    """
    return nearest_passing_all(colour, [(other, ratio)])


def nearest_passing_all(colour: str, needs: list[tuple[str, float]]) -> str:
    """The nearest shade of ``colour`` (as :func:`nearest_passing`) that passes against every
    ``(other, ratio)`` at once; when no shade can, the one that comes closest.

    Example:
        >>> nearest_passing_all("#6a9fd8", [("#ffffff", 4.5), ("#f6f8fa", 4.5)])
        '#3174bc'
    """

    def worst(shade: str) -> float:
        return min(contrast_ratio(shade, other) / ratio for other, ratio in needs)

    if worst(colour) >= 1:
        return colour
    hue, light, sat = colorsys.rgb_to_hls(*(int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)))
    start = round(light * _STEPS)
    best = colour
    for step in range(1, _STEPS + 1):
        for level in (start - step, start + step):
            if 0 <= level <= _STEPS:
                shade = _hex(*colorsys.hls_to_rgb(hue, level / _STEPS, sat))
                if worst(shade) >= 1:
                    return shade
                best = shade if worst(shade) > worst(best) else best
    return best
