"""
Checking import rows with reads only: each row becomes an unsaved excerpt, checked as the model's full_clean would
check it, each problem named by the file's column. What a batch of rows names is looked up in one query per model.
"""

import contextlib
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from ..bulk import chunks
from ..excerpt_fields import DATE_BOUNDS
from ..models import Excerpt, Topic
from .cells import date_bounds, date_problems, parse_id, parse_slugs, parse_text
from .columns import RELATED, TEXT_COLUMNS, WRITTEN_FIELDS, columns_problem

NEW, UPDATE, UNCHANGED = "new", "update", "unchanged"

# The model's validation, less what the import checks itself: related objects (looked up by slug, not one query
# per row), the date (its EDTF parse cached) and the check constraints (a query each per row, and implied by
# the text and date checks; the database enforces them anyway).
CHECKED_APART = {"date", *RELATED}
# Slugs or ids a query looks up at most: IN lists well within SQLite's limit.
LOOKUP_SIZE = 1000


class References:
    """
    Speakers, events, sources and topics looked up by slug (sources also by id), a batch of rows at a time and
    once each: a slug that names nothing is remembered too. At write time ``changes()`` says which of those
    found no longer name the same object.
    """

    def __init__(self):
        self.slugs = defaultdict(dict)  # model -> {slug: id or None}
        self.ids = defaultdict(dict)  # model -> {id: found}

    def fetch(self, slugs, ids):
        """Look up the slugs and ids not seen yet: ``slugs`` and ``ids`` map each model to a set."""
        for model, wanted in slugs.items():
            known = self.slugs[model]
            missing = [slug for slug in wanted if slug not in known]
            if missing:
                found = dict(model.objects.filter(slug__in=missing).values_list("slug", "pk"))
                known.update({slug: found.get(slug) for slug in missing})
        for model, wanted in ids.items():
            known = self.ids[model]
            missing = [pk for pk in wanted if pk not in known]
            if missing:
                found = set(model.objects.filter(pk__in=missing).values_list("pk", flat=True))
                known.update({pk: pk in found for pk in missing})

    def by_slug(self, model, slug):
        return self.slugs[model].get(slug)

    def exists(self, model, pk):
        return self.ids[model].get(pk, False)

    def changes(self):
        """A message for each slug or id found before that no longer names the same object."""
        problems = []
        for model, known in self.slugs.items():
            found = {slug: pk for slug, pk in known.items() if pk is not None}
            now = {}
            for part in chunks(list(found), LOOKUP_SIZE):
                now.update(model.objects.filter(slug__in=part).values_list("slug", "pk"))
            problems.extend(
                f"The {model._meta.verbose_name} {slug!r} was deleted or given another slug after the file was "
                "checked."
                for slug, pk in sorted(found.items())
                if now.get(slug) != pk
            )
        for model, known in self.ids.items():
            found = [pk for pk, exists in known.items() if exists]
            now = set()
            for part in chunks(found, LOOKUP_SIZE):
                now.update(model.objects.filter(pk__in=part).values_list("pk", flat=True))
            problems.extend(
                f"The {model._meta.verbose_name} with the id {pk} was deleted after the file was checked."
                for pk in sorted(found)
                if pk not in now
            )
        return problems


@dataclass
class CheckedRow:
    """One row checked: the excerpt it makes (unsaved), its topic ids, what to do with it, or its errors."""

    number: int
    instance: Excerpt
    action: str = None  # NEW, UPDATE or UNCHANGED; None when the row has errors
    topic_ids: list = None  # sorted; None when the row leaves the topics as they are
    topics_changed: bool = False
    changed: tuple = ()  # of an update, the WRITTEN_FIELDS that change
    errors: dict = field(default_factory=dict)  # column -> [messages]; NON_FIELD_ERRORS for the row


