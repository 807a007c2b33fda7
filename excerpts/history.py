"""
An object's audit trail: recording versions that simple-history's signals do not, and reading the trail back as
a list of entries, each with who, when and which fields changed.
"""

from collections import defaultdict
from contextlib import contextmanager

from django.forms.models import model_to_dict
from simple_history.utils import get_history_manager_for_model


def record_versions(model, objs, *, user=None, created=False):
    """
    Add one history entry per object of ``model`` as it is now, its many-to-many links (topics) included.

    For writes that bypass the model's signals, such as a bulk update. simple-history's bulk_history_create
    records the fields alone, and an entry without its topics reads as though every topic had been removed.
    The user is the object's ``_history_user`` if set, else ``user``, else the request's (as for a save).
    """
    objs = list(objs)
    history = get_history_manager_for_model(model)
    records = history.bulk_history_create(objs, update=not created, default_user=user, default_change_reason=None)
    if not records:  # nothing to record, or history is switched off (SIMPLE_HISTORY_ENABLED)
        return []
    for field in history.model._history_m2m_fields:
        _record_links(field, getattr(history.model, field.name).model, list(zip(objs, records, strict=True)))
    return records


def _record_links(field, link_history, versions):
    """Copy each object's current through-table rows of ``field`` onto its new history record, in one insert."""
    through = field.remote_field.through
    owner = through._meta.get_field(field.m2m_field_name())
    links = defaultdict(list)
    for link in through._default_manager.filter(**{f"{owner.name}__in": [obj.pk for obj, _ in versions]}):
        links[getattr(link, owner.attname)].append(link)
    link_history.objects.bulk_create(
        # The history records' ids come back from the insert on PostgreSQL and SQLite (RETURNING).
        link_history(
            history=record, **{column.attname: getattr(link, column.attname) for column in through._meta.fields}
        )
        for obj, record in versions
        for link in links[obj.pk]
    )


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
