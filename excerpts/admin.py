"""The admin, tuned for curators: search, filters, autocomplete, bulk publishing, history and import/export."""

import datetime

from django.contrib import admin, messages
from django.db import models, router, transaction
from django.db.models import Prefetch
from django.utils import timezone
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import JSON
from knox.models import AuthToken
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import to_historic

from .excerpt_fields import DATE_BOUNDS
from .history import one_version, record_versions
from .models import Event, Excerpt, Source, Speaker, Topic
from .research import citations
from .resources import ExcelCSV, ExcerptResource, SpreadsheetSafeCSV


class DecadeFilter(admin.SimpleListFilter):
    """Excerpts that may date from a decade (their possible range overlaps it)."""

    title = "decade"
    parameter_name = "decade"

    def lookups(self, request, model_admin):
        decades = sorted({day.year // 10 * 10 for day in Excerpt.objects.dates("date_start", "year")})
        return [(str(decade), f"{decade}s") for decade in decades]

    def queryset(self, request, queryset):
        value = self.value()
        if not (value and value.isdigit()):
            return queryset
        decade = int(value)
        return queryset.overlapping(start=datetime.date(decade, 1, 1), end=datetime.date(decade + 9, 12, 31))


@admin.register(Speaker)
class SpeakerAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug", "kind", "born", "died"]
    list_filter = ["kind"]
    search_fields = ["name", "aliases", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Source)
class SourceAdmin(SimpleHistoryAdmin):
    list_display = ["title", "author", "kind", "date", "slug"]
    list_filter = ["kind"]
    search_fields = ["title", "author", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    # A URL typed without a scheme is taken as https (Django 6's default; 5.2 warns that http is).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        citations.store_renderings([obj])  # how the citations' notes cite it (research/citations.py)


@admin.register(Topic)
class TopicAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug", "parent"]
    list_select_related = ["parent"]
    search_fields = ["name", "slug"]
    autocomplete_fields = ["parent"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Event)
class EventAdmin(SimpleHistoryAdmin):
    list_display = ["name", "date", "place", "slug"]
    search_fields = ["name", "place", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Excerpt)
class ExcerptAdmin(ImportExportModelAdmin, SimpleHistoryAdmin):
    list_display = ["short_text", "speaker", "date_display", "kind", "status", "topic_list"]
    list_select_related = ["speaker"]
    list_filter = ["kind", "status", "attribution", "topics", "speaker", "language", DecadeFilter]
    search_fields = ["text", "speaker__name", "speaker__aliases", "source__title"]
    autocomplete_fields = ["speaker", "source", "quoted_in", "event", "topics"]
    readonly_fields = [*DATE_BOUNDS, "created", "updated"]
    # The writable fields (excerpt_fields.WRITABLE_FIELDS) with the date's bounds and the timestamps, shown once
    # each, in groups a curator fills in together: so the status comes first and the event among the sources.
    fieldsets = [
        (None, {"fields": ["text", "kind", "attribution", "speaker", "status"]}),
        (
            "Date",
            {
                "fields": ["date", "date_display", "date_start", "date_end"],
                "description": "Enter an EDTF date; its human form and bounds are computed when you save.",
            },
        ),
        ("Where printed", {"fields": ["source", "locator", "quoted_in", "quoted_in_locator", "event"]}),
        ("About", {"fields": ["topics", "language", "original_text", "translator", "context"]}),
        ("Record", {"fields": ["created", "updated"], "classes": ["collapse"]}),
    ]
    actions = ["publish", "unpublish"]
    resource_classes = [ExcerptResource]
    formats = [SpreadsheetSafeCSV, JSON, ExcelCSV]  # a new format last: the others keep their numbers

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("topics", queryset=Topic.objects.only("id", "name")))
        )

    @admin.display(description="text", ordering="text")
    def short_text(self, excerpt):
        return excerpt.text if len(excerpt.text) <= 80 else excerpt.text[:77] + "..."

    @admin.display(description="topics")
    def topic_list(self, excerpt):
        return ", ".join(topic.name for topic in excerpt.topics.all())

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        version = to_historic(obj) if obj is not None else None
        if version is None:
            return form
        # simple-history's revert form is filled from the version's fields, but a many-to-many field is read from
        # the excerpt as it is now: without this, reverting would keep today's topics and not the version's.
        topics = sorted(version.topics.values_list("topic", flat=True))

        class VersionForm(form):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **{**kwargs, "initial": {"topics": topics, **(kwargs.get("initial") or {})}})

        return VersionForm

    def save_model(self, request, obj, form, change):
        # The change form and the revert form save the topics after the row, and each step left a history entry
        # of its own. Save both here, as one version with the final topics; Django's save_m2m() then finds nothing
        # left to change.
        with one_version(obj, created=not change):
            super().save_model(request, obj, form, change)
            form.save_m2m()

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # Django's change form runs in a transaction; simple-history's revert form does not, and a failure
        # saving the topics would leave the excerpt half reverted.
        with transaction.atomic(using=router.db_for_write(self.model)):
            return super().history_form_view(request, object_id, version_id, extra_context)

    def set_status(self, request, queryset, status):
        # One bulk UPDATE, with a history entry per excerpt naming who did it; both land or neither does. The rows
        # are read again inside the transaction (locked on PostgreSQL) so each entry records what was saved.
        with transaction.atomic(using=router.db_for_write(Excerpt)):
            changed = list(
                Excerpt.objects.select_for_update().filter(pk__in=queryset.values("pk")).exclude(status=status)
            )
            now = timezone.now()
            for excerpt in changed:
                excerpt.status, excerpt.updated = status, now
            Excerpt.objects.bulk_update(changed, ["status", "updated"])
            record_versions(Excerpt, changed, user=request.user)
        self.message_user(request, f"{len(changed)} excerpt(s) marked {status}.", messages.SUCCESS)

    @admin.action(description="Publish the selected excerpts", permissions=["change"])
    def publish(self, request, queryset):
        self.set_status(request, queryset, Excerpt.Status.PUBLISHED)

    @admin.action(description="Unpublish the selected excerpts (back to draft)", permissions=["change"])
    def unpublish(self, request, queryset):
        self.set_status(request, queryset, Excerpt.Status.DRAFT)


# knox's own admin lists each token's digest and mints tokens; this one shows no secret and mints none.
admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class AuthTokenAdmin(admin.ModelAdmin):
    """
    API tokens, without their secrets: whose, their first characters (to tell them apart), when made, when they
    expire. Deleting one revokes it at once. Tokens are made by ``manage.py create_curator``, which alone shows the
    key, once.
    """

    list_display = ["user", "starts_with", "created", "expiry", "expired"]
    fields = list_display
    readonly_fields = list_display
    search_fields = ["user__username"]
    ordering = ["-created"]
    list_select_related = ["user"]

    @admin.display(description="starts with")
    def starts_with(self, token):
        return f"{token.token_key[:8]}…"

    @admin.display(boolean=True)
    def expired(self, token):
        return token.expiry is not None and token.expiry <= timezone.now()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
