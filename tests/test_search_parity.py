"""
Search means the same on both engines: one table of queries over one corpus (the seed corpus and a few excerpts in
Chinese, Russian, accented Latin, tag-like text and private-use characters), each with the exact excerpts it finds, in
the exact order of the default (relevance) listing. The suite runs it on SQLite, and on PostgreSQL with DATABASE_URL:
both must give these lists, so they give each other's.

The seed excerpts are named by their place in fixtures/sino_soviet_split.json (1 is the first), the added ones by
name. Relevance is 2 when the excerpt's own words (text or original text) hold every term, 1 otherwise; the newest
first among equals, so the added excerpts (newest) lead their tier, then the seed in reverse order.
"""

# Chinese and Russian text is the point of this file: its full-width commas and Cyrillic letters are meant.
# ruff: noqa: RUF001

from pathlib import Path

from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APITestCase

from excerpts.models import Excerpt, Speaker
from excerpts.research import search
from tests import factories

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "sino_soviet_split.json"

# Mao in Moscow, 18 November 1957, as printed in Chinese, and Khrushchev's report to the Twentieth Congress,
# 14 February 1956, as printed in Russian; the translations are ours.
EAST_WIND = "我认为目前形势的特点是东风压倒西风，也就是说，社会主义的力量对于帝国主义的力量占了压倒的优势。"
COEXISTENCE = (
    "Ленинский принцип мирного сосуществования государств с различным социальным устройством всегда был и остается "
    "генеральной линией внешней политики нашей страны."
)

# (query, what it shows, the excerpts found in order: a seed number or an added excerpt's name)
TABLE = [
    ("commune", "a word finds longer words it begins", [31, 27, 23]),
    ('"communes"', "a quoted word is whole", [31, 27, 23]),
    ('"commune"', "nothing stemmed: no excerpt has the singular", []),
    (
        "communi",
        "a prefix finds communism and communication (and Communist in a source title)",
        ["east wind", 34, 32, 31, 30, 29, 26, 25, 24, 22, 18, 15, 14, 3, 2],
    ),
    ("Stalin", "a word in the text ranks above one only in a context", [14, 3, 13, 10, 9, 8, 7, 6, 5, 4, 1]),
    ("sTaLiN", "case does not matter", [14, 3, 13, 10, 9, 8, 7, 6, 5, 4, 1]),
    ('"collective leadership"', "a phrase", [14, 4]),
    ('"leadership collective"', "a phrase is in order", []),
    ("imperialism -war", "an exclusion", ["east wind", 18, 8]),
    ('imperialis -"monopoly capitalism"', "an excluded phrase", ["east wind", 33, 18, 17, 12, 8, 13]),
    ("war -inevitab", "an excluded prefix", [34, 19, 17, 13]),
    (
        "tse-tung",
        "punctuation inside a word makes a phrase: an alias",
        ["east wind", 33, 32, 30, 29, 19, 13, 12, 10, 7, 6],
    ),
    ('"Chairman Mao" noise', "an alias phrase, and a word of a text and of a context", [30, 29]),
    (
        "Sergeevich",
        "a word only in an alias",
        ["tags", "coexistence", 31, 28, 27, 21, 20, 17, 16, 15, 14, 3, 2],
    ),
    ("CPSU", "an acronym in a text ranks above the same as an alias", [5, 23, 22, 18]),
    ("manifesto", "a word only in a source title", []),
    ('"secret speech"', "a phrase of a source title", [15, 14, 3, 2]),
    ("Zhengzhou", "a title word of a source no excerpt cites", []),
    ("don't", "an apostrophe inside a word", [30]),
    ("1937-1938", "numbers joined by a hyphen", [15, 2]),
    ("Marxism-Leninism", "a hyphenated word of the text", [28]),
    ("U.S.S.R.", "initials make a phrase of letters", []),
    ("xylophone", "no match", []),
    ("wind", "the translation of an original", ["east wind"]),
    ("东风", "two CJK characters inside a sentence", ["east wind"]),
    ("西风", "two CJK characters after the start of a run", ["east wind"]),
    ("东风压倒西风", "six CJK characters", ["east wind"]),
    ("帝国主义 socialism", "CJK and Latin words together", ["east wind"]),
    ("风东", "CJK characters out of order", []),
    ('"东风" -帝国', "an excluded CJK word", []),
    ("сосуществ", "a Cyrillic prefix", ["coexistence"]),
    ("МИРНОГО", "upper-case Cyrillic", ["coexistence"]),
    ('"мирного сосуществования"', "a Cyrillic phrase", ["coexistence"]),
    ("мирное", "Cyrillic, nothing stemmed: another form of the word", []),
    ("Zhōu", "accents count", ["zhou accented"]),
    ("zhou", "no accent is no accent", ["zhou plain"]),
    ("ĒNLÁI", "accents and case", ["zhou accented"]),
    ("urgent", "a word between tags", ["tags"]),
    ("telegram", "a word beside private-use characters", ["private use", "tags"]),
    ("nuc", "a prefix of three letters", [34]),
]


