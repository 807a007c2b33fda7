"""The admin's Import button: a preview that reads only, then the same writer as import_excerpts."""

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from excerpts.models import Excerpt
from excerpts.resources import COLUMNS

pytestmark = pytest.mark.django_db

NEW_ROW = (
    ",Let a hundred flowers bloom.,speech,direct,mao-zedong,1957-02-27,,peoples-daily,p. 3,,,great-leap-forward,zh,,,,"
    "draft"
)


def upload(client, tmp_path, *rows):
    path = tmp_path / "excerpts.csv"
    path.write_text("\n".join([",".join(COLUMNS), *rows]) + "\n", encoding="utf-8")
    with path.open("rb") as handle:
        return client.post(
            reverse("admin:excerpts_excerpt_import"), {"import_file": handle, "format": "0", "resource": "0"}
        )


def test_the_preview_reads_only_and_shows_the_rows_topics(corpus, curator_client, tmp_path):
    with CaptureQueriesContext(connection) as queries:
        response = upload(curator_client, tmp_path, NEW_ROW)

    assert response.status_code == 200
    result = response.context["result"]
    assert (result.totals["new"], result.has_errors(), result.has_validation_errors()) == (1, False, False)
    assert "great-leap-forward" in result.rows[0].diff[COLUMNS.index("topics")]
    assert not Excerpt.objects.filter(text__startswith="Let a hundred").exists()
    writes = [query["sql"] for query in queries if query["sql"].split()[0] in {"INSERT", "UPDATE", "DELETE"}]
    # The session the admin keeps is the only write; no excerpt, history or savepoint.
    assert all("django_session" in sql for sql in writes), writes
    assert not any("SAVEPOINT" in query["sql"] for query in queries)


def test_confirming_writes_the_rows_with_history_and_an_admin_log_by_the_curator(
    corpus, curator, curator_client, tmp_path
):
    published = corpus["published"]
    changed = f"{published.pk},Changed words.,speech,direct,nikita-khrushchev,1956-02-25,,secret-speech,,,,,ru,,,,"
    changed += "published"
    preview = upload(curator_client, tmp_path, NEW_ROW, changed)
    confirm = preview.context["confirm_form"]

    response = curator_client.post(
        reverse("admin:excerpts_excerpt_process_import"), {**confirm.initial, "resource": "0"}
    )

    assert response.status_code == 302
    new = Excerpt.objects.get(text="Let a hundred flowers bloom.")
    published.refresh_from_db()
    assert published.text == "Changed words."
    assert [topic.slug for topic in new.topics.all()] == ["great-leap-forward"]
    for excerpt in (new, published):
        entry = excerpt.history.latest("history_date")
        assert (entry.history_user, entry.history_change_reason) == (curator, "admin import excerpts.csv")
    logged = {(entry.object_id, entry.action_flag) for entry in LogEntry.objects.filter(user=curator)}
    assert logged == {(str(new.pk), ADDITION), (str(published.pk), CHANGE)}
