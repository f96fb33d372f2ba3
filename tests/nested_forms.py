"""A check on rendered HTML: no <form> inside another.

HTML does not allow a form inside a form: the browser's parser drops the inner <form> start tag,
so the inner form's fields are posted with the outer form, to the outer form's URL (the appeal
page's steps once answered the admin's change form and got a bare 403). Django's test client
does not parse, so the tests parse the page themselves."""

from html.parser import HTMLParser


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problems: list[str] = []
        self.count = 0

    def _describe(self, attrs) -> str:
        named = {k: v for k, v in attrs if k in ("id", "action", "class")}
        return "<form " + " ".join(f'{k}="{v}"' for k, v in named.items()) + ">"

    def handle_starttag(self, tag, attrs):
        if tag != "form":
            return
        self.count += 1
        here = f"line {self.getpos()[0]}: {self._describe(attrs)}"
        if self.open:
            self.problems.append(f"{here} is inside {self.open[-1]}")
        self.open.append(here)

    def handle_endtag(self, tag):
        if tag == "form":
            if self.open:
                self.open.pop()
            else:
                self.problems.append(f"line {self.getpos()[0]}: </form> closes no form")


def nested_forms(html: str) -> list[str]:
    """What is wrong with the page's forms: each form inside another, each stray </form> and
    each form never closed (empty when every form stands alone)."""
    parser = _Forms()
    parser.feed(html)
    parser.close()
    return parser.problems + [f"{here} is never closed" for here in parser.open]


def form_count(html: str) -> int:
    parser = _Forms()
    parser.feed(html)
    parser.close()
    return parser.count