class SearchTableTest(APITestCase):
    @classmethod
    def setUpTestData(cls):
        call_command("loaddata", str(SEED), verbosity=0)
        cls.seed = dict(enumerate(Excerpt.objects.order_by("id").values_list("id", flat=True), start=1))
        mao = Speaker.objects.get(slug="mao-zedong")
        khrushchev = Speaker.objects.get(slug="nikita-khrushchev")
        moscow = factories.source("moscow-1957", "Speech at the Moscow Meeting of Communist and Workers' Parties")
        report = factories.source("report-1956", "Report of the Central Committee to the Twentieth Congress")
        archive = factories.source("archive-notes", "Notes from a reading room")
        cls.added = {
            "east wind": factories.excerpt(
                "I think the mark of the present situation is that the east wind prevails over the west wind: the "
                "forces of socialism have gained an overwhelming superiority over the forces of imperialism.",
                speaker=mao,
                source=moscow,
                date="1957-11-18",
                language="zh",
                original_text=EAST_WIND,
            ),
            "coexistence": factories.excerpt(
                "The Leninist principle of peaceful coexistence of states with different social systems has always "
                "been and remains the general line of our country's foreign policy.",
                speaker=khrushchev,
                source=report,
                date="1956-02-14",
                language="ru",
                original_text=COEXISTENCE,
            ),
            "zhou accented": factories.excerpt("Zhōu Ēnlái received the delegation at the airport.", source=archive),
            "zhou plain": factories.excerpt("Premier Zhou Enlai flew on to Moscow.", source=archive),
            "tags": factories.excerpt(
                "The clerk filed the telegram under <b>urgent</b> & <i>closed</i>.", speaker=khrushchev, source=archive
            ),
            "private use": factories.excerpt(
                "A scan of the \ue000telegram\uf8ff kept two glyphs no font shows.", source=archive
            ),
        }

    def found(self, q):
        response = self.client.get(reverse("excerpt-list"), {"q": q, "page_size": 100})
        self.assertEqual(response.status_code, 200, response.content)
        return [item["id"] for item in response.json()["results"]]

    maxDiff = None

    def names(self, ids):
        """The seed numbers and added names of ``ids``, as the table gives them."""
        by_id = {pk: number for number, pk in self.seed.items()} | {made.pk: name for name, made in self.added.items()}
        return [by_id[pk] for pk in ids]

    def test_every_query_of_the_table_finds_the_same_excerpts_in_the_same_order(self):
        self.assertGreaterEqual(len(TABLE), 30)
        wrong = {}
        for q, shows, names in TABLE:
            if self.names(self.found(q)) != names:
                wrong[f"{q} ({shows})"] = self.names(self.found(q))
        self.assertEqual(wrong, {})

    def test_a_common_word_finds_every_excerpt_holding_it_or_a_longer_word_it_begins(self):
        found = self.found("of")
        words = {
            excerpt.pk
            for excerpt in Excerpt.objects.select_related("speaker", "source")
            if any(
                word.lower().startswith("of")
                for field in (
                    excerpt.text,
                    excerpt.context,
                    excerpt.original_text,
                    excerpt.source.title,
                    excerpt.speaker.name,
                    *excerpt.speaker.aliases,
                )
                for word in search.WORD.findall(field)
            )
        }
        self.assertEqual(sorted(found), sorted(words))

    def highlight(self, q):
        results = self.client.get(reverse("excerpt-list"), {"q": q}).json()["results"]
        return results[0]["highlight"]

    def test_tag_like_text_is_escaped_and_the_hit_marked(self):
        self.assertEqual(
            self.highlight("urgent closed"),
            "The clerk filed the telegram under &lt;b&gt;<mark>urgent</mark>&lt;/b&gt; &amp; "
            "&lt;i&gt;<mark>closed</mark>&lt;/i&gt;.",
        )

    def test_private_use_characters_stay_as_they_are_around_a_mark(self):
        self.assertEqual(
            self.highlight("glyph"),
            "A scan of the \ue000telegram\uf8ff kept two <mark>glyphs</mark> no font shows.",
        )
        self.assertEqual(
            self.highlight("scan telegram"),
            "A <mark>scan</mark> of the \ue000<mark>telegram</mark>\uf8ff kept two glyphs no font shows.",
        )

    def test_a_cjk_query_marks_its_characters_in_the_original(self):
        self.assertEqual(
            self.highlight("东风"),
            # Each character is a word: 32 of them, from four before the hit.
            "…的特点是<mark>东风</mark>压倒西风，也就是说，社会主义的力量对于帝国主义的力量占了…",
        )

    def test_a_cyrillic_prefix_marks_the_whole_word(self):
        self.assertIn("<mark>сосуществования</mark>", self.highlight("Сосуществ"))

    def test_a_phrase_is_marked_as_one(self):
        self.assertIn("<mark>collective leadership</mark>", self.highlight('"collective leadership"'))
