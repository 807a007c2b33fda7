"""An object's audit trail as a list of entries, each with who, when and which fields changed."""

from django.forms.models import model_to_dict


def _plain(field, value):
    """Many-to-many rows (through-table dicts) become the sorted ids of the related objects."""
    if isinstance(value, list) and all(isinstance(row, dict) for row in value):
        related = field.m2m_reverse_field_name()
        return sorted(row[related] for row in value)
    return value


def history_entries(obj):
    """Return the history of ``obj``, newest first, as dicts ready for HistoryEntrySerializer."""
    records = list(obj.history.select_related("history_user").order_by("history_date", "history_id"))
    entries = []
    previous = None
    for record in records:
        if previous is None:
            names = [field.name for field in record.tracked_fields if field.editable and not field.primary_key]
            values = model_to_dict(record, fields=names)
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
