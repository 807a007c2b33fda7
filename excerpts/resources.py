"""
Excerpts as rows, for import and export in CSV and JSON (django-import-export), in the admin and the shell.

The columns are those of ``COLUMNS``. Speakers, events and sources (``source``, ``quoted_in``) are
named by slug and topics by slugs joined with ``;``. They must already exist: an unknown slug is an
error naming the row and the column, never a new, duplicate speaker or source made up from a typo.
Reference data travels as a fixture (``manage.py dumpdata excerpts.speaker excerpts.source
excerpts.topic excerpts.event --natural-primary``). A row with an ``id`` updates that excerpt (or
creates it with that id); a row without one creates a new excerpt. An import is all-or-nothing.
"""

import tablib
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from import_export import fields, resources, widgets

from .models import Event, Excerpt, Source, Speaker, Topic

COLUMNS = [
    "id",
    "text",
    "kind",
    "attribution",
    "speaker",
    "date",
    "event",
    "source",
    "locator",
    "quoted_in",
    "quoted_in_locator",
    "topics",
    "language",
    "original_text",
    "translator",
    "context",
    "status",
]
FORMATS = ("csv", "json")


class SlugWidget(widgets.ForeignKeyWidget):
    """A related object named by its slug; an unknown slug is a field error, not a new object."""

    def __init__(self, model):
        super().__init__(model, field="slug")

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row=row, **kwargs)
        except ObjectDoesNotExist:
            raise ValueError(f"No {self.model._meta.verbose_name} has the slug {value!r}.") from None


class SlugsWidget(widgets.ManyToManyWidget):
    """Related objects named by slugs joined with ``;``; every slug must exist."""

    def __init__(self, model):
        super().__init__(model, separator=";", field="slug")

    def clean(self, value, row=None, **kwargs):
        slugs = {slug.strip() for slug in str(value or "").split(self.separator) if slug.strip()}
        found = self.model.objects.filter(slug__in=slugs)
        missing = slugs - {obj.slug for obj in found}
        if missing:
            names = ", ".join(repr(slug) for slug in sorted(missing))
            raise ValueError(f"No {self.model._meta.verbose_name} has the slug {names}.")
        return found


class TextWidget(widgets.CharWidget):
    """Text columns take text: an empty cell or JSON null is empty, and a JSON number or boolean is refused."""

    def clean(self, value, row=None, **kwargs):
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ValueError(f"Must be text, not {type(value).__name__} {value!r}.")
        return value


class ExcerptResource(resources.ModelResource):
    """One excerpt per row, in the columns of COLUMNS."""

    speaker = fields.Field(attribute="speaker", column_name="speaker", widget=SlugWidget(Speaker))
    event = fields.Field(attribute="event", column_name="event", widget=SlugWidget(Event))
    source = fields.Field(attribute="source", column_name="source", widget=SlugWidget(Source))
    quoted_in = fields.Field(attribute="quoted_in", column_name="quoted_in", widget=SlugWidget(Source))
    topics = fields.Field(attribute="topics", column_name="topics", widget=SlugsWidget(Topic))

    WIDGETS_MAP = {**resources.ModelResource.WIDGETS_MAP, "CharField": TextWidget, "TextField": TextWidget}

    class Meta:
        model = Excerpt
        fields = COLUMNS
        export_order = COLUMNS
        import_id_fields = ["id"]
        clean_model_instances = True
        skip_unchanged = True
        widgets = {"id": {"coerce_to_string": False}}

    def __init__(self, user=None, reason=None, **kwargs):
        super().__init__(**kwargs)
        self.user, self.reason = user, reason

    def get_queryset(self):
        return Excerpt.objects.with_related().order_by("id")

    def import_instance(self, instance, row, **kwargs):
        # Topics are saved after the excerpt, outside the field checks; check their slugs with the rest.
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if "topics" in row:
            try:
                self.fields["topics"].clean(row)
            except ValueError as error:
                errors["topics"] = [str(error)]
        if errors:
            raise ValidationError(errors)

    def before_save_instance(self, instance, row, **kwargs):
        # Attribute the history entry when there is no request (the shell); in the admin the
        # request's user is recorded anyway.
        if self.user is not None:
            instance._history_user = self.user
        if self.reason:
            instance._change_reason = self.reason


def load_dataset(text, format):
    """Parse CSV or JSON text into a tablib Dataset; raise ValueError saying what is wrong."""
    if format not in FORMATS:
        raise ValueError(f"Unknown format {format!r}: use one of {', '.join(FORMATS)}.")
    try:
        dataset = tablib.Dataset().load(text.lstrip("\ufeff"), format=format)
    except Exception as error:  # tablib raises whatever its parser raises
        raise ValueError(f"The file is not valid {format.upper()}: {error}") from None
    unknown = sorted(set(dataset.headers or ()) - set(COLUMNS))
    if unknown:
        raise ValueError(f"Unknown column(s) {', '.join(unknown)}. The columns are: {', '.join(COLUMNS)}.")
    return dataset


def import_excerpts(dataset, dry_run=False, user=None, reason=None):
    """Import every row or none; return (result, errors), errors a list of 'row N, column C: problem'."""
    resource = ExcerptResource(user=user, reason=reason)
    result = resource.import_data(
        dataset, dry_run=dry_run, use_transactions=True, rollback_on_validation_errors=True, raise_errors=False
    )
    return result, describe_errors(result)


def describe_errors(result):
    """Each problem of an import result as 'row N, column C: message' (rows count from 1, after the header)."""
    messages = []
    for invalid in result.invalid_rows:
        for column, reasons in sorted(invalid.error_dict.items()):
            for reason in reasons:
                text = "; ".join(reason.messages) if isinstance(reason, ValidationError) else str(reason)
                if column == "__all__":
                    messages.append(f"row {invalid.number}: {text}")
                else:
                    messages.append(f"row {invalid.number}, column {column}: {text}")
    for number, errors in result.row_errors():
        messages.extend(f"row {number}: {error.error}" for error in errors)
    for error in result.base_errors:
        messages.append(str(error.error))
    return sorted(messages, key=_row_number)


def _row_number(message):
    head = message.split(",", 1)[0].split(":", 1)[0]
    return int(head[4:]) if head.startswith("row ") and head[4:].isdigit() else 0


def export_excerpts(format):
    """Every excerpt (drafts included) as CSV or JSON text, in the COLUMNS."""
    dataset = ExcerptResource().export()
    return dataset.export(format)
