"""
CSV cells that are safe to open in a spreadsheet, and read back as they were.

Excel, LibreOffice and Google Sheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or a
carriage return before one) as a formula: an excerpt's text or a source's title could then compute, fetch a URL or
start a program on the machine of whoever opens the export ("CSV injection"). As OWASP advises, such a cell is
written with a single quote before it, which makes the spreadsheet keep it as text; the rest of the cell is
unchanged. A plain negative number (``-12``, ``-0.5``) is left as it is: a spreadsheet reads it as that number,
which runs nothing, and a quote would turn it into text.

Reading a CSV back (the import, in the command and the admin) takes that quote off again, so an exported file
imports unchanged. So that the pair is exact, a cell that already starts with quotes before such a character is
given one more on the way out, and loses one on the way in.
"""

import re

# U+FEFF first in a file: in UTF-8 (EF BB BF) it tells Excel that a CSV is UTF-8, which it does not assume otherwise.
BYTE_ORDER_MARK = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NEGATIVE_NUMBER = re.compile(r"-[0-9]+(?:\.[0-9]+)?")
QUOTE = "'"


def _formula_like(text):
    """Whether ``text`` is, or would be with its leading quotes taken off, run as a formula."""
    bare = text.lstrip(QUOTE)
    return bare.startswith(FORMULA_STARTS) and not PLAIN_NEGATIVE_NUMBER.fullmatch(bare)


# The first characters of every cell that may need a quote: a formula's, or a quote's before one. Most cells start
# otherwise and are passed as they are at the cost of one look (a fifth of a CSV export's time went here).
RISKY_FIRST = frozenset((*FORMULA_STARTS, QUOTE))


def neutralise(cell):
    """The cell as a CSV file holds it: text a spreadsheet would run as a formula gets a quote before it."""
    if not isinstance(cell, str) or cell[:1] not in RISKY_FIRST:
        return cell
    return QUOTE + cell if _formula_like(cell) else cell


def restore(cell):
    """The cell as it was before ``neutralise``: the quote it added taken off."""
    return cell[1:] if isinstance(cell, str) and cell.startswith(QUOTE) and _formula_like(cell) else cell
