"""catalog.markdown.safe_html: known cross-site scripting vectors and generated hostile HTML come out
with no element that runs or fetches, no event attribute and no link outside http, https, mailto and
the site's own paths; ordinary Markdown comes out as expected."""

from __future__ import annotations

import html

import lxml.html
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.markdown import ALLOWED_TAGS, safe_html

VECTORS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<img src=\"javascript:alert('x')\">",
    '<svg/onload=alert(1)><svg onload="alert(1)"></svg>',
    "<body onload=alert(1)>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="jAvAsCrIpT:alert(1)">x</a>',
    '<a href="java\tscript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](data:text/html,<script>alert(1)</script>)",
    "![x](https://evil.example/track.png)",
    '<a href="https://ok.example" style="background:url(\'https://evil.example/x\')">x</a>',
    '<div style="background:url(https://evil.example/x)">x</div>',
    "<style>@import 'https://evil.example/x.css';</style>",
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<object data="https://evil.example/x.swf"></object><embed src="https://evil.example/x.swf">',
    '<form action="https://evil.example"><input name="p">'
    '<button formaction="javascript:alert(1)">go</button></form>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    "<details open ontoggle=alert(1)>x</details>",
    '<video><source onerror="alert(1)"></video><audio src=x onerror=alert(1)>',
    '<base href="https://evil.example/">',
    "<!--<script>alert(1)</script>-->",
    '<p title="</p><script>alert(1)</script>">x</p>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<template><script>alert(1)</script></template>",
    '<a href="  javascript:alert(1)">x</a>',
]
_URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "poster", "xlink:href", "background"}
_SAFE_SCHEMES = ("http:", "https:", "mailto:")


def assert_inert(text: str) -> None:
    out = safe_html(text)
    if not out.strip():
        return
    root = lxml.html.fragment_fromstring(out, create_parent="div")
    for element in root.iter():
        if element is root:
            continue
        assert isinstance(element.tag, str) and element.tag in ALLOWED_TAGS, (element.tag, text, out)
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (name, text, out)
            assert name.lower() != "style", (text, out)
            if name.lower() in _URL_ATTRIBUTES:
                url = html.unescape(value).strip().lower()
                scheme = url.split(":", 1)[0] + ":" if ":" in url.split("/", 1)[0] else ""
                assert not scheme or scheme in _SAFE_SCHEMES, (name, value, text, out)
                assert "evil.example" not in url or element.tag == "a", (value, text, out)


def test_known_vectors_come_out_inert() -> None:
    for vector in VECTORS:
        assert_inert(vector)
        assert_inert(f"Text before.\n\n{vector}\n\nText after with **bold**.")


_TAGS = st.sampled_from(
    ["script", "img", "a", "svg", "iframe", "p", "style", "object", "math", "div", "table", "b", "form"]
)
_ATTRS = st.sampled_from(["onerror", "onload", "href", "src", "style", "title", "formaction", "ONCLICK"])
_VALUES = st.sampled_from(
    ["javascript:alert(1)", " JaVaScRiPt:x", "https://evil.example/x", "data:text/html,x", "/kpi/a", "x", ""]
)


@st.composite
def hostile_html(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 6))):
        tag, attr, value = draw(_TAGS), draw(_ATTRS), draw(_VALUES)
        inner = draw(st.sampled_from(["", "alert(1)", "text", "<b>x</b>", "[m](javascript:x)"]))
        parts.append(f'<{tag} {attr}="{value}">{inner}</{tag}>')
    glue = draw(st.sampled_from(["", "\n", "\n\n", " **x** "]))
    return glue.join(parts)


@settings(max_examples=300, deadline=None)
@given(hostile_html())
def test_generated_hostile_html_comes_out_inert(text: str) -> None:
    assert_inert(text)


def test_ordinary_markdown_is_kept() -> None:
    out = safe_html(
        "# Title\n\nSome *emphasis*, a [link](https://www.example.gov/a?b=1) and a "
        "[page](/kpi/pothole-days-to-close).\n\n| A | B |\n|---|---|\n| 1 | 2 |\n\n- one\n- two\n\n"
        '> quoted\n\n`code` ~~gone~~ <abbr title="Kansas City">KC</abbr>\n'
    )
    assert out.startswith("<h2>Title</h2>")
    assert '<a href="https://www.example.gov/a?b=1" rel="noopener noreferrer">link</a>' in out
    assert '<a href="/kpi/pothole-days-to-close" rel="noopener noreferrer">page</a>' in out
    kept = ["<table>", "<th>A</th>", "<td>2</td>", "<li>one</li>", "<blockquote>", "<code>code</code>"]
    kept += ["<s>gone</s>", '<abbr title="Kansas City">KC</abbr>', "<em>emphasis</em>"]
    for fragment in kept:
        assert fragment in out, (fragment, out)
