"""
An object's audit trail: recording versions that simple-history's signals do not, and reading the trail back as
a list of entries, each with who, when and which fields changed.
"""

from contextlib import contextmanager

from django.conf import settings
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone
from simple_history.utils import get_change_reason_from_object, get_history_manager_for_model

from .bulk import allocate_ids, insert_rows


def record_versions(model, objs, *, user=None, created=False, reason=None, date=None):
    """
    Add one history entry per object of ``model`` as it is now, its many-to-many links (topics) included, and
    return the entries' ids.

    Every entry that simple-history's signals do not make is made here: a bulk update's, an import's and
    ``one_version``'s. Each is the entry simple-history's bulk_history_create would make, with its topics: an
    entry without them would read as though every topic had been removed. Its user is the object's
    ``_history_user`` if set, else ``user``, else the request's (as for a save); its date is ``date`` (default:
    now); its change reason the object's ``_change_reason`` if set, else ``reason``. The rows are written with
    plain INSERTs (excerpts/bulk.py), since an import writes an entry for each of its rows.
    """
    objs = list(objs)
    if not objs or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return []
    history = get_history_manager_for_model(model).model
    date = date or timezone.now()
    fields = [field.attname for field in history.tracked_fields]
    user_field = history._meta.get_field("history_user").attname
    # A transaction holds SQLite's write lock, which allocate_ids relies on (inside a caller's, no savepoint).
    with transaction.atomic(savepoint=False):
        ids = allocate_ids(history, len(objs))
        insert_rows(
            history,
            [*fields, "history_id", "history_date", "history_change_reason", "history_type", user_field],
            [
                [
                    *(getattr(obj, name) for name in fields),
                    pk,
                    getattr(obj, "_history_date", date),
                    get_change_reason_from_object(obj) or reason,
                    "+" if created else "~",
                    _pk(getattr(obj, "_history_user", user or history.get_default_history_user(obj))),
                ]
                for obj, pk in zip(objs, ids, strict=True)
            ],
        )
        for field in history._history_m2m_fields:
            _record_links(field, getattr(history, field.name).model, list(zip(objs, ids, strict=True)))
    return ids


def _pk(user):
    return None if user is None else user.pk


def _record_links(field, link_history, versions):
    """Copy each object's current through-table rows of ``field`` onto its new history entry, in one insert."""
    through = field.remote_field.through
    owner = through._meta.get_field(field.m2m_field_name()).attname
    columns = [column.attname for column in through._meta.fields]
    entry = {obj.pk: history_id for obj, history_id in versions}
    links = through._default_manager.filter(**{f"{owner}__in": list(entry)}).values_list(*columns)
    position = columns.index(owner)
    rows = [(entry[link[position]], *link) for link in links]
    insert_rows(link_history, [link_history._meta.get_field("history").attname, *columns], rows)


@contextmanager
def one_version(obj, *, created=False):
    """
    Record the saves of ``obj`` inside the block (its row, then each change to its topics) as a single history
    entry, made at the end with the final topics.

    Left to the signals, one edit leaves an entry per step, and since Django's ``set()`` removes links before it
    adds the new ones, changing topics {A} to {B} records a version with no topics that nobody ever saw (and that
    the admin offers to revert to). Nothing is recorded if the block raises.
    """
    obj.skip_history_when_saving = True
    try:
        yield obj
    finally:
        del obj.skip_history_when_saving
    record_versions(type(obj), [obj], created=created)


def _plain(field, value):
    """Many-to-many rows (through-table dicts) become the sorted ids of the related objects."""
    if isinstance(value, list) and all(isinstance(row, dict) for row in value):
        related = field.m2m_reverse_field_name()
        return sorted(row[related] for row in value)
    return value


def _first_values(record):
    """The fields an object was created with, its many-to-many links as sorted ids."""
    names = [field.name for field in record.tracked_fields if field.editable and not field.primary_key]
    values = model_to_dict(record, fields=names)
    for field in record._history_m2m_fields:
        links = getattr(record, field.name).values_list(field.m2m_reverse_field_name(), flat=True)
        values[field.name] = sorted(links)
    return values


def history_entries(obj):
    """Return the history of ``obj``, newest first, as dicts ready for HistoryEntrySerializer."""
    records = list(obj.history.select_related("history_user").order_by("history_date", "history_id"))
    entries = []
    previous = None
    for record in records:
        if previous is None:
            values = _first_values(record)
            changes = [{"field": name, "old": None, "new": values[name]} for name in sorted(values) if values[name]]
        else:
            delta = record.diff_against(previous)
            changes = []
            for change in delta.changes:
                field = obj._meta.get_field(change.field)
                changes.append(
                    {"field": change.field, "old": _plain(field, change.old), "new": _plain(field, change.new)}
                )
        entries.append(
            {
                "history_id": record.history_id,
                "history_date": record.history_date,
                "history_user": record.history_user.get_username() if record.history_user else None,
                "history_type": record.history_type,
                "changes": changes,
            }
        )
        previous = record
    entries.reverse()
    return entries
