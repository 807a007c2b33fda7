"""
API tokens and session keys leave the database: what stays is a digest of each, so a leaked database or backup holds
no credential, and every token and admin session goes on working.

- Each key in DRF's authtoken table becomes a django-rest-knox token for the same key and user, created when it was,
  without expiry: knox finds a token by its first 15 characters and checks the SHA-512 digest of the whole key (as
  knox 5 computes them; copied here so that this migration means the same thing forever). Then DRF's authtoken app
  is removed as if it had never been installed: its table, its migration records and its content types, with their
  permissions and the admin log entries that named each token by its key.
- Each live session is re-keyed by the SHA-256 digest, cut to 40 characters, that excerpts.api.authentication
  looks sessions up by; expired sessions are deleted.

On SQLite, secure_delete makes the database overwrite the space the old values took with zeros.

Irreversible: the keys cannot be recovered from their digests.
"""

import hashlib

from django.db import migrations
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

KNOX_TOKEN_KEY_LENGTH = 15
SESSION_KEY_LENGTH = 40


def knox_digest(key):
    return hashlib.sha512(key.encode()).hexdigest()


def session_digest(key):
    return hashlib.sha256(key.encode()).hexdigest()[:SESSION_KEY_LENGTH]


def overwrite_deleted_values(schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("PRAGMA secure_delete = ON")


def hash_api_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return
    overwrite_deleted_values(schema_editor)
    AuthToken = apps.get_model("knox", "AuthToken")
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote('key')}, {quote('user_id')}, {quote('created')} FROM authtoken_token")
        rows = cursor.fetchall()
    for key, user_id, created in rows:
        digest = knox_digest(key)
        AuthToken.objects.create(digest=digest, token_key=key[:KNOX_TOKEN_KEY_LENGTH], user_id=user_id, expiry=None)
        AuthToken.objects.filter(digest=digest).update(created=created)  # auto_now_add set it to now
    schema_editor.execute("DROP TABLE authtoken_token")
    MigrationRecorder(connection).migration_qs.filter(app="authtoken").delete()
    apps.get_model("contenttypes", "ContentType").objects.filter(app_label="authtoken").delete()


def hash_session_keys(apps, schema_editor):
    overwrite_deleted_values(schema_editor)
    Session = apps.get_model("sessions", "Session")
    Session.objects.filter(expire_date__lte=timezone.now()).delete()
    keys = [key for key in Session.objects.values_list("session_key", flat=True) if len(key) != SESSION_KEY_LENGTH]
    for key in keys:
        Session.objects.filter(session_key=key).update(session_key=session_digest(key))


class Migration(migrations.Migration):
    dependencies = [
        ("excerpts", "0015_search_entry"),
        ("knox", "0009_extend_authtoken_field"),
        ("sessions", "0001_initial"),
        # Deleting the authtoken content types cascades to these apps' permissions and log entries.
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [
        migrations.RunPython(hash_api_tokens),
        migrations.RunPython(hash_session_keys),
    ]
