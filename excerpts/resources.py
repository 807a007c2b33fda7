"""
The admin's Import and Export buttons (django-import-export): one excerpt per row, in the import's columns.

The preview checks each row as the import engine (excerpts/imports) does, reading only; the import itself is an
ExcerptImport, so the admin and the import_excerpts command import in one way.
"""

import csv
import json
from collections import defaultdict

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from import_export import fields, resources, widgets
from import_export.formats.base_formats import CSV
from import_export.results import RowResult

from .excerpt_fields import TOPIC_SEPARATOR
from .imports import (
    COLUMNS,
    NEW,
    RELATED,
    UNCHANGED,
    ExcerptImport,
    ImportConflict,
    RowChecker,
    Totals,
    check_columns,
)
from .models import Excerpt, Speaker, Topic
from .spreadsheets import BYTE_ORDER_MARK, neutralise, restore


class TopicsField(fields.Field):
    """The topics column; in an import preview, the row's topics (which are not saved)."""

    def get_value(self, instance):
        checked = getattr(instance, "_import_checked", None)
        if checked is not None and checked.topic_ids is not None:
            return Topic.objects.filter(pk__in=checked.topic_ids)
        return super().get_value(instance)


class ExcerptResource(resources.ModelResource):
    """
    One excerpt per row, in the columns of COLUMNS, the related objects named by slug. The preview checks each row
    with RowChecker, reading only; the import itself is an ExcerptImport.
    """

    topics = TopicsField(
        attribute="topics",
        column_name="topics",
        widget=widgets.ManyToManyWidget(Topic, separator=TOPIC_SEPARATOR, field="slug"),
    )

    class Meta:
        model = Excerpt
        fields = COLUMNS
        export_order = COLUMNS
        import_id_fields = ["id"]
        skip_unchanged = True
        widgets = {"id": {"coerce_to_string": False}, **{name: {"field": "slug"} for name in RELATED}}

    def __init__(self, user=None, reason=None, **kwargs):
        super().__init__(**kwargs)
        self.user, self.reason = user, reason
        self.checker = RowChecker()

    def get_queryset(self):
        return Excerpt.objects.with_related().order_by("id")

    def import_data(
        self,
        dataset,
        dry_run=False,
        raise_errors=False,
        use_transactions=None,
        collect_failed_rows=False,
        rollback_on_validation_errors=False,
        **kwargs,
    ):
        if dry_run:
            # The preview reads only, outside any transaction: on SQLite a transaction takes the write lock.
            return self.import_data_inner(dataset, True, raise_errors, False, collect_failed_rows, **kwargs)
        return self.import_rows(dataset, user=kwargs.get("user"), file_name=kwargs.get("file_name"))

    def import_rows(self, dataset, user=None, file_name=None):
        """Import the dataset with ExcerptImport; the Result the admin reports, with each excerpt written."""
        result = self.get_result_class()()
        result.diff_headers = self.get_diff_headers()
        result.total_rows = len(dataset)
        headers = dataset.headers or []
        reason = self.reason or (f"admin import {file_name}" if file_name else None)
        importer = ExcerptImport(user=self.user or user, reason=reason)
        try:
            check_columns(headers)
            rows = (dict(zip(headers, values, strict=True)) for values in dataset)
            importer.check(enumerate(rows, 1))
            if not importer.problem_count:
                importer.write(written=lambda action, excerpts: self._row_results(result, action, excerpts))
        except (ValueError, ImportConflict) as error:
            result.append_base_error(self.get_error_result_class()(error))
        finally:
            importer.close()
        by_row = defaultdict(lambda: defaultdict(list))
        for number, column, message in importer.problems:
            by_row[number][column or NON_FIELD_ERRORS].append(message)
        for number, errors in by_row.items():
            row = dict(zip(headers, dataset[number - 1], strict=True))
            result.append_invalid_row(number, row, ValidationError(errors))
        totals = importer.totals if not (result.base_errors or by_row) else Totals()
        result.totals[RowResult.IMPORT_TYPE_NEW] = totals.new
        result.totals[RowResult.IMPORT_TYPE_UPDATE] = totals.update
        result.totals[RowResult.IMPORT_TYPE_SKIP] = totals.unchanged
        result.totals[RowResult.IMPORT_TYPE_INVALID] = len(by_row)
        return result

    @staticmethod
    def _row_results(result, action, excerpts):
        speakers = Speaker.objects.in_bulk({excerpt.speaker_id for excerpt in excerpts})
        for excerpt in excerpts:
            excerpt.speaker = speakers[excerpt.speaker_id]
            row = RowResult()
            row.import_type = RowResult.IMPORT_TYPE_NEW if action == NEW else RowResult.IMPORT_TYPE_UPDATE
            row.add_instance_info(excerpt)
            row.instance = excerpt
            result.append_row_result(row)

    def before_import(self, dataset, **kwargs):
        headers = dataset.headers or []
        self.checker.prepare(dict(zip(headers, values, strict=True)) for values in dataset)
        check_columns(headers)

    def get_instance(self, instance_loader, row):
        return self.checker.stored(row)

    def import_instance(self, instance, row, **kwargs):
        checked = self.checker.check(kwargs.get("row_number"), row, instance=instance)
        instance._import_checked = checked
        if checked.errors:
            raise ValidationError(checked.errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        # import_instance validated the row as the command does; nothing is left to check.
        if import_validation_errors:
            raise ValidationError(import_validation_errors)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        checked = getattr(instance, "_import_checked", None)
        return not import_validation_errors and checked is not None and checked.action == UNCHANGED


class SpreadsheetSafeCSV(CSV):
    """
    The admin's CSV: a cell that a spreadsheet would run as a formula is written with a quote before it, which the
    import takes off again (excerpts/spreadsheets.py), as the API's CSV and the import command do.
    """

    def export_data(self, dataset, **kwargs):
        dataset.add_formatter(None, neutralise)  # every column, applied as the rows are written
        return super().export_data(dataset, **kwargs)

    def create_dataset(self, in_stream, **kwargs):
        dataset = super().create_dataset(in_stream, **kwargs)
        for index in range(len(dataset)):
            dataset[index] = [restore(cell) for cell in dataset[index]]
        return dataset


class ExcelCSV(SpreadsheetSafeCSV):
    """
    The admin's CSV for Excel: the same file after a UTF-8 byte-order mark, without which Excel reads it in the
    computer's legacy code page and garbles Chinese and Russian text. Export only: the import reads either CSV.
    """

    def get_title(self):
        return "csv for Excel (UTF-8 with a byte-order mark)"  # the admin's label; tablib knows the format as csv

    def export_data(self, dataset, **kwargs):
        dataset.add_formatter(None, neutralise)
        return BYTE_ORDER_MARK + dataset.export("csv", **kwargs)

    def can_import(self):
        return False


def write_excerpts(format, out):
    """
    Write every excerpt (drafts included) as CSV or JSON, in the COLUMNS, to the text stream ``out`` as the rows are
    read (the resource reads a page of excerpts with their topics at a time), so memory stays flat however many
    there are. The text is what the resource's tablib Dataset would give (a CSV of excel dialect, a JSON array of
    objects), without holding it all.
    """
    resource = ExcerptResource()
    headers = resource.get_export_headers()
    rows = (resource.export_resource(excerpt) for excerpt in resource.iter_queryset(resource.get_queryset()))
    if format == "csv":
        writer = csv.writer(out)
        writer.writerow(headers)
        writer.writerows([neutralise(cell) for cell in row] for row in rows)
        return
    out.write("[")
    for number, row in enumerate(rows):
        out.write(", " if number else "")
        out.write(json.dumps(dict(zip(headers, row, strict=True)), ensure_ascii=False, default=str))
    out.write("]")