class RowChecker:
    """
    Turns import rows into unsaved excerpts, checking each as the model's full_clean would and naming each problem
    by the file's column. ``prepare(rows)`` looks up what a batch of rows names, ``check(number, row)`` checks one
    of them. The command and the admin's preview share it.
    """

    def __init__(self):
        self.references = References()
        self.excerpts = {}  # id -> (the excerpt as stored, its topic ids), for the prepared rows

    def prepare(self, rows):
        """Look up the slugs, ids and excerpts that ``rows`` (row dicts) name, replacing the last batch's excerpts."""
        slugs, ids, excerpt_ids = defaultdict(set), defaultdict(set), set()
        for row in rows:
            if not isinstance(row, dict):
                continue
            for model, columns in RELATED.values():
                for column, kind in columns.items():
                    value = row.get(column)
                    if value in (None, ""):
                        continue
                    if kind == "slug":
                        slugs[model].add(str(value).strip())
                    else:
                        with contextlib.suppress(ValueError):
                            ids[model].add(parse_id(value))
            if row.get("topics"):
                slugs[Topic].update(parse_slugs(row["topics"]))
            try:
                pk = parse_id(row.get("id"))
            except ValueError:
                pk = None
            if pk is not None:
                excerpt_ids.add(pk)
        self.references.fetch(slugs, ids)
        stored = Excerpt.objects.in_bulk(excerpt_ids)
        topics = defaultdict(set)
        for excerpt_id, topic_id in Excerpt.topics.through.objects.filter(excerpt_id__in=excerpt_ids).values_list(
            "excerpt_id", "topic_id"
        ):
            topics[excerpt_id].add(topic_id)
        self.excerpts = {pk: (excerpt, topics[pk]) for pk, excerpt in stored.items()}

    def stored(self, row):
        """The stored excerpt a prepared row names by id, or None (no id, a bad one, or a new id)."""
        try:
            pk = parse_id(row.get("id"))
        except ValueError:
            return None
        found = self.excerpts.get(pk)
        return found[0] if found else None

    def check(self, number, row, instance=None):
        """
        Check one prepared row and return a CheckedRow. ``instance`` is the excerpt to fill (the stored one, or a
        new one); by default the row's stored excerpt or a new one.
        """
        if not isinstance(row, dict):
            return CheckedRow(
                number, Excerpt(), errors={NON_FIELD_ERRORS: [f"A row must be an object, not {type(row).__name__}."]}
            )
        if None in row:  # a CSV line with too many or too few cells
            return CheckedRow(number, Excerpt(), errors={NON_FIELD_ERRORS: [row[None]]})
        problem = columns_problem(tuple(row))
        if problem:  # a JSON object's keys (a CSV file's header was checked at once)
            return CheckedRow(number, Excerpt(), errors={NON_FIELD_ERRORS: [problem]})
        errors = defaultdict(list)

        pk = None
        try:
            pk = parse_id(row.get("id"))
        except ValueError as error:
            errors["id"].append(str(error))
        stored = self.excerpts.get(pk)
        if instance is None:
            instance = stored[0] if stored else Excerpt()
        if pk is not None and not stored:
            instance.pk = pk

        values, columns = {}, {}  # attname -> value read; field name -> the column that gave it
        for column in TEXT_COLUMNS:
            if column in row:
                columns[column] = column
                try:
                    values[column] = parse_text(row[column])
                except ValueError as error:
                    errors[column].append(str(error))
        for name, (model, names) in RELATED.items():
            for column, kind in names.items():
                if column not in row:
                    continue
                columns[name] = column
                try:
                    values[f"{name}_id"] = self._related(model, kind, row[column])
                except ValueError as error:
                    errors[column].append(str(error))
        topic_ids = None
        if "topics" in row:
            slugs = parse_slugs(row["topics"])
            missing = sorted(slug for slug in slugs if self.references.by_slug(Topic, slug) is None)
            if missing:
                errors["topics"].append(f"No topic has the slug {', '.join(repr(slug) for slug in missing)}.")
            else:
                topic_ids = sorted(self.references.by_slug(Topic, slug) for slug in slugs)

        topics_changed = topic_ids is not None and set(topic_ids) != (stored[1] if stored else set())
        changed = {attname for attname, value in values.items() if getattr(instance, attname) != value}
        if stored and not errors and not topics_changed and not changed:
            # An unchanged row is not validated again, as django-import-export skipped it.
            return CheckedRow(number, instance, UNCHANGED, topic_ids)

        for attname, value in values.items():
            setattr(instance, attname, value)
        self._validate(instance, columns, errors)
        if errors:
            return CheckedRow(number, instance, errors=dict(errors))
        bounds = date_bounds(instance.date)
        instance.date_start, instance.date_end, instance.date_display = bounds.start, bounds.end, bounds.display
        if "date" in changed:
            changed.update(DATE_BOUNDS)
        return CheckedRow(
            number,
            instance,
            UPDATE if stored else NEW,
            topic_ids,
            topics_changed,
            changed=tuple(name for name in WRITTEN_FIELDS if name in changed),
        )

    def _related(self, model, kind, value):
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if kind == "id":
            pk = parse_id(value)
            if not self.references.exists(model, pk):
                raise ValueError(f"No {model._meta.verbose_name} has the id {value!r}.")
            return pk
        slug = str(value).strip()
        pk = self.references.by_slug(model, slug)
        if pk is None:
            raise ValueError(f"No {model._meta.verbose_name} has the slug {slug!r}.")
        return pk

    @staticmethod
    def _validate(instance, columns, errors):
        """Add the model's validation errors to ``errors``, under the columns that gave the fields."""
        found = {}
        try:
            instance.full_clean(exclude={*CHECKED_APART, *errors}, validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            found = error.message_dict
        if "date" not in errors:
            problems = date_problems(instance.date)
            if problems:
                found.setdefault("date", []).extend(problems)
        for name in RELATED:
            column = columns.get(name, name)
            if column not in errors and getattr(instance, f"{name}_id") is None:
                try:
                    instance._meta.get_field(name).validate(None, instance)  # "This field cannot be null."
                except ValidationError as error:
                    found.setdefault(name, []).extend(error.messages)
        for name, messages in found.items():
            errors[columns.get(name, name)].extend(messages)
